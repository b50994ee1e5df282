"""test_dask.py: pergil as the executor of Dask workers, on a LocalCluster of real worker
processes on loopback: results against Dask's own thread executor, errors, fallback, routing,
cancellation, restart and closing with tasks in flight."""

import sys
import time

import pytest

distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")

import dask  # noqa: E402
import dask.bag as db  # noqa: E402
from distributed import Client, LocalCluster, get_task_stream  # noqa: E402

import pergil.dask  # noqa: E402
from helpers import dask_tasks as tasks  # noqa: E402
from helpers.dask_client import wait_until_processing  # noqa: E402

pytestmark = pytest.mark.timeout(90)
ON_THREADS = {"executor": pergil.dask.THREADS_NAME}
# dask.bag's functions import fsspec, which imports ctypes: CPython 3.12 refuses _ctypes in
# own-GIL sub-interpreters, and on 3.12.1 that refused import can abort the process at exit.
BAG_REFUSED = "CPython 3.12 refuses _ctypes in sub-interpreters; dask.bag imports it (fsspec)"


def start_cluster(threads=2):
    return LocalCluster(n_workers=1, threads_per_worker=threads, processes=True,
                        host="127.0.0.1", dashboard_address="127.0.0.1:0",
                        worker_dashboard_address="127.0.0.1:0")


@pytest.fixture(scope="module")
def cluster():
    with start_cluster() as cluster:
        yield cluster


@pytest.fixture
def client(cluster):
    """A client whose worker runs every task on pergil (2 workers), as registered here."""
    with Client(cluster) as client:
        client.register_plugin(pergil.dask.InterpreterPlugin(workers=2))
        yield client


def with_plugin(client, **options):
    client.register_plugin(pergil.dask.InterpreterPlugin(**options))  # replaces the last one


def test_cpu_tasks_run_in_sub_interpreters_with_the_threaded_results(client):
    inputs = list(range(15, 23)) * 2
    ours = client.gather(client.map(tasks.fib, inputs, pure=False))
    with dask.annotate(**ON_THREADS):
        threaded = client.gather(client.map(tasks.fib, inputs, pure=False))
    assert ours == threaded == [tasks.fib(n) for n in inputs]
    assert set(client.gather(client.map(tasks.where_am_i, range(4)))) == {"sub-interpreter"}
    with dask.annotate(**ON_THREADS):
        assert client.submit(tasks.where_am_i, 0, pure=False).result() == "main"


def test_table_loading_tasks_depend_on_other_tasks(client):
    texts = client.map(tasks.make_csv, range(1, 7))  # results stay on the worker
    ours = client.gather(client.map(tasks.load_table, texts))
    with dask.annotate(**ON_THREADS):
        threaded = client.gather(client.map(tasks.load_table, texts, pure=False))
    assert ours == threaded == [tasks.load_table(tasks.make_csv(s)) for s in range(1, 7)]
    assert all(summary["rows"] == 2000 for summary in ours)


@pytest.mark.skipif(sys.version_info < (3, 13), reason=BAG_REFUSED)
def test_bag_graph_on_the_cluster(client):
    expected = sum(v for v in (tasks.fib(n % 20) for n in range(200)) if v % 2)
    bag = db.from_sequence([n % 20 for n in range(200)], npartitions=8)
    assert bag.map(tasks.fib).filter(lambda x: x % 2).sum().compute() == expected
    places = db.from_sequence(range(8), npartitions=4).map(tasks.where_am_i).distinct()
    assert places.compute() == ["sub-interpreter"]


def test_delayed_graph_on_the_cluster(client):
    parts = [dask.delayed(tasks.load_table)(dask.delayed(tasks.make_csv)(s)) for s in range(3)]
    total = dask.delayed(sum)([dask.delayed(lambda t: t["rows"])(p) for p in parts])
    assert total.compute() == 6000
    assert dask.delayed(tasks.where_am_i)(0).compute() == "sub-interpreter"


def test_exception_keeps_its_type_message_and_remote_traceback(client):
    future = client.submit(tasks.fail, 7)
    with pytest.raises(ValueError, match="bad value 7") as caught:
        future.result()
    remote = caught.value.__cause__
    assert isinstance(remote, pergil.RemoteTraceback)
    assert "in fail" in str(remote) and "dask_tasks.py" in str(remote)
    assert future.status == "error"
    assert client.submit(tasks.fib, 10).result() == 55  # the worker carries on


def test_refused_import_fails_with_pergils_error_by_default(client):
    with pytest.raises(ImportError, match="cannot import '_curses' in a pergil worker"):
        client.submit(tasks.import_refused, 4).result()
    with dask.annotate(**ON_THREADS):
        assert client.submit(tasks.import_refused, 4, pure=False).result() == 8


def test_fallback_threads_runs_refused_tasks_in_the_main_interpreter(client):
    with_plugin(client, workers=2, fallback="threads")
    assert client.gather(client.map(tasks.import_refused, range(5), pure=False)) == [0, 2, 4, 6, 8]
    assert client.submit(tasks.where_am_i, 1, pure=False).result() == "sub-interpreter"
    with pytest.raises(ValueError, match="bad value 1"):  # a task's own error is not retried
        client.submit(tasks.fail, 1).result()


