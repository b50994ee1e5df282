"""test_cli_modules.py: ``pergil info MODULE [MODULE ...]``: one line per module saying whether
it imports in an own-GIL worker on this Python, and if not, why; exit status 1 if one does not.
Run as the real console script (helpers/cli.py), modules written to a temporary directory."""

import importlib.util
import json
import sys

import pytest

from helpers.cli import assert_status, pergil

REFUSING = [name for name in ("readline", "_curses", "_tkinter")
            if importlib.util.find_spec(name) is not None]
WORKER_ONLY_FAILURE = """\
from pergil import _worker
if _worker.TaskInterrupted is not None:  # set only inside a pergil worker
    raise RuntimeError("this module refuses to run in a worker")
"""


@pytest.fixture
def modules(tmp_path):
    """A directory of small modules; ``pergil info`` runs there (current directory first)."""
    (tmp_path / "raises_on_import.py").write_text("raise RuntimeError('boom at import')\n")
    (tmp_path / "exits_on_import.py").write_text("raise SystemExit(3)\n")
    (tmp_path / "fails_in_workers.py").write_text(WORKER_ONLY_FAILURE)
    (tmp_path / "plain_local.py").write_text("VALUE = 1\n")
    if REFUSING:
        (tmp_path / "needs_refusing.py").write_text(f"import {REFUSING[0]}\n")
    return tmp_path


def _lines(proc):
    return proc.stdout.splitlines()


def test_stdlib_and_local_modules_import():
    proc = pergil("info", "json", "cloudpickle")
    assert_status(proc, 0)
    assert _lines(proc) == ["json: imports in a worker", "cloudpickle: imports in a worker"]


def test_current_directory_modules_are_found(modules):
    proc = pergil("info", "plain_local", cwd=modules)
    assert_status(proc, 0)
    assert _lines(proc) == ["plain_local: imports in a worker"]


def test_missing_module(modules):
    proc = pergil("info", "json", "no_such_module_xyz", cwd=modules)
    assert_status(proc, 1)
    assert _lines(proc) == [
        "json: imports in a worker",
        "no_such_module_xyz: not found on this Python "
        "(ModuleNotFoundError: No module named 'no_such_module_xyz')"]


def test_module_raising_on_import_and_exiting(modules):
    """The reason is the module's own error; SystemExit does not end the report."""
    proc = pergil("info", "raises_on_import", "exits_on_import", "json", cwd=modules)
    assert_status(proc, 1)
    assert _lines(proc) == [
        "raises_on_import: fails to import in the main interpreter too "
        "(RuntimeError: boom at import)",
        "exits_on_import: fails to import in the main interpreter too (SystemExit: 3)",
        "json: imports in a worker"]


def test_module_failing_only_in_a_worker(modules):
    proc = pergil("info", "fails_in_workers", cwd=modules)
    assert_status(proc, 1)
    assert _lines(proc) == [
        "fails_in_workers: imports in the main interpreter but fails in a worker "
        "(RuntimeError: this module refuses to run in a worker)"]


@pytest.mark.skipif(not REFUSING, reason="no refusing stdlib extension module on this build")
def test_refused_extension_module_and_its_users(modules):
    name = REFUSING[0]
    proc = pergil("info", name, "needs_refusing", cwd=modules)
    assert_status(proc, 1)
    it, user = _lines(proc)
    assert it.startswith(f"{name}: refused in a worker: it is an extension module without "
                         "own-GIL sub-interpreter support; import it in the main interpreter")
    assert user.startswith(f"needs_refusing: refused in a worker: it needs {name}, which is an "
                           "extension module without own-GIL sub-interpreter support")


def test_numpy_is_refused_with_the_reason():
    """NumPy wraps the refusal in a long ImportError: the line still names the real culprit."""
    if importlib.util.find_spec("numpy") is None:
        pytest.skip("numpy is not installed (a third-party refusing module)")
    proc = pergil("info", "numpy")
    assert_status(proc, 1)
    (line,) = _lines(proc)
    assert line.startswith("numpy: refused in a worker: it needs numpy._core."), line
    assert "import it in the main interpreter" in line


def test_json_report(modules):
    proc = pergil("info", "--json", "json", "raises_on_import", cwd=modules)
    assert_status(proc, 1)
    data = json.loads(proc.stdout)
    assert data["python"] == ".".join(map(str, sys.version_info[:3]))
    assert data["modules"] == {
        "json": {"main": True, "worker": True, "reason": None},
        "raises_on_import": {"main": False, "worker": False,
                             "reason": "RuntimeError: boom at import"}}
    assert list(data["modules"]) == ["json", "raises_on_import"]  # the order given
