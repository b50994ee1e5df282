"""_worker_imports.py: imports for pergil.tables' worker readers that spare a sub-interpreter
what cannot load there anyway (standard library only; runs in workers)."""

import sys

from pergil import _worker


def in_pergil_worker():
    """True in a pergil worker interpreter (the engine sets TaskInterrupted there)."""
    return _worker.TaskInterrupted is not None


def import_openpyxl_without_numpy():
    """Imports openpyxl in a sub-interpreter, where numpy cannot load, without trying numpy.

    openpyxl tries ``import numpy`` and goes without it on ImportError
    (openpyxl/compat/numbers.py). numpy refuses sub-interpreters, but only after part of its
    __init__ ran: 4.5 MiB of every worker's memory for nothing (openpyxl costs a worker
    13.5 MiB instead of 18). A None in sys.modules fails that import at once with the
    ImportError openpyxl expects; the entry is taken out again, so that a later
    ``import numpy`` in the worker fails with its own message. Outside a pergil worker (or
    with numpy loaded) it is a plain ``import openpyxl``: there numpy may load, and openpyxl
    should know it.
    """
    if "openpyxl" in sys.modules:
        return
    if not in_pergil_worker() or "numpy" in sys.modules:
        import openpyxl  # noqa: F401
        return
    sys.modules["numpy"] = None
    try:
        import openpyxl  # noqa: F401
    finally:
        if "numpy" in sys.modules and sys.modules["numpy"] is None:
            del sys.modules["numpy"]
