"""test_wire_marshal.py: pergil._core.marshal_plain, the one-walk marshal writer of plain data.

Its stream must read back with marshal.loads as exactly what marshal.dumps' stream gives (types
all the way down, -0.0, nan, interned strings, boundaries of every length and int encoding),
for exactly the values plain_data accepts, and it must decline (None) every other value.
Shared containers and ints beyond 64 bits are left to marshal.dumps, which keeps sharing.
"""

import marshal
import random
import sys

import pytest

from helpers import result_shapes
from pergil import _core
from test_result_path import assert_same

LOAN = _core.LOAN_THRESHOLD

SCALARS = [
    None, True, False, 0, 1, -1, 255, 256, 2**31 - 1, -(2**31), 2**31, -(2**31) - 1, 2**45,
    2**62, 2**63 - 1, -(2**63), 2**63, 2**64, -(2**100), 10**40, 1.5, -0.0, 0.0, 1e308, 5e-324,
    float("inf"), float("-inf"), float("nan"), 2j, complex(1, -0.0), complex(float("nan"), 1),
    "", "a", "x" * 255, "x" * 256, "x" * 70000, "é", "é" * 300, "€", "😀" * 300, "\ud800",
    "a\x00b", b"", b"abc", b"\x00" * (LOAN - 1),
]
CONTAINERS = [
    (), (1,), tuple(range(255)), tuple(range(256)), [], [[], [[]]], list(range(1000)), {},
    {"a": 1, 2: "b", (1, 2): [3], None: {}, 1.5: 2j, b"k": frozenset()}, set(), {1, 2, 3},
    {("a", 1), ("b", 2)}, frozenset(), frozenset({"a", 2.5}), [{"k": [1.0, 2, "s", None]}],
    {"int": list(range(-40000, 40000, 7)), "float": [i / 3 for i in range(5000)]},
]


def _random_value(rnd, depth=0):
    kinds = ["int", "big", "float", "str", "bytes", "none", "bool"]
    if depth < 4:
        kinds += ["list", "tuple", "dict", "set"] * 2
    kind = rnd.choice(kinds)
    if kind == "int":
        return rnd.randrange(-(2**40), 2**40) >> rnd.randrange(40)
    if kind == "big":
        return rnd.randrange(-(2**70), 2**70)
    if kind == "float":
        return rnd.choice([rnd.random() * 10 ** rnd.randrange(-300, 300), -0.0, float("nan")])
    if kind == "str":
        return "".join(rnd.choice("ab\u00e9\u20ac\U0001f600 ") for _ in range(rnd.randrange(300)))
    if kind == "bytes":
        return rnd.randbytes(rnd.randrange(300))
    if kind == "none":
        return None
    if kind == "bool":
        return rnd.random() < 0.5
    items = [_random_value(rnd, depth + 1) for _ in range(rnd.randrange(6))]
    if kind == "list":
        return items
    if kind == "tuple":
        return tuple(items)
    hashable = [i for i in items if isinstance(i, (int, float, str, bytes, type(None)))]
    if kind == "set":
        return set(h for h in hashable if h == h)  # no nan: set membership is by identity
    return {key: _random_value(rnd, depth + 1) for key in hashable if key == key}


def read_back(value):
    stream = _core.marshal_plain(value)
    assert stream is not None, repr(value)[:80]
    assert _core.plain_data(value) is True
    return marshal.loads(stream)


@pytest.mark.parametrize("value", SCALARS + CONTAINERS, ids=lambda v: repr(v)[:30])
def test_reads_back_as_marshal_dumps_does(value):
    assert_same(marshal.loads(marshal.dumps(value)), read_back(value))


@pytest.mark.parametrize("seed", range(40))
def test_random_plain_values(seed):
    value = _random_value(random.Random(seed))
    assert_same(marshal.loads(marshal.dumps(value)), read_back(value))


def test_the_results_the_pool_sends():
    for name in sorted(result_shapes.SHAPES):
        value = result_shapes.build(name)
        if _core.plain_data(value):
            assert_same(value, read_back(value))
        else:
            assert _core.marshal_plain(value) is None, name


def test_interned_strings_arrive_interned_and_others_not():
    key = sys.intern("pergil-wire-marshal-key")
    canonical = sys.intern("pergil-not-interned")
    plain = "".join(["pergil-not", "-interned"])  # equal to canonical, not interned itself
    got = read_back([key, plain])
    assert got[0] is key
    assert got[1] == canonical and got[1] is not canonical


def test_shared_containers_keep_their_sharing():
    shared = [1, 2]
    got = read_back({"a": shared, "b": (shared, shared)})
    assert got["a"] is got["b"][0] is got["b"][1]
    chain = [1]
    for _ in range(60):  # a DAG of 2**60 paths: each node written once, by marshal
        chain = [chain, chain]
    got = read_back(chain)
    assert got[0] is got[1]


def test_a_repeated_object_is_written_once_and_arrives_once():
    label = "-".join(["a-long-category-label"] * 5)  # 109 characters, one object
    row = (1, 2)
    blob = b"x" * 1000
    value = {"labels": [label] * 10_000, "rows": [row] * 100, "blobs": [blob, blob]}
    stream = _core.marshal_plain(value)
    assert len(stream) < len(label) + 6 * 10_000 + 200 + len(blob) + 100
    got = marshal.loads(stream)
    assert got == value
    assert len({id(x) for x in got["labels"]}) == 1
    assert got["rows"][0] is got["rows"][99] and got["blobs"][0] is got["blobs"][1]


def test_cycles_through_shared_objects_are_declined():
    node = {"name": "a"}
    node["self"] = [node]
    outer = [1, (2, [3])]
    outer[1][1].append(outer)
    for value in (node, outer, [node]):
        assert _core.marshal_plain(value) is None


def test_declines_what_is_not_plain():
    cyclic = [1]
    cyclic.append(cyclic)
    deep = []
    node = deep
    for _ in range(250):
        node.append([])
        node = node[0]
    for value in [cyclic, deep, [b"x" * LOAN], [bytearray(1)], [memoryview(b"")], object(),
                  [result_shapes.Text("t")], {"k": result_shapes.Number(1)},
                  result_shapes.Items(), {2, result_shapes.Level.LOW}, [1.0, [2, {3: {4}}], int]]:
        assert _core.marshal_plain(value) is None, repr(value)[:60]
        assert _core.plain_data(value) is False


def test_streams_never_begin_with_pickles_first_byte():
    for value in SCALARS + CONTAINERS:
        assert _core.marshal_plain(value)[0] != 0x80


def test_refuses_bad_calls():
    with pytest.raises(TypeError):
        _core.marshal_plain()
    with pytest.raises(TypeError):
        _core.marshal_plain(1, 2)
