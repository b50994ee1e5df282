"""_executor.py: InterpreterPoolExecutor, a concurrent.futures.Executor over own-GIL workers."""

from __future__ import annotations  # annotations stay strings: typing is not imported at run time

import os
import sys
import threading
import weakref
from concurrent.futures import Executor

from pergil import _core, _interrupt_hooks, _map, _wire, _worker
from pergil._errors import BrokenInterpreterPool
from pergil._delivery import _Delivery, _MainCall, _live_deliveries
from pergil._futures import _Future, _ProgressFuture

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (~2 ms of every start)
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from concurrent.futures import Future
    from types import TracebackType
    from typing import Any, Literal, ParamSpec, TypeVar

    _P = ParamSpec("_P")
    _T = TypeVar("_T")

# CPython 3.12.1 (gh-119213, fixed in later 3.12 releases): if a worker uses pergil's Pickler
# subclass before the main interpreter ever did, Py_FinalizeEx aborts ("double free"). Workers
# use it for every exception and non-scalar result, and submit's fast path may never use it
# here: use it once in the main interpreter now.
if sys.version_info < (3, 13):
    _wire.dumps(([0], {0: 0}, ValueError("warm-up")))

_live_executors = weakref.WeakSet()
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
    if GH_119213 and not _warmed_keyword_parsers:
        _warm_keyword_parsers()


# CPython 3.12.0-3.12.3 (gh-119213, fixed in 3.12.4): the first call of an extension function
# with keyword arguments stores its parser's keyword tuple in process-global memory, allocated
# by the calling interpreter; made in a worker, the process aborts at exit ("free(): invalid
# pointer"). Made in the main interpreter first, it lives as long as the process.
GH_119213 = (3, 12) <= sys.version_info[:3] < (3, 12, 4)
_warmed_keyword_parsers = False


def _warm_keyword_parsers():
    """pickle, queue.SimpleQueue, hashlib and hmac, whose keyword calls tasks use most
    (pickle.dumps protocol=, a ThreadPoolExecutor's queue, blake2 digest_size=, hmac.new,
    scrypt): every keyword path once, on empty data (~1 ms once the imports are done).
    `pergil info` shows, by trying, what that avoids for hashlib."""
    global _warmed_keyword_parsers
    _warmed_keyword_parsers = True
    _warm_pickle_keyword_parsers()
    # queue.SimpleQueue's put/get (a ThreadPoolExecutor's workers call get(block=True)).
    import _queue

    simple_queue = _queue.SimpleQueue()
    simple_queue.put(None, block=True, timeout=None)
    simple_queue.get(block=True, timeout=None)
    try:
        import hashlib
        import hmac
    except ImportError:
        return
    for blake in ("blake2b", "blake2s"):
        getattr(hashlib, blake, lambda *a, **k: None)(
            b"", digest_size=8, key=b"k", salt=b"s", person=b"p", usedforsecurity=True)
    hmac.new(b"k", b"m", "sha256").digest()
    hmac.new(b"k", digestmod="md5").digest()
    hmac.digest(b"k", b"m", "sha256")
    hashlib.pbkdf2_hmac(hash_name="sha256", password=b"p", salt=b"s", iterations=1, dklen=8)
    hashlib.new("sha256", data=b"", usedforsecurity=True)
    if hasattr(hashlib, "scrypt"):
        hashlib.scrypt(b"p", salt=b"s", n=2, r=1, p=1, maxmem=0, dklen=8)


