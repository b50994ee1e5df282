"""test_docstrings.py: every public name of pergil, pergil.tables and pergil.dask has a
docstring and is in the API reference, and every public callable says what it returns and what
it raises (the API reference is built from them: docs/api.rst)."""

import inspect
import pathlib

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


# ---- pergil.tables and pergil.dask: their names load with pandas/pdtable and distributed ----

API_RST = pathlib.Path(__file__).resolve().parents[2] / "docs" / "api.rst"
TABLES_NAMES = ("ReadError", "frame_from_columns", "load_startables", "read_many",
                "shutdown_workers")
DASK_NAMES = ("EXECUTOR_NAME", "THREADS_NAME", "InterpreterPlugin", "WorkerExecutor",
              "refused_by_subinterpreter", "plugin_from_config", "dask_setup")
DASK_CONSTANTS = ("EXECUTOR_NAME", "THREADS_NAME")  # str values: documented in api.rst
# name -> (says what it returns, says what it raises)
KEY_CALLABLES = {
    "load_startables": (True, True), "read_many": (True, True),
    "frame_from_columns": (True, True), "plugin_from_config": (True, True),
    "dask_setup": (True, True), "refused_by_subinterpreter": (True, False),
    "InterpreterPlugin": (False, True),
}


def _tables_name(name):
    for module in ("pandas", "openpyxl", "pdtable"):
        pytest.importorskip(module, reason="the tables extra is not installed")
    import pergil.tables

    return getattr(pergil.tables, name)


def _dask_name(name):
    pytest.importorskip("distributed", reason="the dask extra is not installed")
    import pergil.dask

    return getattr(pergil.dask, name)


def _assert_documented(name, obj):
    test_has_its_own_docstring(name, obj)
    if inspect.isclass(obj):  # its public methods, those it defines itself
        for attr, member in vars(obj).items():
            if not attr.startswith("_") and callable(member):
                assert member.__doc__ and member.__doc__.strip(), f"{name}.{attr}: no docstring"


def test_the_public_name_lists_are_the_documented_ones():
    import pergil.tables

    assert tuple(pergil.tables.__all__) == TABLES_NAMES
    pytest.importorskip("distributed", reason="the dask extra is not installed")
    import pergil.dask

    assert sorted(pergil.dask.__all__) == sorted(DASK_NAMES)


@pytest.mark.parametrize("name", TABLES_NAMES)
def test_tables_names_have_docstrings_and_are_in_the_reference(name):
    obj = _tables_name(name)
    _assert_documented(f"pergil.tables.{name}", obj)
    assert obj.__module__.startswith("pergil.tables."), obj.__module__
    assert f"pergil.tables.{name}" in API_RST.read_text(), f"{name} is not in docs/api.rst"


@pytest.mark.parametrize("name", DASK_NAMES)
def test_dask_names_have_docstrings_and_are_in_the_reference(name):
    obj = _dask_name(name)
    reference = API_RST.read_text()
    if name in DASK_CONSTANTS:
        assert isinstance(obj, str)
        assert f".. py:data:: pergil.dask.{name}" in reference, f"{name} not in docs/api.rst"
        return
    _assert_documented(f"pergil.dask.{name}", obj)
    members = reference.split(".. automodule:: pergil.dask", 1)[1].split("\n\n", 1)[0]
    assert name in members, f"{name} is not among pergil.dask's members in docs/api.rst"


@pytest.mark.parametrize("name", sorted(KEY_CALLABLES))
def test_tables_and_dask_callables_say_what_they_return_and_raise(name):
    obj = _tables_name(name) if name in TABLES_NAMES else _dask_name(name)
    returns, raises = KEY_CALLABLES[name]
    if returns:
        assert "Returns:" in obj.__doc__, name
    if raises:
        assert "Raises:" in obj.__doc__, name


def test_read_error_says_when_it_is_returned():
    doc = _tables_name("ReadError").__doc__
    assert 'errors="collect"' in doc and "returned" in doc
