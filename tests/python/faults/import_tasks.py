"""import_tasks.py: tasks for test_import_lock.py, run inside pergil workers: imports of
extension modules, and calls made while holding pergil's per-module extension-creation lock
(pergil._core.create_extension_serialized)."""

import importlib
import sys

from faults import tasks
from pergil._core import create_extension_serialized

# Multi-phase extension modules that workers can import and pergil itself never imports: each
# re-import after dropping it from sys.modules creates it again, through create_module.
FRESH_EXTENSIONS = ("_bisect", "_heapq", "_random", "cmath", "_statistics")


def reimport(name):
    """Imports extension module ``name`` anew (create_module runs again); returns its name."""
    sys.modules.pop(name, None)
    return importlib.import_module(name).__name__


def nested_reimports(outer, names):
    """While holding ``outer``'s lock, re-imports each of ``names`` (their create_module takes
    their own locks, and ``outer``'s again if it is among them), then re-imports ``outer``.
    As a module's init imports its dependencies: callers nest modules in one order only."""

    def inner():
        loaded = [reimport(name) for name in names]
        return create_extension_serialized(outer, reimport, outer), loaded

    return create_extension_serialized(outer, inner)


def recursive_holds(name, depth):
    """Takes ``name``'s lock ``depth`` times on this thread, then re-imports it."""
    if depth == 0:
        return reimport(name)
    return create_extension_serialized(name, recursive_holds, name, depth - 1)


def spin_holding(name, started_fd):
    """Loops forever while holding ``name``'s lock: only an interrupt ends it."""
    return create_extension_serialized(name, tasks.spin, started_fd)


def wait_for_lock_then_return(name, value):
    return create_extension_serialized(name, tasks.identity, value)
