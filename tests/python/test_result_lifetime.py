"""test_result_lifetime.py: pergil keeps no finished result alive once the caller drops it.

A weakref to a result (of submit, of map with and without chunks, a memoryview lent by a
worker) must die once the caller drops its future and the value, while the pool stays open
and idle: the delivery thread must not hold the last completion it handled.
"""

import gc
import time
import weakref

import pytest

from helpers import tasks

# Bound on waiting for the delivery thread to move past its last completion: the caller may
# see a result a moment before that thread drops its own names for it.
DEATH_LIMIT = 10.0


def died(ref):
    deadline = time.monotonic() + DEATH_LIMIT
    while ref() is not None:
        if time.monotonic() > deadline:
            return False
        gc.collect()
        time.sleep(0.005)
    return True


def test_submit_result_dies_with_the_pool_open(executor):
    for base in range(3):  # the last completion of a batch, each time
        future = executor.submit(tasks.Accumulator, base)
        ref = weakref.ref(future.result())
        future_ref = weakref.ref(future)
        del future
        assert died(ref), "the pool holds a result the caller dropped"
        assert died(future_ref), "the pool holds a finished future"
    assert executor.submit(tasks.square, 4).result() == 16


def test_memoryview_result_dies_with_the_pool_open(executor):
    future = executor.submit(tasks.make_view_with_address, 1 << 20)
    view, _ = future.result()
    ref = weakref.ref(view)
    del future, view
    assert died(ref)


@pytest.mark.parametrize("chunksize", [None, 1, 3])
def test_map_items_die_with_the_pool_open(executor, chunksize):
    results = executor.map(tasks.Accumulator, range(10), chunksize=chunksize)
    first = next(results)
    ref = weakref.ref(first)
    del first
    # The iterator is still open (nine items to go): it must not hold an item it yielded.
    assert died(ref), "map's iterator holds an item it already yielded"
    rest = list(results)
    assert [r.base for r in rest] == list(range(1, 10))
    ref = weakref.ref(rest[-1])
    del rest, results
    assert died(ref)
