"""_pool.py: the pergil pools that load_startables and read_many keep between calls.

Why keep them (issue 12): CPython 3.12 and 3.13 do not give back the small-object memory of an
ended interpreter that leaked any block, and every interpreter leaks some (a bare isolated one,
~2,700 blocks on 3.13.0). A pool started and ended per call grew the process by 6 MiB (StarTable
CSV) to 12.5 MiB (.xlsx: openpyxl in each worker) on every call, without bound. A kept pool pays
that once; its idle workers hold what an ended pool would have kept anyway, and a later call
skips the start-up (interpreters, imports). One pool per worker count; ``shutdown_workers`` ends
them, and so does os.fork() (see _end_pools_before_fork). Main interpreter only.
"""

import os
import threading

_lock = threading.Lock()
_pools = {}  # worker count -> InterpreterPoolExecutor


def _check_count(workers):
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise ValueError(f"workers must be a positive int, None or an Executor, not {workers!r}")


def kept_pool(workers=None):
    """The kept pergil pool of ``workers`` workers (None: all usable CPUs), started if needed.

    Shared by every caller of that count, from any thread: callers cancel their own futures
    when they stop early and never shut the pool down.
    """
    from pergil import InterpreterPoolExecutor
    from pergil._executor import _usable_cpu_count

    workers = _usable_cpu_count() if workers is None else workers
    _check_count(workers)
    with _lock:
        pool = _pools.get(workers)
        if pool is None or pool._shutdown:  # ended at interpreter exit, say
            pool = _pools[workers] = InterpreterPoolExecutor(max_workers=workers)
        return pool


def shutdown_workers(wait=True):
    """Ends the worker pools ``load_startables`` and ``read_many`` keep between calls.

    Their queued reads are cancelled and running ones interrupted; the next call starts a new
    pool. Call it to end the worker threads before a long phase without table loading; the
    memory the workers used mostly stays with the process on CPython 3.12 and 3.13 (ended
    interpreters keep it), which is why the pools are kept at all.

    Args:
        wait: Return only once every worker has ended.
    """
    with _lock:
        pools = list(_pools.values())
        _pools.clear()
    for pool in pools:
        pool.shutdown(wait=wait, cancel_futures=True, interrupt_running=True)


def _end_pools_before_fork():
    # CPython aborts a forked child of a process with live sub-interpreters (gh-101437): a
    # kept pool must not turn a later os.fork() (multiprocessing's default start method on
    # Linux before 3.14) into a crash. A load running in another thread at that moment goes
    # on: its cancelled reads are read by pdtable in the caller, later ones by a new kept pool.
    shutdown_workers(wait=True)


def _forget_pools_in_child():
    # The lock may have been held by another thread at fork.
    global _lock
    _lock = threading.Lock()
    _pools.clear()


os.register_at_fork(before=_end_pools_before_fork, after_in_child=_forget_pools_in_child)
