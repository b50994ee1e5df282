"""test_exit.py: interpreter exit with pools still open or tasks still running, in a fresh
Python each time: the process waits for the tasks (as for threads), then exits with the
script's own exit code, without a hang or a crash. At 1, 2 and 4 workers."""

import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # faults: here and in workers

from faults.support import WORKER_COUNTS, describe, run_script  # noqa: E402

pytestmark = pytest.mark.timeout(600)

MODES = {  # mode: exit code of the script
    "open": 0, "running": 0, "dropped": 0, "deleted": 0, "several": 0, "thread": 0,
    "sys-exit": 3, "raise": 1, "broken": 0, "timeout": 0, "values": 0,
}


@pytest.mark.parametrize("workers", WORKER_COUNTS, ids=lambda n: f"w{n}")
@pytest.mark.parametrize("mode", sorted(MODES))
def test_exit_waits_for_tasks_and_ends_cleanly(mode, workers):
    proc = run_script("exit_script.py", mode, workers)
    assert proc.returncode == MODES[mode], describe(proc)
    match = re.search(r"main script ends; expecting (\d+) tasks", proc.stdout)
    assert match, describe(proc)
    done = re.findall(r"^(\S+) done$", proc.stdout, re.MULTILINE)
    assert len(done) == int(match.group(1)) == len(set(done)), describe(proc)
    assert "Fatal Python error" not in proc.stderr, describe(proc)
    assert "Exception ignored" not in proc.stderr, describe(proc)
    if mode == "raise":
        assert "ValueError: the main script failed" in proc.stderr
    elif mode != "broken":
        assert proc.stderr == "", describe(proc)
