"""support.py: caller-side helpers of the reliability tests: start signals, pool checks and
subprocess runs. Nothing here runs inside a worker."""

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

from faults import tasks

FAULTS_DIR = Path(__file__).resolve().parent
TESTS_DIR = FAULTS_DIR.parent
WORKER_COUNTS = (1, 2, 4)
# Hang guards only, never speed checks: generous on a loaded 2-core machine.
WAIT_TIMEOUT = 60.0
SUBPROCESS_TIMEOUT = 120.0


class Signals:
    """A pipe that tasks write to (``fd``) and the caller reads from (``wait``)."""

    def __init__(self):
        self.read_fd, self.fd = os.pipe()

    def wait(self, count, timeout=WAIT_TIMEOUT):
        """Returns once ``count`` bytes arrived; fails the test on timeout (a hang)."""
        deadline = time.monotonic() + timeout
        got = b""
        while len(got) < count:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self.read_fd], [], [], max(left, 0))
            if not ready:
                raise AssertionError(f"only {len(got)} of {count} signals within {timeout} s")
            got += os.read(self.read_fd, count - len(got))
        return got

    def pending(self):
        """Bytes written so far and not yet read (never blocks)."""
        got = b""
        while select.select([self.read_fd], [], [], 0)[0]:
            chunk = os.read(self.read_fd, 4096)
            if not chunk:
                break
            got += chunk
        return got

    def close(self):
        os.close(self.read_fd)
        os.close(self.fd)


def start_spinners(executor, signals, count, fn=tasks.spin):
    """Submits ``count`` infinite loops and returns their futures once all are running."""
    futures = [executor.submit(fn, signals.fd) for _ in range(count)]
    signals.wait(count)
    return futures


def assert_cancelled(future):
    import concurrent.futures as cf

    import pytest

    assert future.cancelled() and future.done()
    assert not future.running()
    with pytest.raises(cf.CancelledError):
        future.result(timeout=WAIT_TIMEOUT)


def assert_pool_serves(executor, workers, signals):
    """Every worker runs a new task at once (all ``workers`` loops start), stops on cancel,
    and an ordinary call returns its value."""
    spinners = start_spinners(executor, signals, workers)
    for future in spinners:
        assert future.cancel()
        assert_cancelled(future)
    assert executor.submit(tasks.add, 2, 3).result(timeout=WAIT_TIMEOUT) == 5
    results = executor.map(tasks.add, range(20), range(20), timeout=WAIT_TIMEOUT)
    assert list(results) == [2 * i for i in range(20)]


def child_env():
    env = dict(os.environ)
    env.pop("PYTHONSTARTUP", None)
    env["PYTHONFAULTHANDLER"] = "1"  # a crash in the child prints its stacks
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(TESTS_DIR), env.get("PYTHONPATH")]))
    return env


def script(name):
    return str(FAULTS_DIR / name)


def run_script(name, *args, timeout=SUBPROCESS_TIMEOUT):
    """Runs a script of this folder in a fresh Python; a hang fails the test."""
    return subprocess.run([sys.executable, script(name), *map(str, args)], env=child_env(),
                          capture_output=True, text=True, timeout=timeout)


def describe(proc):
    return f"exit code {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"


# A runner started with SIGINT ignored (a background job of a non-interactive shell, nohup)
# passes that on to its children, and a Python started so never raises KeyboardInterrupt.
# Tests that send SIGINT start their child through this: SIGINT at its default, then exec.
_EXEC_WITH_DEFAULT_SIGINT = ("import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL);"
                             " os.execv(sys.argv[1], sys.argv[1:])")


def with_default_sigint(command):
    """``command`` (an argument list whose first item is a path) run with SIGINT at its
    default disposition, whatever this process inherited."""
    return [sys.executable, "-c", _EXEC_WITH_DEFAULT_SIGINT, *map(str, command)]


def interrupt_when_ready(name, *args, timeout=SUBPROCESS_TIMEOUT):
    """Starts a script, sends it SIGINT once it prints "ready", returns (returncode, stdout,
    stderr). Kills it and fails if it does not end within ``timeout`` seconds."""
    command = with_default_sigint([sys.executable, script(name), *args])
    proc = subprocess.Popen(command, env=child_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()
        if first.strip() == "ready":
            proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"the script hung after SIGINT\n--- stdout\n{out}\n--- stderr\n{err}")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert first.strip() == "ready", f"no 'ready' line: {first!r}\n{out}\n{err}"
    return proc.returncode, first + out, err
