"""test_typing.py: pergil's type hints as a user's type checker sees them (``mypy --strict`` on
the installed package, through its py.typed marker)."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

import pergil

CHECKS = Path(__file__).resolve().parent / "typing_checks"
EXPECTED = re.compile(r"#\s*pergil:\s*(note|error)\s+(.*?)\s*$")
REPORTED = re.compile(r"^[^:]+:(\d+): (note|error): (.*?)(?:\s+\[([\w-]+)\])?$")


def mypy(script, cache):
    """Runs ``mypy --strict`` on ``script`` as a user would: from the script's directory, with
    pergil found where it is installed. Returns (exit status, output)."""
    pytest.importorskip("mypy", reason="mypy is in the test extra: pip install '.[test]'")
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-color-output", "--show-error-codes",
         "--no-error-summary", "--cache-dir", str(cache), script.name],
        cwd=script.parent, capture_output=True, text=True, timeout=300)
    return done.returncode, done.stdout + done.stderr


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("mypy-cache")


def test_installed_package_ships_py_typed():
    assert (Path(pergil.__file__).parent / "py.typed").is_file()


def test_all_lists_every_lazy_export():
    assert sorted(pergil.__all__) == sorted(pergil._EXPORTS)
    for name in pergil.__all__:
        assert getattr(pergil, name).__module__ == pergil._EXPORTS[name]


def test_strict_user_script_passes(cache):
    status, output = mypy(CHECKS / "user_script.py", cache)
    assert status == 0, output
    assert "error" not in output, output


def test_misuse_is_reported_exactly(cache):
    """Every line of misuse.py marked ``# pergil: note|error ...`` gets that report from mypy
    (revealed types end as expected; errors carry the expected code), and nothing else is
    reported: the hints are neither missing (Any would pass silently) nor wrong."""
    script = CHECKS / "misuse.py"
    expected = {}
    for number, line in enumerate(script.read_text().splitlines(), start=1):
        match = EXPECTED.search(line)
        if match:
            expected[number] = (match.group(1), match.group(2))
    assert len(expected) >= 8
    status, output = mypy(script, cache)
    assert status == 1, output
    seen = {}
    for line in output.splitlines():
        match = REPORTED.match(line)
        if match is None or line.endswith(f'defined in "pergil._executor"'):
            continue
        number, kind, text, code = int(match.group(1)), match.group(2), match.group(3), match.group(4)
        assert number in expected, f"unexpected report: {line}\n{output}"
        seen[number] = line
        want_kind, want = expected[number]
        assert kind == want_kind, line
        if kind == "note":
            assert re.search(rf'Revealed type is "(\w+\.)*{re.escape(want)}"', text), line
        else:
            assert f"[{code}]" == want, line
    assert sorted(seen) == sorted(expected), output
