"""_worker.py: the code each worker interpreter runs: set-up, calls, results and errors.

Imported once per worker by the engine. Everything here runs inside an own-GIL
sub-interpreter; nothing here is shared with the main interpreter but bytes.
"""

import sys
import types

from pergil import _wire

# Set by the engine before setup(): the exception it raises asynchronously to stop a task.
TaskInterrupted = None

# re and traceback load only on the error path: they are most of a worker's start-up imports.
_REFUSED = r"module (\S+) does not support loading in subinterpreters"
_running_main_script = False


class StopMainScript(BaseException):
    """Raised where the re-run ``__main__`` script creates a pool: the definitions above that
    point are what a worker needs, the rest belongs to the caller only."""


def running_main_script():
    return _running_main_script


class _LazyMain(types.ModuleType):
    """The worker's ``__main__``/``__mp_main__``: runs the caller's script (as multiprocessing's
    spawn does, under the name ``__mp_main__``) the first time a name in it is looked up,
    for instance when a pickled call refers to ``__main__.work``."""

    def __init__(self, path, module_name):
        super().__init__("__mp_main__")
        self.__dict__["_pergil_source"] = (path, module_name)
        if path is not None:
            self.__file__ = path

    def __getattr__(self, name):
        # Dunder lookups (the import system probing __path__, say) never run the script.
        source = None if name.startswith("__") else self.__dict__.pop("_pergil_source", None)
        if source is None:
            raise AttributeError(
                f"the caller's __main__ script, re-run in the worker as __mp_main__, defines no "
                f"{name!r}: is it defined under `if __name__ == '__main__':` or after the pool "
                f"is created?")
        try:
            _run_main_script(self, *source)
        except BaseException:
            # Interrupted (a cancel or a deadline) or failed half-way: the next lookup runs the
            # script again, rather than every later task finding a half-defined module.
            self.__dict__["_pergil_source"] = source
            raise
        return getattr(self, name)


def _run_main_script(module, path, module_name):
    global _running_main_script
    _running_main_script = True
    try:
        # Executed in the module's own namespace (not through runpy, which returns nothing
        # when the script stops at its pool), so what ran before StopMainScript is kept.
        if module_name is not None:
            import importlib.util

            spec = importlib.util.find_spec(module_name)
            code = spec.loader.get_code(module_name)
            module.__dict__.update(__file__=spec.origin, __package__=spec.parent,
                                   __spec__=spec, __loader__=spec.loader)
        else:
            with open(path, "rb") as source:
                code = compile(source.read(), path, "exec")
        exec(code, module.__dict__)
    except StopMainScript:
        pass  # the script reached its pool: what it defined so far is kept
    finally:
        _running_main_script = False


def _serialize_extension_creation():
    """CPython 3.12: no two workers create the same extension module at once. 3.12 runs a
    module's init in the importing interpreter (before refusing a single-phase one),
    and two workers running the same init at once corrupt the heap (readline, _curses).
    3.13 runs every init in the main interpreter, under its GIL (gh-117953): nothing to do.
    The lock is taken and released inside one C call (see src/python/import_lock.cpp), so a
    cancel landing anywhere here leaves nothing held."""
    if sys.version_info >= (3, 13):
        return
    from importlib.machinery import ExtensionFileLoader

    from pergil._core import create_extension_serialized

    create_module = ExtensionFileLoader.create_module  # this interpreter's own class

    def create_module_serialized(self, spec):
        return create_extension_serialized(spec.name, create_module, self, spec)

    ExtensionFileLoader.create_module = create_module_serialized


def setup(blob):
    """Prepares this worker. Returns None, or the formatted error that breaks the pool."""
    try:
        _serialize_extension_creation()
        main_path, main_module, initializer = _wire.loads(blob, [])
        if main_path is not None or main_module is not None:
            sys.modules["__main__"] = sys.modules["__mp_main__"] = _LazyMain(main_path, main_module)
        if initializer is not None:
            function, args, kwargs = _wire.loads(*initializer)
            _wire.resolve_function(function)(*args, **kwargs)
    except BaseException as error:  # noqa: BLE001 - reported to the caller as a broken pool
        import traceback

        text = "".join(traceback.format_exception(error))
        return f"the initializer failed in a worker:\n{text}"
    return None


