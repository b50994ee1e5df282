"""api_helpers.py: Python functions that the C++ API tests call in pergil's workers."""

import os
import sys
import time
from enum import IntEnum

_initialized_with = None


class CustomError(Exception):
    pass


class Color(IntEnum):
    RED = 1


def identity(x):
    return x


def add(a, b):
    return a + b


def square(x):
    return x * x


def type_names(*args):
    """The Python type of each argument, and of the items of a list or dict argument."""
    names = []
    for a in args:
        name = type(a).__name__
        if isinstance(a, list):
            name += "[" + ",".join(type(i).__name__ for i in a) + "]"
        elif isinstance(a, dict):
            name += "{" + ",".join(f"{type(k).__name__}:{type(v).__name__}" for k, v in a.items()) + "}"
        names.append(name)
    return names


def make(kind):
    """Python-only values that must come back as pergil::Values (or fail naming their type)."""
    self_list = []
    self_list.append(self_list)
    return {
        "tuple": lambda: (1, "two", (3.0, None)),
        "bytearray": lambda: bytearray(b"\x00\xffab"),
        "intenum": lambda: Color.RED,
        "nested": lambda: {"a": [1, {"b": (True, b"x")}], "c": {}},
        "set_inside": lambda: [1, {"k": {1, 2}}],
        "int_key": lambda: {1: "one"},
        "too_big": lambda: [0, 2**63],
        "too_small": lambda: -(2**63) - 1,
        "int64_limits": lambda: [2**63 - 1, -(2**63)],
        "surrogate": lambda: "\udc80",
        "self_list": lambda: self_list,
        "object": lambda: object(),
        "deep": lambda: _deep(900),
        "too_deep": lambda: _deep(5000),
        "big_list": lambda: list(range(100_000)),
        "big_bytes": lambda: bytes(range(256)) * (32 * 1024),
        "unicode": lambda: "grüße, 世界, 🐍",
    }[kind]()


def _deep(levels):
    value = 0
    for _ in range(levels):
        value = [value]
    return value


def depth(value):
    levels = 0
    while isinstance(value, list):
        value = value[0]
        levels += 1
    return levels


def fail(kind):
    if kind == "value":
        _raise_value_error("bad input 42")
    if kind == "custom":
        raise CustomError("custom failure")
    if kind == "chained":
        try:
            {}["missing"]
        except KeyError as e:
            raise RuntimeError("while looking up") from e
    if kind == "empty":
        raise ValueError()
    return "no failure"


def _raise_value_error(message):
    raise ValueError(message)


def initialize(value):
    global _initialized_with
    _initialized_with = value


def initialized_with(_ignored=None):
    return _initialized_with


def initialized_at_gate(path):
    """[interpreter id, what the initializer set], once held at the gate `path`."""
    return [arrive_and_wait(path), _initialized_with]


def failing_initializer():
    raise RuntimeError("initializer refuses")


def first_sys_path():
    return sys.path[0]


def wait_for_file(path, value):
    """Blocks (interruptibly) until `path` exists, then returns `value`: a gate the test opens."""
    while not os.path.exists(path):
        time.sleep(0.001)
    return value


def gated(path_and_value):
    return wait_for_file(*path_and_value)


def arrive_and_wait(path):
    """Marks that this worker arrived (a file path.<interpreter id>), waits for the gate `path`,
    then returns the interpreter id: calls held at one gate each occupy a different worker."""
    me = interpreter_id()
    with open(f"{path}.{me}", "w"):
        pass
    wait_for_file(path, None)
    return me


def spin_forever():
    while True:
        pass


def sleep_then(seconds, value):
    time.sleep(seconds)
    return value


def interpreter_id():
    try:
        import _interpreters as interpreters
    except ImportError:
        import _xxsubinterpreters as interpreters
    current = interpreters.get_current()  # 3.13: (id, whence); 3.12: an InterpreterID
    return int(current[0] if isinstance(current, tuple) else current)


class Greeter:
    @staticmethod
    def greet(name):
        return "hello " + name


def arrive_and_wait_anywhere(path):
    """arrive_and_wait for every pool mode: the marker names the process and thread (threads of
    the main interpreter share interpreter id 0); returns that "pid-thread" name."""
    import threading

    me = f"{os.getpid()}-{threading.get_ident()}"
    with open(f"{path}.{me}", "w"):
        pass
    wait_for_file(path, None)
    return me


def where_am_i(_ignored=None):
    """"pid-thread" of the caller."""
    import threading

    return f"{os.getpid()}-{threading.get_ident()}"
