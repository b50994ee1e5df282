"""pergil: run pure Python functions on every CPU core, through own-GIL sub-interpreters.

Attributes load lazily, so that a worker interpreter importing ``pergil._worker`` does not pay
for the executor's imports. Type checkers see the plain imports below instead.
"""

__version__ = "0.1.0"

_EXPORTS = {
    "InterpreterPoolExecutor": "pergil._executor",
    "BrokenInterpreterPool": "pergil._errors",
    "RemoteError": "pergil._errors",
    "RemoteTraceback": "pergil._errors",
    "TaskTimeout": "pergil._errors",
}

# Written out (not sorted(_EXPORTS)) so that type checkers and Sphinx can read it;
# tests/python/test_typing.py checks that both lists agree.
__all__ = [
    "BrokenInterpreterPool",
    "InterpreterPoolExecutor",
    "RemoteError",
    "RemoteTraceback",
    "TaskTimeout",
]

# typing.TYPE_CHECKING without importing typing, which workers would pay for at start-up;
# type checkers treat any name TYPE_CHECKING as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from pergil._errors import BrokenInterpreterPool, RemoteError, RemoteTraceback, TaskTimeout
    from pergil._executor import InterpreterPoolExecutor
else:
    # Hidden from type checkers: a module __getattr__ would make every misspelt name pass.

    def __getattr__(name: str) -> object:
        module = _EXPORTS.get(name)
        if module is None:
            raise AttributeError(f"module 'pergil' has no attribute {name!r}")
        import importlib

        value = getattr(importlib.import_module(module), name)
        globals()[name] = value
        return value


def __dir__() -> list[str]:
    return sorted(list(globals()) + list(_EXPORTS))
