"""test_import_lock.py: workers create extension modules one at a time per module, process-wide
(CPython 3.12 runs a module's init in every importing interpreter at once and corrupts the
heap: see src/python/import_lock.cpp). Concurrent refused imports never crash; nested and
recursive loads never deadlock; a task cancelled while it holds or waits for a module's lock
leaves it free. Each case is a fresh Python (a deadlock hangs it: the run is killed), at 1, 2
and 4 workers, on 3.12 and 3.13 (which serializes those inits itself)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # faults: here and in workers

import pergil  # noqa: E402
from faults.import_lock_script import REFUSED  # noqa: E402
from faults.support import WAIT_TIMEOUT, describe, run_script  # noqa: E402
from faults.fixtures import workers  # noqa: E402, F401

pytestmark = pytest.mark.timeout(600)

# Without the lock, 3.12.1 aborted in each of 6 runs of 30 storm rounds at 4 workers.
STORM_RUNS = 5


def _create_module_name():
    from importlib.machinery import ExtensionFileLoader

    return ExtensionFileLoader.create_module.__name__


def test_workers_on_3_12_create_extension_modules_under_the_lock():
    with pergil.InterpreterPoolExecutor(1) as executor:
        name = executor.submit(_create_module_name).result(timeout=WAIT_TIMEOUT)
    assert name == ("create_module" if sys.version_info >= (3, 13) else "create_module_serialized")


@pytest.mark.skipif(not REFUSED, reason="readline and _curses are not built in this Python")
@pytest.mark.parametrize("run", range(STORM_RUNS))
def test_concurrent_refused_imports_never_crash(workers, run):
    proc = run_script("import_lock_script.py", "storm", workers)
    assert proc.returncode == 0 and proc.stdout == "ok\n", describe(proc)


@pytest.mark.parametrize("mode", ["fresh", "nested", "cancel-holding", "cancel-imports"])
def test_loads_never_deadlock(mode, workers):
    proc = run_script("import_lock_script.py", mode, workers)
    assert proc.returncode == 0 and proc.stdout == "ok\n", describe(proc)
