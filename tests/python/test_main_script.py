"""test_main_script.py: ``__main__`` code, REPLs and interpreter exit, each in a subprocess.

Scripts run as ``python script.py`` (with and without a main guard), ``python -m pkg.module``,
``python -m pkg``, ``python -c``, ``python -`` (a here-doc) and ``python -i`` (an interactive
session fed on stdin). Workers re-run a script lazily, once each at most, and stop where it
creates its pool. Every child runs under a timeout: a hang fails the test.
"""

import json
import re

import pytest

from helpers.support import SCRIPTS_DIR, check_ok, run_python, skip_gh119213


@pytest.fixture
def record(tmp_path):
    """A file each script run appends its ``__name__`` to (see scripts/_record.py)."""
    path = tmp_path / "record.txt"
    path.touch()
    return path


def script(name, *args):
    return [str(SCRIPTS_DIR / name), *map(str, args)]


def test_guarded_script(workers, record):
    out = check_ok(run_python(script("main_guarded.py", workers),
                              env_extra={"PERGIL_TEST_RECORD": str(record)}))
    result = json.loads(out.strip().splitlines()[-1])
    assert result["cubes"] == [x**3 for x in range(20)]
    assert result["cubes_chunked"] == result["cubes"]
    assert result["point"] == [True, 3, -4]  # a __main__ class comes back as itself
    assert result["shifted"] == [True, 11, 2]
    assert result["norm"] == 11
    assert result["error"] == ["ScriptError", "from the script", True]
    runs = record.read_text().split()
    assert runs.count("__main__") == 1
    assert 1 <= runs.count("__mp_main__") <= workers  # each worker re-ran it once at most


def test_unguarded_script_neither_hangs_nor_recurses(workers, record):
    out = check_ok(run_python(script("main_unguarded.py", workers),
                              env_extra={"PERGIL_TEST_RECORD": str(record)}))
    assert "RESULT [0, 3, 6, 9, 12, 15, 18, 21, 24, 27]" in out
    assert "BOX 41" in out and "BOXED True" in out
    assert out.count("AFTER") == 1 and out.count("RESULT") == 1
    runs = record.read_text().split()
    assert runs.count("__main__") == 1 and runs.count("after") == 1
    assert 1 <= runs.count("__mp_main__") <= workers


def test_unguarded_script_pool_in_called_function(workers, record):
    out = check_ok(run_python(script("main_unguarded_function.py", workers),
                              env_extra={"PERGIL_TEST_RECORD": str(record)}))
    assert f"RESULT {sum(2 * x for x in range(100))}" in out
    assert out.count("AFTER") == 1
    assert record.read_text().split().count("__mp_main__") <= workers


def test_script_is_rerun_only_when_a_task_needs_it(workers, record):
    out = check_ok(run_python(script("main_lazy.py", workers),
                              env_extra={"PERGIL_TEST_RECORD": str(record)}))
    assert "RESULT [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]" in out and "BUILTIN 32" in out
    assert record.read_text().split() == ["__main__"]


def test_script_directory_is_on_workers_path(workers):
    out = check_ok(run_python(script("uses_sibling.py", workers)))
    assert "RESULT [0, -1, -2, -3, -4]" in out


def test_script_run_from_another_cwd(workers, tmp_path):
    out = check_ok(run_python(script("main_guarded.py", workers), cwd=tmp_path))
    assert json.loads(out.strip().splitlines()[-1])["norm"] == 11


def test_dash_m_module(workers):
    out = check_ok(run_python(["-m", "pkgmain.runner", str(workers)], cwd=SCRIPTS_DIR))
    assert "RESULT [0.0, 0.5, 1.0, 1.5, 2.0, 2.5]" in out
    assert "TAG True t" in out


def test_dash_m_module_without_guard(workers):
    out = check_ok(run_python(["-m", "pkgmain.runner_unguarded", str(workers)], cwd=SCRIPTS_DIR))
    assert "RESULT [1, 2, 3, 4, 5, 6]" in out and out.count("AFTER") == 1


def test_dash_m_package_main(workers):
    out = check_ok(run_python(["-m", "pkgmain", str(workers)], cwd=SCRIPTS_DIR))
    assert "RESULT [1, 2, 5, 10, 17, 26]" in out


REPL_CODE = """\
import pergil
from concurrent.futures import as_completed
offset = 100
def helper(x):
    return x * 2
def work(x):
    return helper(x) + offset
class Pair:
    def __init__(self, a, b):
        self.a, self.b = a, b
    def total(self):
        return self.a + self.b
ex = pergil.InterpreterPoolExecutor(max_workers={workers})
print("MAP", list(ex.map(work, range(5))))
print("LAMBDA", ex.submit(lambda v: v - offset, 1).result())
print("METHOD", ex.submit(Pair(2, 3).total).result())
print("CLASS", type(ex.submit(Pair, 1, 2).result()).__name__)
print("ASC", sorted(f.result() for f in as_completed([ex.submit(work, i) for i in range(3)])))
ex.shutdown()
"""

