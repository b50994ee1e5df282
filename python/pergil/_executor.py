"""_executor.py: InterpreterPoolExecutor, a concurrent.futures.Executor over own-GIL workers."""

from __future__ import annotations  # annotations stay strings: typing is not imported at run time

import logging
import os
import sys
import threading
import weakref
from concurrent.futures import Executor, Future
from concurrent.futures._base import CANCELLED_AND_NOTIFIED, FINISHED, PENDING, InvalidStateError

from pergil import _core, _interrupt_hooks, _wire, _worker
from pergil._errors import BrokenInterpreterPool, RemoteError, RemoteTraceback, TaskTimeout

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (~2 ms of every start)
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from types import TracebackType
    from typing import Any, Literal, ParamSpec, TypeVar

    _P = ParamSpec("_P")
    _T = TypeVar("_T")

# Completion codes of the engine (src/python/call_job.h).
_OK, _RAISED, _CANCELLED, _TIMED_OUT, _FAILED, _SHUTDOWN, _BROKEN = range(7)
_TOO_LATE = 2  # Task.cancel(): the task already finished

# CPython 3.12.1 (gh-119213, fixed in later 3.12 releases): if a worker uses pergil's Pickler
# subclass before the main interpreter ever did, Py_FinalizeEx aborts ("double free"). Workers
# use it for every exception and non-scalar result, and submit's fast path may never use it
# here: use it once in the main interpreter now.
if sys.version_info < (3, 13):
    _wire.dumps(([0], {0: 0}, ValueError("warm-up")))

_LOGGER = logging.getLogger("concurrent.futures")  # where the standard executors log
_live_executors = weakref.WeakSet()
# Every pool whose workers may still run, held until they end, so that interpreter exit can end
# them first (a sub-interpreter alive at Py_FinalizeEx aborts 3.12): also dropped executors'.
_live_deliveries = set()
_fork_generation = 0  # os.fork() children since import: pools do not survive a fork
# Set once interpreter exit has begun ending pools: no pool may start after that (its workers
# would outlive the exit hook, and a sub-interpreter alive at finalization aborts CPython).
_exiting = False
_exit_lock = threading.Lock()


def _usable_cpu_count() -> int:
    counter = getattr(os, "process_cpu_count", None)
    if counter is not None:
        return counter() or 1
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:
        return os.cpu_count() or 1


def _main_script():
    """(path, module name) a worker re-runs to find the caller's ``__main__`` functions, as
    multiprocessing's spawn does; (None, None) for a REPL, ``-c`` or a notebook."""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    name = getattr(spec, "name", None)
    if name is not None:
        if name == "__main__" or name.endswith(".__main__"):
            return None, None  # python -m pkg: its __main__ is not re-runnable
        return None, name
    path = getattr(main, "__file__", None)
    if path and os.path.isfile(path):
        return os.path.abspath(path), None
    return None, None


def _prepare_main_interpreter():
    """Imports, once in the main interpreter, the extension modules whose first import in two
    workers at once crashes CPython: _datetime readies static types without a lock
    (gh-136421, fixed after 3.13.0). Imported here first, workers find them ready.
    (Their teardown race, gh-136423, cannot happen here: workers end one at a time.)"""
    try:
        import _datetime  # noqa: F401
    except ImportError:
        pass


