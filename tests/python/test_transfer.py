"""test_transfer.py: big bytes/bytearray/array results move their pages instead of being copied.

A result object the worker no longer references (its function built and returned it) gives its
pages to the caller's new object (``mremap``), which costs no copy and no second resident copy.
Every other case (the worker keeps the object, the result holds it twice, a buffer
at another offset in its page, a size under the move threshold) is copied, and no case may
change what the worker or the caller sees.
"""

import array
import os

import pytest

from helpers import tasks
from pergil import _core

# glibc serves blocks of 32 MiB and more with mmap in both interpreters, so a result and the
# caller's new object start at the same offset in a page: the condition for moving pages.
# Smaller blocks may come from a heap at any offset, and are then copied (checked below).
MOVE_SIZES = [(32 << 20) + 123, 64 << 20]
REPEATS = 3


def stats_delta(before):
    after = _core.transfer_stats()
    return {key: after[key] - before[key] for key in after}


@pytest.mark.parametrize("size", MOVE_SIZES)
@pytest.mark.parametrize("maker, kind", [(tasks.make_bytes, bytes),
                                         (tasks.make_bytearray, bytearray)])
def test_fresh_big_results_move_their_pages(executor, maker, kind, size):
    for seed in range(REPEATS):
        before = _core.transfer_stats()
        result = executor.submit(maker, size, seed).result()
        assert type(result) is kind and len(result) == size
        assert result == tasks.pattern(size, seed)
        assert stats_delta(before) == {"moved": 1, "copied": 0}


def test_results_the_worker_keeps_are_copied_and_stay_intact(executor, workers):
    size = 32 << 20
    before = _core.transfer_stats()
    # Every worker returns its kept object several times: a move would empty it for later calls.
    futures = [executor.submit(tasks.kept_bytes, size, 5) for _ in range(workers * 4)]
    for future in futures:
        assert future.result() == tasks.pattern(size, 5)
    assert stats_delta(before) == {"moved": 0, "copied": len(futures)}


def test_a_result_holding_one_object_twice_is_copied_twice(executor):
    size = 32 << 20
    before = _core.transfer_stats()
    first, second = executor.submit(tasks.same_bytes_twice, size, 3).result()
    assert first == second == tasks.pattern(size, 3)
    assert stats_delta(before)["moved"] == 0


def test_a_bytes_subclass_result_keeps_its_type_and_content(executor):
    # It pickles by reduce, as its class and a temporary exact bytes: that bytes may move.
    size = 32 << 20
    result = executor.submit(tasks.bytes_subclass, size, 1).result()
    assert type(result) is tasks.BytesSubclass and result == tasks.pattern(size, 1)


@pytest.mark.parametrize("size", [1 << 20, (2 << 20) + 5, (8 << 20) + 1])
def test_results_of_any_size_arrive_intact(executor, size):
    for seed in range(REPEATS):
        assert executor.submit(tasks.make_bytes, size, seed).result() == tasks.pattern(size, seed)
        result = executor.submit(tasks.make_bytearray, size, seed).result()
        assert type(result) is bytearray and result == tasks.pattern(size, seed)


def test_a_bytearray_at_another_page_offset_is_copied_intact(executor):
    size = (32 << 20) + 5
    before = _core.transfer_stats()
    result = executor.submit(tasks.shifted_bytearray, size, 2).result()
    assert type(result) is bytearray and result == tasks.pattern(size, 2)
    assert stats_delta(before) == {"moved": 0, "copied": 1}


def test_results_under_the_move_threshold_are_copied(executor):
    size = _core.LOAN_THRESHOLD * 2
    before = _core.transfer_stats()
    assert executor.submit(tasks.make_bytes, size, 4).result() == tasks.pattern(size, 4)
    assert stats_delta(before) == {"moved": 0, "copied": 1}


def test_moved_results_stay_valid_after_shutdown(workers):
    import pergil

    size = 32 << 20
    with pergil.InterpreterPoolExecutor(max_workers=workers) as pool:
        results = [pool.submit(tasks.make_bytes, size, seed) for seed in range(workers * 2)]
        results = [future.result() for future in results]
    for seed, result in enumerate(results):
        assert result == tasks.pattern(size, seed)