def run(stream, buffers):
    """Runs one pickled call. Returns (ok, stream, buffers) for the result or the exception."""
    try:
        function, args, kwargs = _wire.loads(stream, buffers)
        result = _wire.resolve_function(function)(*args, **kwargs)
    except BaseException as error:  # noqa: BLE001 - every failure reaches the caller's future
        if TaskInterrupted is not None and isinstance(error, TaskInterrupted):
            raise
        return (False, *dump_exception(error))
    finally:
        _flush_std_streams()
    if _PURE_DATETIME_FALLBACK:
        _pickle_pure_datetime_as_datetime()
    try:
        return (True, *_wire.dumps_result(result))
    except Exception as error:  # noqa: BLE001
        problem = TypeError(f"cannot send the result of type {type(result).__qualname__} "
                            f"back from the worker: {error}")
        problem.__cause__ = error
        return (False, *dump_exception(problem))


# CPython 3.12 refuses _datetime in own-GIL workers: datetime falls back to _pydatetime, whose
# classes would pickle as _pydatetime.X, another class in the caller.
_PURE_DATETIME_FALLBACK = sys.version_info < (3, 13)


def _pickle_pure_datetime_as_datetime():
    """Makes the pure-Python datetime classes pickle as the ``datetime`` classes they stand
    for, so results are the caller's (C) datetime types. Cheap once done: a dict lookup."""
    pure = sys.modules.get("_pydatetime")
    if pure is None or pure.__dict__.get("_pergil_pickles_as_datetime"):
        return
    for name in ("date", "datetime", "time", "timedelta", "tzinfo", "timezone"):
        getattr(pure, name).__module__ = "datetime"
    # Its own reduce pickles state the C timezone cannot load: rebuild from its arguments.
    pure.timezone.__reduce__ = lambda self: (type(self), self.__getinitargs__())
    pure._pergil_pickles_as_datetime = True


def run_chunk(function, chunk):
    """One map() chunk: the calls in order, up to the first exception. Returns (results, None),
    or (the results so far, the exception as dump_exception packs it), so that the caller
    sees every result before the failing item, as with one task per item."""
    results = []
    for args in chunk:
        try:
            results.append(function(*args))
        except Exception as error:  # noqa: BLE001 - BaseExceptions fail the chunk as a whole
            return results, dump_exception(error)
    return results, None


def _flush_std_streams():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - a closed or replaced stream is the task's business
            pass


def _explain_refused_import(error):
    """Rewrites CPython's refusal of a non-isolated extension module into a clear ImportError."""
    import re

    seen = error
    while seen is not None:
        match = re.search(_REFUSED, str(seen)) if isinstance(seen, ImportError) else None
        if match:
            name = match.group(1)
            top = name.split(".")[0]
            message = (
                f"cannot import {name!r} in a pergil worker: it is an extension module that "
                f"does not support own-GIL sub-interpreters. Workers can only import pure-Python "
                f"modules and isolated extension modules; import {top!r} in the main "
                f"interpreter and pass plain data to the workers"
            )
            return ImportError(message, name=name)
        seen = seen.__cause__ or seen.__context__
    return None


def dump_exception(error):
    """(stream, buffers) of (exception or None, type name, message, formatted traceback)."""
    import traceback

    if _PURE_DATETIME_FALLBACK:
        _pickle_pure_datetime_as_datetime()

    text = "".join(traceback.format_exception(error))
    replacement = _explain_refused_import(error) if isinstance(error, ImportError) else None
    if replacement is not None:
        error = replacement
    kind = type(error)
    name = f"{kind.__module__}.{kind.__qualname__}"
    try:
        message = str(error)
    except Exception:  # noqa: BLE001
        message = "<exception str() failed>"
    try:
        return _wire.dumps((error, name, message, text))
    except BaseException:  # noqa: BLE001 - send the strings; the caller raises RemoteError
        return _wire.dumps((None, name, message, text))