class _Future(Future):
    """A concurrent.futures.Future whose cancel() also stops a running task."""

    _pergil_task = None
    _pergil_pool = None

    def cancel(self):
        with self._condition:
            if self._state != PENDING or self._pergil_task is None:
                return super().cancel()
        if self._pergil_task.cancel() == _TOO_LATE:
            return False
        return self._set_cancelled()

    def running(self):
        with self._condition:
            if self._state == PENDING and self._pergil_task is not None:
                return self._pergil_task.running
        return super().running()

    def result(self, timeout=None):
        try:
            return super().result(timeout)
        except KeyboardInterrupt as error:
            if error is not self._exception:  # Ctrl-C here, not the task's own exception
                self._interrupt_pool()
            raise

    def exception(self, timeout=None):
        try:
            return super().exception(timeout)
        except KeyboardInterrupt:
            self._interrupt_pool()
            raise

    def _interrupt_pool(self):
        if self._pergil_pool is not None:
            self._pergil_pool.interrupt_running()

    def _set_cancelled(self):
        with self._condition:
            if self._state == FINISHED:
                return False
            if self._state != CANCELLED_AND_NOTIFIED:
                self._state = CANCELLED_AND_NOTIFIED
                for waiter in self._waiters:
                    waiter.add_cancelled(self)
                self._condition.notify_all()
        self._invoke_callbacks()
        return True


def _remote_exception(stream, buffers):
    try:
        error, name, message, text = _wire.loads(stream, buffers)
    except Exception as problem:  # noqa: BLE001 - the exception class does not load here
        return RemoteError("pergil.RemoteError", f"cannot load the task's exception: {problem}", "")
    if error is None:
        return RemoteError(name, message, text)
    error.__cause__ = RemoteTraceback(text)
    return error


def _complete(future, status, stream, buffers, message, timeout, note=None):
    """Completes one future from an engine completion. Runs on the delivery thread.
    ``note``: why the call went by value, added to an error raised while loading it."""
    if status == _RAISED and note is not None:
        error = _remote_exception(stream, buffers)
        if getattr(error, "_pergil_loading", False):
            error.add_note(note)
        future.set_exception(error)
    elif status == _OK:
        try:
            value = _wire.loads(stream, buffers)
        except BaseException as problem:  # noqa: BLE001
            future.set_exception(RemoteError(type(problem).__qualname__,
                                             f"cannot load the task's result: {problem}", ""))
            return
        future.set_result(value)
    elif status == _RAISED:
        future.set_exception(_remote_exception(stream, buffers))
    elif status == _TIMED_OUT:
        future.set_exception(TaskTimeout(f"the task ran longer than its timeout of {timeout} s "
                                         "and was interrupted"))
    elif status == _BROKEN:
        future.set_exception(BrokenInterpreterPool(message))
    elif status == _FAILED:
        future.set_exception(RemoteError("pergil.WorkerError", message, ""))
    else:  # cancelled, or discarded by shutdown(cancel_futures=True)
        future._set_cancelled()


class _MainCall:
    """A call that names the caller's __main__ script, kept until it has run: if a worker
    cannot get the name from the script, the delivery thread sends it again by value."""

    __slots__ = ("fn", "args", "kwargs", "executor")

    def __init__(self, fn, args, kwargs, executor):
        self.fn, self.args, self.kwargs, self.executor = fn, args, kwargs, executor


