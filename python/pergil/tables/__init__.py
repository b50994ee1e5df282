"""pergil.tables: load table files (CSV, Excel; StarTable via pdtable) on all cores.

Attributes load lazily: ``import pergil.tables`` imports neither pandas nor pdtable, so worker
interpreters can import the pure-Python worker modules of this package.
"""

_EXPORTS = {
    "load_startables": "pergil.tables._startable_load",
    "read_many": "pergil.tables._read_many",
    "ReadError": "pergil.tables._read_many",
    "frame_from_columns": "pergil.tables._columns",
    "shutdown_workers": "pergil.tables._pool",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'pergil.tables' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(list(globals()) + list(_EXPORTS))