REPL_EXPECTED = ["MAP [100, 102, 104, 106, 108]", "LAMBDA -99", "METHOD 5", "CLASS Pair",
                 "ASC [100, 102, 104]"]


def test_dash_c(workers):
    out = check_ok(run_python(["-c", REPL_CODE.format(workers=workers)]))
    for line in REPL_EXPECTED:
        assert line in out


def test_stdin_heredoc(workers):
    out = check_ok(run_python(["-"], stdin=REPL_CODE.format(workers=workers)))
    for line in REPL_EXPECTED:
        assert line in out


def test_interactive_session(workers):
    """``python -i`` reading stdin: a real interactive loop (blank lines end each block)."""
    session = re.sub(r"\n(?=[^ \n])", "\n\n", REPL_CODE.format(workers=workers)) + "\n"
    proc = run_python(["-i", "-q"], stdin=session)
    out = check_ok(proc)
    for line in REPL_EXPECTED:
        assert line in out
    assert "Traceback" not in proc.stderr, proc.stderr


# --- interpreter exit -------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["pending", "global", "deleted", "running", "idle"])
def test_dropped_executor_does_not_hang_exit(workers, mode):
    out = check_ok(run_python(script("dropped.py", mode, workers)))
    assert out.rstrip().endswith("END")
    if mode == "pending":
        assert "FIRST 0" in out
    if mode == "global":
        assert f"SUM {sum(i * i for i in range(100))}" in out
    if mode == "deleted":  # the futures of a deleted executor still complete
        assert f"SUM {sum(i * i for i in range(200))}" in out


@pytest.mark.parametrize("mode", [
    "ok", "raises", "unpicklable_result", "unpicklable_exception", "big_result", "view_result",
    "object_result", "by_value", "refused_import", "system_exit", "initializer_fails",
])
def test_clean_exit_after_task(workers, mode):
    """The process exits with 0 after each kind of task: nothing pergil does inside a worker
    may leave the interpreter to abort at finalization."""
    proc = run_python(script("exit_clean.py", mode, workers))
    assert check_ok(proc).strip() == "OK"
    assert "free()" not in proc.stderr and "Fatal Python error" not in proc.stderr


@skip_gh119213
@pytest.mark.parametrize("mode, expected", [
    ("asyncio", [2, 4, 6, 8]), ("ssl", [1, 2, 3, 4]),
])
def test_worker_uses_asyncio_ssl_threads_buffer_callback(workers, mode, expected):
    out = check_ok(run_python(script("uses_module.py", mode, workers)))
    assert f"RESULT {expected}" in out


@pytest.mark.parametrize("mode, expected", [
    ("hashlib", [1, 2, 3, 4]), ("buffer_callback", [1, 2, 3, 4]), ("threads", [1, 4, 9, 16]),
])
def test_worker_keyword_calls_exit_cleanly(workers, mode, expected):
    """Not skipped on 3.12.1: there pergil makes hashlib's, pickle's and SimpleQueue's keyword
    calls in the main interpreter first, which avoids the abort at exit (gh-119213)."""
    proc = run_python(script("uses_module.py", mode, workers))
    assert f"RESULT {expected}" in check_ok(proc)
    assert "free()" not in proc.stderr and "Fatal Python error" not in proc.stderr


def test_readme_python_example_runs_as_written(tmp_path):
    """The first ```python block of README.md runs, and prints what the same code prints
    with a ThreadPoolExecutor in place of pergil's executor."""
    readme = (SCRIPTS_DIR.parent.parent.parent / "README.md").read_text()
    code = re.search(r"```python\n(.*?)```", readme, re.S).group(1)
    assert "pergil.InterpreterPoolExecutor" in code
    (tmp_path / "example.py").write_text(code)
    (tmp_path / "reference.py").write_text(
        "import concurrent.futures\n" + code.replace(
            "pergil.InterpreterPoolExecutor", "concurrent.futures.ThreadPoolExecutor"))
    out = check_ok(run_python([str(tmp_path / "example.py")]))
    assert out and out == check_ok(run_python([str(tmp_path / "reference.py")]))


def test_short_example_runs_as_written():
    out = check_ok(run_python(script("readme_example.py")))
    work = [sum(i * i for i in range(n)) for n in range(10)]
    assert out.splitlines() == [str(work), str([sum(i * i for i in range(10**5))])]
