"""test_function_refs.py: module-level functions travel as a cached pickle by reference.

The caller pickles each plain function once and each worker loads it once; calls then carry
those bytes. Lambdas and closures still travel by value; the caches stay bounded; two
functions of the same name in different modules never meet.
"""

import pickle
import sys
import types

import pytest

from helpers import tasks
from pergil import _wire


def test_a_plain_function_travels_as_its_cached_reference(executor):
    stream, buffers = _wire.dumps_call(tasks.square, (3,), {})
    function, args, kwargs = pickle.loads(stream)
    assert function == pickle.dumps(tasks.square, _wire.PROTOCOL) and not buffers
    assert _wire.resolve_function(function) is tasks.square
    assert [executor.submit(tasks.square, i).result() for i in range(50)] == [
        i * i for i in range(50)]


def test_a_plain_function_with_big_arguments_uses_its_reference_too(executor):
    data = bytes(_wire.LOAN_THRESHOLD * 2)
    stream, buffers = _wire.dumps_call(tasks.checksum, (data,), {})
    assert type(_wire.loads(stream, buffers)[0]) is bytes
    assert executor.submit(tasks.checksum, data).result() == tasks.checksum(data)


def test_same_names_in_different_modules_stay_apart(executor):
    import helpers.support as support

    assert executor.submit(tasks.pattern, 8, 1).result() == tasks.pattern(8, 1)
    assert _wire._function_ref(tasks.pattern) != _wire._function_ref(support.rss_bytes)


def test_lambdas_and_closures_still_travel_by_value(executor):
    offset = 7
    assert executor.submit(lambda x: x + offset, 1).result() == 8
    assert _wire._function_ref(lambda: None) is None


def test_the_caller_cache_is_bounded(monkeypatch):
    module = types.ModuleType("pergil_refs_probe")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setattr(_wire, "_function_refs", {})
    for i in range(_wire._FUNCTION_REFS_MAX + 10):
        function = types.FunctionType((lambda: None).__code__, {}, f"f{i}")
        function.__module__, function.__qualname__ = module.__name__, f"f{i}"
        setattr(module, f"f{i}", function)
        assert _wire._function_ref(function) is not None
        assert len(_wire._function_refs) <= _wire._FUNCTION_REFS_MAX


def test_the_worker_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(_wire, "_resolved_refs", {})
    refs = [pickle.dumps(getattr(tasks, name), _wire.PROTOCOL)
            for name in ("square", "add", "pattern", "checksum")]
    monkeypatch.setattr(_wire, "_FUNCTION_REFS_MAX", 2)
    for ref in refs * 3:
        assert callable(_wire.resolve_function(ref))
        assert len(_wire._resolved_refs) <= 2


def test_an_unloadable_reference_raises_and_is_not_cached(executor, monkeypatch):
    monkeypatch.setattr(_wire, "_resolved_refs", {})
    missing = pickle.dumps(tasks.square, _wire.PROTOCOL).replace(b"square", b"nosuch")
    with pytest.raises(AttributeError):
        _wire.resolve_function(missing)
    assert _wire._resolved_refs == {}
    assert executor.submit(tasks.square, 4).result() == 16
