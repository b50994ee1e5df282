"""test_executor.py: InterpreterPoolExecutor is a concurrent.futures.Executor.

submit, map (timeout, chunksize), shutdown, the context manager, futures with as_completed and
wait, max_workers, and races: many rounds of many tasks at 1, 2 and 4 workers. No test asserts
speed; waits between tasks go through files (helpers.tasks.wait_for_file), not sleeps.
"""

import concurrent.futures as cf
import os
import threading

import pytest

import pergil
from helpers import tasks


def test_is_a_concurrent_futures_executor(executor):
    assert isinstance(executor, cf.Executor)
    future = executor.submit(tasks.square, 12)
    assert isinstance(future, cf.Future)
    assert future.result() == 144
    assert future.done() and not future.cancelled() and not future.running()
    assert future.exception() is None


def test_submit_passes_positional_and_keyword_arguments(executor):
    assert executor.submit(tasks.add, 1, 2, 3, 4, scale=10).result() == 100
    assert executor.submit(tasks.echo, 1, "a", key=[1, 2]).result() == ((1, "a"), {"key": [1, 2]})
    assert executor.submit(tasks.echo).result() == ((), {})


def test_submit_accepts_fn_keyword_as_argument_name(executor):
    # fn is positional-only, as in CPython's executors: a task may take a keyword called fn.
    assert executor.submit(tasks.echo, fn=1).result() == ((), {"fn": 1})


def test_submit_rejects_non_callable(executor):
    with pytest.raises(TypeError):
        executor.submit(42)
    assert executor.submit(tasks.square, 3).result() == 9


def test_map_keeps_order(executor):
    assert list(executor.map(tasks.square, range(100))) == [i * i for i in range(100)]


def test_map_several_iterables_stops_at_shortest(executor):
    assert list(executor.map(tasks.add, range(10), range(100, 105))) == [
        a + b for a, b in zip(range(10), range(100, 105))
    ]


def test_map_empty(executor):
    assert list(executor.map(tasks.square, [])) == []


@pytest.mark.parametrize("chunksize", [1, 2, 7, 64, 1000])
def test_map_chunksize(executor, chunksize):
    items = range(257)
    assert list(executor.map(tasks.square, items, chunksize=chunksize)) == [i * i for i in items]
    assert list(executor.map(tasks.add, items, items, chunksize=chunksize)) == [2 * i for i in items]


@pytest.mark.parametrize("chunksize", [0, -1, 1.5, "2", True])
def test_map_bad_chunksize(executor, chunksize):
    with pytest.raises((ValueError, TypeError)):
        executor.map(tasks.square, range(3), chunksize=chunksize)


@pytest.mark.parametrize("chunksize", [None, 1, 5, 64])
def test_map_reraises_at_failing_item(executor, chunksize):
    results = executor.map(tasks.fail_on, range(20), [7] * 20, chunksize=chunksize)
    seen = []
    with pytest.raises(ValueError, match="item 7") as raised:
        for value in results:
            seen.append(value)
    # Every result before the failing item arrives, whatever the chunking.
    assert seen == list(range(7))
    assert isinstance(raised.value.__cause__, pergil.RemoteTraceback)
    assert "fail_on" in str(raised.value.__cause__)
    assert executor.submit(tasks.square, 5).result() == 25