def _warm_pickle_keyword_parsers():
    """_pickle's functions and classes with keywords (pickle.py re-exports them): a worker's
    ``pickle.dumps(x, protocol=5)`` aborted the process at exit (pergil.tables' StarTable
    reader did; its call is positional now)."""
    import io

    import _pickle

    stream = _pickle.dumps(None, protocol=5, fix_imports=True, buffer_callback=None)
    _pickle.loads(stream, fix_imports=True, encoding="ASCII", errors="strict", buffers=())
    _pickle.dump(None, io.BytesIO(), protocol=5, fix_imports=True, buffer_callback=None)
    _pickle.load(io.BytesIO(stream), fix_imports=True, encoding="ASCII", errors="strict",
                 buffers=())
    _pickle.Pickler(io.BytesIO(), protocol=5, fix_imports=True, buffer_callback=None)
    _pickle.Unpickler(io.BytesIO(stream), fix_imports=True, encoding="ASCII",
                      errors="strict", buffers=())


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

    def _submit(self, timeout, fn, args, kwargs, on_done=None):
        if not callable(fn):
            raise TypeError(f"{fn!r} is not callable")
        if self._shutdown:
            self._check_open()
        stream, buffers = self._encode(fn, args, kwargs)
        extra = None
        if not self._by_value and b"__main__" in stream:  # names the caller's script
            extra = _MainCall(fn, args, kwargs, weakref.ref(self))  # until it has run
            if self._main_by_value is not None:
                # A worker could not get names from the script before: by value at once, if
                # that pickles (else by reference, retried by value if a worker fails on it).
                try:
                    stream, buffers = _wire.dumps_call(fn, args, kwargs, by_value=True)
                    extra = self._main_by_value
                except Exception:  # noqa: BLE001
                    pass
        future = _Future() if on_done is None else _ProgressFuture(on_done)
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
            chunksize: int | None = None,
            progress: bool | Callable[[int], object] | None = None) -> Iterator[_T]:
        """Like ``Executor.map``, with items sent to workers in chunks.

        The default ``chunksize`` is ``multiprocessing.Pool.map``'s: about four chunks per
        worker; 1 sends one task per item. Either way the results before a failing item are
        yielded, then its exception raised (the rest of its chunk does not run).

        ``progress``: True shows a tqdm bar (tqdm must be installed); a callable is called with
        the number of items just done each time a chunk completes, in completion order, on
        pergil's delivery thread, before the chunk's results reach the caller
        (``progress=bar.update`` drives a bar of your own). With progress and no
        ``chunksize``, chunks are sized for about a hundred updates.

        Returns:
            An iterator over ``fn(*items)`` in input order. Leaving it early (``close()``, or
            dropping it) cancels the chunks not yet run.

        Raises:
            ValueError: ``chunksize`` is not a positive int or ``None``.
            TypeError: ``progress`` is neither a bool, ``None`` nor a callable.
            ImportError: ``progress=True`` without tqdm installed.
            TypeError, RuntimeError, BrokenInterpreterPool: As :meth:`submit`, at the call.
            TimeoutError: From the iterator, when a result is not ready ``timeout`` seconds
                after the call.
            Exception: From the iterator, a failing item's own exception.
        """
        if chunksize is not None and (not isinstance(chunksize, int) or isinstance(chunksize, bool)
                                      or chunksize < 1):
            raise ValueError(f"chunksize must be a positive int or None, not {chunksize!r}")
        if progress is not None and progress is not False and progress is not True and (
                not callable(progress)):
            raise TypeError(f"progress must be True, False, None or a callable, not {progress!r}")
        count = None
        if all(hasattr(iterable, "__len__") for iterable in iterables):
            count = min(map(len, iterables), default=0)
        elif chunksize is None:  # counted by taking them all, as Executor.map does anyway
            iterables = tuple(zip(*map(list, zip(*iterables)))) or ((),)
            count = len(iterables[0])
        if chunksize is None:
            # A bar wants many small updates; without one, few chunks cost least.
            chunks = max(_map.PROGRESS_UPDATES, 8 * self._max_workers) if progress else (
                4 * self._max_workers)
            chunksize = -(-count // chunks) or 1
        bar, on_done = _map.progress_sink(progress, count, chunked=chunksize > 1)
        try:
            if chunksize == 1:
                return _map.closing(self._map_futures(fn, iterables, timeout, on_done), bar)
            import itertools

            batches = _map.batched(zip(*iterables), chunksize)  # lazily: no list of every item
            return _map.closing(_map.unchunk(self._map_futures(_worker.run_chunk, (
                itertools.repeat(fn), batches), timeout, on_done)), bar)
        except BaseException:
            if bar is not None:
                bar.close()
            raise

    def _map_futures(self, fn, iterables, timeout, on_done):
        """Executor.map's result iterator; ``on_done(outcome, failed)`` runs as each call
        completes, before its result is seen."""
        if on_done is None:
            return super().map(fn, *iterables, timeout=timeout)
        import time
        from concurrent.futures._base import _result_or_cancel

        end_time = None if timeout is None else timeout + time.monotonic()
        futures = []
        try:
            for args in zip(*iterables):
                futures.append(self._submit(0.0, fn, args, {}, on_done))
        except BaseException:
            for future in futures:
                future.cancel()
            raise

        def results():  # as Executor.map's: no future held once its result is yielded
            try:
                futures.reverse()
                while futures:
                    left = None if end_time is None else end_time - time.monotonic()
                    yield _result_or_cancel(futures.pop(), left)
            finally:
                for future in futures:
                    future.cancel()

        return results()

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
