"""test_data.py: arguments and results crossing interpreters.

Pickle protocol 5; large buffers (bytes, bytearray, memoryview, array.array, PickleBuffer) out of
band. A memoryview result is a zero-copy, read-only loan of the worker's memory that stays valid
after shutdown and after the executor is gone. Memory stays bounded over many big transfers.
"""

import array
import datetime
import decimal
import fractions
import gc
import pickle
import sys

import pytest

import pergil
from helpers import tasks
from helpers.support import buffer_address, rss_bytes
from pergil import _wire

LOAN = pergil._core.LOAN_THRESHOLD
SIZES = [0, 1, 255, LOAN - 1, LOAN, LOAN + 1, 3 * LOAN + 17, 8 << 20]


VALUES = [
    None, True, 0, -1, 2**200, 3.5, float("inf"), 1 + 2j, "", "héllo ✓", b"", b"abc",
    (1, (2, 3)), [1, [2, [3]]], {"a": {1: 2}}, {1, 2, 3}, frozenset({4}),
    decimal.Decimal("1.10"), fractions.Fraction(3, 7),
    range(2, 20, 3), slice(1, 9, 2), tasks.Color.RED, tasks.Record("r", [1, 2]), tasks.Pair(1, "x"),
    tasks.Accumulator(3), tasks.CustomError(4, "detail"),
]


# On 3.12 a worker cannot import _datetime and falls back to _pydatetime: its objects must
# still come back as the caller's datetime types (and the caller's reach the worker).
DATETIME_VALUES = [
    datetime.date(2024, 2, 29), datetime.datetime(2024, 2, 29, 12, 30, 1, 5),
    datetime.timedelta(days=3), datetime.time(1, 2, 3),
    datetime.datetime(2024, 1, 2, 3, tzinfo=datetime.timezone.utc),
    datetime.timezone(datetime.timedelta(hours=2), "X"),
]


@pytest.mark.parametrize(
    "value", VALUES + DATETIME_VALUES,
    ids=lambda v: type(v).__name__)
def test_values_round_trip(executor, value):
    result = executor.submit(tasks.roundtrip, value).result()
    assert type(result) is type(value)
    if isinstance(value, Exception):
        assert result.args == value.args
    else:
        assert result == value


