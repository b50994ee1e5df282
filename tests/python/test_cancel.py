"""test_cancel.py: cancelling running and pending tasks, per-task timeouts, shutdown that
interrupts, and wait()/as_completed() over cancelled futures, at 1, 2 and 4 workers."""

import concurrent.futures as cf
import sys
import threading
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # faults: here and in workers

import pergil  # noqa: E402
from faults import tasks  # noqa: E402
from faults.support import (  # noqa: E402
    WAIT_TIMEOUT,
    describe,
    run_script,
    WORKER_COUNTS,
    Signals,
    assert_cancelled,
    assert_pool_serves,
    start_spinners,
)

from faults.fixtures import pool, signals, workers  # noqa: F401,E402 - shared fixtures

pytestmark = pytest.mark.timeout(300)


@pytest.mark.parametrize("loop", [tasks.spin, tasks.spin_catching_exceptions],
                         ids=["plain", "catches-Exception"])
def test_cancel_running_task_then_every_worker_serves(pool, workers, signals, loop):
    for _ in range(3):  # the same workers, cancelled again and again
        futures = start_spinners(pool, signals, workers, fn=loop)
        assert all(f.running() for f in futures)
        for future in futures:
            assert future.cancel() is True
            assert_cancelled(future)
        assert_pool_serves(pool, workers, signals)


def test_task_that_swallows_the_interrupt(pool, workers, signals):
    """A bare ``except`` in the task catches the interrupt and returns: the future still ends
    cancelled (its result is dropped) and the worker serves on."""
    swallowed = Signals()
    try:
        futures = [pool.submit(tasks.spin_swallowing_interrupt, signals.fd, swallowed.fd)
                   for _ in range(workers)]
        signals.wait(workers)
        for future in futures:
            assert future.cancel()
            assert_cancelled(future)
        assert swallowed.wait(workers) == b"w" * workers
        assert_pool_serves(pool, workers, signals)
        assert all(f.cancelled() for f in futures)
    finally:
        swallowed.close()


def test_cancel_is_idempotent_and_too_late_after_finish(pool, signals):
    (spinner,) = start_spinners(pool, signals, 1)
    assert spinner.cancel() and spinner.cancel()
    assert_cancelled(spinner)
    done = pool.submit(tasks.add, 1, 1)
    assert done.result(timeout=WAIT_TIMEOUT) == 2
    assert done.cancel() is False
    assert not done.cancelled() and done.result() == 2


def test_cancel_pending_tasks_never_run(pool, workers, signals):
    running = start_spinners(pool, signals, workers)
    pending = [pool.submit(tasks.spin, signals.fd) for _ in range(2 * workers)]
    for future in pending:
        assert not future.running()
        assert future.cancel() is True
        assert_cancelled(future)
    for future in running:
        assert future.cancel() is True
    assert_pool_serves(pool, workers, signals)
    assert signals.pending() == b"", "a cancelled pending task started"


def test_cancel_racing_with_start_and_finish(pool, workers):
    """cancel() right after submit lands before, during or after the run: each future ends
    either cancelled or with its right result, and the pool keeps serving."""
    outcomes = {"cancelled": 0, "finished": 0}
    for round_ in range(30):
        futures = [pool.submit(tasks.count_to, 200 * i) for i in range(4 * workers)]
        for future in futures[::2]:
            future.cancel()
        for i, future in enumerate(futures):
            cf.wait([future], timeout=WAIT_TIMEOUT)
            assert future.done(), f"round {round_}: future {i} never ended"
            if future.cancelled():
                outcomes["cancelled"] += 1
            else:
                assert future.result() == 200 * i
                outcomes["finished"] += 1
    assert outcomes["finished"] >= 30 * 2 * workers  # the odd ones were never cancelled


def test_cancel_blocked_task_ends_when_the_call_returns(pool, workers, signals):
    """A blocking call (time.sleep) is not interrupted: the future is cancelled at once, the
    worker stops the task when the call returns and then serves again."""
    blocked = pool.submit(tasks.sleep_then_return, 0.5, "late", signals.fd)
    signals.wait(1)
    assert blocked.cancel() is True
    assert_cancelled(blocked)
    assert_pool_serves(pool, workers, signals)


def test_timeout_interrupts_at_deadline(pool, workers, signals):
    timed = [pool.submit_with_timeout(0.2, tasks.spin, signals.fd) for _ in range(2 * workers)]
    for future in timed:  # the deadline runs from each task's start: all of them time out
        with pytest.raises(pergil.TaskTimeout) as caught:
            future.result(timeout=WAIT_TIMEOUT)
        assert isinstance(caught.value, TimeoutError)
        assert "timeout" in str(caught.value)
        assert not future.cancelled()
    assert signals.wait(2 * workers)
    assert_pool_serves(pool, workers, signals)


def test_timeout_of_a_finished_task_never_hits_the_next_one(pool, workers):
    """Deadlines of tasks that returned in time must not interrupt later tasks."""
    for _ in range(5):
        futures = []
        for i in range(10 * workers):
            futures.append(pool.submit_with_timeout(0.001 + 0.0005 * (i % 7), tasks.add, i, 1))
            futures.append(pool.submit(tasks.count_to, 20_000))
        for i, future in enumerate(futures[::2]):
            try:
                assert future.result(timeout=WAIT_TIMEOUT) == i + 1
            except pergil.TaskTimeout:
                pass  # a tiny deadline may expire on a loaded machine: allowed for this task
        for future in futures[1::2]:
            assert future.result(timeout=WAIT_TIMEOUT) == 20_000


@pytest.mark.parametrize("bad", [0, -1, "1", None, True])
def test_timeout_must_be_a_positive_number(pool, bad):
    with pytest.raises(ValueError):
        pool.submit_with_timeout(bad, tasks.add, 1, 2)