class _Delivery:
    """The one thread that completes this pool's futures in the main interpreter."""

    def __init__(self, pool):
        self.pool = pool
        self.lock = threading.Lock()
        self.futures = {}
        self.thread = threading.Thread(target=self._loop, name="pergil-delivery", daemon=True)
        # Set once the thread has made its last call into the pool: wait on this, not on
        # thread.join(). On 3.12 a join interrupted by Ctrl-C marks the thread as ended while it
        # still runs (gh-90882); a later join then returns at once, and a delivery thread still
        # inside pool.completions() when the interpreter finalizes aborts the process.
        self.ended = threading.Event()
        _live_deliveries.add(self)
        try:
            self.thread.start()
        except BaseException:
            _live_deliveries.discard(self)
            self.ended.set()
            raise

    def _loop(self):
        try:
            self._deliver_until_closed()
        except BaseException as problem:  # noqa: BLE001 - never leave a future waiting forever
            self._fail_all(f"pergil's delivery thread failed: {problem!r}")
            raise
        finally:
            _live_deliveries.discard(self)
            self.ended.set()
        broken = self.pool.broken
        if broken is not None:
            # As the standard executors do for a failing initializer: the traceback reaches
            # the log when it happens, not only the next submit.
            _LOGGER.critical("pergil: a worker failed to start, the pool is broken: %s", broken)
        self._fail_all(broken or "the pool ended without running it")

    def _fail_all(self, reason):
        with self.lock:
            leftovers, self.futures = list(self.futures.values()), {}
        for future, *_ in leftovers:
            if not future.done():
                try:
                    future.set_exception(BrokenInterpreterPool(reason))
                except InvalidStateError:
                    pass

    def _deliver_until_closed(self):
        pool = self.pool
        while True:
            batch = pool.completions()
            if batch is None:
                break
            self._deliver(batch)
            # Nothing of the batch may stay referenced while the next wait blocks: a caller
            # that drops a result gets its memory back with the pool idle.
            del batch

    def _deliver(self, batch):
        """Completes one batch's futures. Its names (the last future, value, stream, buffers)
        die when it returns, so the idle delivery thread holds no finished result.
        The per-task cost of the whole executor is mostly here and in submit(), all under
        the caller's GIL: one lock per batch, and plain results loaded inline."""
        futures, loads = self.futures, _wire.loads_plain
        with self.lock:
            entries = [futures.pop(completion[0], None) for completion in batch]
        for entry, (_, status, stream, buffers, message) in zip(entries, batch):
            if entry is None or entry[0].done():
                continue  # e.g. cancelled by the caller: its callbacks already ran
            future = entry[0]
            try:
                if status == _OK and not buffers:
                    try:
                        value = loads(stream)
                    except BaseException:  # noqa: BLE001 - _complete reports it
                        _complete(future, status, stream, buffers, message, entry[1])
                    else:
                        future.set_result(value)
                elif status == _RAISED and type(entry[2]) is _MainCall:
                    self._complete_main_call(entry, stream, buffers)
                else:
                    _complete(future, status, stream, buffers, message, entry[1], entry[2])
            except InvalidStateError:
                pass  # cancelled by the caller while we completed it

    def _complete_main_call(self, entry, stream, buffers):
        """A call naming the caller's __main__ script failed: if a worker could not get the
        name (defined under the main guard or after the pool, or the script fails to re-run
        there, e.g. on `import numpy`), send it again by value; else it is the call's error."""
        future, timeout, call = entry
        error = _remote_exception(stream, buffers)
        if not isinstance(error, _worker.MainScriptLookupError):
            future.set_exception(error)
            return
        note = error.by_value_note()
        executor = call.executor()
        if executor is not None:
            executor._main_by_value = note  # the executor's later calls go by value at once
        try:
            stream, buffers = _wire.dumps_call(call.fn, call.args, call.kwargs, by_value=True)
        except Exception as problem:  # noqa: BLE001
            future.set_exception(TypeError(
                f"cannot send {call.fn!r} to a pergil worker: {error}; by value (cloudpickle) "
                f"it does not pickle either: {problem}"))
            return
        with self.lock:
            try:
                task = self.pool.submit(stream, buffers, timeout)
            except RuntimeError as problem:  # shut down or broken meanwhile
                future.set_exception(BrokenInterpreterPool(self.pool.broken or str(problem)))
                return
            future._pergil_task = task
            self.futures[task.id] = (future, timeout, note)


