"""test_main_by_value.py: a script's functions that a worker cannot get by re-running it.

Each case is a real script run in a subprocess: functions and classes defined under the main
guard or after the pool is created travel by value; a script importing a module that workers
refuse (NumPy, or a fake one that fails exactly as such a module does) still runs its other
functions in workers, and one that needs the module fails naming the script, the line and the
fix, its traceback led by CPython's refusal rather than the package's install advice.
"""

import json

import pytest

from helpers.support import SCRIPTS_DIR, check_ok, run_python


def run_script(name, *args):
    return check_ok(run_python([str(SCRIPTS_DIR / name), *map(str, args)]))


def test_defined_under_main_guard(workers):
    result = json.loads(run_script("main_defined_under_guard.py", workers).splitlines()[-1])
    assert result == {"locked": 101, "first": 40, "mapped": [0, 10, 20, 30, 40, 50],
                      "chunked": [10 * i for i in range(9)], "pair": [True, 5], "total": 11,
                      "top": [1, 2, 3]}


def test_defined_after_the_pool_without_guard(workers):
    out = run_script("main_defined_after_pool.py", workers)
    assert "EARLY [0, -1, -2, -3]" in out and "LATE [0, 5, 10, 15]" in out
    assert "CHUNKED [0, 5, 10, 15, 20, 25, 30]" in out
    assert "UNWRAP 41" in out and "CLASS True" in out
    assert out.count("AFTER") == 1


REFUSED_MODULES = ["fake_refusing", "numpy"]


@pytest.mark.parametrize("module", REFUSED_MODULES)
def test_script_importing_a_refused_module(workers, module):
    if module == "numpy":
        pytest.importorskip("numpy", reason="numpy is in the test extra; CI installs it")
    result = json.loads(run_script("main_imports_refused.py", module, workers).splitlines()[-1])
    # Functions that never touch the module work, by value, classes included.
    assert result["plain"] == [3 * i for i in range(8)] and result["single"] == 15
    assert result["items"] == 10 and result["made"] is True and result["again"] == 18
    # The one that uses it: an ImportError naming the module, the script's failing line, and
    # the fix.
    assert result["error_type"] == "ImportError"
    assert "does not support own-GIL sub-interpreters" in result["error"]
    note = " ".join(result["notes"])
    assert "main_imports_refused.py" in note
    assert "line 9 (refused = importlib.import_module(sys.argv[1])" in note
    assert "if __name__ == '__main__':" in note
    # The remote traceback leads with CPython's refusal, not the package's install advice.
    traceback = result["traceback"]
    assert traceback.splitlines()[0].startswith("Traceback")
    first_error = next(line for line in traceback.splitlines() if line.startswith("ImportError"))
    assert "does not support loading in subinterpreters" in first_error
    assert "IMPORTANT" not in traceback and "advice" not in traceback
