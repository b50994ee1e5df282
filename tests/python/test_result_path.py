"""test_result_path.py: results of plain builtin data cross as marshal, everything else as
pickle with a C persistent_id; both must give back what pickle gave before.

Plain data (exact None, bool, int, float, complex, str, small bytes, tuple, list, dict, set,
frozenset; no cycles; at most 200 deep) is written with marshal; the caller tells the two
formats apart by the first byte. The pickler's persistent_id is a C BufferFinder. Types,
values, sharing, cycles and out-of-band buffers must come out as they did through pickle
alone, at every pool size, through submit and map, for results and arguments alike.
"""

import array
import gc
import marshal
import pickle
import weakref

import pytest

import pergil
from helpers import result_shapes
from pergil import _core, _wire

LOAN = _core.LOAN_THRESHOLD
SHAPE_NAMES = sorted(result_shapes.SHAPES)
PLAIN_SHAPES = {"columns", "columns_big", "scalars", "floats", "containers", "bool_keys",
                "shared", "nested_150", "huge_list"}


def assert_same(expected, got, seen=None):
    """Equal, with exactly the same types all the way down (True is not 1, -0.0 is not 0.0,
    nan is nan), and the same cycles."""
    seen = set() if seen is None else seen
    if (id(expected), id(got)) in seen:
        return
    assert type(got) is type(expected), f"{type(got)} != {type(expected)} for {expected!r:.80}"
    if isinstance(expected, (float, complex)):
        assert repr(got) == repr(expected)
    elif isinstance(expected, (list, tuple, dict)):
        seen.add((id(expected), id(got)))
        assert len(got) == len(expected)
        if isinstance(expected, dict):
            assert_same(list(expected), list(got), seen)
            expected, got = list(expected.values()), list(got.values())
        for want, have in zip(expected, got):
            assert_same(want, have, seen)
    elif isinstance(expected, (set, frozenset)):
        assert {(type(x), x) for x in got} == {(type(x), x) for x in expected}
    else:
        assert got == expected


def check_identities(name, value):
    """Sharing and cycles as the shape built them."""
    if name == "shared":
        assert value["a"] is value["b"] is value["t"][0]
        assert value["s"][0] is value["s"][1] is value["t"][1]
    elif name == "cyclic_list":
        assert value[2] is value
    elif name == "cyclic_dict":
        assert value["children"][0]["parent"] is value


# ---- the format chosen, in this interpreter ----------------------------------------------------


@pytest.mark.parametrize("name", SHAPE_NAMES)
def test_format_and_round_trip_in_process(name):
    value = result_shapes.build(name)
    stream, buffers = _wire.dumps_result(value)
    is_pickle = bytes(memoryview(stream)[:1]) == pickle.PROTO
    assert is_pickle == (name not in PLAIN_SHAPES), "wrong format chosen"
    got = _wire.loads(stream, buffers)
    assert_same(value, got)
    check_identities(name, got)


def test_marshal_streams_never_begin_with_pickles_first_byte():
    values = [None, True, 0, 2**90, 1.5, 1j, "a", "é", "a" * 300, "é" * 300, b"x", (), (1,),
              [1], {}, {1: 2}, set(), frozenset({1}), result_shapes.build("shared")]
    for value in values:
        first = marshal.dumps(value)[0]
        assert first != pickle.PROTO[0]
        held = [value, value]  # referenced twice: marshal flags it (0x80 | type code)
        assert marshal.dumps(held[0])[0] != pickle.PROTO[0]


def test_plain_data_scan():
    plain = [[1, 2.0, "x", None, True, 1j, b"b" * (LOAN - 1)], {"k": (1, frozenset({2}))},
             {1, 2}, (), []]
    for value in plain:
        assert _core.plain_data(value) is True, value
    cyclic = [1]
    cyclic.append(cyclic)
    not_plain = [[b"b" * LOAN], [bytearray(1)], [memoryview(b"")], [array.array("b")],
                 [result_shapes.Text("t")], {"k": result_shapes.Number(1)}, result_shapes.Items(),
                 [object()], cyclic, result_shapes.build("nested_500"), [1.0, [2, {3: {4}}], int]]
    for value in not_plain:
        assert _core.plain_data(value) is False, repr(value)[:60]


def test_a_shared_dag_is_scanned_once_per_node():
    # 2**60 paths through 60 levels: a walk per path would never end.
    value = [1]
    for _ in range(60):
        value = [value, value]
    assert _core.plain_data(value) is True
    stream, buffers = _wire.dumps_result(value)
    got = _wire.loads(stream, buffers)
    assert got[0] is got[1] and got[0][0] is got[0][1]


def test_buffer_id_calls_the_rule_only_for_buffer_objects():
    asked = []

    def rule(obj):
        asked.append(obj)
        return "id"

    for obj in [1, "x", 2.5, None, [b"x" * LOAN], b"x" * (LOAN - 1), bytearray(LOAN - 1)]:
        assert _core.buffer_id(rule, obj) is None
    for obj in [b"x" * LOAN, bytearray(LOAN), memoryview(b"x"), array.array("b", [1]),
                pickle.PickleBuffer(b"x")]:
        assert _core.buffer_id(rule, obj) == "id"
    assert len(asked) == 5