class InterpreterPoolExecutor(Executor):
    """Runs callables in a pool of own-GIL sub-interpreters, one per worker thread.

    Functions travel by reference when they can (module functions, builtins, ``__main__``
    functions of a script) and by value through cloudpickle otherwise (lambdas, closures,
    REPL functions). Arguments and results cross as pickle protocol 5, large buffers as memory.

    Args:
        max_workers: Number of worker interpreters; ``None`` means the usable CPU count.
        initializer: Called with ``*initargs`` in every worker before its first task. If it
            raises, the pool is broken: later submits raise :class:`BrokenInterpreterPool`.
        initargs: Arguments for ``initializer``; they must pickle.

    Raises:
        ValueError: ``max_workers`` is not a positive int.
        TypeError: ``initializer`` is not callable, or it or ``initargs`` cannot be sent to
            a worker (the message names which).
        RuntimeError: Called inside a pergil worker, or once interpreter exit has begun.
    """

    def __init__(self, max_workers: int | None = None,
                 initializer: Callable[..., object] | None = None,
                 initargs: Iterable[Any] = ()) -> None:
        if _worker.TaskInterrupted is not None:  # we are inside a worker
            if _worker.running_main_script():
                raise _worker.StopMainScript()
            raise RuntimeError("cannot create a pergil pool inside a pergil worker")
        if max_workers is None:
            max_workers = _usable_cpu_count()
        if not isinstance(max_workers, int) or isinstance(max_workers, bool) or max_workers <= 0:
            raise ValueError(f"max_workers must be a positive int, not {max_workers!r}")
        if initializer is not None and not callable(initializer):
            raise TypeError("initializer must be a callable")
        sys.modules.setdefault("__mp_main__", sys.modules["__main__"])
        _prepare_main_interpreter()
        main_path, main_module = _main_script()
        self._by_value = main_path is None and main_module is None
        # Why calls naming the script go by value, once a worker could not get a name from it.
        self._main_by_value = None
        init_stream = None
        if initializer is not None:
            stream, buffers = self._encode(initializer, tuple(initargs), {})
            init_stream = (stream, [bytes(memoryview(b)) for b in buffers])
        # The C pickler that _wire already holds: importing pickle.py here cost ~1.5 ms of
        # every pool's cold start.
        setup = _wire.pickle.dumps((main_path, main_module, init_stream), _wire.PROTOCOL)
        self._max_workers = max_workers
        self._shutdown_lock = threading.Lock()
        self._shutdown = True  # until the pool runs
        self._generation = _fork_generation
        with _exit_lock:
            if _exiting:
                raise RuntimeError("cannot create a pergil pool while the interpreter exits")
            pool = _core.Pool(max_workers, list(sys.path), setup)
            try:
                self._delivery = _Delivery(pool)
            except BaseException:  # e.g. no new thread at this point of exit: end the workers
                pool.shutdown(True, True, True)
                raise
            self._pool = pool
            self._shutdown = False
            _live_executors.add(self)

    @property
    def max_workers(self) -> int:
        """The number of worker interpreters (``max_workers``, or the CPU count it defaulted to)."""
        return self._max_workers

    def _encode(self, fn, args, kwargs, by_value=False):
        try:
            return _wire.dumps_call(fn, args, kwargs, by_value=by_value or self._by_value)
        except Exception as error:  # noqa: BLE001
            culprit = _find_unpicklable(fn, args, kwargs or {})
            raise TypeError(f"cannot send {culprit} to a pergil worker: {error}") from error

    def submit(self, fn: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs) -> Future[_T]:
        """Schedules ``fn(*args, **kwargs)`` on a worker.

        Returns:
            A ``concurrent.futures.Future`` holding the call's result or its exception (the
            task's own exception, with a :class:`RemoteTraceback` as ``__cause__``, or a
            :class:`RemoteError` when it does not pickle). Its ``cancel()`` also stops the task
            when it is already running, at its next bytecode.

        Raises:
            TypeError: ``fn`` is not callable, or it or an argument cannot be sent to a worker
                (the message names which and why).
            RuntimeError: The executor was shut down.
            BrokenInterpreterPool: The pool is broken (a failed initializer, or a pool
                inherited through ``os.fork()``).
        """
        return self._submit(0.0, fn, args, kwargs)

    def submit_with_timeout(self, timeout: float, fn: Callable[_P, _T], /,
                            *args: _P.args, **kwargs: _P.kwargs) -> Future[_T]:
        """Like :meth:`submit`, but the task is interrupted once it has run for ``timeout``
        seconds (time spent queued does not count).

        Returns:
            A future as :meth:`submit`'s; it raises :class:`TaskTimeout` (a ``TimeoutError``)
            if the task ran too long.

        Raises:
            ValueError: ``timeout`` is not a positive number.
            TypeError, RuntimeError, BrokenInterpreterPool: As :meth:`submit`.
        """
        if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or timeout <= 0:
            raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")
        return self._submit(float(timeout), fn, args, kwargs)

    def _submit(self, timeout, fn, args, kwargs):
        if not callable(fn):
            raise TypeError(f"{fn!r} is not callable")
        if self._shutdown:
            self._check_open()
        stream, buffers = self._encode(fn, args, kwargs)
        extra = None
        if not self._by_value and b"__main__" in stream:  # names the caller's script
            if self._main_by_value is None:  # kept until it runs: a worker may not find it
                extra = _MainCall(fn, args, kwargs, weakref.ref(self))
            else:  # a worker could not get names from the script before: by value at once
                stream, buffers = self._encode(fn, args, kwargs, by_value=True)
                extra = self._main_by_value
        future = _Future()
        future._pergil_pool = self._pool
        delivery = self._delivery
        with self._shutdown_lock:
            if self._shutdown:
                self._check_open()
            with delivery.lock:
                try:
                    task = self._pool.submit(stream, buffers, timeout)
                except RuntimeError as error:
                    self._raise_closed(error)
                future._pergil_task = task
                delivery.futures[task.id] = (future, timeout, extra)
        return future

    def _check_open(self):
        if self._generation != _fork_generation or self._pool.broken is not None:
            raise BrokenInterpreterPool(self._pool.broken)
        if self._shutdown:
            raise RuntimeError("cannot schedule new futures after shutdown")

    def _raise_closed(self, error):
        if self._generation != _fork_generation or self._pool.broken is not None:
            raise BrokenInterpreterPool(self._pool.broken) from None
        raise RuntimeError("cannot schedule new futures after shutdown") from error

    def map(self, fn: Callable[..., _T], *iterables: Iterable[Any], timeout: float | None = None,
            chunksize: int | None = None) -> Iterator[_T]:
        """Like ``Executor.map``, with items sent to workers in chunks.

        The default ``chunksize`` is ``multiprocessing.Pool.map``'s: about four chunks per
        worker; 1 sends one task per item. Either way the results before a failing item are
        yielded, then its exception raised (the rest of its chunk does not run).

        Returns:
            An iterator over ``fn(*items)`` in input order. Leaving it early (``close()``, or
            dropping it) cancels the chunks not yet run.

        Raises:
            ValueError: ``chunksize`` is not a positive int or ``None``.
            TypeError, RuntimeError, BrokenInterpreterPool: As :meth:`submit`, at the call.
            TimeoutError: From the iterator, when a result is not ready ``timeout`` seconds
                after the call.
            Exception: From the iterator, a failing item's own exception.
        """
        if chunksize is not None and (not isinstance(chunksize, int) or isinstance(chunksize, bool)
                                      or chunksize < 1):
            raise ValueError(f"chunksize must be a positive int or None, not {chunksize!r}")
        if chunksize is None:
            if all(hasattr(iterable, "__len__") for iterable in iterables):
                count = min(map(len, iterables), default=0)
            else:  # counted by taking them all, as Executor.map does anyway
                iterables = tuple(zip(*map(list, zip(*iterables)))) or ((),)
                count = len(iterables[0])
            chunksize = -(-count // (4 * self._max_workers)) or 1
        if chunksize == 1:
            return super().map(fn, *iterables, timeout=timeout)
        import itertools

        batches = _batched(zip(*iterables), chunksize)  # lazily: no list of every item
        return _unchunk(super().map(_worker.run_chunk, itertools.repeat(fn), batches,
                                    timeout=timeout))

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False,
                 interrupt_running: bool = False) -> None:
        """Stops accepting work; safe to call more than once.

        Args:
            wait: Return only once every worker interpreter has ended (after the tasks left
                to run). Ctrl-C during the wait interrupts the running tasks and raises
                ``KeyboardInterrupt``.
            cancel_futures: Cancel the tasks still queued.
            interrupt_running: Also stop running tasks, at their next bytecode.
        """
        with self._shutdown_lock:
            self._shutdown = True
        if self._generation != _fork_generation:
            return  # the parent's pool: nothing of it runs in this process
        self._pool.shutdown(False, cancel_futures, interrupt_running)
        if not wait:
            return
        try:
            self._delivery.ended.wait()
        except KeyboardInterrupt:
            self._pool.shutdown(False, True, True)
            raise
        self._pool.shutdown(True, cancel_futures, interrupt_running)

    def __exit__(self, exc_type: type[BaseException] | None, exc_val: BaseException | None,
                 exc_tb: TracebackType | None) -> Literal[False]:
        """Shuts down and waits; on ``KeyboardInterrupt`` also cancels and interrupts tasks."""
        interrupted = exc_type is not None and issubclass(exc_type, KeyboardInterrupt)
        self.shutdown(wait=True, cancel_futures=interrupted, interrupt_running=interrupted)
        return False

    def __del__(self):
        pool = getattr(self, "_pool", None)
        if pool is not None and not getattr(self, "_shutdown", True) and (
                self._generation == _fork_generation):
            pool.shutdown(False, False, False)  # workers finish queued work, then end


