"""conftest.py: fixtures shared by the pergil Executor tests.

Every pool-using test runs at max_workers 1, 2 and 4 through the ``workers`` fixture.
"""

import sys
from pathlib import Path

import pytest

TESTS_DIR = Path(__file__).resolve().parent
if str(TESTS_DIR) not in sys.path:  # so that ``helpers`` imports here and in workers
    sys.path.insert(0, str(TESTS_DIR))

from helpers.support import WORKER_COUNTS  # noqa: E402


@pytest.fixture(params=WORKER_COUNTS, ids=lambda n: f"w{n}")
def workers(request):
    return request.param


@pytest.fixture
def executor(workers):
    """An InterpreterPoolExecutor of ``workers`` workers, shut down after the test."""
    import pergil

    pool = pergil.InterpreterPoolExecutor(max_workers=workers)
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