def test_copy_bytes_of_a_plain_buffer_never_moves():
    data = bytearray(tasks.pattern(4 << 20, 6))
    before = _core.transfer_stats()
    copy = _core.copy_bytes(data)
    assert copy == data == tasks.pattern(4 << 20, 6)
    assert stats_delta(before) == {"moved": 0, "copied": 1}
    with pytest.raises(TypeError):
        _core.copy_bytes(12)


# ---- array.array: the same moves and copies, into the array's own storage ----

@pytest.mark.parametrize("typecode", ["b", "d", "Q"])
@pytest.mark.parametrize("size", MOVE_SIZES)
def test_fresh_big_array_results_move_their_pages(executor, typecode, size):
    size -= size % array.array(typecode).itemsize
    for seed in range(REPEATS):
        before = _core.transfer_stats()
        result = executor.submit(tasks.make_pattern_array, typecode, size, seed).result()
        assert type(result) is array.array and result.typecode == typecode
        assert result.tobytes() == tasks.pattern(size, seed)
        assert stats_delta(before) == {"moved": 1, "copied": 0}
    # The adopted storage behaves as the array's own: it grows, shrinks and is freed by it.
    count = len(result)
    result.extend(result[:1000])
    del result[: count // 2]
    result.append(result[0])
    assert len(result) == count - count // 2 + 1001


def test_arrays_the_worker_keeps_are_copied_and_stay_intact(executor, workers):
    size = 32 << 20
    before = _core.transfer_stats()
    futures = [executor.submit(tasks.kept_array, "i", size, 5) for _ in range(workers * 3)]
    for future in futures:
        assert future.result().tobytes() == tasks.pattern(size, 5)
    assert stats_delta(before) == {"moved": 0, "copied": len(futures)}


@pytest.mark.parametrize("size", [_core.LOAN_THRESHOLD, (4 << 20) + 8, 32 << 20])
def test_array_arguments_arrive_intact_and_the_callers_array_is_unchanged(executor, size):
    data = tasks.make_pattern_array("q", size, 7)
    summary = executor.submit(tasks.array_summary, data).result()
    assert summary == ("array", "q", size // 8, tasks.checksum(tasks.pattern(size, 7)))
    assert data.tobytes() == tasks.pattern(size, 7)


def test_copy_array_of_a_plain_buffer_copies_and_checks_its_input():
    data = tasks.pattern(8 << 20, 3)
    before = _core.transfer_stats()
    result = _core.copy_array("H", data)
    assert result.typecode == "H" and result.tobytes() == data
    assert stats_delta(before) == {"moved": 0, "copied": 1}
    assert _core.copy_array("d", b"").tolist() == []
    assert _core.copy_array("b", b"\x01\x02").tolist() == [1, 2]  # small: array.frombytes
    with pytest.raises(ValueError, match="multiple of item size"):
        _core.copy_array("d", data + b"x")
    with pytest.raises(ValueError):
        _core.copy_array("?", data)
    with pytest.raises(TypeError):
        _core.copy_array("d", 12)
    with pytest.raises(TypeError):
        _core.copy_array("d")


def _rss_kib():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))


@pytest.mark.skipif(not hasattr(os, "confstr") or "glibc" not in os.confstr("CS_GNU_LIBC_VERSION"),
                    reason="trim_heap returns free pages through glibc's malloc_trim")
def test_trim_heap_returns_free_pages_inside_the_heap():
    # 100 KiB blocks come from the heap (under glibc's 128 KiB mmap threshold); freeing every
    # other one leaves holes that free() alone never returns, since the heap's top is in use.
    blocks = [bytes(100 << 10) + bytes([i % 256]) for i in range(1200)]
    del blocks[::2]
    before = _rss_kib()
    assert _core.trim_heap() is True
    assert before - _rss_kib() > 20 << 10  # of the ~60 MiB in holes
    assert _core.trim_heap() in (True, False)  # nothing left to give back is not an error
    del blocks


def test_trim_heap_runs_in_workers(executor):
    assert executor.submit(_core.trim_heap).result() in (True, False)
