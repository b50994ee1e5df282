"""_errors.py: exceptions pergil raises in the caller."""

from concurrent.futures import BrokenExecutor


class BrokenInterpreterPool(BrokenExecutor):
    """The pool cannot run tasks: a worker failed to start or its initializer raised.

    Raised by :meth:`InterpreterPoolExecutor.submit` (and ``map``) once the pool is broken,
    and set on the futures of tasks the broken pool will never run. Its message holds the
    reason, with the initializer's traceback where there is one. A ``BrokenExecutor``, so
    code written for ``ProcessPoolExecutor``'s ``BrokenProcessPool`` catches it too.
    """


class RemoteError(Exception):
    """A task raised an exception that could not be sent back as itself (it does not pickle).

    Also used when a task's result or exception cannot be loaded in the caller, and when a
    worker fails outside the task's code. ``str(error)`` is ``"TypeName: message"``.

    Attributes:
        type_name: The qualified name of the remote exception's type.
        message: ``str()`` of the remote exception.
        traceback_text: The traceback as formatted in the worker ("" if there is none).
    """

    type_name: str
    message: str
    traceback_text: str

    def __init__(self, type_name: str, message: str, traceback_text: str) -> None:
        super().__init__(f"{type_name}: {message}" if message else type_name)
        self.type_name = type_name
        self.message = message
        self.traceback_text = traceback_text

    def __reduce__(self) -> tuple[type["RemoteError"], tuple[str, str, str]]:
        return (type(self), (self.type_name, self.message, self.traceback_text))


class RemoteTraceback(Exception):
    """Attached as ``__cause__`` of a task's exception: the traceback formatted in the worker.

    Never raised by itself; Python prints it above the re-raised exception ("The above
    exception was the direct cause of ..."), so the worker's frames show.

    Attributes:
        traceback_text: The traceback as formatted in the worker; also ``str()`` of it.
    """

    traceback_text: str

    def __init__(self, traceback_text: str) -> None:
        super().__init__(traceback_text)
        self.traceback_text = traceback_text

    def __str__(self) -> str:
        return self.traceback_text


class TaskTimeout(TimeoutError):
    """A task ran past its ``timeout`` and was interrupted.

    Raised by the ``result()`` of a future from
    :meth:`InterpreterPoolExecutor.submit_with_timeout`; a ``TimeoutError``, but distinct from
    the ``TimeoutError`` that ``result(timeout=...)`` raises when the *wait* times out (then
    the task still runs).
    """
