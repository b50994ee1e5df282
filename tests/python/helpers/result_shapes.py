"""result_shapes.py: results of many shapes, built the same way in a worker and in the caller.

``build(name)`` makes a fresh value each call, so a worker's result can be compared with the
caller's own build of it. Importable in an own-GIL sub-interpreter (standard library only).
"""

import array
import enum
import random
import threading


class Text(str):
    pass


class Number(int):
    pass


class Table(dict):
    pass


class Items(list):
    pass


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


def _columns(rows, seed=0):
    rnd = random.Random(seed)
    return {
        "id": list(range(rows)),
        "count": [rnd.randrange(-10**6, 10**6) for _ in range(rows)],
        "price": [round(rnd.random() * 1000, 2) for _ in range(rows)],
        "name": [f"n{rnd.randrange(1000)}" for _ in range(rows)],
        "flag": [rnd.random() < 0.5 for _ in range(rows)],
        "missing": [None if i % 3 else i for i in range(rows)],
    }


def _nested(depth):
    value = [0]
    for level in range(1, depth):
        value = [level, value]
    return value


def _shared():
    inner = [1, "two", 3.0]
    text = "shared-" + str(len(inner))  # built at run time: not an interned literal
    return {"a": inner, "b": inner, "t": (inner, text), "s": [text, text]}


def _cyclic_list():
    value = [1, 2]
    value.append(value)
    return value


def _cyclic_dict():
    value = {"name": "root", "children": []}
    value["children"].append({"parent": value})
    return value


SHAPES = {
    "columns": lambda: _columns(2000),
    "columns_big": lambda: _columns(120_000, seed=1),  # a stream of MiBs: lent, not copied
    "scalars": lambda: [None, True, False, 0, -1, 2**200, -(2**70), 1.5, 1 + 2j, "", "é✓𝄞",
                        "\udc80", "x" * 300, "é" * 300, b"", b"abc", b"\x00" * 1000],
    "floats": lambda: [0.0, -0.0, float("inf"), float("-inf"), float("nan"), 5e-324, 1.7e308],
    "containers": lambda: ((), [], {}, set(), frozenset(), [[]], ((),), {(): frozenset()},
                           {1, "a", (2, 3), frozenset({4})}, {(1, 2): [3], 4.5: {"k": None}}),
    "bool_keys": lambda: {True: "t", 2: "two", None: 0, "": 1.0, (1, True): False},
    "subclasses": lambda: [Text("t"), Number(7), Table(a=1), Items([1, 2]), Level.HIGH,
                           {"inner": [Text("u"), Number(-3)]}],
    "mixed_subclass_deep": lambda: {"rows": [[1, 2], [3, Number(4)]]},
    "shared": _shared,
    "cyclic_list": _cyclic_list,
    "cyclic_dict": _cyclic_dict,
    "nested_150": lambda: _nested(150),  # within the C scan's bound
    "nested_500": lambda: _nested(500),  # beyond it: pickle's path
    "huge_list": lambda: list(range(1_000_000)),
    "big_bytes_in_list": lambda: [1, b"\x07" * (1 << 20), "tail"],
    "small_bytearray_in_list": lambda: [bytearray(b"ab"), array.array("i", [1, 2])],
}


def build(name):
    return SHAPES[name]()


def lock_in_list():
    return [1, "ok", threading.Lock()]


def build_nested(depth):
    return _nested(depth)


def identity(value):
    return value


def describe(*args, **kwargs):
    """Types of the arguments as the worker received them, and their values."""
    return [type(a).__name__ for a in args], sorted(kwargs), (args, kwargs)
