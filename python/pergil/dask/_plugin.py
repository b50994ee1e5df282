"""pergil/dask/_plugin.py: InterpreterPlugin, the WorkerPlugin that gives a Dask worker a pergil
executor, and the frame-sampling switch-off that a worker with sub-interpreters needs."""

import threading

from distributed import profile
from distributed.core import Status
from distributed.diagnostics.plugin import WorkerPlugin

from pergil.dask._executor import FALLBACKS, WorkerExecutor

EXECUTOR_NAME = "pergil"  #: dask.annotate(executor="pergil") routes a task to it
THREADS_NAME = "threads"  #: with default=True: Dask's own thread executor, still reachable

# sys._current_frames() in the main interpreter walks every interpreter's threads and builds
# frame objects for frames of running sub-interpreters: it corrupts their heap (seen as
# "free(): invalid pointer" aborts within seconds). Dask calls it from its profiler (every 10 ms
# while thread tasks run, and once a cycle in each event loop's watch thread) and for
# client.call_stack(). While any pergil executor lives in this process, the watch threads are
# held off by holding distributed.profile.lock, which they take around that call.
_sampling_lock = threading.Lock()
_sampling_holders = 0


def _hold_frame_sampling():
    global _sampling_holders
    with _sampling_lock:
        if _sampling_holders == 0:
            profile.lock.acquire()
        _sampling_holders += 1


def _release_frame_sampling():
    global _sampling_holders
    with _sampling_lock:
        _sampling_holders -= 1
        if _sampling_holders == 0:
            profile.lock.release()


def _no_call_stack(*args, **kwargs):
    return {}  # Worker.get_call_stack samples sys._current_frames(): see above


class InterpreterPlugin(WorkerPlugin):
    """Installs a pergil executor on every Dask worker it is registered with.

    ``workers``: own-GIL workers per Dask worker (None: the Dask worker's thread count).
    ``default``: True runs every task on pergil (Dask's thread executor stays reachable as
    ``executor="threads"``); False keeps threads as the default and runs only the tasks
    annotated ``dask.annotate(executor="pergil")`` there.
    ``fallback``: what a task gets whose call a sub-interpreter refuses (it imports NumPy, or
    an argument cannot be pickled): "error" (the default) raises pergil's ImportError or
    TypeError to the client; "threads" runs it again on a main-interpreter thread.
    ``prefetch``: tasks the worker runs beyond its thread count (default 1). They wait in
    pergil's queue, so a pergil worker that ends a task starts the next at once instead of
    idling while the reply goes through Dask's event loop (~1-2 ms a task). Dask shows them as
    executing; their Dask start time is set to when a pergil worker began them. 0: off.

    Raises:
        ValueError: ``workers`` not a positive int or None, an unknown ``fallback``, or
            ``prefetch`` not an int >= 0.
        TypeError: ``default`` not a bool.
    """

    name = "pergil"
    idempotent = False

    def __init__(self, workers=None, default=True, fallback="error", prefetch=1):
        if workers is not None and (not isinstance(workers, int) or isinstance(workers, bool)
                                    or workers <= 0):
            raise ValueError(f"workers must be a positive int or None, not {workers!r}")
        if not isinstance(default, bool):
            raise TypeError(f"default must be True or False, not {default!r}")
        if fallback not in FALLBACKS:
            raise ValueError(f"fallback must be one of {FALLBACKS}, not {fallback!r}")
        if not isinstance(prefetch, int) or isinstance(prefetch, bool) or prefetch < 0:
            raise ValueError(f"prefetch must be an int >= 0, not {prefetch!r}")
        self.workers = workers
        self.default = default
        self.fallback = fallback
        self.prefetch = prefetch
        self._prefetched = 0  # what setup added to the worker's nthreads, until teardown
        self._worker = None
        self._executor = None
        self._replaced = {}

    def setup(self, worker):
        """Dask calls this on registration: starts the pool and makes it the worker's
        ``executor="pergil"`` (and, with ``default=True``, its default) executor."""
        threads = worker.state.nthreads
        # Prefetch only for tasks on pergil: with default=False the extra slots could run
        # one more thread task at once instead.
        prefetch = self.prefetch if self.default else 0
        executor = WorkerExecutor(self.workers or threads, threads + prefetch, self.fallback,
                                  name=f"{worker.name}-pergil")
        _hold_frame_sampling()
        for name in ("profile", "profile-cycle"):  # the worker's own sampling of task threads
            callback = worker.periodic_callbacks.pop(name, None)
            if callback is not None:
                callback.stop()
        self._replaced = {name: worker.executors.get(name)
                          for name in ("default", EXECUTOR_NAME, THREADS_NAME)}
        self._replaced["call_stack"] = worker.handlers.get("call_stack")
        worker.handlers["call_stack"] = _no_call_stack
        worker.executors[EXECUTOR_NAME] = executor
        if self.default:
            worker.executors[THREADS_NAME] = worker.executors["default"]
            worker.executors["default"] = executor
        executor.still_wanted = lambda key: _state_of(worker, key) in ("executing", "long-running")
        # Dask's state machine starts a ready task while executing < nthreads; the scheduler
        # learnt nthreads at registration and keeps its own count.
        worker.state.nthreads += prefetch
        self._prefetched = prefetch
        self._worker, self._executor = worker, executor

    def teardown(self, worker):
        """Dask calls this on removal or worker close: puts the worker's executors back and
        shuts the pool down without blocking the event loop (a closing worker's running
        tasks are interrupted)."""
        executor, self._executor = self._executor, None
        if executor is None:
            return
        for name, previous in self._replaced.items():
            table = worker.handlers if name == "call_stack" else worker.executors
            if previous is None:
                table.pop(name, None)
            else:
                table[name] = previous
        worker.state.nthreads -= self._prefetched
        self._prefetched = 0
        # The worker's event loop runs this: never block it. A closing worker discards its
        # running tasks, so they are interrupted (an endless one would otherwise hold the
        # process at exit); a plugin replaced on a live worker lets them finish.
        closing = worker.status in (Status.closing, Status.closed, Status.failed)
        executor.shutdown(wait=False, cancel_futures=closing, interrupt_running=closing)
        threading.Thread(target=_release_after, args=(executor,), daemon=True).start()

    def transition(self, key, start, finish, **kwargs):
        """Dask marks a running task it no longer needs (client.cancel) as cancelled and lets
        it run on; a pergil task can be stopped, so it is."""
        if self._executor is None:
            return
        if start == "cancelled":
            self._executor.forget_interrupt(key)
        elif start in ("executing", "long-running") and (
                _state_of(self._worker, key) == "cancelled"):
            self._executor.interrupt(key)


def _state_of(worker, key):
    task = worker.state.tasks.get(key)
    return None if task is None else task.state


def _release_after(executor):
    executor.pool.shutdown(wait=True)  # no sub-interpreter runs once this returns
    _release_frame_sampling()
