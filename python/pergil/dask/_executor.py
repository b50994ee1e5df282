"""pergil/dask/_executor.py: the executor a Dask worker runs tasks on: Dask's own bookkeeping in
the main interpreter, each task's call on an own-GIL pergil worker."""

import math
import threading
import time
from concurrent.futures import CancelledError, Executor, ThreadPoolExecutor

from dask._task_spec import GraphNode, Task, TaskRef
from distributed import worker as dask_worker

from pergil._executor import InterpreterPoolExecutor

FALLBACKS = ("error", "threads")
# What a Dask worker submits to a non-thread executor to run one task (distributed.worker):
# _run_task_simple(run_spec, data, delay); _run_task(run_spec, data, ...) for thread pools.
_TASK_RUNNERS = (dask_worker._run_task_simple, dask_worker._run_task)


def refused_by_subinterpreter(error):
    """True if ``error`` is pergil's refusal to run a call in a sub-interpreter: an import of an
    extension module without own-GIL support, or a call that cannot be sent at all.

    Returns:
        bool: False for every other exception (including the same types with other
        messages); it raises nothing itself.
    """
    text = str(error)
    if isinstance(error, ImportError):
        return text.startswith("cannot import ") and "in a pergil worker" in text
    return isinstance(error, TypeError) and text.startswith("cannot send ") and (
        "to a pergil worker" in text)


class WorkerExecutor(Executor):
    """A ``concurrent.futures.Executor`` for ``Worker.executors``.

    Dask submits its own wrapper (``_run_task_simple``: timing, result size, error message) with
    the task's run_spec. The wrapper runs unchanged on a main-interpreter thread of this
    executor; only the task's call goes to the pergil pool, and that thread waits for it with
    the GIL released. Anything else submitted (Dask's disk benchmark, say) runs on the thread.
    ``threads``: the tasks Dask may run at once (its worker's nthreads, prefetched ones included).
    A task that waited in the pool's queue gets its Dask start time moved to when a pergil worker
    began it, so Dask's timings count the run, not the wait.
    """

    def __init__(self, workers, threads, fallback="error", name="pergil"):
        if fallback not in FALLBACKS:
            raise ValueError(f"fallback must be one of {FALLBACKS}, not {fallback!r}")
        self.fallback = fallback
        self._pool = InterpreterPoolExecutor(workers)
        self._max_workers = workers
        # One thread per task Dask may run at once: each mostly waits for its pergil future.
        self._threads = ThreadPoolExecutor(max(threads, workers), thread_name_prefix=f"{name}-Dask")
        self._lock = threading.Lock()
        self._running = {}  # task key -> its pergil future, while it runs
        self._thread_only = set()  # functions seen refused by a sub-interpreter (fallback)
        self._interrupt_on_arrival = set()  # keys released before their call reached the pool
        # key -> True while Dask still wants that task's result (set by the plugin)
        self.still_wanted = lambda key: False

    @property
    def pool(self):
        return self._pool

    def submit(self, fn, /, *args, **kwargs):
        """Runs ``fn`` on a thread of this executor; Dask's task wrapper gets the task's call
        sent to the pool. Returns a ``concurrent.futures.Future``."""
        if fn in _TASK_RUNNERS and args and isinstance(args[0], GraphNode):
            on_pergil = _OnPergil(self, args[0])
            return self._threads.submit(_run_retimed, fn, on_pergil, args[1:], kwargs)
        return self._threads.submit(fn, *args, **kwargs)

    def interrupt(self, key):
        """Stops the task ``key`` at its next bytecode (Dask has released it); its run then
        raises CancelledError, which Dask records for a released task. A task not on the pool
        yet is stopped as soon as it gets there."""
        with self._lock:
            future = self._running.get(key)
            if future is None:
                self._interrupt_on_arrival.add(key)
        if future is not None:
            future.cancel()

    def forget_interrupt(self, key):
        """The task left Dask's cancelled state (ended, or wanted again): no interrupt pends."""
        with self._lock:
            self._interrupt_on_arrival.discard(key)

    def shutdown(self, wait=True, *, cancel_futures=True, interrupt_running=True):
        """Ends the pool, then the threads. By default it cancels queued tasks and interrupts
        running ones, as fits a closing worker, which discards what they would return."""
        self._pool.shutdown(wait=wait, cancel_futures=cancel_futures,
                            interrupt_running=interrupt_running)
        self._threads.shutdown(wait=wait, cancel_futures=cancel_futures)

    def run(self, node, data, timing=None):
        """Runs one task's call on the pool and waits for it; the result, or the task's own
        exception (its remote traceback as ``__cause__``). ``timing``, a dict, gets
        ``"queued"``: the seconds the call waited in the pool before a worker began it."""
        call = _resolved_call(node, data)
        if call is None:  # a Task nested inside its arguments: run the node itself there
            func = getattr(node, "func", None)
            call = (node, ({key: data[key] for key in node.dependencies},), {})
        else:
            func = call[0]
        name = _function_name(func)
        if name in self._thread_only:
            return node(data)
        try:
            return self._call_on_pool(node.key, call, {} if timing is None else timing)
        except (ImportError, TypeError) as error:
            if self.fallback != "threads" or not refused_by_subinterpreter(error):
                raise
        # Refused before it did anything but import: on this main-interpreter thread instead,
        # as Dask's thread executor would run it; later calls of this function come here first.
        self._thread_only.add(name)
        return node(data)

    def _call_on_pool(self, key, call, timing):
        submitted = time.monotonic()
        while True:
            future = self._pool.submit(call[0], *call[1], **call[2])
            with self._lock:
                self._running[key] = future
                if key in self._interrupt_on_arrival:
                    self._interrupt_on_arrival.discard(key)
                    future.cancel()
            try:
                return future.result()
            except CancelledError:
                # Released (client.cancel) and interrupted, then wanted again before this
                # run ended: Dask counts on this run's result, so it runs again from the start.
                if not self.still_wanted(key):
                    raise
            finally:
                with self._lock:
                    if self._running.get(key) is future:
                        del self._running[key]
                timing["queued"] = _queued_seconds(future, submitted)


