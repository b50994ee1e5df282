"""test_cli_info.py: ``pergil info`` and ``pergil bench``, and every command's output into a
closed pipe, run as the real console script in a subprocess (see helpers/cli.py)."""

import importlib.util
import json
import os
import subprocess
import sys

import pytest

from helpers.cli import TESTS_DIR, TIMEOUT, assert_status, cli_command, cli_env, pergil


# ---- pergil info ----


def _stdlib_extension_modules():
    """Computed here independently of pergil: stdlib names whose spec is built in or a
    compiled extension, and which import in this (main) interpreter."""
    from importlib.machinery import BuiltinImporter, ExtensionFileLoader

    names = set()
    for name in sys.stdlib_module_names:
        spec = importlib.util.find_spec(name)
        if spec is not None and (spec.loader is BuiltinImporter
                                 or isinstance(spec.loader, ExtensionFileLoader)):
            names.add(name)
    return names


@pytest.fixture(scope="module")
def info_json():
    proc = pergil("info", "--json")
    assert_status(proc, 0)
    return json.loads(proc.stdout)


def test_info_json_describes_this_python(info_json):
    import platform

    assert info_json["python"]["version"] == platform.python_version()
    assert info_json["python"]["implementation"] == platform.python_implementation()
    assert info_json["own_gil_subinterpreters"] is True
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert info_json["cpus"]["usable"] == usable == info_json["default_workers"]
    assert info_json["cpus"]["total"] == os.cpu_count()


def test_info_tries_hashlib_at_exit_where_cpython_aborts(info_json):
    """3.12.0-3.12.3 (gh-119213): a bare sub-interpreter's first hashlib keyword call aborts
    the process at exit; a pergil worker's does not (pergil makes it in the main interpreter
    first). Found by trying, in child processes; other Pythons are not probed."""
    if (3, 12) <= sys.version_info[:3] < (3, 12, 4):
        found = info_json["hashlib_at_exit"]
        assert found["bare sub-interpreter"].startswith("exit status"), found
        assert found["pergil worker"] == "exits cleanly", found
    else:
        assert "hashlib_at_exit" not in info_json


def test_info_tries_every_stdlib_extension_module(info_json):
    report = info_json["extension_modules"]
    tried = set(report["loads"]).union(report["refused"], report["fails"], report["unavailable"])
    assert tried == _stdlib_extension_modules()
    assert set(report["loads"]).isdisjoint(report["refused"])


def test_info_reports_isolated_modules_as_loading(info_json):
    loads = set(info_json["extension_modules"]["loads"])
    for name in ("_json", "_struct", "math", "array", "_pickle", "zlib", "sys"):
        if name in _stdlib_extension_modules():
            assert name in loads, name


def test_info_reports_refused_modules_with_reason(info_json):
    refused = info_json["extension_modules"]["refused"]
    candidates = {"_tkinter", "readline", "_curses", "_curses_panel", "faulthandler"}
    present = candidates & _stdlib_extension_modules()
    assert present, "none of the known refusing modules exists on this Python"
    for name in present:
        if name in info_json["extension_modules"]["unavailable"]:
            continue  # e.g. _tkinter without Tk libraries: it does not import in main either
        assert name in refused, name
        assert f"module {name} does not support loading in subinterpreters" in refused[name]


def test_info_knows_the_version_differences(info_json):
    """3.13 made _datetime and _decimal isolated; 3.12 refuses them (design notes)."""
    report = info_json["extension_modules"]
    for name in ("_datetime", "_decimal"):
        where = "loads" if sys.version_info >= (3, 13) else "refused"
        assert name in report[where], (name, where)


def test_info_human_readable():
    proc = pergil("info")
    assert_status(proc, 0)
    out = proc.stdout
    assert f"Python {sys.version.split()[0]}" in out
    assert "own-GIL sub-interpreters: supported" in out
    assert "usable CPUs:" in out and "default worker count" in out
    assert "load (" in out
    assert "refused: not isolated" in out


@pytest.mark.parametrize("entry", ["script", "module"])
def test_info_json_from_both_entry_points(entry):
    proc = pergil("info", "--json", entry=entry)
    assert_status(proc, 0)
    assert "_json" in json.loads(proc.stdout)["extension_modules"]["loads"]


# ---- pergil bench ----


def test_bench_help_is_the_benchmarks():
    proc = pergil("bench", "--help")
    assert_status(proc, 0)
    assert proc.stdout.startswith("usage: pergil bench")
    for option in ("--workers", "--rounds", "--quick", "--executors", "--workloads"):
        assert option in proc.stdout


def test_bench_rejects_bad_options_through_the_benchmark():
    proc = pergil("bench", "--executors", "no-such-executor")
    assert_status(proc, 2)
    assert "usage: pergil bench" in proc.stderr


def test_bench_delegates_its_arguments(monkeypatch):
    """In-process: pergil.cli.main hands the arguments after ``bench`` to pergil._bench.main
    untouched and returns its status."""
    from pergil import _bench, cli

    calls = []
    monkeypatch.setattr(_bench, "main", lambda argv: calls.append(argv) or 7)
    assert cli.main(["bench", "--workers", "2", "--rounds", "1", "--quick"]) == 7
    assert calls == [["--workers", "2", "--rounds", "1", "--quick"]]


@pytest.mark.slow
def test_bench_quick_smoke():
    """One real quick cell pair through the console script (slow: runs subprocesses)."""
    proc = pergil("bench", "--quick", "--rounds", "1", "--workers", "1",
                  "--executors", "serial,pergil", "--workloads", "tiny-submit")
    assert_status(proc, 0)
    assert "pergil" in proc.stdout


@pytest.mark.parametrize("command", [["info"], ["info", "--json"],
                                     ["run", "cli_targets.funcs:square", "1", "2"]])
def test_output_into_a_closed_pipe_is_quiet(command):
    """stdout is a pipe whose reader is already gone: exit 141, no traceback."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run([*cli_command("script"), *command], cwd=TESTS_DIR, env=cli_env(),
                              stdout=write_end, stderr=subprocess.PIPE, text=True,
                              timeout=TIMEOUT)
    finally:
        os.close(write_end)
    assert proc.returncode == 141, proc.stderr
    assert "Traceback" not in proc.stderr and "Exception ignored" not in proc.stderr
