"""pergil: run pure Python functions on every CPU core, through own-GIL sub-interpreters.

Attributes load lazily, so that a worker interpreter importing ``pergil._worker`` does not pay
for the executor's imports.
"""

__version__ = "0.1.0"

_EXPORTS = {
    "InterpreterPoolExecutor": "pergil._executor",
    "BrokenInterpreterPool": "pergil._errors",
    "RemoteError": "pergil._errors",
    "RemoteTraceback": "pergil._errors",
    "TaskTimeout": "pergil._errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'pergil' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(list(globals()) + list(_EXPORTS))
