"""test_docstrings.py: every public name of pergil has a docstring, and every public callable
says what it returns and what it raises (the API reference is built from them: docs/api.rst)."""

import inspect

import pytest

import pergil
import pergil.cli

EXECUTOR_METHODS = ("submit", "submit_with_timeout", "map", "shutdown")


def _public_objects():
    yield "pergil", pergil
    for name in pergil.__all__:
        yield name, getattr(pergil, name)
    for name in EXECUTOR_METHODS:
        yield f"InterpreterPoolExecutor.{name}", getattr(pergil.InterpreterPoolExecutor, name)
    yield "InterpreterPoolExecutor.max_workers", pergil.InterpreterPoolExecutor.max_workers
    yield "pergil.cli.main", pergil.cli.main


@pytest.mark.parametrize("name, obj", list(_public_objects()), ids=lambda v: str(v)[:40])
def test_has_its_own_docstring(name, obj):
    doc = obj.__doc__
    assert doc and doc.strip(), f"{name} has no docstring"
    if inspect.isclass(obj):
        inherited = [base.__doc__ for base in obj.__mro__[1:]]
        assert doc not in inherited, f"{name} only inherits its docstring"


@pytest.mark.parametrize("name", [*EXECUTOR_METHODS, "__init__"])
def test_executor_callables_say_what_they_return_and_raise(name):
    if name == "__init__":  # documented on the class, as napoleon reads it
        doc = pergil.InterpreterPoolExecutor.__doc__
    else:
        doc = getattr(pergil.InterpreterPoolExecutor, name).__doc__
    if name not in ("shutdown", "__init__"):
        assert "Returns:" in doc, name
    if name != "shutdown":  # shutdown raises nothing of its own (Ctrl-C aside, said in Args)
        assert "Raises:" in doc, name


def test_cli_main_says_what_it_returns_and_raises():
    assert "Returns:" in pergil.cli.main.__doc__ and "Raises:" in pergil.cli.main.__doc__


def test_exceptions_say_when_they_are_raised():
    for name in ("BrokenInterpreterPool", "RemoteError", "RemoteTraceback", "TaskTimeout"):
        doc = getattr(pergil, name).__doc__
        assert "raise" in doc.lower() or "attached" in doc.lower(), name
