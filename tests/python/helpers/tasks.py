"""tasks.py: module-level functions and classes that tests submit to pergil workers.

Everything here must import inside an own-GIL sub-interpreter: pure Python and isolated
extension modules only. Waits that need another party use the file system (a gate file),
never wall-clock assertions: the tests prove behaviour, not speed.
"""

import array
import collections
import dataclasses
import enum
import os
import sys
import threading
import time
import zlib

# Evaluated once per interpreter that imports this module: tells workers apart.
INTERPRETER_TOKEN = os.urandom(8).hex()
_state = {}

# Bounds on every wait below, so a broken pool fails a test instead of blocking it.
WAIT_LIMIT = 60.0
_POLL = 0.002


def square(x):
    return x * x


def add(a, b=0, *rest, scale=1):
    return (a + b + sum(rest)) * scale


def echo(*args, **kwargs):
    return args, kwargs


def interpreter_token():
    return INTERPRETER_TOKEN


def token_after_gate(gate_path):
    """Waits for ``gate_path`` to exist, then returns this worker's token."""
    wait_for_file(gate_path)
    return INTERPRETER_TOKEN


def wait_for_file(path, limit=WAIT_LIMIT):
    """Polls until ``path`` exists; returns True, or False after ``limit`` seconds.

    Sleeps in short steps so an interrupt sent to the worker lands quickly."""
    deadline = time.monotonic() + limit
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            return False
        time.sleep(_POLL)
    return True


def rendezvous(directory, count, limit=WAIT_LIMIT):
    """Each caller writes a file named by its token into ``directory`` and waits until
    ``count`` distinct tokens are there. Returns the sorted tokens seen, so ``count``
    tasks only all return with ``count`` entries if ``count`` workers ran at once."""
    with open(os.path.join(directory, f"{INTERPRETER_TOKEN}-{os.urandom(4).hex()}"), "w"):
        pass
    deadline = time.monotonic() + limit
    while True:
        tokens = {name.split("-")[0] for name in os.listdir(directory)}
        if len(tokens) >= count or time.monotonic() > deadline:
            return sorted(tokens)
        time.sleep(_POLL)


def set_worker_value(value, *more):
    """An initializer: stores its arguments in this worker's copy of the module."""
    _state["init"] = (value, *more)


def get_worker_value():
    return _state.get("init")


def failing_initializer(message):
    raise RuntimeError(message)


def getcwd():
    return os.getcwd()


def sys_path():
    return list(sys.path)


def import_and_call(module_name, attribute, *args):
    import importlib

    return getattr(importlib.import_module(module_name), attribute)(*args)


def import_module(name):
    import importlib

    importlib.import_module(name)
    return name


def read_text(path):
    with open(path) as handle:
        return handle.read()


def reimport_until(stop_path, limit=WAIT_LIMIT):
    """Re-imports multi-phase extension modules until ``stop_path`` exists: each round makes
    new immutable types, whose first lookups take CPython's global type version tags (what
    raced with other interpreters starting). Returns the number of rounds."""
    import importlib

    names = ("_json", "_csv", "_struct", "array", "_bisect", "_heapq", "_random", "_queue")
    rounds, deadline = 0, time.monotonic() + limit
    while not os.path.exists(stop_path) and time.monotonic() < deadline:
        for name in names:
            sys.modules.pop(name, None)
            module = importlib.import_module(name)
            for value in list(vars(module).values()):
                if isinstance(value, type):
                    getattr(value, "__repr__")
                    getattr(value, "read", None)
        rounds += 1
    return rounds


# --- errors -----------------------------------------------------------------------------------


class CustomError(Exception):
    def __init__(self, code, detail):
        super().__init__(code, detail)
        self.code = code
        self.detail = detail


class UnpicklableError(Exception):
    """An exception that cannot be pickled: it holds a lock."""

    def __init__(self, message):
        super().__init__(message)
        self.lock = threading.Lock()


def raise_value_error(message):
    raise ValueError(message)


def raise_custom(code, detail):
    raise CustomError(code, detail)


def raise_chained(message):
    try:
        raise KeyError("inner-" + message)
    except KeyError as inner:
        raise RuntimeError("outer-" + message) from inner


def raise_unpicklable(message):
    raise UnpicklableError(message)


def raise_system_exit(code):
    sys.exit(code)


def raise_keyboard_interrupt():
    raise KeyboardInterrupt("from the task")


def raise_keyboard_interrupt_on(item):
    raise KeyboardInterrupt(f"from the task, item {item}")


def recurse_forever(depth=0):
    return recurse_forever(depth + 1) + 1


def import_missing(name):
    __import__(name)


def return_lock():
    return threading.Lock()


def _refuse_to_load():
    raise RuntimeError("this result refuses to be unpickled")