@pytest.mark.parametrize("count", [0, 1, 3, 8, 9, 1001])
def test_map_default_chunks_keep_every_item_in_order(executor, count):
    items = list(range(count))
    assert list(executor.map(tasks.add, items, items[::-1])) == [count - 1] * count
    assert list(executor.map(tasks.square, iter(items))) == [i * i for i in items]
    half = items[: count // 2]  # unsized iterables of unequal lengths: stops at the shortest
    assert list(executor.map(tasks.add, iter(items), iter(half))) == [2 * i for i in half]


def test_map_chunk_raising_a_base_exception_fails_as_a_whole(executor):
    results = executor.map(tasks.raise_keyboard_interrupt_on, range(4), chunksize=4)
    with pytest.raises(KeyboardInterrupt):
        list(results)
    assert executor.submit(tasks.square, 6).result() == 36


def test_map_timeout_none_and_generous(executor):
    assert list(executor.map(tasks.square, range(10), timeout=None)) == [i * i for i in range(10)]
    assert list(executor.map(tasks.square, range(10), timeout=300)) == [i * i for i in range(10)]


def test_map_timeout_expires_on_a_task_that_waits(executor, tmp_path):
    # The task waits for a gate that only opens after the timeout has fired: no race.
    gate = tmp_path / "gate"
    results = executor.map(tasks.token_after_gate, [str(gate)], timeout=0.05)
    with pytest.raises(cf.TimeoutError):
        next(results)
    gate.touch()
    assert executor.submit(tasks.square, 4).result() == 16


def test_as_completed_and_wait(executor):
    futures = [executor.submit(tasks.square, i) for i in range(50)]
    assert sorted(f.result() for f in cf.as_completed(futures)) == [i * i for i in range(50)]
    done, not_done = cf.wait(futures, return_when=cf.ALL_COMPLETED)
    assert done == set(futures) and not not_done


def test_wait_first_exception(executor):
    futures = [executor.submit(tasks.square, i) for i in range(10)]
    futures.append(executor.submit(tasks.raise_value_error, "first"))
    done, _ = cf.wait(futures, timeout=120, return_when=cf.FIRST_EXCEPTION)
    assert any(f.exception() is not None for f in done)


def test_wait_timeout_with_task_held_by_gate(executor, tmp_path):
    gate = tmp_path / "gate"
    held = executor.submit(tasks.token_after_gate, str(gate))
    done, not_done = cf.wait([held], timeout=0.01)
    assert not_done == {held} and not done
    gate.touch()
    done, not_done = cf.wait([held], timeout=120)
    assert done == {held}
    assert isinstance(held.result(), str)


def test_done_callbacks_run_once(executor):
    calls = []
    lock = threading.Lock()

    def callback(future):
        with lock:
            calls.append(future.result())

    futures = [executor.submit(tasks.square, i) for i in range(100)]
    for future in futures:
        future.add_done_callback(callback)
    cf.wait(futures)
    executor.shutdown(wait=True)
    assert sorted(calls) == sorted(i * i for i in range(100))
    # Added after completion: runs at once, in this thread.
    futures[0].add_done_callback(callback)
    assert len(calls) == 101


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2", True])
def test_bad_max_workers(bad):
    with pytest.raises(ValueError):
        pergil.InterpreterPoolExecutor(max_workers=bad)


def test_max_workers_none_is_usable_cpu_count(tmp_path):
    counter = getattr(os, "process_cpu_count", None)
    expected = counter() if counter else len(os.sched_getaffinity(0))
    with pergil.InterpreterPoolExecutor() as executor:
        assert executor.max_workers == expected
        # That many tasks meet at once: that many workers exist.
        tokens = list(executor.map(tasks.rendezvous, [str(tmp_path)] * expected,
                                   [expected] * expected))
    assert all(len(t) == expected for t in tokens)


def test_workers_run_at_once(executor, workers, tmp_path):
    """``workers`` tasks meet at a rendezvous: each worker is a distinct interpreter and all
    of them run at the same time."""
    met = list(executor.map(tasks.rendezvous, [str(tmp_path)] * workers, [workers] * workers))
    assert all(len(tokens) == workers for tokens in met)
    assert tasks.INTERPRETER_TOKEN not in met[0]  # the caller's interpreter ran none of them


def test_context_manager_waits_and_closes(workers):
    with pergil.InterpreterPoolExecutor(max_workers=workers) as executor:
        futures = [executor.submit(tasks.sleep_steps, 0.01) for _ in range(workers * 3)]
        futures += [executor.submit(tasks.square, i) for i in range(100)]
    assert all(f.done() for f in futures)
    assert [f.result() for f in futures[-100:]] == [i * i for i in range(100)]
    with pytest.raises(RuntimeError):
        executor.submit(tasks.square, 1)


def test_shutdown_wait_completes_everything(executor):
    futures = [executor.submit(tasks.square, i) for i in range(300)]
    executor.shutdown(wait=True)
    assert all(f.done() for f in futures)
    assert [f.result() for f in futures] == [i * i for i in range(300)]


def test_shutdown_without_wait_still_delivers(executor):
    futures = [executor.submit(tasks.square, i) for i in range(300)]
    executor.shutdown(wait=False)
    assert [f.result(timeout=120) for f in futures] == [i * i for i in range(300)]


def test_shutdown_twice_is_harmless(executor):
    executor.submit(tasks.square, 2).result()
    executor.shutdown()
    executor.shutdown()
    executor.shutdown(wait=False, cancel_futures=True)


@pytest.mark.parametrize("rounds, tasks_per_round", [(20, 200)])
def test_race_as_completed(executor, rounds, tasks_per_round):
    for round_no in range(rounds):
        futures = {executor.submit(tasks.add, i, round_no): i for i in range(tasks_per_round)}
        seen = set()
        for future in cf.as_completed(futures, timeout=120):
            i = futures[future]
            assert future.result() == i + round_no
            assert i not in seen
            seen.add(i)
        assert len(seen) == tasks_per_round


@pytest.mark.parametrize("rounds, tasks_per_round", [(20, 200)])
def test_race_wait_first_completed(executor, rounds, tasks_per_round):
    for round_no in range(rounds):
        pending = {executor.submit(tasks.square, i + round_no) for i in range(tasks_per_round)}
        results = []
        while pending:
            done, pending = cf.wait(pending, timeout=120, return_when=cf.FIRST_COMPLETED)
            assert done, "wait(FIRST_COMPLETED) returned nothing before its timeout"
            results += [f.result() for f in done]
        assert sorted(results) == sorted((i + round_no) ** 2 for i in range(tasks_per_round))


def test_race_submit_from_many_threads(executor):
    """Four caller threads submit and collect at once, 20 rounds of 4 x 100 tasks."""
    errors = []

    def client(offset):
        try:
            for _ in range(20):
                futures = [executor.submit(tasks.add, offset, i) for i in range(100)]
                assert [f.result(timeout=120) for f in futures] == [offset + i for i in range(100)]
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=client, args=(k * 1000,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(t.is_alive() for t in threads)
    assert not errors, errors


def test_race_map_chunked_rounds(executor):
    for round_no in range(20):
        items = list(range(round_no, round_no + 200))
        assert list(executor.map(tasks.square, items, chunksize=1 + round_no % 9)) == [
            i * i for i in items
        ]


def test_race_pools_created_and_shut_down_repeatedly(workers):
    for round_no in range(10):
        with pergil.InterpreterPoolExecutor(max_workers=workers) as executor:
            futures = [executor.submit(tasks.add, i, round_no) for i in range(50)]
        assert [f.result() for f in futures] == [i + round_no for i in range(50)]


def test_futures_of_two_pools_do_not_mix(workers):
    with pergil.InterpreterPoolExecutor(max_workers=workers) as first, \
            pergil.InterpreterPoolExecutor(max_workers=workers) as second:
        a = [first.submit(tasks.add, i, 0) for i in range(200)]
        b = [second.submit(tasks.add, i, 10_000) for i in range(200)]
        assert [f.result() for f in a] == list(range(200))
        assert [f.result() for f in b] == [i + 10_000 for i in range(200)]
