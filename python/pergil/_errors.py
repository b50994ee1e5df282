"""_errors.py: exceptions pergil raises in the caller."""

from concurrent.futures import BrokenExecutor


class BrokenInterpreterPool(BrokenExecutor):
    """The pool cannot run tasks: a worker failed to start or its initializer raised."""


class RemoteError(Exception):
    """A task raised an exception that could not be sent back as itself (it does not pickle).

    Carries the remote exception's type name, message and formatted traceback.
    """

    def __init__(self, type_name, message, traceback_text):
        super().__init__(f"{type_name}: {message}" if message else type_name)
        self.type_name = type_name
        self.message = message
        self.traceback_text = traceback_text

    def __reduce__(self):
        return (type(self), (self.type_name, self.message, self.traceback_text))


class RemoteTraceback(Exception):
    """Attached as ``__cause__`` of a task's exception: the traceback formatted in the worker."""

    def __init__(self, traceback_text):
        super().__init__(traceback_text)
        self.traceback_text = traceback_text

    def __str__(self):
        return self.traceback_text


class TaskTimeout(TimeoutError):
    """A task ran past its ``timeout`` and was interrupted."""
