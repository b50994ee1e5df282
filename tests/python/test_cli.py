"""test_cli.py: the ``pergil`` command line, run as a real console script in a subprocess.

Every test starts the installed ``pergil`` executable (next to sys.executable) or
``python -m pergil`` with the tests directory as the current directory, so that targets such as
``cli_targets.funcs:square`` resolve through the current directory, as users' modules do.
"""

import importlib.util
import json
import signal
import subprocess
import sys

import pytest

from faults.support import with_default_sigint
from helpers.cli import (MODE_WORKERS, MODES, TESTS_DIR, TIMEOUT, assert_status, assert_usage_error,
                         cli_command, cli_env, lines, mode_args, pergil)


# ---- the commands and their help ----


@pytest.mark.parametrize("entry", ["script", "module"])
def test_version(entry):
    import pergil as package

    proc = pergil("--version", entry=entry)
    assert_status(proc, 0)
    assert proc.stdout.strip() == (f"pergil {package.__version__} "
                                   f"(Python {sys.version.split()[0]})")


@pytest.mark.parametrize("command, expected", [
    ([], ["run", "bench", "info"]),
    (["run"], ["MODULE:FUNCTION", "--inputs", "--mode", "--workers", "--chunksize", "--star",
               "--progress", "pergil_error", "Exit status"]),
    (["info"], ["--json"]),
    (["bench"], ["--workers", "--rounds", "--quick"]),
])
def test_help(command, expected):
    proc = pergil(*command, "--help")
    assert_status(proc, 0)
    assert proc.stdout.startswith(f"usage: pergil {' '.join(command)}".rstrip())
    for word in expected:
        assert word in proc.stdout


def test_no_command_prints_usage_and_fails():
    proc = pergil()
    assert_status(proc, 2)
    assert "usage: pergil" in proc.stderr


@pytest.mark.parametrize("args, fragment", [
    (["--mode", "fibers"], "invalid choice: 'fibers'"),
    (["--workers", "0"], "expected a positive integer, not '0'"),
    (["--chunksize", "x"], "expected a positive integer, not 'x'"),
])
def test_bad_options(args, fragment):
    proc = pergil("run", "cli_targets.funcs:square", "1", *args)
    assert_status(proc, 2)
    assert fragment in proc.stderr


# ---- pergil run: results ----


@pytest.mark.parametrize("mode, workers", MODE_WORKERS)
def test_run_every_mode(mode, workers):
    values = list(range(-3, 40))
    proc = pergil("run", "cli_targets.funcs:square", *values, *mode_args(mode, workers))
    assert_status(proc, 0)
    assert lines(proc) == [v * v for v in values]
    assert proc.stderr == ""


def test_modes_run_where_they_say():
    """interpreters: one process, sub-interpreters; threads: main interpreter; processes:
    other processes; serial: this process's main interpreter."""
    seen = {}
    for mode in MODES:
        proc = pergil("run", "cli_targets.funcs:worker_identity", *range(8), "--mode", mode,
                      "--workers", 2, "--chunksize", 1)
        assert_status(proc, 0)
        seen[mode] = lines(proc)
    pids = {mode: {pid for pid, _ in rows} for mode, rows in seen.items()}
    interpreters = {mode: {interp for _, interp in rows} for mode, rows in seen.items()}
    assert len(pids["interpreters"]) == 1 and 0 not in interpreters["interpreters"]
    assert interpreters["threads"] == interpreters["serial"] == {0}
    assert len(pids["threads"]) == len(pids["serial"]) == 1
    assert interpreters["processes"] == {0}
    assert len(pids["processes"]) >= 1


@pytest.mark.parametrize("mode, workers", MODE_WORKERS)
@pytest.mark.parametrize("chunksize", [1, 3])
def test_run_keeps_input_order(mode, workers, chunksize):
    """Early inputs sleep longest, so they finish last: the output stays in input order."""
    count = 12
    items = [json.dumps([n, 0.002 * (count - n)]) for n in range(count)]
    for _ in range(2):
        proc = pergil("run", "cli_targets.funcs:echo_after", *items, *mode_args(mode, workers),
                      "--chunksize", chunksize)
        assert_status(proc, 0)
        assert lines(proc) == list(range(count))


def test_json_values_are_single_arguments():
    values = ['[1, 2, 3]', '{"a": [1, {"b": null}]}', '"text"', 'null', 'true', '-4', '2.5',
              '"-x"', '[]']
    proc = pergil("run", "cli_targets.funcs:describe", *values)
    assert_status(proc, 0)
    assert lines(proc) == [["list", [1, 2, 3]], ["dict", {"a": [1, {"b": None}]}],
                           ["str", "text"], ["NoneType", None], ["bool", True], ["int", -4],
                           ["float", 2.5], ["str", "-x"], ["list", []]]


