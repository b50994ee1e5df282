"""test_sigint.py: Ctrl-C (SIGINT) in the caller while it waits on a pool whose workers run
infinite loops: the process gets KeyboardInterrupt promptly and exits, or, when the script
catches it, the pool serves again. Each case is a fresh Python, at 1, 2 and 4 workers."""

import signal
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # faults: here and in workers

from faults.support import WORKER_COUNTS, interrupt_when_ready  # noqa: E402

pytestmark = pytest.mark.timeout(600)

# Where the main thread waits when SIGINT arrives (see faults/sigint_script.py).
UNCAUGHT = ["result", "exception", "map", "map-chunks", "as_completed", "wait", "with", "shutdown"]
CAUGHT = ["result", "exception", "map", "map-chunks", "as_completed", "wait"]
# Modes that wait on futures the script holds (map's own futures are cancelled by map itself).
HELD = ["result", "exception", "as_completed", "wait"]


@pytest.mark.parametrize("workers", WORKER_COUNTS, ids=lambda n: f"w{n}")
@pytest.mark.parametrize("mode", UNCAUGHT)
def test_ctrl_c_ends_the_program(mode, workers):
    """Uncaught, the KeyboardInterrupt ends the program as Python does (killed by SIGINT
    after printing the traceback); the running loops must not keep it alive."""
    returncode, out, err = interrupt_when_ready("sigint_script.py", mode, workers)
    assert returncode == -signal.SIGINT, f"exit code {returncode}\n{out}\n{err}"
    assert err.rstrip().endswith("KeyboardInterrupt"), err
    assert "Fatal Python error" not in err and "Exception ignored" not in err, err


@pytest.mark.parametrize("workers", WORKER_COUNTS, ids=lambda n: f"w{n}")
@pytest.mark.parametrize("mode", CAUGHT)
def test_ctrl_c_caught_then_the_pool_serves(mode, workers):
    returncode, out, err = interrupt_when_ready("sigint_script.py", f"{mode}-recover", workers)
    assert returncode == 0, f"exit code {returncode}\n{out}\n{err}"
    assert out.splitlines() == ["ready", "caught KeyboardInterrupt", "served: 42", "clean exit"]
    assert err == ""


@pytest.mark.parametrize("workers", WORKER_COUNTS, ids=lambda n: f"w{n}")
@pytest.mark.parametrize("mode", HELD)
def test_ctrl_c_alone_interrupts_the_running_tasks(mode, workers):
    """The script catches the KeyboardInterrupt and cancels nothing: the running loops must
    end cancelled by the Ctrl-C itself (in the stdlib's wait()/as_completed() too) and the
    queued loops then start, before anything else touches the pool."""
    returncode, out, err = interrupt_when_ready("sigint_script.py", f"{mode}-interrupts", workers)
    assert returncode == 0, f"exit code {returncode}\n{out}\n{err}"
    assert out.splitlines() == ["ready", "caught KeyboardInterrupt", f"interrupted: {workers}",
                                "served: 42", "clean exit"], f"{out}\n{err}"
    assert err == ""


@pytest.mark.parametrize("workers", WORKER_COUNTS, ids=lambda n: f"w{n}")
def test_ctrl_c_while_interpreter_exit_waits_for_running_tasks(workers):
    """The main script ended with infinite loops running: exit waits for them, as for threads.
    Ctrl-C then stops them and the process ends, without a crash."""
    returncode, out, err = interrupt_when_ready("sigint_script.py", "exit", workers)
    assert returncode in (0, -signal.SIGINT), f"exit code {returncode}\n{out}\n{err}"
    assert "Fatal Python error" not in err and "terminate called" not in err, err
