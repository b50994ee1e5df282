"""test_callables.py: what a task may be, what cannot travel, and what a worker sees.

Module functions, builtins, partials and bound methods travel by reference; lambdas, closures
and nested functions by value (cloudpickle). What cannot be pickled raises TypeError at submit,
naming the culprit and the reason. Workers import with the caller's sys.path and cwd.
(Functions of a ``__main__`` script or a REPL: test_main_script.py.)
"""

import functools
import io
import math
import operator
import os
import sys
import threading
import uuid

import pytest

import pergil
from helpers import tasks


@pytest.mark.parametrize(
    "fn, args, expected",
    [
        (tasks.square, (7,), 49),
        (pow, (2, 10), 1024),
        (len, ("abcd",), 4),
        (abs, (-3,), 3),
        (math.factorial, (10,), 3628800),
        (operator.mul, (6, 7), 42),
        (str.upper, ("pergil",), "PERGIL"),
        (dict.fromkeys, ("ab", 0), {"a": 0, "b": 0}),
        (sorted, ([3, 1, 2],), [1, 2, 3]),
    ],
    ids=lambda v: getattr(v, "__qualname__", None) if callable(v) else None,
)
def test_module_functions_and_builtins(executor, fn, args, expected):
    assert executor.submit(fn, *args).result() == expected


def test_partials(executor):
    assert executor.submit(functools.partial(tasks.add, 1, scale=3), 2).result() == 9
    assert executor.submit(functools.partial(pow, 2), 8).result() == 256
    nested = functools.partial(functools.partial(tasks.add, 1), 2)
    assert executor.submit(nested, 3).result() == 6
    assert list(executor.map(functools.partial(tasks.add, b=100), range(5))) == [
        100, 101, 102, 103, 104
    ]


def test_bound_methods(executor):
    acc = tasks.Accumulator(40)
    assert executor.submit(acc.add, 2).result() == 42
    assert executor.submit(tasks.Accumulator.make_and_add, 1, 2).result() == 3
    assert executor.submit(tasks.Accumulator.twice, 21).result() == 42
    assert executor.submit(tasks.Accumulator(1).__eq__, tasks.Accumulator(1)).result() is True
    assert executor.submit("a,b,c".split, ",").result() == ["a", "b", "c"]
    assert executor.submit([5, 6, 7].index, 7).result() == 2
    assert list(executor.map(acc.add, range(3), chunksize=2)) == [40, 41, 42]


def test_lambdas_and_closures_travel_by_value(executor):
    assert executor.submit(lambda x: x + 1, 41).result() == 42
    offset = 1000

    def nested(x):
        return x + offset

    def outer(k):
        def inner(y):
            return y * k + offset
        return inner

    assert executor.submit(nested, 1).result() == 1001
    assert executor.submit(outer(3), 2).result() == 1006
    assert list(executor.map(lambda a, b: a * b, range(5), range(5))) == [0, 1, 4, 9, 16]
    assert list(executor.map(outer(2), range(4), chunksize=3)) == [1000, 1002, 1004, 1006]


def test_nested_recursive_function_and_local_class(executor):
    def fib(n):
        return n if n < 2 else fib(n - 1) + fib(n - 2)

    class Local:
        def __init__(self, v):
            self.v = v

        def doubled(self):
            return self.v * 2

    assert executor.submit(fib, 15).result() == 610
    assert executor.submit(Local(21).doubled).result() == 42
    result = executor.submit(lambda v: Local(v), 5).result()
    assert type(result).__name__ == "Local" and result.v == 5


def test_closure_over_large_bytes(executor):
    payload = tasks.pattern(1 << 20, seed=3)
    assert executor.submit(lambda: tasks.checksum(payload)).result() == tasks.checksum(payload)


def test_lambda_as_argument_to_module_function(executor):
    assert executor.submit(tasks.apply, lambda a, b: a - b, 10, 3).result() == 7


def test_lambda_initializer(workers):
    seen = []
    with pergil.InterpreterPoolExecutor(
        max_workers=workers, initializer=lambda v: tasks.set_worker_value(v * 2), initargs=(21,)
    ) as executor:
        seen = [f.result() for f in [executor.submit(tasks.get_worker_value) for _ in range(20)]]
    assert seen == [(42,)] * 20


def test_initializer_runs_in_every_worker(workers, tmp_path):
    with pergil.InterpreterPoolExecutor(
        max_workers=workers, initializer=tasks.set_worker_value, initargs=("ready", 7)
    ) as executor:
        # A rendezvous of all workers, then each reports what its initializer left.
        list(executor.map(tasks.rendezvous, [str(tmp_path)] * workers, [workers] * workers))
        values = [executor.submit(tasks.get_worker_value).result() for _ in range(4 * workers)]
    assert values == [("ready", 7)] * (4 * workers)


def test_initializer_must_be_callable():
    with pytest.raises(TypeError):
        pergil.InterpreterPoolExecutor(max_workers=1, initializer=42)


# --- what cannot travel: TypeError at submit, naming the object and saying why ----------------


def _assert_names_culprit(error, *words):
    text = str(error)
    for word in words:
        assert word in text, f"{word!r} not in {text!r}"
    assert "pickle" in text, f"the reason is missing from {text!r}"


def test_lock_argument(executor):
    with pytest.raises(TypeError) as caught:
        executor.submit(tasks.echo, 1, threading.Lock())
    _assert_names_culprit(caught.value, "argument 1", "lock")
    assert executor.submit(tasks.square, 3).result() == 9


def test_generator_argument(executor):
    with pytest.raises(TypeError) as caught:
        executor.submit(tasks.echo, tasks.make_counter())
    _assert_names_culprit(caught.value, "argument 0", "generator")
    assert executor.submit(tasks.square, 3).result() == 9


def test_keyword_argument_file(executor):
    with pytest.raises(TypeError) as caught:
        executor.submit(tasks.echo, stream=io.TextIOWrapper(io.BytesIO()))
    _assert_names_culprit(caught.value, "stream")


def test_callable_closing_over_a_lock(executor):
    lock = threading.Lock()

    def uses_lock():
        with lock:
            return 1

    with pytest.raises(TypeError) as caught:
        executor.submit(uses_lock)
    _assert_names_culprit(caught.value, "callable", "uses_lock")
    assert executor.submit(tasks.square, 3).result() == 9


def test_bound_method_of_unpicklable_object(executor):
    with pytest.raises(TypeError) as caught:
        executor.submit(threading.Lock().acquire)
    _assert_names_culprit(caught.value, "callable")


def test_unpicklable_argument_in_map(executor):
    with pytest.raises(TypeError):
        list(executor.map(tasks.echo, [1, threading.Lock(), 3]))
    assert list(executor.map(tasks.square, range(3))) == [0, 1, 4]


# --- worker environment -----------------------------------------------------------------------


def test_workers_see_callers_sys_path(workers, tmp_path, monkeypatch):
    name = f"pergil_probe_{uuid.uuid4().hex}"
    (tmp_path / f"{name}.py").write_text("def where(x):\n    return __file__, x * 3\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import importlib

    module = importlib.import_module(name)
    try:
        with pergil.InterpreterPoolExecutor(max_workers=workers) as executor:
            results = [f.result() for f in [executor.submit(module.where, i) for i in range(10)]]
            by_name = executor.submit(tasks.import_and_call, name, "where", 2).result()
            worker_path = executor.submit(tasks.sys_path).result()
    finally:
        sys.modules.pop(name, None)
    assert results == [(str(tmp_path / f"{name}.py"), i * 3) for i in range(10)]
    assert by_name[1] == 6
    assert worker_path == sys.path


def test_workers_see_callers_cwd(workers, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "relative.txt").write_text("found by a relative path")
    with pergil.InterpreterPoolExecutor(max_workers=workers) as executor:
        assert executor.submit(tasks.getcwd).result() == os.getcwd()
        assert executor.submit(tasks.read_text, "relative.txt").result() == "found by a relative path"