def test_a_numpy_task_gets_pergils_error_or_the_thread_fallback(client):
    pytest.importorskip("numpy", reason="numpy is not installed (it comes with the test extra)")
    with pytest.raises(ImportError, match="in a pergil worker"):
        client.submit(tasks.numpy_total, 4, pure=False).result()
    with_plugin(client, workers=2, fallback="threads")
    assert client.gather(client.map(tasks.numpy_total, [4, 5], pure=False)) == [6, 10]


def test_default_false_routes_only_annotated_tasks(client):
    with_plugin(client, workers=2, default=False)
    assert client.submit(tasks.where_am_i, 2, pure=False).result() == "main"
    with dask.annotate(executor=pergil.dask.EXECUTOR_NAME):
        assert client.submit(tasks.where_am_i, 2, pure=False).result() == "sub-interpreter"
        assert client.submit(tasks.fib, 20, pure=False).result() == 6765


def test_cancel_interrupts_a_running_task_and_the_worker_stays_healthy(client):
    with_plugin(client, workers=1)  # one pergil worker: the next task needs it freed
    running = client.submit(tasks.spin, 0, pure=False)
    wait_until_processing(client, 1)
    time.sleep(0.3)  # inside the loop by now
    client.cancel(running)
    assert client.submit(tasks.fib, 18, pure=False).result(timeout=30) == 2584
    assert running.cancelled()
    assert client.gather(client.map(tasks.fib, [12, 13, 14])) == [144, 233, 377]


def test_replacing_the_plugin_lets_running_tasks_finish(client):
    running = client.map(tasks.spin_for, [1.0, 1.0], pure=False)
    wait_until_processing(client, 2)
    with_plugin(client, workers=2, default=False)
    assert client.gather(running) == [True, True]
    assert client.submit(tasks.where_am_i, 4, pure=False).result() == "main"


def test_prefetch_runs_one_task_more_than_threads_and_times_only_the_runs(client):
    def nthreads(dask_worker):
        return dask_worker.state.nthreads

    with_plugin(client, workers=1, prefetch=1)  # 2 threads + 1: 3 tasks on one pergil worker
    assert list(client.run(nthreads).values()) == [3]
    with get_task_stream(client) as recorded:
        assert client.gather(client.map(tasks.spin_for, [0.4] * 3, pure=False)) == [True] * 3
    computes = sorted((ss["start"], ss["stop"]) for s in recorded.data for ss in s["startstops"]
                      if ss["action"] == "compute")
    assert len(computes) == 3
    for earlier, later in zip(computes, computes[1:]):  # one after the other, each ~0.4 s
        assert later[0] >= earlier[0] + 0.35
    assert all(0.35 <= stop - start < 0.4 + 0.3 for start, stop in computes)
    with_plugin(client, workers=2, prefetch=0)  # the replaced plugin gave its slot back
    assert list(client.run(nthreads).values()) == [2]
    with_plugin(client, workers=2, default=False)  # thread tasks get no extra slot
    assert list(client.run(nthreads).values()) == [2]


def test_restart_keeps_the_plugin(client):
    before = client.submit(tasks.fib, 15).result()
    client.restart(timeout="60s")
    assert client.submit(tasks.where_am_i, 3, pure=False).result() == "sub-interpreter"
    assert client.submit(tasks.fib, 15, pure=False).result() == before


def test_bad_plugin_options():
    with pytest.raises(ValueError, match="workers"):
        pergil.dask.InterpreterPlugin(workers=0)
    with pytest.raises(ValueError, match="fallback"):
        pergil.dask.InterpreterPlugin(fallback="processes")
    with pytest.raises(TypeError, match="default"):
        pergil.dask.InterpreterPlugin(default="yes")
    for prefetch in (-1, 1.0, True, "1"):
        with pytest.raises(ValueError, match="prefetch"):
            pergil.dask.InterpreterPlugin(prefetch=prefetch)


def test_preload_options_come_from_dask_config():
    with dask.config.set({"pergil.workers": 3, "pergil.default": "false",
                          "pergil.fallback": "threads", "pergil.prefetch": 0}):
        plugin = pergil.dask.plugin_from_config()
    assert (plugin.workers, plugin.default, plugin.fallback, plugin.prefetch) == (
        3, False, "threads", 0)
    plugin = pergil.dask.plugin_from_config()
    assert (plugin.workers, plugin.default, plugin.fallback, plugin.prefetch) == (
        None, True, "error", 1)
    with dask.config.set({"pergil.default": "maybe"}), pytest.raises(TypeError, match="default"):
        pergil.dask.plugin_from_config()


def test_close_with_tasks_in_flight_ends_the_worker_process_cleanly():
    cluster = start_cluster()
    try:
        with Client(cluster) as client:
            client.register_plugin(pergil.dask.InterpreterPlugin(workers=2))
            futures = client.map(tasks.spin, range(4), pure=False)
            wait_until_processing(client, 2)
            time.sleep(0.3)
            processes = [nanny.process.process for nanny in cluster.workers.values()]
            assert not any(f.done() for f in futures)
    finally:
        cluster.close(timeout=30)
    for process in processes:
        assert process.exitcode == 0, f"worker process ended with {process.exitcode}"


def test_a_run_longer_than_dasks_profile_cycle_keeps_its_worker(client):
    """Dask's profiler samples sys._current_frames() once a cycle (1 s); with sub-interpreters
    running that corrupts their heap and the worker process aborts within seconds."""
    pids = client.run(lambda: __import__("os").getpid())
    assert all(client.gather(client.map(tasks.spin_for, [0.25] * 12, pure=False)))  # ~1.5 s x 2
    assert client.run(lambda: __import__("os").getpid()) == pids
