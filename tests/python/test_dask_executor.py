"""test_dask_executor.py: pergil.dask's WorkerExecutor driven as a Dask worker drives it
(distributed.worker._run_task_simple with a task spec), without a cluster: what Dask gets
back, nested tasks, fallback, and the interrupt paths of client.cancel."""

import threading
import time
from concurrent.futures import CancelledError

import pytest

pytest.importorskip("distributed", reason="the dask extra is not installed")

from dask._task_spec import Task, TaskRef  # noqa: E402
from distributed import worker as dask_worker  # noqa: E402

from helpers import dask_tasks as tasks  # noqa: E402
from pergil.dask import WorkerExecutor  # noqa: E402

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(params=[1, 2, 4], ids=lambda n: f"w{n}")
def executor(request):
    executor = WorkerExecutor(request.param, request.param)
    yield executor
    executor.shutdown(wait=True)


def run_as_dask(executor, node, data=None):
    """What Worker.execute gets from loop.run_in_executor(executor, _run_task_simple, ...)."""
    return executor.submit(dask_worker._run_task_simple, node, data or {}, 0.0).result(30)


def test_dask_gets_result_size_type_and_times(executor):
    before = time.time()
    message = run_as_dask(executor, Task("a", tasks.load_table, TaskRef("csv")),
                          {"csv": tasks.make_csv(3, 100)})
    assert message["op"] == "task-finished"
    assert message["result"] == tasks.load_table(tasks.make_csv(3, 100))
    assert message["type"] is dict and message["nbytes"] > 0
    assert before <= message["start"] <= message["stop"] <= time.time()
    assert run_as_dask(executor, Task("w", tasks.where_am_i))["result"] == "sub-interpreter"


def test_nested_task_runs_whole_in_a_sub_interpreter(executor):
    inner = Task("inner", tasks.fib, TaskRef("n"))
    node = Task("outer", tasks.fib, inner)  # fib(fib(n)): an argument that is itself a task
    assert run_as_dask(executor, node, {"n": 7})["result"] == tasks.fib(13)
    many = [Task(f"p{i}", tasks.where_am_i, Task(f"q{i}", tasks.fib, i)) for i in range(4)]
    assert {run_as_dask(executor, n)["result"] for n in many} == {"sub-interpreter"}


def test_dask_gets_the_task_exception(executor):
    message = run_as_dask(executor, Task("f", tasks.fail, 9))
    assert message["op"] == "task-erred"
    error = message["actual_exception"]
    assert type(error) is ValueError and str(error) == "bad value 9"
    assert "in fail" in str(error.__cause__)


@pytest.mark.parametrize("fallback", ["error", "threads"])
def test_refused_call(fallback):
    executor = WorkerExecutor(2, 2, fallback=fallback)
    try:
        node = Task("r", tasks.import_refused, 21)
        message = run_as_dask(executor, node)
        if fallback == "error":
            assert message["op"] == "task-erred"
            assert "in a pergil worker" in str(message["actual_exception"])
        else:
            assert message["result"] == 42
            assert run_as_dask(executor, Task("r2", tasks.import_refused, 1))["result"] == 2
        unpicklable = Task("u", len, [threading.Lock()])  # cannot be sent at all
        message = run_as_dask(executor, unpicklable)
        if fallback == "error":
            assert isinstance(message["actual_exception"], TypeError)
        else:
            assert message["result"] == 1
    finally:
        executor.shutdown()


def wait_running(executor, key):
    deadline = time.monotonic() + 30
    while key not in executor._running or not executor._running[key].running():
        assert time.monotonic() < deadline
        time.sleep(0.01)


def test_interrupt_stops_a_running_task_and_the_next_one_runs():
    executor = WorkerExecutor(1, 2)
    try:
        pending = executor.submit(dask_worker._run_task_simple, Task("s", tasks.spin), {}, 0.0)
        wait_running(executor, "s")
        executor.interrupt("s")
        assert isinstance(pending.result(30)["actual_exception"], CancelledError)
        assert run_as_dask(executor, Task("n", tasks.fib, 15))["result"] == 610
    finally:
        executor.shutdown()


def test_interrupt_before_the_call_arrives_and_forget():
    executor = WorkerExecutor(1, 1)
    try:
        executor.interrupt("early")  # released before its run reached the pool
        message = run_as_dask(executor, Task("early", tasks.spin))
        assert isinstance(message["actual_exception"], CancelledError)
        executor.interrupt("kept")
        executor.forget_interrupt("kept")  # left the cancelled state: runs normally
        assert run_as_dask(executor, Task("kept", tasks.fib, 10))["result"] == 55
    finally:
        executor.shutdown()


def test_a_task_wanted_again_after_its_interrupt_runs_again():
    executor = WorkerExecutor(1, 1)
    wanted = threading.Event()
    executor.still_wanted = lambda key: wanted.is_set()
    try:
        pending = executor.submit(dask_worker._run_task_simple, Task("x", tasks.spin_for, 0.5),
                                  {}, 0.0)
        wait_running(executor, "x")
        wanted.set()  # Dask resumed it before the interrupted run ended
        executor.interrupt("x")
        assert pending.result(30)["result"] is True
    finally:
        executor.shutdown()


def test_a_queued_call_gets_dask_times_of_its_run_not_its_wait():
    """Two tasks at once on one pergil worker (the plugin's prefetch): the second waits in the
    pool while the first runs; Dask's start time of the second is when the worker began it."""
    executor = WorkerExecutor(1, 2)
    try:
        pending = [executor.submit(dask_worker._run_task_simple, Task(k, tasks.spin_for, 0.4),
                                   {}, 0.0) for k in ("first", "second")]
        first, second = (p.result(30) for p in pending)
        assert first["result"] is second["result"] is True
        ran_first, ran_second = sorted((first, second), key=lambda m: m["start"])
        # Started after the other's 0.4 s run; without the correction both start together.
        assert ran_second["start"] >= ran_first["start"] + 0.35
        for message in (first, second):
            assert 0.35 <= message["stop"] - message["start"] < 0.4 + 0.3
    finally:
        executor.shutdown()


def test_a_call_cancelled_while_queued_leaves_the_times_alone():
    executor = WorkerExecutor(1, 2)
    try:
        running = executor.submit(dask_worker._run_task_simple, Task("r", tasks.spin), {}, 0.0)
        wait_running(executor, "r")
        queued = executor.submit(dask_worker._run_task_simple, Task("q", tasks.fib, 5), {}, 0.0)
        while "q" not in executor._running:
            time.sleep(0.01)
        executor.interrupt("q")  # still in the pool's queue: cancelled there
        message = queued.result(30)
        assert isinstance(message["actual_exception"], CancelledError)
        assert message["start"] <= message["stop"]
        executor.interrupt("r")
        assert isinstance(running.result(30)["actual_exception"], CancelledError)
        assert run_as_dask(executor, Task("n", tasks.fib, 15))["result"] == 610
    finally:
        executor.shutdown()


def test_other_callables_run_on_a_thread_unchanged(executor):
    assert executor.submit(threading.current_thread).result().name.startswith("pergil-Dask")
    with pytest.raises(ValueError, match="fallback"):
        WorkerExecutor(1, 1, fallback="never")
