"""test_faults.py: the fault matrix. Each misbehaving task ends with a clear error on its own
future, nothing crashes or hangs, and every worker of the pool serves afterwards; at 1, 2 and
4 workers. (A task calling os._exit ends the whole process, as in a thread: not tested here.)"""

import concurrent.futures as cf
import importlib.util
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # faults: here and in workers

import pergil  # noqa: E402
from faults import tasks  # noqa: E402
from pergil._errors import RemoteTraceback  # noqa: E402
from faults.support import (  # noqa: E402
    WAIT_TIMEOUT,
    WORKER_COUNTS,
    Signals,
    assert_cancelled,
    assert_pool_serves,
    describe,
    run_script,
    start_spinners,
)

from faults.fixtures import signals, workers  # noqa: F401,E402 - shared fixtures

pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def pool(workers, signals):
    """A pool that must still serve at full width when the test body ends."""
    executor = pergil.InterpreterPoolExecutor(max_workers=workers)
    yield executor
    try:
        assert_pool_serves(executor, workers, signals)
    finally:
        executor.shutdown(wait=True, cancel_futures=True, interrupt_running=True)


def failures(executor, workers, fn, *args):
    """Runs the faulty call on (very likely) every worker; returns the futures' exceptions."""
    futures = [executor.submit(fn, *args) for _ in range(2 * workers)]
    return [f.exception(timeout=WAIT_TIMEOUT) for f in futures]


def remote_traceback(error):
    """The traceback formatted in the worker, attached as the exception's __cause__."""
    assert isinstance(error.__cause__, RemoteTraceback), repr(error.__cause__)
    return str(error.__cause__)


def test_infinite_loop_then_cancel(pool, workers, signals):
    spinners = start_spinners(pool, signals, workers)
    for future in spinners:
        assert future.cancel()
        assert_cancelled(future)


def test_deep_recursion(pool, workers):
    for error in failures(pool, workers, tasks.recurse):
        assert isinstance(error, RecursionError)
        assert "recurse" in remote_traceback(error)
    assert pool.submit(tasks.recurse_then_recover).result(timeout=WAIT_TIMEOUT) == 4950


def test_memory_error_from_a_huge_allocation(pool, workers):
    for error in failures(pool, workers, tasks.allocate_huge):
        assert isinstance(error, MemoryError)
        assert "allocate_huge" in remote_traceback(error)


@pytest.mark.parametrize("kind", ["SystemExit", "KeyboardInterrupt", "GeneratorExit"])
def test_base_exceptions_raised_by_a_task_reach_its_future_only(pool, workers, kind):
    for error in failures(pool, workers, tasks.raise_base_exception, kind):
        assert type(error).__name__ == kind
        assert "raise_base_exception" in remote_traceback(error)
    future = pool.submit(tasks.raise_base_exception, kind)
    with pytest.raises(BaseException) as caught:  # result() re-raises it in the caller
        future.result(timeout=WAIT_TIMEOUT)
    assert type(caught.value).__name__ == kind
    if kind == "SystemExit":
        assert caught.value.code == 3


@pytest.mark.parametrize("workers", [2, 4], ids=lambda n: f"w{n}")  # one runs the other task
def test_a_tasks_keyboard_interrupt_does_not_stop_other_tasks(workers, signals):
    """result() re-raising a task's own KeyboardInterrupt is not a Ctrl-C in the caller: the
    other running tasks of the pool must go on."""
    executor = pergil.InterpreterPoolExecutor(max_workers=workers)
    try:
        (spinner,) = start_spinners(executor, signals, 1)
        raising = executor.submit(tasks.raise_base_exception, "KeyboardInterrupt")
        with pytest.raises(KeyboardInterrupt):
            raising.result(timeout=WAIT_TIMEOUT)
        # A wrongly sent interrupt lands within milliseconds; a second is ample to see it.
        done, _ = cf.wait([spinner], timeout=1.0)
        assert not done and spinner.running(), "the other task was interrupted"
        assert spinner.cancel()
    finally:
        executor.shutdown(wait=True, cancel_futures=True, interrupt_running=True)


def test_task_threads_outlive_the_task_and_shutdown_joins_them(workers):
    """A task starts threads and returns while they run: the pool keeps serving, and
    shutdown(wait=True) returns only once those threads have ended."""
    gate, done, signals = Signals(), Signals(), Signals()
    executor = pergil.InterpreterPoolExecutor(max_workers=workers)
    try:
        counts = [executor.submit(tasks.start_threads, 2, gate.read_fd, done.fd)
                  for _ in range(workers)]
        assert [f.result(timeout=WAIT_TIMEOUT) for f in counts] == [2] * workers
        assert_pool_serves(executor, workers, signals)
        stopper = threading.Thread(target=executor.shutdown, kwargs={"wait": True})
        stopper.start()
        stopper.join(0.5)
        assert stopper.is_alive(), "shutdown returned while the tasks' threads still ran"
        assert done.pending() == b""
        os.write(gate.fd, b"g" * 2 * workers)
        stopper.join(WAIT_TIMEOUT)
        assert not stopper.is_alive(), "shutdown did not return after the threads ended"
        assert done.pending() == b"t" * 2 * workers
    finally:
        executor.shutdown(wait=False, cancel_futures=True, interrupt_running=True)
        for pipe in (gate, done, signals):
            pipe.close()