def _queued_seconds(future, submitted):
    """Seconds between ``submitted`` (monotonic) and the start of the future's pergil task;
    0.0 if it never started (cancelled while queued) or started at once."""
    task = getattr(future, "_pergil_task", None)
    since = None if task is None else task.seconds_since_start
    if since is None:
        return 0.0
    return max(0.0, time.monotonic() - since - submitted)


def _run_retimed(runner, on_pergil, rest, kwargs):
    """Dask's task wrapper ``runner`` with the task's call on pergil. A call that waited in
    the pool's queue (the plugin's prefetch) has Dask's start time moved to when a pergil
    worker began it: Dask's timings (task stream, stealing's estimates) count the run alone."""
    msg = runner(on_pergil, *rest, **kwargs)
    queued = on_pergil.timing.get("queued", 0.0)
    if queued > 0.0 and isinstance(msg, dict) and isinstance(msg.get("start"), float):
        msg["start"] = min(msg["start"] + queued, msg.get("stop", math.inf))
    return msg


class _OnPergil:
    """Stands for a task's run_spec in Dask's wrapper: calling it runs the task on pergil."""

    __slots__ = ("executor", "node", "timing")

    def __init__(self, executor, node):
        self.executor = executor
        self.node = node
        self.timing = {}  # "queued": seconds its call waited in the pool (see _run_retimed)

    def __call__(self, data):
        if not isinstance(self.node, Task):  # DataNode, Alias: a lookup, nothing to run
            return self.node(data)
        return self.executor.run(self.node, data, self.timing)

    def __repr__(self):
        return f"<on pergil: {self.node!r}>"


def _resolved_call(node, data):
    """(func, args, kwargs) with Dask's references replaced by their values, as Task.__call__
    does, or None if an argument is itself a graph node (it must run inside the call)."""
    if type(node) is not Task:  # List, Dict, Tuple... subclasses evaluate their own way
        return None
    args = []
    for value in node.args:
        if isinstance(value, GraphNode):
            return None
        args.append(data[value.key] if isinstance(value, TaskRef) else value)
    kwargs = {}
    for name, value in node.kwargs.items():
        if isinstance(value, GraphNode):
            return None
        kwargs[name] = data[value.key] if isinstance(value, TaskRef) else value
    return node.func, tuple(args), kwargs


def _function_name(func):
    module = getattr(func, "__module__", None)
    qualname = getattr(func, "__qualname__", None) or type(func).__qualname__
    return module, qualname
