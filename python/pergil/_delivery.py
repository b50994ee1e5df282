"""_delivery.py: the thread that completes a pool's futures in the main interpreter.

One per pool: it takes batches of engine completions, loads results and exceptions, and
resends by value a call naming the caller's ``__main__`` script that a worker could not get.
"""

import threading
from concurrent.futures._base import InvalidStateError

from pergil import _wire, _worker
from pergil._errors import BrokenInterpreterPool, RemoteError, TaskTimeout
from pergil._futures import LOGGER, remote_exception

# Completion codes of the engine (src/python/call_job.h).
_OK, _RAISED, _CANCELLED, _TIMED_OUT, _FAILED, _SHUTDOWN, _BROKEN = range(7)

# Every pool whose workers may still run, held until they end, so that interpreter exit can end
# them first (a sub-interpreter alive at Py_FinalizeEx aborts 3.12): also dropped executors'.
_live_deliveries = set()


def _complete(future, status, stream, buffers, message, timeout, note=None):
    """Completes one future from an engine completion. Runs on the delivery thread.
    ``note``: why the call went by value, added to an error raised while loading it."""
    if status == _RAISED and note is not None:
        error = remote_exception(stream, buffers)
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
        future.set_exception(remote_exception(stream, buffers))
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
            broken = self.pool.broken
            if broken is not None:
                # As the standard executors do for a failing initializer: the traceback reaches
                # the log when it happens, not only the next submit; before `ended`, so that
                # shutdown(wait=True) returns after it.
                LOGGER.critical("pergil: a worker failed to start, the pool is broken: %s",
                                broken)
        except BaseException as problem:  # noqa: BLE001 - never leave a future waiting forever
            self._fail_all(f"pergil's delivery thread failed: {problem!r}")
            raise
        finally:
            _live_deliveries.discard(self)
            self.ended.set()
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
        error = remote_exception(stream, buffers)
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