@pytest.mark.parametrize("workers", WORKER_COUNTS, ids=lambda n: f"w{n}")
def test_task_output_reaches_the_process_streams(workers):
    proc = run_script("streams_script.py", workers)
    assert proc.returncode == 0, describe(proc)
    for i in range(3 * workers):  # each task's lines arrive whole and in order
        tag = f"task{i}"
        assert re.findall(rf"{tag}:out:(\d+|last)", proc.stdout) == [*map(str, range(50)), "last"]
        assert re.findall(rf"{tag}:err:(\d+)", proc.stderr) == [*map(str, range(50))]
    out, err = proc.stdout, proc.stderr
    assert "failing:out:before-error" in out and "failing:err:before-error" in err
    assert "spinner:before-cancel" in out and "spinner:stderr-before-cancel" in err
    assert "failing: ValueError" in out
    assert f"results: {sorted(f'task{i}' for i in range(3 * workers))}" in out


def _refused_modules():
    names = ["_tkinter", "readline", "_curses"]
    return [n for n in names if importlib.util.find_spec(n) is not None] or ["_tkinter"]


@pytest.mark.parametrize("name", _refused_modules())
def test_import_of_a_refused_extension_module(pool, workers, name):
    if importlib.util.find_spec(name) is None:
        pytest.skip(f"{name} is not built in this Python")
    for error in failures(pool, workers, tasks.import_module, name):
        assert isinstance(error, ImportError)
        assert error.name == name
        assert "own-GIL sub-interpreters" in str(error) and repr(name) in str(error)
    assert pool.submit(tasks.import_module, "json").result(timeout=WAIT_TIMEOUT) == "json"


def test_exception_whose_reduce_raises(pool, workers):
    for error in failures(pool, workers, tasks.raise_bad_reduce, "the message"):
        assert isinstance(error, pergil.RemoteError)
        assert error.type_name.endswith("BadReduceError")
        assert error.message == "the message"
        assert "raise_bad_reduce" in error.traceback_text


def test_result_whose_pickling_raises(pool, workers):
    for error in failures(pool, workers, tasks.return_unpicklable):
        assert isinstance(error, TypeError)
        assert "UnpicklableResult" in str(error) and "refuses to be pickled" in str(error)


def test_argument_that_fails_to_unpickle_in_the_worker(pool, workers):
    for error in failures(pool, workers, tasks.identity, tasks.FailsToUnpickle()):
        assert isinstance(error, ValueError)
        assert "refuses to be unpickled" in str(error)
        assert "_refuse_to_load" in remote_traceback(error)


@pytest.mark.parametrize("kind", ["RuntimeError", "SystemExit"])
def test_initializer_that_raises_breaks_the_pool(workers, kind):
    executor = pergil.InterpreterPoolExecutor(
        max_workers=workers, initializer=tasks.failing_initializer, initargs=(kind,))
    try:
        futures = []
        for _ in range(1000):  # until the pool reports itself broken
            try:
                futures.append(executor.submit(tasks.add, 1, 2))
            except pergil.BrokenInterpreterPool as error:
                broken = error
                break
            cf.wait(futures[-1:], timeout=0.01)
        else:
            pytest.fail("submit() never reported the broken pool")
        assert isinstance(broken, cf.BrokenExecutor)
        assert "the initializer failed" in str(broken) and "failing_initializer" in str(broken)
        for future in futures:  # queued before the pool broke: each ends with the reason
            with pytest.raises(pergil.BrokenInterpreterPool, match="initializer"):
                future.result(timeout=WAIT_TIMEOUT)
        with pytest.raises(pergil.BrokenInterpreterPool):
            executor.submit(tasks.add, 1, 2)
        with pytest.raises(pergil.BrokenInterpreterPool):
            list(executor.map(tasks.add, [1], [2]))
    finally:
        executor.shutdown(wait=True)


@pytest.mark.parametrize("workers", WORKER_COUNTS, ids=lambda n: f"w{n}")
@pytest.mark.parametrize("when", ["alive", "after-shutdown"])
def test_fork_in_the_caller(workers, when):
    """os.fork() while a pool is alive: CPython's after-fork clean-up of the other interpreters
    kills the child or deadlocks it (gh-101437); the parent and its pool go on. After shutdown, forking is fine
    and the child can start a pool of its own."""
    proc = run_script("fork_script.py", workers, when)
    assert proc.returncode == 0, describe(proc)
    lines = proc.stdout.splitlines()
    assert "parent before: 2" in lines and "parent done" in lines
    child = next(line for line in lines if line.startswith("child exit:")).split()[-1]
    if when == "alive":  # 3.13.0: SIGABRT; 3.12.1: SIGSEGV, or a deadlock ("hung")
        assert "parent after: 6" in lines
        assert "pergil: this process forked while pergil worker interpreters were alive" in (
            proc.stderr), "the child is not told why it dies"
        assert child == "hung" or int(child) < 0 or (
            child == "0" and "child pool: 4" in lines), describe(proc)
    else:
        assert child == "0" and "child pool: 4" in lines, describe(proc)
        assert "pergil:" not in proc.stderr


@pytest.mark.slow
def test_soak_at_small_sizes():
    """bench/soak.py at small sizes (CI runs it at its own sizes): RSS flat after warm-up,
    fds and threads back to their start counts, every part's results right."""
    soak = Path(__file__).resolve().parents[2] / "bench" / "soak.py"
    proc = subprocess.run(
        [sys.executable, str(soak), "--map-tasks", "200000", "--submit-tasks", "10000",
         "--pools", "10", "--cancels", "20", "--workers", "2"],
        capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, describe(proc)
    assert "OK: RSS within 5 %" in proc.stdout
