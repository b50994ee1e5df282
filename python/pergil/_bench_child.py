"""_bench_child.py: runs one benchmark cell as a child process in its own process group.

Shared by ``pergil bench`` (bench/executors.py) and bench/tables.py: a stuck cell is killed
with the pools it started, and the cell's result is the JSON it printed after a marker line.
"""

import os


def run_child(command, timeout, mark):
    """Runs a cell's ``command`` in its own process group and returns the dict it printed after
    ``mark``, or a timeout/error status; whatever of its pools outlived it is killed."""
    import json
    import signal
    import subprocess

    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
    try:
        out, err = child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(child.pid, signal.SIGKILL)
        child.communicate()
        return {"status": "timeout", "reason": f"no result within {timeout:g} s"}
    _kill_group(child.pid, signal.SIGKILL)  # whatever of its pool outlived it
    for line in reversed(out.splitlines()):
        if line.startswith(mark):
            return json.loads(line[len(mark):])
    last = (err.strip().splitlines() or [""])[-1]
    return {"status": "error", "reason": f"exit status {child.returncode}: {last}"[:200]}


def _kill_group(pgid, sig):
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass
