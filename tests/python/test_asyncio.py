"""test_asyncio.py: the executor under asyncio: ``await loop.run_in_executor(ex, fn, *args)``,
and cancelling the awaiting asyncio task (``asyncio.wait_for`` timing out, ``Task.cancel``)
interrupts the running pergil task, at 1, 2 and 4 workers."""

import asyncio
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # faults: here and in workers

import pergil  # noqa: E402
from faults import tasks  # noqa: E402
from faults.support import assert_pool_serves  # noqa: E402

from faults.fixtures import signals, workers  # noqa: F401,E402 - shared fixtures

pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def pool(workers):
    executor = pergil.InterpreterPoolExecutor(max_workers=workers)
    yield executor
    executor.shutdown(wait=True, cancel_futures=True, interrupt_running=True)


def test_run_in_executor_returns_and_raises(pool):
    async def main():
        loop = asyncio.get_running_loop()
        values = await asyncio.gather(*(loop.run_in_executor(pool, tasks.add, i, 10)
                                        for i in range(20)))
        with pytest.raises(ZeroDivisionError) as caught:
            await loop.run_in_executor(pool, divmod, 1, 0)
        return values, caught.value

    values, error = asyncio.run(main())
    assert values == [i + 10 for i in range(20)]
    assert isinstance(error.__cause__, pergil.RemoteTraceback)


def test_wait_for_timeout_interrupts_the_running_task(pool, workers, signals):
    """Every worker spins forever; wait_for times out on one, the others' asyncio tasks are
    cancelled: every worker must be free again (assert_pool_serves needs all of them)."""

    async def main():
        loop = asyncio.get_running_loop()
        spinning = [loop.run_in_executor(pool, tasks.spin, signals.fd) for _ in range(workers)]
        await loop.run_in_executor(None, signals.wait, workers)  # all of them running
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(spinning[0], timeout=0.01)
        for future in spinning[1:]:
            future.cancel()
        outcomes = await asyncio.gather(*spinning[1:], return_exceptions=True)
        assert all(isinstance(o, asyncio.CancelledError) for o in outcomes)

    for _ in range(2):  # the same workers, interrupted twice
        asyncio.run(main())
        assert_pool_serves(pool, workers, signals)


def test_cancelling_the_awaiting_task_interrupts(pool, workers, signals):
    async def awaiting(loop):
        return await loop.run_in_executor(pool, tasks.spin, signals.fd)

    async def main():
        loop = asyncio.get_running_loop()
        waiters = [asyncio.create_task(awaiting(loop)) for _ in range(workers)]
        await loop.run_in_executor(None, signals.wait, workers)
        for waiter in waiters:
            waiter.cancel()
        outcomes = await asyncio.gather(*waiters, return_exceptions=True)
        assert all(isinstance(o, asyncio.CancelledError) for o in outcomes)

    asyncio.run(main())
    assert_pool_serves(pool, workers, signals)


def test_set_default_executor_takes_only_thread_pools():
    """What README says: asyncio's default executor must be a ThreadPoolExecutor (3.12, 3.13);
    pass a pergil executor to run_in_executor instead."""
    with pergil.InterpreterPoolExecutor(max_workers=1) as executor:
        loop = asyncio.new_event_loop()
        try:
            with pytest.raises(TypeError):
                loop.set_default_executor(executor)
        finally:
            loop.close()