def test_inputs_that_look_like_options_after_double_dash():
    proc = pergil("run", "cli_targets.funcs:describe", "--", "-1e3", "-2")
    assert_status(proc, 0)
    assert lines(proc) == [["float", -1000.0], ["int", -2]]


@pytest.mark.parametrize("mode", MODES)
def test_star_unpacks_arrays_and_objects(mode):
    proc = pergil("run", "cli_targets.funcs:add", "--star", "[1, 2]", '{"a": 3, "b": 4}', "[5]",
                  '{"a": "x", "b": "y"}', "--mode", mode)
    assert_status(proc, 0)
    assert lines(proc) == [3, 7, 5, "xy"]


def test_star_needs_arrays_or_objects():
    proc = pergil("run", "cli_targets.funcs:add", "--star", "[1, 2]", "3")
    assert_usage_error(proc, "--star needs a JSON array or object on input 2", "3")


def test_dotted_function_name():
    proc = pergil("run", "cli_targets.funcs:Shapes.area", "--star", "[2, 3]", "[4, 5]")
    assert_status(proc, 0)
    assert lines(proc) == [6, 20]


@pytest.mark.parametrize("mode", MODES)
def test_inputs_from_file(tmp_path, mode):
    path = tmp_path / "inputs.jsonl"
    path.write_text("1\n\n[2, 3]\n  \n\"four\"\n{\"five\": 5}\n", encoding="utf-8")
    proc = pergil("run", "cli_targets.funcs:describe", "--inputs", path, "--mode", mode)
    assert_status(proc, 0)
    assert lines(proc) == [["int", 1], ["list", [2, 3]], ["str", "four"],
                           ["dict", {"five": 5}]]


@pytest.mark.parametrize("mode, workers", MODE_WORKERS)
def test_inputs_from_stdin(mode, workers):
    values = list(range(500))
    stdin = "".join(f"{v}\n" for v in values)
    proc = pergil("run", "cli_targets.funcs:square", "--inputs", "-", *mode_args(mode, workers),
                  stdin=stdin)
    assert_status(proc, 0)
    assert lines(proc) == [v * v for v in values]


def test_input_lines_split_on_newlines_only(tmp_path):
    """JSON strings may hold U+2028 and U+0085, which str.splitlines() splits on; a Windows
    line end is whitespace after a value."""
    path = tmp_path / "inputs.jsonl"
    path.write_text('"a\u2028b"\r\n"c\x85d"\n', encoding="utf-8", newline="")
    proc = pergil("run", "cli_targets.funcs:describe", "--inputs", path)
    assert_status(proc, 0)
    assert lines(proc) == [["str", "a\u2028b"], ["str", "c\x85d"]]


