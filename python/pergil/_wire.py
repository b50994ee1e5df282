"""_wire.py: how calls, results and exceptions become a pickle stream plus out-of-band buffers.

Everything crosses interpreters as pickle protocol 5. Large buffers (bytes, bytearray,
array.array at or above LOAN_THRESHOLD; memoryview and PickleBuffer of any size) leave the
stream through ``persistent_id`` and cross as raw memory: the engine lends them without a copy,
and the receiver rebuilds ``bytes``/``bytearray``/``array`` by moving the pages of a value the
sender no longer references, else with exactly one copy, or keeps a zero-copy read-only
``memoryview``.

A result (or a call's arguments) made only of exact builtin data (``pergil._core.plain_data``)
crosses as a ``marshal`` stream instead: no buffer of it can leave the stream. The stream is
written by ``pergil._core.marshal_plain``, one C walk that checks and writes (a result of
480,000 numbers and strings: 55 ms with the C pickler, 5.5 ms with plain_data then
marshal.dumps, 2.6 ms in one walk), and read by ``marshal.loads``. A string the task
interned arrives interned, and so immortal: marshal does that. A receiver tells the two apart
by the first byte: a pickle protocol 5 stream begins with PROTO (0x80); a marshal stream
begins with a type code, an ASCII letter or sign, possibly with FLAG_REF (0x80) added, so
never 0x80 itself.
"""

import array
import functools
import io
import marshal
import types

try:
    # The C pickler alone: the pickle module on top of it imports re, enum, struct and more,
    # which was the largest part of every worker's start-up. Same classes and functions.
    import _pickle as pickle
except ImportError:  # an interpreter without the C accelerator
    import pickle

from pergil._core import (LOAN_THRESHOLD, BufferFinder, copy_array, copy_bytearray, copy_bytes,
                          marshal_plain)

PROTOCOL = 5
_SIZED_TYPES = (bytes, bytearray, array.array)
_VIEW_TYPES = (memoryview, pickle.PickleBuffer)
_OUT_OF_BAND_TYPES = frozenset(_SIZED_TYPES + _VIEW_TYPES)


def _out_of_band_id(buffers, obj):
    """Returns None for objects that stay in the stream. Called by a ``BufferFinder`` (C) only
    for objects that export a buffer, apart from small bytes and bytearray."""
    kind = type(obj)
    if kind not in _OUT_OF_BAND_TYPES:
        return None
    if kind in _VIEW_TYPES:
        view = memoryview(obj)
        buffers.append(view if view.contiguous else view.tobytes())
        return ("view", len(buffers) - 1, view.format, view.shape)
    if (len(obj) * (obj.itemsize if kind is array.array else 1)) < LOAN_THRESHOLD:
        return None
    buffers.append(obj)
    if kind is array.array:
        return ("array", len(buffers) - 1, obj.typecode)
    return ("bytes" if kind is bytes else "bytearray", len(buffers) - 1)


def _rebuild(pid, buffers):
    kind, index = pid[0], pid[1]
    memory = buffers[index]
    if kind == "bytes":
        return copy_bytes(memory)
    if kind == "bytearray":
        return copy_bytearray(memory)
    if kind == "array":
        return copy_array(pid[2], memory)
    view = memoryview(memory)
    fmt, shape = pid[2], pid[3]
    try:
        if 0 in shape:  # cast() refuses zero extents: an empty 1-D view of the same format
            return view.cast("B").cast(fmt)
        return view.cast("B").cast(fmt, shape) if (fmt, shape) != ("B", (view.nbytes,)) else view
    except (TypeError, ValueError):
        return view  # a format memoryview.cast cannot express: the raw bytes, still zero copy


def _buffer_finder(buffers):
    """The persistent_id of one pickler: a C call per object, a Python one only for objects
    that may leave the stream. Set on the instance: the C pickler then calls it without
    binding a method (3.12 and 3.13 both look it up on the instance)."""
    return BufferFinder(functools.partial(_out_of_band_id, buffers))


class Pickler(pickle.Pickler):
    """Pickle protocol 5 with large buffers moved out of band into ``self.buffers``."""

    def __init__(self, file):
        super().__init__(file, protocol=PROTOCOL)
        self.buffers = []
        self.persistent_id = _buffer_finder(self.buffers)


def _cloud_pickler_type():
    import cloudpickle

    class CloudPickler(cloudpickle.Pickler):
        """cloudpickle (lambdas, closures, REPL functions by value) with out-of-band buffers."""

        def __init__(self, file):
            super().__init__(file, protocol=PROTOCOL)
            self.buffers = []
            self.persistent_id = _buffer_finder(self.buffers)

    return CloudPickler


_cloud_pickler = None