class LoadsNowhere:
    """Pickles fine in the worker; unpickling it in the caller raises."""

    def __reduce__(self):
        return (_refuse_to_load, ())


def return_loads_nowhere():
    return LoadsNowhere()


def sleep_steps(seconds, step=0.005):
    """Sleeps in small steps (interruptible between them) and returns ``seconds``."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(step)
    return seconds


# --- callables --------------------------------------------------------------------------------


class Accumulator:
    """A picklable object whose bound methods are submitted."""

    def __init__(self, base):
        self.base = base

    def add(self, x):
        return self.base + x

    @classmethod
    def make_and_add(cls, base, x):
        return cls(base).add(x)

    @staticmethod
    def twice(x):
        return 2 * x

    def __eq__(self, other):
        return type(other) is type(self) and other.base == self.base


def apply(function, *args):
    return function(*args)


def make_counter():
    """A generator: cannot be pickled."""
    yield 1


# --- data -------------------------------------------------------------------------------------


class Color(enum.Enum):
    RED = 1


@dataclasses.dataclass
class Record:
    name: str
    values: list


Pair = collections.namedtuple("Pair", "left right")


def pattern(size, seed=0):
    """Deterministic bytes of ``size``: the same in every interpreter."""
    block = bytes((seed + i * 7) & 0xFF for i in range(256))
    return (block * (size // 256 + 1))[:size]


def checksum(data):
    return zlib.crc32(memoryview(data).cast("B") if isinstance(data, memoryview) else data)


def describe(obj):
    """(type name, length in bytes, crc32) of a buffer, as seen in the worker."""
    view = memoryview(obj)
    return type(obj).__name__, view.nbytes, zlib.crc32(view.tobytes()), view.readonly


def make_bytes(size, seed=0):
    return pattern(size, seed)


def make_bytearray(size, seed=0):
    return bytearray(pattern(size, seed))


def make_array(typecode, count):
    return array.array(typecode, [(i * 3) % 100 for i in range(count)])



def make_view_with_address(size, seed=0):
    """A memoryview over a bytes object of this worker, and that object's data address.

    CPython stores a bytes object's data inline, at ``id + bytes.__basicsize__ - 1``."""
    data = pattern(size, seed)
    return memoryview(data), id(data) + bytes.__basicsize__ - 1


def make_shaped_view(typecode, count, shape):
    data = array.array(typecode, [(i * 5) % 120 for i in range(count)])
    if 0 in shape:  # cast() refuses zero extents; an empty array's view has its format
        return memoryview(data)
    return memoryview(data).cast("B").cast(typecode, shape)


def make_strided_view(size):
    return memoryview(pattern(size))[::3]


def roundtrip(obj):
    return obj


def type_and_value(obj):
    return type(obj).__name__, obj


def fail_on(x, bad):
    if x == bad:
        raise ValueError(f"item {x} fails")
    return x


def mark_then_wait(mark_dir, gate_path):
    """Announces that it runs (a file in ``mark_dir``), then waits for ``gate_path``."""
    with open(os.path.join(mark_dir, f"{INTERPRETER_TOKEN}-{os.urandom(4).hex()}"), "w"):
        pass
    return wait_for_file(gate_path)


def wait_for_count(directory, count, limit=WAIT_LIMIT):
    """Polls until ``directory`` holds ``count`` entries; returns True, or False after ``limit``."""
    deadline = time.monotonic() + limit
    while len(os.listdir(directory)) < count:
        if time.monotonic() > deadline:
            return False
        time.sleep(_POLL)
    return True


# ---- results whose pages may move (test_transfer.py) ----

_kept_results = {}


class BytesSubclass(bytes):
    pass


def kept_bytes(size, seed):
    """The same bytes object on every call to this worker: it must never move out."""
    return _kept_results.setdefault((size, seed), pattern(size, seed))


def same_bytes_twice(size, seed):
    data = pattern(size, seed)
    return data, data


def bytes_subclass(size, seed):
    return BytesSubclass(pattern(size, seed))


def shifted_bytearray(size, seed):
    """A bytearray whose buffer starts one byte into its block (del at the front)."""
    data = bytearray(b"\0" + pattern(size, seed))
    del data[:1]
    return data


def make_pattern_array(typecode, size, seed=0):
    """An array.array holding pattern(size, seed) as its bytes (size: a multiple of itemsize)."""
    result = array.array(typecode)
    result.frombytes(pattern(size, seed))
    return result


def kept_array(typecode, size, seed):
    """The same array on every call to this worker: it must never move out."""
    return _kept_results.setdefault((typecode, size, seed), make_pattern_array(typecode, size, seed))


def array_summary(data):
    """What the worker received: its type, typecode, length and checksum."""
    return type(data).__name__, data.typecode, len(data), checksum(data.tobytes())