def test_empty_input_file_is_an_empty_run(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_text("\n\n", encoding="utf-8")
    proc = pergil("run", "cli_targets.funcs:square", "--inputs", path)
    assert_status(proc, 0)
    assert proc.stdout == ""


@pytest.mark.parametrize("mode", MODES)
def test_module_in_current_directory(tmp_path, mode):
    """Like python -m: the current directory is searched first, also by worker interpreters
    and processes, without PYTHONPATH."""
    (tmp_path / "user_module_here.py").write_text("def triple(x):\n    return 3 * x\n")
    proc = pergil("run", "user_module_here:triple", 1, 2, 3, "--mode", mode, cwd=tmp_path)
    assert_status(proc, 0)
    assert lines(proc) == [3, 6, 9]


@pytest.mark.parametrize("mode", MODES)
def test_function_output_goes_to_stderr(mode):
    proc = pergil("run", "cli_targets.funcs:chatty", 1, 2, "--mode", mode)
    assert_status(proc, 0)
    assert lines(proc) == [1, 2]
    for n in (1, 2):
        assert f"chatty stdout {n}" in proc.stderr
        assert f"chatty stderr {n}" in proc.stderr


@pytest.mark.parametrize("entry", ["script", "module"])
@pytest.mark.parametrize("mode", MODES)
def test_python_dash_m_and_script_agree(entry, mode):
    proc = pergil("run", "cli_targets.funcs:square", 4, 5, "--mode", mode, entry=entry)
    assert_status(proc, 0)
    assert lines(proc) == [16, 25]


# ---- pergil run: progress bar ----


def test_progress_bar_when_asked():
    proc = pergil("run", "cli_targets.funcs:square", *range(20), "--progress", "--chunksize", 1)
    assert_status(proc, 0)
    assert lines(proc) == [v * v for v in range(20)]
    last = proc.stderr.rstrip("\n").split("\r")[-1]
    assert "[########################] 20/20 100%" in last
    assert proc.stderr.endswith("\n")


@pytest.mark.parametrize("flag", [[], ["--no-progress"]])
def test_no_progress_bar_on_a_pipe(flag):
    proc = pergil("run", "cli_targets.funcs:echo_after", *[json.dumps([n, 0.05]) for n in
                                                           range(24)], "--workers", 2, *flag)
    assert_status(proc, 0)
    assert proc.stderr == ""


# ---- pergil run: bad targets and bad inputs (exit 2, nothing runs) ----


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("target, fragments", [
    ("cli_targets.funcs", ["the target must be MODULE:FUNCTION, not 'cli_targets.funcs'"]),
    (":square", ["the target must be MODULE:FUNCTION"]),
    ("cli_targets.funcs:", ["the target must be MODULE:FUNCTION"]),
    ("no_such_module_x:f", ["no module named 'no_such_module_x'"]),
    ("cli_targets.no_such:f", ["no module named 'cli_targets.no_such'"]),
    ("cli_targets.funcs:nope", ["module 'cli_targets.funcs' has no attribute 'nope'"]),
    ("cli_targets.funcs:Shapes.nope", ["has no attribute 'Shapes.nope'"]),
    ("cli_targets.funcs:NOT_CALLABLE", ["cli_targets.funcs:NOT_CALLABLE is not callable",
                                        "(it is int)"]),
    ("cli_targets.import_fails:f", ["importing 'cli_targets.import_fails' failed: "
                                    "RuntimeError: this module cannot be imported"]),
    ("cli_targets.missing_dependency:f", ["importing 'cli_targets.missing_dependency' failed",
                                          "ModuleNotFoundError",
                                          "pergil_no_such_dependency"]),
])
def test_bad_target(mode, target, fragments):
    proc = pergil("run", target, 1, "--mode", mode)
    assert_usage_error(proc, *fragments)


needs_curses = pytest.mark.skipif(importlib.util.find_spec("_curses") is None,
                                  reason="this Python has no _curses")


@needs_curses
def test_target_refused_in_worker_interpreters():
    """Its module imports _curses: fine in main, refused in a worker: exit 2 with the reason
    and the way out, before any input runs."""
    proc = pergil("run", "cli_targets.refused_dependency:f", 1, 2)
    assert_usage_error(proc, "importing 'cli_targets.refused_dependency' failed",
                       "module _curses does not support loading in subinterpreters",
                       "--mode processes")


@needs_curses
@pytest.mark.parametrize("mode", ["threads", "processes", "serial"])
def test_target_refused_in_workers_runs_in_other_modes(mode):
    proc = pergil("run", "cli_targets.refused_dependency:f", 1, 2, "--mode", mode)
    assert_status(proc, 0)
    assert lines(proc) == [1, 2]


@pytest.mark.parametrize("values, fragments", [
    (["1", "abc"], ["invalid JSON on input 2", "abc", "strings need JSON quotes"]),
    (["{'a': 1}"], ["invalid JSON on input 1", "property name enclosed in double quotes"]),
    (["[1, 2"], ["invalid JSON on input 1", "[1, 2"]),
    (["1 2"], ["invalid JSON on input 1", "Extra data"]),
])
def test_bad_input_on_command_line(values, fragments):
    proc = pergil("run", "cli_targets.funcs:chatty", *values)
    assert_usage_error(proc, *fragments)  # chatty never ran: stderr holds the message only


def test_bad_input_in_file_names_its_line(tmp_path):
    path = tmp_path / "inputs.jsonl"
    path.write_text('1\n\n"two"\n{"three": 3,}\n4\n', encoding="utf-8")
    proc = pergil("run", "cli_targets.funcs:chatty", "--inputs", path)
    assert_usage_error(proc, f"invalid JSON on line 4 of {path}", '{"three": 3,}')


def test_bad_input_on_stdin_names_its_line():
    proc = pergil("run", "cli_targets.funcs:chatty", "--inputs", "-", stdin="1\n2\nthree\n")
    assert_usage_error(proc, "invalid JSON on line 3 of <stdin>", "three")


@pytest.mark.parametrize("args, fragment", [
    ([], "no inputs"),
    (["1", "--inputs", "-"], "not both"),
    (["--inputs", "/nonexistent/pergil/inputs.jsonl"], "cannot read inputs from "
                                                       "/nonexistent/pergil/inputs.jsonl"),
])
def test_missing_or_conflicting_inputs(args, fragment):
    proc = pergil("run", "cli_targets.funcs:square", *args, stdin="")
    assert_usage_error(proc, fragment)


# ---- pergil run: failed tasks (exit 1, the other results still printed) ----


@pytest.mark.parametrize("mode, workers", MODE_WORKERS)
def test_failed_inputs(mode, workers):
    values = list(range(10))
    proc = pergil("run", "cli_targets.funcs:fail_on_odd", *values, *mode_args(mode, workers),
                  "--chunksize", 2)
    assert_status(proc, 1)
    expected = [v if v % 2 == 0 else {"pergil_error": {"type": "ValueError",
                                                        "message": f"odd input {v}"}}
                for v in values]
    assert lines(proc) == expected
    messages = proc.stderr.splitlines()
    assert messages == [f"pergil run: input {v + 1} failed: ValueError: odd input {v} "
                        f"(input: {v})" for v in values if v % 2] + [
        "pergil run: 5 of 10 inputs failed"]


def test_failed_input_from_file_names_its_line(tmp_path):
    path = tmp_path / "inputs.jsonl"
    path.write_text("2\n\n3\n", encoding="utf-8")
    proc = pergil("run", "cli_targets.funcs:fail_on_odd", "--inputs", path)
    assert_status(proc, 1)
    assert lines(proc)[0] == 2
    assert f"pergil run: line 3 of {path} failed: ValueError: odd input 3" in proc.stderr


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("target, arg, kind, message", [
    ("raise_custom", '"boom"', "cli_targets.funcs.CustomError", "boom"),
    ("call_exit", "3", "SystemExit", "3"),
    ("return_set", "1", "TypeError", "the result (set) cannot be written as JSON"),
    ("square", '"text"', "TypeError", "can't multiply sequence"),
])
def test_failure_kinds(mode, target, arg, kind, message):
    proc = pergil("run", f"cli_targets.funcs:{target}", arg, "--mode", mode)
    assert_status(proc, 1)
    [row] = lines(proc)
    assert row["pergil_error"]["type"] == kind
    assert message in row["pergil_error"]["message"]
    assert f"pergil run: input 1 failed: {kind}" in proc.stderr
    assert "pergil run: 1 of 1 inputs failed" in proc.stderr


@pytest.mark.parametrize("mode", MODES)
def test_traceback_option_shows_the_functions_frame(mode):
    proc = pergil("run", "cli_targets.funcs:fail_on_odd", 1, "--traceback", "--mode", mode)
    assert_status(proc, 1)
    assert "Traceback (most recent call last):" in proc.stderr
    assert 'raise ValueError(f"odd input {x}")' in proc.stderr
    assert "in fail_on_odd" in proc.stderr
    assert "_cli_worker" not in proc.stderr


def test_broken_process_pool_fails_its_inputs():
    """A task that ends its worker process: the pool breaks, the inputs fail with the reason,
    the command still ends (exit 1)."""
    proc = pergil("run", "cli_targets.funcs:hard_exit", 3, 4, "--mode", "processes",
                  "--workers", 1)
    assert_status(proc, 1)
    rows = lines(proc)
    assert len(rows) == 2
    assert all(row["pergil_error"]["type"].endswith("BrokenProcessPool") for row in rows)
    assert "pergil run: 2 of 2 inputs failed" in proc.stderr


# ---- pergil run: stopping early ----


@pytest.mark.parametrize("mode", MODES)
def test_ctrl_c_stops_the_run(mode):
    """SIGINT while tasks run: exit 130 with one message, no traceback, no leftover child
    holding the output open (communicate() would then hang until the timeout)."""
    command = with_default_sigint([*cli_command("script"), "run", "cli_targets.funcs:spin", "60",
                                   "60", "60", "--mode", mode, "--workers", "2"])
    process = subprocess.Popen(command, cwd=TESTS_DIR, env=cli_env(), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        assert "spin started" in process.stderr.readline()  # two workers may write at once
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 130, err
    assert out == ""
    assert err.count("pergil run: interrupted\n") == 1  # a spin may still print around it
    assert "Traceback" not in err


@pytest.mark.parametrize("mode", ["interpreters", "threads", "processes"])
def test_closed_stdout_ends_the_run_quietly(mode):
    """The reader goes away (`| head -1`): exit 141, no BrokenPipeError traceback."""
    stdin = "".join(f"{n}\n" for n in range(200_000))  # far more output than a pipe holds
    process = subprocess.Popen([*cli_command("script"), "run", "cli_targets.funcs:square",
                                "--inputs", "-", "--mode", mode, "--workers", "2"],
                               cwd=TESTS_DIR, env=cli_env(), stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    process.stdin.write(stdin)
    process.stdin.close()
    assert process.stdout.readline() == "0\n"
    process.stdout.close()
    err = process.stderr.read()
    assert process.wait(timeout=TIMEOUT) == 141, err
    assert "Traceback" not in err and "Exception ignored" not in err