def test_timeout_and_cancel_on_the_same_task(pool, workers, signals):
    futures = [pool.submit_with_timeout(30, tasks.spin, signals.fd) for _ in range(workers)]
    signals.wait(workers)
    for future in futures:
        assert future.cancel()
        assert_cancelled(future)
    assert_pool_serves(pool, workers, signals)


def test_shutdown_interrupts_running_and_cancels_pending(workers, signals):
    executor = pergil.InterpreterPoolExecutor(max_workers=workers)
    running = start_spinners(executor, signals, workers)
    pending = [executor.submit(tasks.spin, signals.fd) for _ in range(3 * workers)]
    executor.shutdown(wait=True, cancel_futures=True, interrupt_running=True)
    for future in running + pending:
        assert_cancelled(future)
    assert signals.pending() == b""
    with pytest.raises(RuntimeError):
        executor.submit(tasks.add, 1, 2)


def test_shutdown_without_wait_then_with_wait(workers, signals):
    executor = pergil.InterpreterPoolExecutor(max_workers=workers)
    running = start_spinners(executor, signals, workers)
    executor.shutdown(wait=False, cancel_futures=True, interrupt_running=True)
    cf.wait(running, timeout=WAIT_TIMEOUT)
    for future in running:
        assert_cancelled(future)
    executor.shutdown(wait=True)


def test_shutdown_without_interrupt_lets_running_tasks_finish(workers, signals):
    executor = pergil.InterpreterPoolExecutor(max_workers=workers)
    running = [executor.submit(tasks.sleep_then_return, 0.2, i, signals.fd)
               for i in range(workers)]
    signals.wait(workers)
    pending = [executor.submit(tasks.add, i, 0) for i in range(workers)]
    executor.shutdown(wait=True, cancel_futures=True)
    assert [f.result(timeout=0) for f in running] == list(range(workers))
    for future in pending:
        assert future.done()  # cancelled by the shutdown, or run before it
        assert future.cancelled() or future.result() in range(workers)


def test_wait_and_as_completed_see_cancelled_futures(pool, workers, signals):
    running = start_spinners(pool, signals, workers)
    pending = [pool.submit(tasks.spin, signals.fd) for _ in range(workers)]
    finished = pool.submit(tasks.add, 1, 2)
    everything = running + pending + [finished]
    for future in running + pending:
        assert future.cancel()
    done, not_done = cf.wait(everything, timeout=WAIT_TIMEOUT)
    assert done == set(everything) and not not_done
    assert set(cf.as_completed(everything, timeout=WAIT_TIMEOUT)) == set(everything)
    assert finished.result() == 3


@pytest.mark.parametrize("waiter", ["wait-all", "wait-first", "as_completed"])
def test_waiters_blocked_before_cancel_are_woken(pool, workers, signals, waiter):
    """A thread already blocked in wait()/as_completed() returns once another cancels."""
    running = start_spinners(pool, signals, workers)
    seen = []

    def wait_in_thread():
        if waiter == "as_completed":
            seen.extend(cf.as_completed(running, timeout=WAIT_TIMEOUT))
        else:
            when = cf.ALL_COMPLETED if waiter == "wait-all" else cf.FIRST_COMPLETED
            done, _ = cf.wait(running, timeout=WAIT_TIMEOUT, return_when=when)
            seen.extend(done)

    thread = threading.Thread(target=wait_in_thread)
    thread.start()
    for future in running:
        assert future.cancel()
    thread.join(WAIT_TIMEOUT)
    assert not thread.is_alive(), f"{waiter} did not return after the cancels"
    assert seen and set(seen) <= set(running)
    if waiter != "wait-first":
        assert set(seen) == set(running)


def test_done_callbacks_run_once_for_cancelled_running_tasks(pool, workers, signals):
    calls = []
    lock = threading.Lock()

    def record(future):
        with lock:
            calls.append(future)

    running = start_spinners(pool, signals, workers)
    for future in running:
        future.add_done_callback(record)
    for future in running:
        assert future.cancel()
    assert_pool_serves(pool, workers, signals)  # the interrupted completions arrived by now
    assert sorted(map(id, calls)) == sorted(map(id, running))


@pytest.mark.parametrize("how", ["cancel", "timeout"])
def test_interrupted_while_loading_the_main_script_loads_it_again(workers, how):
    """A task of a __main__ function is interrupted while its worker runs the caller's script
    (to find that function): the next task must find the function, not a half-run script."""
    proc = run_script("main_cancel_script.py", workers, how)
    assert proc.returncode == 0, describe(proc)
    first = "first: TaskTimeout" if how == "timeout" else "first cancelled: True"
    assert proc.stdout.splitlines() == [first, "served: {42}"], describe(proc)


def test_a_task_knows_since_when_a_worker_runs_it(pool, workers, signals):
    """_core's Task.seconds_since_start (pergil.dask's timings): None while queued and when
    cancelled there; from the worker's start on, a growing count that stays after the end."""
    running = start_spinners(pool, signals, workers)
    pending = [pool.submit(tasks.add, 1, i) for i in range(2)]
    assert all(f._pergil_task.seconds_since_start is None for f in pending)
    assert pending[1].cancel() is True
    first = [f._pergil_task.seconds_since_start for f in running]
    assert all(isinstance(s, float) and s >= 0.0 for s in first)
    for future, before in zip(running, first):
        assert future._pergil_task.seconds_since_start >= before
        assert future.cancel() is True
    assert pending[0].result(timeout=WAIT_TIMEOUT) == 1
    ended = pending[0]._pergil_task.seconds_since_start
    assert isinstance(ended, float) and ended >= 0.0
    assert pending[1]._pergil_task.seconds_since_start is None
    assert_pool_serves(pool, workers, signals)