# Objects whose pickle never holds a buffer worth moving out of band.
_SCALARS = frozenset({int, float, str, bool, type(None), complex})
_FAST_CALLABLES = frozenset({bytes, types.FunctionType, types.BuiltinFunctionType,
                             types.MethodType})


def _plain_scalar(obj):
    kind = type(obj)
    return kind in _SCALARS or (kind is bytes and len(obj) < LOAN_THRESHOLD)


# A module-level function travels as its pickle by reference (a module and a name), made once
# per function here and loaded once per function in each worker (see resolve_function): that
# lookup was most of the cost of pickling and unpickling a small call. Bounded caches.
_FUNCTION_REFS_MAX = 1024
_function_refs = {}  # function -> its pickle by reference, in the caller
_resolved_refs = {}  # pickle by reference -> function, in a worker


def _function_ref(function):
    """The bytes standing for a plain function in a call, or None (a lambda, a closure: those
    travel as themselves, by value)."""
    ref = _function_refs.get(function)
    if ref is None:
        try:
            ref = pickle.dumps(function, PROTOCOL)
        except Exception:  # noqa: BLE001 - not importable by name: the full path decides
            return None
        if len(_function_refs) >= _FUNCTION_REFS_MAX:
            _function_refs.clear()
        _function_refs[function] = ref
    return ref


def resolve_function(function):
    """The callable a call's first item stands for: bytes are a function's reference."""
    if type(function) is not bytes:
        return function
    resolved = _resolved_refs.get(function)
    if resolved is None:
        resolved = pickle.loads(function)  # may run the caller's __main__ script: not cached
        if len(_resolved_refs) >= _FUNCTION_REFS_MAX:  # until it succeeds
            _resolved_refs.clear()
        _resolved_refs[function] = resolved
    return resolved


def dumps_call(function, args, kwargs, by_value=False):
    """(stream, buffers) of a call. Calls of a plain function on scalars take the C pickler
    alone: that fast path is most of the per-task cost a caller sees."""
    if not by_value and type(function) is types.FunctionType:
        function = _function_ref(function) or function
    if not by_value and type(function) in _FAST_CALLABLES:
        for value in args:
            if not _plain_scalar(value):
                break
        else:
            if not kwargs or all(_plain_scalar(v) for v in kwargs.values()):
                try:
                    return pickle.dumps((function, args, kwargs), PROTOCOL), []
                except Exception:  # noqa: BLE001 - e.g. a lambda: the full path decides
                    pass
    if not by_value and type(function) is bytes:  # a function by reference, on plain data
        stream = _marshal_plain((function, args, kwargs))
        if stream is not None:
            return stream, []
    return dumps((function, args, kwargs), by_value)


def _marshal_plain(value):
    """The marshal stream of a value made only of plain builtin data, else None (C: one walk
    checks and writes, with marshal's refs for shared objects)."""
    return marshal_plain(value)


def dumps_result(value):
    """(stream, buffers) of a task's result: the same fast path for scalars, and plain builtin
    data as marshal (arguments too, when the function goes by reference)."""
    if _plain_scalar(value):
        return pickle.dumps(value, PROTOCOL), []
    stream = _marshal_plain(value)
    return dumps(value) if stream is None else (stream, [])


def dumps(obj, by_value=False):
    """Returns (stream, buffers). By reference first; by value (cloudpickle) if that fails."""
    global _cloud_pickler
    if not by_value:
        file = io.BytesIO()
        pickler = Pickler(file)
        try:
            pickler.dump(obj)
            return file.getvalue(), pickler.buffers
        except Exception as error:  # noqa: BLE001 - any failure: retry by value
            first_error = error
    else:
        first_error = None
    if _cloud_pickler is None:
        _cloud_pickler = _cloud_pickler_type()
    file = io.BytesIO()
    pickler = _cloud_pickler(file)
    try:
        pickler.dump(obj)
    except Exception as error:
        raise (first_error or error)
    return file.getvalue(), pickler.buffers


class Unpickler(pickle.Unpickler):
    """Rebuilds the out-of-band buffers named by persistent ids."""

    def __init__(self, stream, buffers):
        super().__init__(io.BytesIO(stream))
        self._buffers = buffers

    def persistent_load(self, pid):
        return _rebuild(pid, self._buffers)


_PROTO = 0x80  # pickle's first opcode; never a marshal stream's first byte


def loads_plain(stream):
    """The value of a stream without out-of-band buffers: pickle or marshal, by its first
    byte. ``stream`` is bytes, or a SharedBuffer from 64 KiB on (both read in place)."""
    first = stream[0] if type(stream) is bytes else memoryview(stream)[0]
    return pickle.loads(stream) if first == _PROTO else marshal.loads(stream)


def loads(stream, buffers):
    # Every persistent id adds a buffer: without buffers the C unpickler alone is enough.
    if not buffers:
        return loads_plain(stream)
    return Unpickler(stream, buffers).load()
