"""test_dask_cli.py: a scheduler and a worker started as separate processes with the `dask`
command line, the worker given pergil by `--preload pergil.dask`; the worker is stopped with
tasks in flight and must exit cleanly (no hang, no abort at exit)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("distributed", reason="the dask extra is not installed")

from distributed import Client  # noqa: E402

from helpers import dask_tasks as tasks  # noqa: E402
from helpers.dask_client import wait_until_processing  # noqa: E402

pytestmark = pytest.mark.timeout(120)
TESTS_DIR = Path(__file__).resolve().parent
DASK = str(Path(sys.executable).with_name("dask"))


def start(args, log, env):
    return subprocess.Popen([DASK, *args], stdout=log, stderr=subprocess.STDOUT, env=env,
                            start_new_session=True)


def stop(process, timeout=60):
    """SIGTERM (Dask closes gracefully), then the exit status; kills it if it hangs."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return "hung"


def wait_for(path, processes, timeout=60):
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert all(p.poll() is None for p in processes), "a dask process ended early"
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.1)


def test_scheduler_and_preloaded_worker_processes(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(TESTS_DIR), DASK_PERGIL__WORKERS="2")
    scheduler_file = tmp_path / "scheduler.json"
    scheduler_log = open(tmp_path / "scheduler.log", "w")
    worker_log = open(tmp_path / "worker.log", "w")
    scheduler = start(["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                       "--dashboard-address", "127.0.0.1:0",
                       "--scheduler-file", str(scheduler_file)], scheduler_log, env)
    worker = None
    try:
        wait_for(scheduler_file, [scheduler])
        worker = start(["worker", "--scheduler-file", str(scheduler_file), "--host", "127.0.0.1",
                        "--nthreads", "2", "--no-nanny", "--no-dashboard",
                        "--dashboard-address", "127.0.0.1:0",
                        "--preload", "pergil.dask"], worker_log, env)
        with Client(scheduler_file=str(scheduler_file), timeout="60s") as client:
            client.wait_for_workers(1, timeout=60)
            inputs = list(range(16, 22))
            assert client.gather(client.map(tasks.fib, inputs)) == list(map(tasks.fib, inputs))
            assert client.submit(tasks.where_am_i, 0).result() == "sub-interpreter"
            with pytest.raises(ValueError, match="bad value 5"):
                client.submit(tasks.fail, 5).result()
            in_flight = client.map(tasks.spin, range(3), pure=False)
            wait_until_processing(client, 2)
            time.sleep(0.3)
            assert not any(f.done() for f in in_flight)
            worker_status = stop(worker)
    finally:
        statuses = [stop(p) for p in (worker, scheduler) if p is not None]
        scheduler_log.close()
        worker_log.close()
    text = (tmp_path / "worker.log").read_text()
    assert worker_status == 0, f"worker exit {worker_status}:\n{text[-3000:]}"
    assert statuses[-1] == 0, (tmp_path / "scheduler.log").read_text()[-3000:]
    assert "Starting Worker plugin pergil" in text
    for sign in ("Fatal Python error", "Aborted", "Segmentation fault", "free():"):
        assert sign not in text
