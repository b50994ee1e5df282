"""test_daemon_exit.py: the main script ends while a daemon thread is inside pergil calls that
release the GIL. CPython ends that thread at finalization with pthread_exit when it takes the
GIL back: the process must exit cleanly, not abort ("terminate called without an active
exception", which it did in ~80 % of runs before ReleasedGil let that unwind pass). A fresh
Python each run, several runs at 1, 2 and 4 workers."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # faults: here and in workers

from faults.support import describe, run_script  # noqa: E402
from faults.fixtures import workers  # noqa: E402, F401

pytestmark = pytest.mark.timeout(600)

RUNS = 8


@pytest.mark.parametrize("run", range(RUNS))
@pytest.mark.parametrize("mode", ["shutdown", "create", "result"])
def test_exit_with_a_daemon_thread_inside_pergil(mode, workers, run):
    proc = run_script("daemon_exit_script.py", mode, workers)
    assert proc.returncode == 0, describe(proc)
    assert proc.stdout == "main script ends\n" and proc.stderr == "", describe(proc)
