"""fixtures.py: fixtures shared by the reliability tests (test_cancel.py, test_faults.py)."""

import pytest

from faults.support import WORKER_COUNTS, Signals


@pytest.fixture(params=WORKER_COUNTS, ids=lambda n: f"w{n}")
def workers(request):
    return request.param


@pytest.fixture
def signals():
    pipe = Signals()
    yield pipe
    pipe.close()


@pytest.fixture
def pool(workers):
    """A pool of ``workers`` workers, ended with its running tasks interrupted."""
    import pergil

    executor = pergil.InterpreterPoolExecutor(max_workers=workers)
    yield executor
    executor.shutdown(wait=True, cancel_futures=True, interrupt_running=True)