def test_buffer_finder_is_the_picklers_persistent_id():
    asked = []
    finder = _core.BufferFinder(lambda obj: asked.append(obj) or ("id", len(asked)))
    assert [finder(obj) for obj in [1, "x", [1], b"x" * (LOAN - 1)]] == [None] * 4
    assert finder(bytearray(LOAN)) == ("id", 1) and finder(memoryview(b"")) == ("id", 2)
    with pytest.raises(TypeError):
        finder()
    with pytest.raises(TypeError):
        finder(1, 2)
    with pytest.raises(TypeError):
        finder(obj=1)
    with pytest.raises(TypeError, match="callable"):
        _core.BufferFinder(3)
    with pytest.raises(TypeError):
        _core.BufferFinder()


def test_a_buffer_finder_in_a_cycle_is_collected():
    class Marker:
        pass

    marker = Marker()
    alive = weakref.ref(marker)
    holder = [marker]
    holder.append(_core.BufferFinder(holder.append))  # holder -> finder -> holder.append -> holder
    del marker, holder
    gc.collect()
    assert alive() is None


@pytest.mark.parametrize("arguments", [(), (print,), (print, 1, 2)])
def test_buffer_id_and_plain_data_refuse_bad_calls(arguments):
    with pytest.raises(TypeError):
        _core.buffer_id(*arguments)
    with pytest.raises(TypeError):
        _core.plain_data(*arguments[:0])


def test_a_value_the_marshal_writer_declines_crosses_as_pickle(monkeypatch):
    monkeypatch.setattr(_wire, "marshal_plain", lambda value: None)
    value = result_shapes.build("columns")
    stream, buffers = _wire.dumps_result(value)
    assert stream[:1] == pickle.PROTO
    assert_same(value, _wire.loads(stream, buffers))


def test_big_bytes_inside_a_list_still_leave_the_stream():
    value = result_shapes.build("big_bytes_in_list")
    stream, buffers = _wire.dumps_result(value)
    assert len(buffers) == 1 and len(stream) < 1024
    assert_same(value, _wire.loads(stream, buffers))


# ---- through the executor ------------------------------------------------------------------


@pytest.mark.parametrize("name", SHAPE_NAMES)
def test_results_round_trip_through_submit(executor, name):
    got = executor.submit(result_shapes.build, name).result()
    assert_same(result_shapes.build(name), got)
    check_identities(name, got)


def test_results_round_trip_through_map(executor):
    names = [n for n in SHAPE_NAMES if n not in ("huge_list", "columns_big")]
    for chunksize in (1, 3):
        results = list(executor.map(result_shapes.build, names, chunksize=chunksize))
        for name, got in zip(names, results):
            assert_same(result_shapes.build(name), got)
            check_identities(name, got)


def test_many_plain_results_at_once(executor, workers):
    futures = [executor.submit(result_shapes.build, "columns") for _ in range(8 * workers)]
    expected = result_shapes.build("columns")
    for future in futures:
        assert future.result() == expected


def test_big_bytes_inside_a_list_result_cross_out_of_band(executor):
    before = _core.transfer_stats()
    got = executor.submit(result_shapes.build, "big_bytes_in_list").result()
    after = _core.transfer_stats()
    assert_same(result_shapes.build("big_bytes_in_list"), got)
    assert sum(after.values()) - sum(before.values()) == 1  # moved or copied: not pickled


def test_an_unpicklable_object_inside_a_list_fails_clearly(executor):
    bad = executor.submit(result_shapes.lock_in_list)
    with pytest.raises(TypeError, match="cannot send the result of type list") as caught:
        bad.result()
    assert "lock" in str(caught.value)
    assert executor.submit(result_shapes.build, "columns").result()["id"][-1] == 1999


def test_too_deep_results_fail_clearly_and_the_pool_goes_on(executor):
    bad = executor.submit(result_shapes.build_nested, 200_000)
    with pytest.raises((TypeError, pergil.RemoteError), match="recursion|deep"):
        bad.result()
    assert executor.submit(result_shapes.build, "nested_150").result()[0] == 149


# ---- arguments take the same paths ---------------------------------------------------------


@pytest.mark.parametrize("name", [n for n in SHAPE_NAMES if n != "columns_big"])
def test_arguments_round_trip(executor, name):
    value = result_shapes.build(name)
    got = executor.submit(result_shapes.identity, value).result()
    assert_same(value, got)
    check_identities(name, got)


def test_plain_arguments_travel_as_marshal_and_the_rest_as_pickle():
    columns = result_shapes.build("columns")
    stream, buffers = _wire.dumps_call(result_shapes.identity, (columns,), {"k": [1.5]})
    assert stream[:1] != pickle.PROTO and buffers == []
    function, args, kwargs = _wire.loads(stream, buffers)
    assert _wire.resolve_function(function) is result_shapes.identity
    assert args == (columns,) and kwargs == {"k": [1.5]}
    for call in [(lambda x: x, (columns,), {}),  # by value: cloudpickle's path
                 (result_shapes.identity, (result_shapes.build("subclasses"),), {})]:
        stream, _ = _wire.dumps_call(*call)
        assert stream[:1] == pickle.PROTO
    stream, _ = _wire.dumps_call(result_shapes.identity, (columns,), {}, by_value=True)
    assert stream[:1] == pickle.PROTO


def test_keyword_arguments_keep_their_types(executor):
    kinds, keys, (args, kwargs) = executor.submit(
        result_shapes.describe, [1, 2], (3,), flag=True, text=result_shapes.Text("t")).result()
    assert kinds == ["list", "tuple"] and keys == ["flag", "text"]
    assert type(kwargs["flag"]) is bool and type(kwargs["text"]) is result_shapes.Text
