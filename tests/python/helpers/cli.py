"""cli.py: how the command-line tests run ``pergil``: the installed console script (next to
sys.executable) or ``python -m pergil``, from the tests directory, with a bound on its time."""

import json
import os
import subprocess
import sys
from pathlib import Path

TESTS_DIR = Path(__file__).resolve().parent.parent
SCRIPT = Path(sys.executable).parent / ("pergil.exe" if os.name == "nt" else "pergil")
MODES = ("interpreters", "threads", "processes", "serial")
POOLED_MODES = ("interpreters", "threads", "processes")
TIMEOUT = 90  # a hang fails the test


def cli_command(entry):
    """The argument list that starts pergil: the console script, or ``python -m pergil``."""
    if entry == "script":
        assert SCRIPT.exists(), f"the console script is not installed at {SCRIPT}"
        return [str(SCRIPT)]
    return [sys.executable, "-m", "pergil"]


def cli_env():
    """This environment, minus PYTHONSTARTUP, with faulthandler on."""
    env = dict(os.environ)
    env.pop("PYTHONSTARTUP", None)
    env["PYTHONFAULTHANDLER"] = "1"  # a crash prints its stacks
    return env


def pergil(*args, stdin=None, cwd=TESTS_DIR, entry="script"):
    """Runs the command line; returns the CompletedProcess (text mode)."""
    return subprocess.run([*cli_command(entry), *map(str, args)], cwd=cwd, input=stdin,
                          env=cli_env(), capture_output=True, text=True, timeout=TIMEOUT)


def lines(proc):
    return [json.loads(line) for line in proc.stdout.splitlines()]


def assert_status(proc, status):
    assert proc.returncode == status, (
        f"exit status {proc.returncode}, expected {status}\n--- stdout\n{proc.stdout}"
        f"\n--- stderr\n{proc.stderr}")


def assert_usage_error(proc, *fragments):
    """Exit 2, nothing on stdout, a one-line message naming the problem."""
    assert_status(proc, 2)
    assert proc.stdout == ""
    message = proc.stderr.strip()
    assert len(message.splitlines()) == 1, message
    assert message.startswith("pergil run: error: "), message
    for fragment in fragments:
        assert fragment in message


def mode_args(mode, workers):
    return ["--mode", mode] if mode == "serial" else ["--mode", mode, "--workers", workers]


MODE_WORKERS = [("serial", 1)] + [(m, w) for m in POOLED_MODES for w in (1, 2, 4)]
