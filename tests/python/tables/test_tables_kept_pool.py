"""The pergil pools pergil.tables keeps between calls: reused (memory does not grow call after
call), shared by threads and by both readers, ended by shutdown_workers, restarted in a forked
child, and left usable after a call stopped early."""

import gc
import subprocess
import sys
import textwrap
import threading

import pytest

pytest.importorskip("pdtable", reason="the tables extra (pip install '.[tables]')")
from pdtable.io.load import load_files  # noqa: E402

import pergil  # noqa: E402
from helpers.startable import describe  # noqa: E402
from helpers.startable_inputs import write_all_units, write_big, write_xlsx  # noqa: E402
from pergil.tables import _pool, load_startables, read_many, shutdown_workers  # noqa: E402


@pytest.fixture(autouse=True)
def no_kept_pools():
    shutdown_workers()  # what other tests kept
    yield
    shutdown_workers()


@pytest.fixture
def inputs(tmp_path):
    write_all_units(tmp_path)
    write_big(tmp_path, n_files=3, rows=300)
    return tmp_path, describe(lambda: load_files(["/"], root_folder=tmp_path))


def _load(folder, workers):
    return describe(lambda: load_startables(["/"], root_folder=folder, workers=workers))


@pytest.mark.parametrize("workers", [1, 2, 4])
def test_calls_reuse_the_pool_of_their_worker_count(inputs, workers):
    folder, expected = inputs
    assert _load(folder, workers) == expected
    pool = _pool._pools[workers]
    for _ in range(3):
        assert _load(folder, workers) == expected
    assert _pool._pools[workers] is pool
    assert pool.submit(abs, -1).result() == 1  # open, and idle enough to answer


@pytest.mark.skipif(sys.version_info < (3, 13), reason="3.12 reads .xlsx in the main "
                    "interpreter (pyexpat refuses sub-interpreters there)")
def test_read_many_uses_the_same_kept_pool(tmp_path):
    write_xlsx(tmp_path)
    path = tmp_path / "input_book.xlsx"
    read_many([path], 2)
    pool = _pool._pools[2]
    list(load_startables(["/input_book.xlsx"], root_folder=tmp_path, workers=2))
    read_many([path], 2)
    assert _pool._pools == {2: pool}


@pytest.mark.parametrize("workers", [1, 2, 4])
def test_threads_share_a_kept_pool(inputs, workers):
    folder, expected = inputs
    results, errors = [], []

    def load():
        try:
            results.append(_load(folder, workers))
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    for _ in range(3):
        threads = [threading.Thread(target=load) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not any(thread.is_alive() for thread in threads), "a load hangs"
    assert errors == []
    assert results == [expected] * 9


def test_shutdown_workers_ends_the_pools_and_the_next_call_starts_one(inputs):
    folder, expected = inputs
    _load(folder, 1)
    _load(folder, 2)
    old = dict(_pool._pools)
    shutdown_workers()
    assert _pool._pools == {}
    for pool in old.values():
        with pytest.raises(RuntimeError, match="after shutdown"):
            pool.submit(abs, 1)
    assert _load(folder, 2) == expected
    assert _pool._pools[2] is not old[2]
    shutdown_workers(wait=False)
    shutdown_workers()  # nothing kept: a no-op


def test_a_call_stopped_early_leaves_the_kept_pool_usable(tmp_path):
    write_big(tmp_path, n_files=6, rows=2_000)
    expected = describe(lambda: load_files(["/"], root_folder=tmp_path))
    for _ in range(3):
        gen = load_startables(["/"], root_folder=tmp_path, workers=2)
        next(gen)
        gen.close()  # its reads ahead are cancelled (running ones interrupted)
        gc.collect()
    assert _load(tmp_path, 2) == expected


def test_an_error_while_consuming_cancels_the_reads_ahead(tmp_path):
    write_big(tmp_path, n_files=6, rows=2_000)
    with pytest.raises(KeyboardInterrupt):
        for _ in load_startables(["/"], root_folder=tmp_path, workers=2):
            raise KeyboardInterrupt  # as Ctrl-C in the caller's loop
    pool = _pool._pools[2]
    assert pool.submit(abs, -2).result(timeout=60) == 2


def test_a_load_goes_on_when_its_kept_pool_is_ended_under_it(tmp_path):
    # shutdown_workers() or os.fork() in another thread, mid-load: reads already cancelled
    # are read by pdtable in the caller, later ones go to a new kept pool; the same blocks.
    write_big(tmp_path, n_files=6, rows=2_000)
    expected = describe(lambda: load_files(["/"], root_folder=tmp_path))

    def load_with_shutdown_after_first_block():
        gen = load_startables(["/"], root_folder=tmp_path, workers=2)
        first = next(gen)
        shutdown_workers()
        yield first
        yield from gen

    assert describe(load_with_shutdown_after_first_block) == expected
    assert 2 in _pool._pools  # the new pool


@pytest.mark.parametrize("workers", [0, -1, True, 1.5, "2"])
def test_bad_worker_counts_raise_value_error(tmp_path, workers):
    write_all_units(tmp_path)
    with pytest.raises(ValueError, match="workers must be a positive int"):
        list(load_startables(["/"], root_folder=tmp_path, workers=workers))
    assert _pool._pools == {}  # no pool is started for a bad count


_REPEATED_LOADS = textwrap.dedent("""
    import gc, sys
    from pergil import _core
    from pergil.tables import load_startables

    def rss_mib():
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS"):
                    return int(line.split()[1]) / 1024

    sizes = []
    for _ in range(6):
        blocks = list(load_startables(["/"], root_folder=sys.argv[1], workers=2))
        del blocks
        gc.collect()
        _core.trim_heap()
        sizes.append(rss_mib())
    print(sizes[1], sizes[-1])
""")


def test_repeated_loads_do_not_grow_the_process(tmp_path):
    # Issue 12: with a pool per call, each call kept its ended interpreters' memory (6 MiB
    # per call on this input, 24 MiB over the last four); the kept pool pays it once.
    write_big(tmp_path, n_files=2, rows=5_000)
    out = subprocess.run([sys.executable, "-c", _REPEATED_LOADS, str(tmp_path)],
                         capture_output=True, text=True, timeout=300, check=True)
    second, last = map(float, out.stdout.split())
    assert last - second < 6, (second, last)


_FORKED_CHILD = textwrap.dedent("""
    import os, sys, warnings
    from pergil.tables import load_startables

    def count():
        return len(list(load_startables(["/"], root_folder=sys.argv[1], workers=2)))

    expected = count()
    warnings.simplefilter("ignore", DeprecationWarning)  # fork() of a process with threads
    pid = os.fork()
    if pid == 0:
        os._exit(0 if count() == expected else 3)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, status
    assert count() == expected  # the parent's kept pool still serves it
    print("ok")
""")


def test_a_forked_child_starts_its_own_pool(tmp_path):
    write_all_units(tmp_path)
    out = subprocess.run([sys.executable, "-c", _FORKED_CHILD, str(tmp_path)],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def test_kept_pool_is_a_pergil_pool():
    assert isinstance(_pool.kept_pool(1), pergil.InterpreterPoolExecutor)