def _unchunk(chunks):
    """Yields the results of map() chunks in order; raises the first failing item's exception
    (with its remote traceback) after the results before it."""
    try:
        for values, error in chunks:
            values.reverse()  # popped as yielded: no item stays held once the caller drops it
            while values:
                yield values.pop()
            if error is not None:
                raise _remote_exception(*error)
    finally:
        chunks.close()  # cancels the chunks not yet run, as Executor.map's iterator does


def _batched(iterable, n):
    import itertools

    iterator = iter(iterable)
    while batch := tuple(itertools.islice(iterator, n)):
        yield batch


def _find_unpicklable(fn, args, kwargs):
    """Names the first part of a call that cannot be pickled, for the TypeError at submit."""
    parts = [(f"the callable {fn!r}", fn)]
    parts += [(f"argument {i} ({a!r:.80})", a) for i, a in enumerate(args)]
    parts += [(f"keyword argument {k!r} ({v!r:.80})", v) for k, v in kwargs.items()]
    for label, obj in parts:
        try:
            _wire.dumps(obj)
        except Exception:  # noqa: BLE001
            return label
    return "the call"


def _shutdown_all_at_exit():
    """Ends every pool before the interpreter finalizes: queued work completes, as with
    ThreadPoolExecutor; after an uncaught Ctrl-C, or on Ctrl-C during that wait, queued tasks
    are cancelled and running ones interrupted instead."""
    global _exiting
    with _exit_lock:
        _exiting = True
    for executor in list(_live_executors):
        executor._shutdown = True
    deliveries = list(_live_deliveries)
    # The main script ended with an uncaught Ctrl-C (Python sets sys.last_exc before exit):
    # stop the work, as leaving a `with` block on Ctrl-C does, rather than wait for it.
    interrupted = isinstance(getattr(sys, "last_exc", None), KeyboardInterrupt)
    for delivery in deliveries:
        delivery.pool.shutdown(False, interrupted, interrupted)
    try:
        for delivery in deliveries:
            delivery.ended.wait()
    except KeyboardInterrupt:
        for delivery in deliveries:
            delivery.pool.shutdown(False, True, True)
        for delivery in deliveries:
            delivery.ended.wait()
    for delivery in deliveries:
        delivery.pool.shutdown(True, False, False)  # joins the ended worker threads


def _after_fork_in_child():
    global _fork_generation
    _fork_generation += 1
    _live_deliveries.clear()  # the parent's pools: their C++ state is leaked, never touched


threading._register_atexit(_shutdown_all_at_exit)
os.register_at_fork(after_in_child=_after_fork_in_child)
_interrupt_hooks.install()  # Ctrl-C in concurrent.futures.wait()/as_completed() stops pools