def test_wire_uses_protocol_5_and_moves_large_buffers_out_of_band():
    big = LOAN * 4
    objects = [
        tasks.pattern(big), bytearray(big), memoryview(tasks.pattern(big)),
        array.array("d", range(big // 8)), pickle.PickleBuffer(bytearray(big)),
    ]
    for obj in objects:
        stream, buffers = _wire.dumps((obj,))
        assert pickle.PROTO in stream[:1] and stream[1] == 5
        assert len(stream) < 1024, f"{type(obj).__name__} was pickled in band"
        assert len(buffers) == 1 and memoryview(buffers[0]).nbytes == big
    small_stream, small_buffers = _wire.dumps((b"x" * 100,))
    assert small_buffers == [] and b"x" * 100 in small_stream


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("maker, kind", [(tasks.make_bytes, bytes), (tasks.make_bytearray, bytearray)])
def test_bytes_results_keep_type_and_content(executor, size, maker, kind):
    result = executor.submit(maker, size, 5).result()
    assert type(result) is kind
    assert result == tasks.pattern(size, 5)
    if kind is bytearray:
        result.extend(b"writable")  # the caller owns a real, resizable bytearray


@pytest.mark.parametrize("typecode", ["b", "B", "h", "i", "l", "q", "f", "d"])
@pytest.mark.parametrize("count", [0, 3, 100_000])
def test_array_results_keep_type_and_content(executor, typecode, count):
    result = executor.submit(tasks.make_array, typecode, count).result()
    assert type(result) is array.array and result.typecode == typecode
    assert result == tasks.make_array(typecode, count)


@pytest.mark.parametrize("size", SIZES)
def test_buffer_arguments_arrive_intact(executor, size):
    data = tasks.pattern(size, 9)
    crc = tasks.checksum(data)
    assert executor.submit(tasks.describe, data).result()[:3] == ("bytes", size, crc)
    assert executor.submit(tasks.describe, bytearray(data)).result()[:3] == ("bytearray", size, crc)
    name, nbytes, got, readonly = executor.submit(tasks.describe, memoryview(data)).result()
    assert (name, nbytes, got, readonly) == ("memoryview", size, crc, True)
    name, nbytes, got, _ = executor.submit(tasks.describe, pickle.PickleBuffer(data)).result()
    assert (nbytes, got) == (size, crc)
    numbers = array.array("i", range(size // 4))
    assert executor.submit(tasks.roundtrip, numbers).result() == numbers


def test_bytearray_argument_is_released_when_its_future_is_done(executor):
    """A large bytearray argument is lent to the worker; once the future is done the loan is
    over: the caller may resize it, and the worker never wrote to it."""
    expected = tasks.pattern(4 * LOAN)
    for _ in range(50):
        data = bytearray(expected)
        assert executor.submit(tasks.describe, data).result()[2] == tasks.checksum(expected)
        data.extend(b"more")  # BufferError if the worker still held a view on it
        assert data == expected + b"more"


def test_memoryview_result_is_a_zero_copy_read_only_loan(executor):
    size = 4 << 20
    view, worker_address = executor.submit(tasks.make_view_with_address, size, 11).result()
    assert type(view) is memoryview
    assert view.readonly
    with pytest.raises(TypeError):
        view[0] = 1
    assert view.nbytes == size and view.tobytes() == tasks.pattern(size, 11)
    # The view's memory is the worker's own bytes object: not a copy, not the pickle stream.
    assert buffer_address(view) == worker_address


def test_address_formula_used_by_the_worker_holds_here():
    data = tasks.pattern(1000)
    assert buffer_address(data) == id(data) + bytes.__basicsize__ - 1


def test_bytes_result_is_a_copy_owned_by_the_caller(executor):
    data = executor.submit(tasks.make_bytes, 4 * LOAN, 1).result()
    assert type(data) is bytes and buffer_address(data) == id(data) + bytes.__basicsize__ - 1


@pytest.mark.parametrize("drop", ["shutdown", "shutdown_and_delete"])
def test_memoryview_result_outlives_the_executor(workers, drop):
    executor = pergil.InterpreterPoolExecutor(max_workers=workers)
    futures = [executor.submit(tasks.make_view_with_address, (1 << 20) + i, i) for i in range(8)]
    views = [f.result()[0] for f in futures]
    executor.shutdown(wait=True)
    if drop == "shutdown_and_delete":
        del executor, futures
        gc.collect()
    churn = [bytearray(tasks.pattern(1 << 20, 200 + i)) for i in range(32)]  # reuse freed memory
    for i, view in enumerate(views):
        assert view.nbytes == (1 << 20) + i
        assert view.tobytes() == tasks.pattern((1 << 20) + i, i)
    del churn, views
    gc.collect()


@pytest.mark.parametrize(
    "typecode, count, shape",
    [("d", 12, (3, 4)), ("B", 24, (2, 3, 4)), ("i", 10, (10,)), ("h", 30, (5, 6)),
     ("q", 8, (2, 2, 2)), ("f", 6, (6, 1))],
)
def test_shaped_memoryview_results_keep_format_and_shape(executor, typecode, count, shape):
    view = executor.submit(tasks.make_shaped_view, typecode, count, shape).result()
    expected = tasks.make_shaped_view(typecode, count, shape)
    assert (view.format, view.shape, view.itemsize) == (expected.format, expected.shape,
                                                        expected.itemsize)
    assert view.tolist() == expected.tolist()


@pytest.mark.parametrize("typecode", ["d", "i", "B"])
def test_empty_memoryview_result_keeps_its_format(executor, typecode):
    view = executor.submit(tasks.make_shaped_view, typecode, 0, (0,)).result()
    assert (view.format, view.shape, view.itemsize, view.tolist()) == (
        typecode, (0,), array.array(typecode).itemsize, [])


def test_strided_memoryview_result_keeps_content(executor):
    view = executor.submit(tasks.make_strided_view, 1 << 20).result()
    assert bytes(view) == tasks.pattern(1 << 20)[::3]


@pytest.mark.parametrize("size", [LOAN * 2, 1 << 20])
def test_buffers_inside_containers(executor, size):
    data = {"a": tasks.pattern(size, 1), "b": [bytearray(tasks.pattern(size, 2)),
                                              array.array("d", range(size // 8))]}
    result = executor.submit(tasks.roundtrip, data).result()
    assert result == data and type(result["b"][0]) is bytearray


@pytest.mark.parametrize("direction", ["results", "arguments", "views", "arrays"])
def test_many_big_transfers_keep_memory_bounded(executor, direction):
    """1,000 transfers of 1 MiB: resident memory must not grow with their total (1 GiB).

    The bound is loose (256 MiB over a warm-up), to catch leaks, not to measure."""
    size = 1 << 20
    payload = tasks.pattern(size, 4)
    crc = tasks.checksum(payload)

    def one_round(count):
        futures = []
        for i in range(count):
            if direction == "results":
                futures.append(executor.submit(tasks.make_bytes, size, 4))
            elif direction == "views":
                futures.append(executor.submit(tasks.make_view_with_address, size, 4))
            elif direction == "arrays":
                futures.append(executor.submit(tasks.make_pattern_array, "d", size, 4))
            else:
                futures.append(executor.submit(tasks.checksum, payload))
        for future in futures:
            value = future.result()
            if direction == "arguments":
                assert value == crc
            else:
                data = value[0] if direction == "views" else value
                if direction == "arrays":
                    data = data.tobytes()
                assert len(data) == size and tasks.checksum(data) == crc
        del futures, value

    one_round(50)
    gc.collect()
    baseline = rss_bytes()
    for _ in range(19):
        one_round(50)
    gc.collect()
    growth = rss_bytes() - baseline
    assert growth < 256 << 20, f"RSS grew by {growth >> 20} MiB over 950 x 1 MiB transfers"
