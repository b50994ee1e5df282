"""test_interrupt_hooks.py: pergil's hook on the stdlib's wait()/as_completed() (Ctrl-C there
interrupts pergil pools, see test_sigint.py) leaves their results, and other executors'
futures, exactly as the stdlib gives them."""

import concurrent.futures as cf
import concurrent.futures._base as cf_base
import sys
import threading
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # faults: here and in workers

import pergil  # noqa: E402
from faults import tasks  # noqa: E402
from faults.fixtures import signals, workers  # noqa: E402, F401
from faults.support import WAIT_TIMEOUT, start_spinners  # noqa: E402
from pergil import _interrupt_hooks  # noqa: E402


def test_install_is_idempotent():
    pergil.InterpreterPoolExecutor  # noqa: B018 - importing the executor installs the hook
    hooked = cf_base._create_and_install_waiters
    assert hasattr(hooked, "_pergil_original")
    _interrupt_hooks.install()
    assert cf_base._create_and_install_waiters is hooked


@pytest.mark.parametrize("how", ["wait-all", "wait-first", "wait-exception", "as_completed"])
def test_mixed_executors_wait_as_the_stdlib_does(how, workers):
    gate = threading.Event()
    with pergil.InterpreterPoolExecutor(workers) as pool, cf.ThreadPoolExecutor(2) as threads:
        quick = [pool.submit(tasks.add, i, i) for i in range(4 * workers)]
        failing = pool.submit(tasks.raise_base_exception, "SystemExit")
        held = threads.submit(gate.wait, WAIT_TIMEOUT)
        everything = quick + [failing, held]
        if how == "wait-first":
            done, _ = cf.wait(quick + [held], return_when=cf.FIRST_COMPLETED, timeout=WAIT_TIMEOUT)
            assert done and done <= set(quick)
        elif how == "wait-exception":
            done, not_done = cf.wait(everything, return_when=cf.FIRST_EXCEPTION,
                                     timeout=WAIT_TIMEOUT)
            assert failing in done and held in not_done
        gate.set()
        if how == "as_completed":
            seen = list(cf.as_completed(everything, timeout=WAIT_TIMEOUT))
            assert sorted(map(id, seen)) == sorted(map(id, everything))
        else:
            done, not_done = cf.wait(everything, timeout=WAIT_TIMEOUT)
            assert done == set(everything) and not not_done
        assert [f.result() for f in quick] == [2 * i for i in range(4 * workers)]
        assert isinstance(failing.exception(), SystemExit) and held.result() is True


def test_timeout_leaves_the_tasks_running(workers, signals):
    """Only a KeyboardInterrupt interrupts: a wait that times out stops nothing."""
    with pergil.InterpreterPoolExecutor(workers) as pool:
        spinners = start_spinners(pool, signals, workers)
        done, not_done = cf.wait(spinners, timeout=0.05)
        assert not done and all(f.running() for f in spinners)
        with pytest.raises(cf.TimeoutError):
            next(cf.as_completed(spinners, timeout=0.05))
        assert all(f.running() for f in spinners)
        for future in spinners:
            assert future.cancel()
