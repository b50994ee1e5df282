"""test_progress.py: map(progress=...): a tqdm bar or a callable counting items as chunks
complete, with chunks small enough for a smooth bar. Counts, never timings: each update is
one completed chunk, so the number of updates is how many times a bar moves."""

import sys
import threading

import pytest

import pergil
from helpers import tasks


def test_callable_sees_every_item_in_many_updates(executor):
    updates = []
    results = list(executor.map(tasks.square, range(80), progress=updates.append))
    assert results == [i * i for i in range(80)]
    # 80 items: one per chunk (the default without progress: 4 chunks per worker).
    assert sum(updates) == 80 and len(updates) == 80


@pytest.mark.parametrize("count", [1, 99, 1000, 12345])
def test_default_chunks_give_about_a_hundred_updates(executor, workers, count):
    updates = []
    assert list(executor.map(tasks.square, range(count), progress=updates.append)) == [
        i * i for i in range(count)]
    assert sum(updates) == count
    assert len(updates) == min(count, len(range(0, count, -(-count // 100))))
    assert len(updates) >= min(count, 50)  # a smooth bar, not 4 jumps per worker


def test_progress_counted_before_the_result_is_seen(executor):
    """Each chunk reports before its result reaches the caller: once map's iteration ends,
    every item has been counted (a bar closed then shows the full count)."""
    for _ in range(5):
        updates = []
        for _ in executor.map(tasks.square, range(300), chunksize=7, progress=updates.append):
            pass
        assert sum(updates) == 300 and len(updates) == -(-300 // 7)


def test_explicit_chunksize_and_generators(executor):
    updates = []
    values = executor.map(tasks.add, (i for i in range(50)), range(50), chunksize=4,
                          progress=updates.append)
    assert list(values) == [2 * i for i in range(50)]
    assert updates.count(4) == 12 and updates.count(2) == 1


@pytest.mark.parametrize("chunksize", [1, 5])
def test_failing_item_counts_and_raises(executor, chunksize):
    updates = []
    results = executor.map(tasks.fail_on, range(20), [7] * 20, chunksize=chunksize,
                           progress=updates.append)
    assert [next(results) for _ in range(7)] == list(range(7))
    with pytest.raises(ValueError, match="item 7 fails"):
        next(results)
    # Items 0-7 are counted, the failing one too; later items may still be running (the
    # raise cancels those not started); with chunks, the rest of 7's chunk (8, 9) never runs.
    assert 8 <= sum(updates) <= (20 if chunksize == 1 else 18)


def test_callable_runs_off_the_caller_thread_and_may_raise(executor, caplog):
    threads = set()

    def progress(done):
        threads.add(threading.get_ident())
        raise RuntimeError("progress callback failed")

    assert list(executor.map(tasks.square, range(10), progress=progress)) == [
        i * i for i in range(10)]
    assert threads and threading.get_ident() not in threads
    assert "progress callback" in caplog.text


def test_tqdm_bar(executor, capsys):
    pytest.importorskip("tqdm", reason="tqdm is in the test extra; CI installs it")
    assert list(executor.map(tasks.square, range(40), progress=True)) == [
        i * i for i in range(40)]
    err = capsys.readouterr().err
    assert "40/40" in err


def test_tqdm_missing_or_bad_progress(executor, monkeypatch):
    with pytest.raises(TypeError, match="progress"):
        executor.map(tasks.square, range(3), progress="yes")
    monkeypatch.setitem(sys.modules, "tqdm", None)  # import tqdm raises ImportError
    with pytest.raises(ImportError, match="install tqdm"):
        executor.map(tasks.square, range(3), progress=True)
    assert list(executor.map(tasks.square, range(3))) == [0, 1, 4]
