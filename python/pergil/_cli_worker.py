"""_cli_worker.py: the side of ``pergil run`` and ``pergil info`` that runs where the tasks run:
in a worker interpreter, a worker process or thread, or inline in serial mode.

Kept apart from cli.py so that a worker imports only importlib and json, not argparse.
"""

import importlib
import json

REFUSAL = "does not support loading in subinterpreters"  # CPython's ImportError message


class UsageError(Exception):
    """A bad target or a bad input: reported in one line, exit status 2."""


_targets = {}  # "module:function" -> callable, per interpreter (never shared across them)


def _type_name(kind):
    """``ValueError`` for builtins, ``module.Qualname`` otherwise."""
    if kind.__module__ == "builtins":
        return kind.__qualname__
    return f"{kind.__module__}.{kind.__qualname__}"


def resolve_target(spec):
    """Returns the callable named by ``MODULE:FUNCTION`` (FUNCTION may be dotted: Class.method).
    Raises UsageError with a one-line reason."""
    module_name, sep, attribute = spec.partition(":")
    if not sep or not module_name or not attribute:
        raise UsageError(f"the target must be MODULE:FUNCTION, not {spec!r}")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name is not None and (module_name + ".").startswith(error.name + "."):
            raise UsageError(f"no module named {error.name!r} (looked in the current directory "
                             "and sys.path)") from None
        raise UsageError(f"importing {module_name!r} failed: {describe(error)}") from None
    except BaseException as error:  # noqa: BLE001 - any failure of the module's own code
        if isinstance(error, KeyboardInterrupt):
            raise
        raise UsageError(f"importing {module_name!r} failed: {describe(error)}") from None
    target = module
    for part in attribute.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise UsageError(f"module {module_name!r} has no attribute {attribute!r}") from None
    if not callable(target):
        raise UsageError(f"{spec} is not callable (it is {_type_name(type(target))})")
    return target


def describe(error):
    """``Type: first line of the message``, for one-line reports."""
    message = str(error).strip().splitlines()
    return f"{_type_name(type(error))}: {message[0]}" if message else _type_name(type(error))


def probe_target(spec):
    """Resolves the target where the tasks will run. Returns None or the one-line reason."""
    try:
        _targets[spec] = resolve_target(spec)
    except UsageError as error:
        return str(error)
    return None


def call_chunk(spec, star, items):
    """Applies the target to each item. Returns (None, entries) with one entry per item,
    ``(True, json_text)`` or ``(False, type_name, message, traceback_text)``; or
    (reason, None) when the target cannot be resolved here."""
    function = _targets.get(spec)
    if function is None:
        reason = probe_target(spec)
        if reason is not None:
            return reason, None
        function = _targets[spec]
    return None, [_call_one(function, star, item) for item in items]


def _call_one(function, star, item):
    try:
        if not star:
            result = function(item)
        elif isinstance(item, dict):
            result = function(**item)
        else:
            result = function(*item)
    except (Exception, SystemExit) as error:
        return failure(error, skip_frames=1)
    try:
        return True, json.dumps(result)
    except (TypeError, ValueError) as error:
        problem = TypeError(f"the result ({_type_name(type(result))}) cannot be written as "
                            f"JSON: {error}")
        return failure(problem)


def failure(error, skip_frames=0):
    """The entry of a failed item: (False, type name, message, formatted traceback); the
    traceback leaves out ``skip_frames`` frames of ours at its top."""
    import traceback

    tb = error.__traceback__
    for _ in range(skip_frames):
        tb = tb.tb_next if tb is not None else None
    text = "".join(traceback.format_exception(type(error), error, tb))
    return False, _type_name(type(error)), str(error), text


def try_import(name):
    """Runs in a worker: None if ``name`` imports here, else "Type: message"."""
    try:
        importlib.import_module(name)
    except Exception as error:  # noqa: BLE001 - the reason is the report
        return f"{_type_name(type(error))}: {error}"
    return None


def import_problem(name):
    """Runs in the main interpreter or a worker: None if module ``name`` imports here, else
    the one-line reason ("Type: message"). A module that raises SystemExit on import is a
    reason too, not the end of the caller."""
    try:
        importlib.import_module(name)
    except (Exception, SystemExit) as error:  # noqa: BLE001 - the reason is the report
        return describe(_root_refusal(error) or error)
    return None


def _root_refusal(error):
    """The refusal of a sub-interpreter inside ``error``'s chain, if any: packages such as
    NumPy re-raise it wrapped in a long ImportError of their own whose first line says nothing."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        for line in str(error).splitlines():
            if REFUSAL in line:
                return ImportError(line.strip())
        error = error.__cause__ or error.__context__
    return None
