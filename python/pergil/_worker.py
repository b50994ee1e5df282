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
        if name.startswith("__"):  # the import system probing __path__, say: never re-run
            raise AttributeError(name)
        source = self.__dict__.pop("_pergil_source", None)
        script = self.__dict__.get("__file__") or "the caller's __main__ module"
        if source is None:
            raise _main_lookup_failed(MainScriptLookupError(
                f"cannot get {name!r} from the caller's script {script}: re-run in a pergil "
                f"worker (as __mp_main__), the script does not define it, so it is defined under "
                f"`if __name__ == '__main__':` or after the pool is created. Define it at module "
                f"level above the pool, or in a module of its own", name, script))
        try:
            _run_main_script(self, *source)
        except Exception as error:
            # Failed half-way: the next lookup runs the script again, rather than every later
            # task finding a half-defined module.
            self.__dict__["_pergil_source"] = source
            script = self.__dict__.get("__file__") or script  # python -m: set by the run
            raise _main_lookup_failed(_rerun_failed(name, script, error)) from None
        except BaseException:  # interrupted (a cancel or a deadline): run it again next time
            self.__dict__["_pergil_source"] = source
            raise
        return getattr(self, name)


class MainScriptLookupError(AttributeError):
    """A worker could not get a name from the caller's ``__main__`` script. The caller then
    sends the call by value (cloudpickle); the message names the script, the line that failed
    and the fix, for when that does not work either. ``where`` and ``reason`` are empty when
    the script ran but does not define the name."""

    def __init__(self, message, name, script, where="", reason=""):
        super().__init__(message)
        self.name_wanted, self.script, self.where, self.reason = name, script, where, reason

    def __reduce__(self):
        return (type(self), (str(self), self.name_wanted, self.script, self.where, self.reason))

    def by_value_note(self):
        """Why the caller sent a call by value, and the fix if that fails too."""
        if not self.where:
            return (f"pergil sent this call by value: the caller's script {self.script}, re-run "
                    f"in a worker, does not define {self.name_wanted!r} (it is defined under "
                    f"`if __name__ == '__main__':` or after the pool is created). If it must "
                    f"run in workers, define it at module level above the pool, or in a "
                    f"module of its own")
        return (f"pergil sent this call by value: a worker cannot re-run the caller's script "
                f"{self.script}, which fails there at {self.where}: {self.reason}. Functions "
                f"that run in workers cannot use what fails there: keep it in the main "
                f"interpreter (under `if __name__ == '__main__':` or in functions only the "
                f"caller runs) and send the workers plain data")


# The last lookup failure of the caller's script in this worker: pickle replaces an
# AttributeError raised while it finds a class or function with its own "Can't get attribute",
# so run() takes the real reason from here.
_main_failure = None


def _main_lookup_failed(error):
    global _main_failure
    _main_failure = error
    return error


def _rerun_failed(name, script, error):
    """The error for a re-run of the caller's script that raised ``error``: where, and why."""
    import traceback

    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == script]
    where = f"line {frames[-1].lineno} ({frames[-1].line})" if frames else "its start"
    explained = _explain_refused_import(error) if isinstance(error, ImportError) else None
    detail = str(explained or error).strip().split("\n\n")[0]  # no page of advice
    reason = f"{type(explained or error).__name__}: {detail}"
    return MainScriptLookupError(
        f"cannot get {name!r} from the caller's script {script}: a pergil worker re-runs the "
        f"script to find it, and that failed at {where}: {reason}. Move what fails "
        f"there under `if __name__ == '__main__':` (or into the functions that need it), or "
        f"move {name!r} to a module of its own", name, script, where, reason)


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
    global _main_failure
    _main_failure = None
    try:
        function, args, kwargs = _wire.loads(stream, buffers)
        function = _wire.resolve_function(function)
    except BaseException as error:  # noqa: BLE001 - loading the call failed: nothing ran
        if TaskInterrupted is not None and isinstance(error, TaskInterrupted):
            raise
        failure, _main_failure = _main_failure, None
        return (False, *dump_exception(failure or error, loading=True))
    try:
        result = function(*args, **kwargs)
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


def _refusal_in(error):
    """(the ImportError in ``error``'s chain where CPython refused a module, its name): the
    innermost one, as packages quote the refusal in their own message (NumPy does)."""
    import re

    found, seen = (None, None), error
    while seen is not None:
        match = re.search(_REFUSED, str(seen)) if isinstance(seen, ImportError) else None
        if match:
            found = seen, match.group(1)
        seen = seen.__cause__ or seen.__context__
    return found


def _explain_refused_import(error):
    """Rewrites CPython's refusal of a non-isolated extension module into a clear ImportError."""
    refusal, name = _refusal_in(error)
    if refusal is None:
        return None
    top = name.split(".")[0]
    message = (
        f"cannot import {name!r} in a pergil worker: it is an extension module that "
        f"does not support own-GIL sub-interpreters. Workers can only import pure-Python "
        f"modules and isolated extension modules; import {top!r} in the main "
        f"interpreter and pass plain data to the workers"
    )
    return ImportError(message, name=name)


def _refusal_traceback(error):
    """The worker's traceback of a refused import, led by CPython's refusal: the message the
    importing package wraps it in (NumPy's long "bad install" advice) does not apply."""
    import traceback

    refusal, _ = _refusal_in(error)
    text = "".join(traceback.format_exception(refusal, chain=False))
    if refusal is not error:
        frames = "".join(traceback.format_list(traceback.extract_tb(error.__traceback__)))
        text += ("\nwhich failed this import (the package's own message, omitted here, does "
                 "not apply: the module refuses sub-interpreters):\n"
                 f"Traceback (most recent call last):\n{frames}{type(error).__qualname__}\n")
    return text


def dump_exception(error, loading=False):
    """(stream, buffers) of (exception or None, type name, message, formatted traceback).
    ``loading``: the call failed to load, before its function ran (the caller may retry)."""
    import traceback

    if _PURE_DATETIME_FALLBACK:
        _pickle_pure_datetime_as_datetime()

    replacement = _explain_refused_import(error) if isinstance(error, ImportError) else None
    if replacement is not None:
        text = _refusal_traceback(error)
        error = replacement
    else:
        text = "".join(traceback.format_exception(error))
    if loading:
        try:
            error._pergil_loading = True
        except Exception:  # noqa: BLE001 - an exception without a __dict__: no retry then
            pass
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
