"""_futures.py: pergil's futures: cancel() stops a running task; map's report progress."""

import logging
from concurrent.futures import Future
from concurrent.futures._base import CANCELLED_AND_NOTIFIED, FINISHED, PENDING, RUNNING

from pergil import _wire
from pergil._errors import RemoteError, RemoteTraceback

LOGGER = logging.getLogger("concurrent.futures")  # where the standard executors log
_TOO_LATE = 2  # Task.cancel(): the task already finished


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


class _ProgressFuture(_Future):
    """A map() future that reports its completion to map's progress before any waiter wakes:
    the caller never holds a result the progress has not counted."""

    def __init__(self, on_done):
        super().__init__()
        self._pergil_on_done = on_done

    def set_result(self, result):
        self._report(result, False)
        super().set_result(result)

    def set_exception(self, exception):
        self._report(exception, True)
        super().set_exception(exception)

    def _report(self, outcome, failed):
        if self._state in (PENDING, RUNNING):  # not cancelled meanwhile
            try:
                self._pergil_on_done(outcome, failed)
            except Exception:  # noqa: BLE001 - as a failing done-callback: logged, ignored
                LOGGER.exception("pergil: map's progress callback raised")


def remote_exception(stream, buffers):
    try:
        error, name, message, text = _wire.loads(stream, buffers)
    except Exception as problem:  # noqa: BLE001 - the exception class does not load here
        return RemoteError("pergil.RemoteError", f"cannot load the task's exception: {problem}", "")
    if error is None:
        return RemoteError(name, message, text)
    error.__cause__ = RemoteTraceback(text)
    return error
