"""test_errors.py: exceptions of tasks, bad input and broken pools, each a clear error.

A task's exception arrives with its type and message and the worker's traceback as
``__cause__``; one that cannot be pickled arrives as pergil.RemoteError; refused extension
imports say why. After each failure the pool still runs tasks.
"""

import concurrent.futures as cf
import importlib.util
import logging
import sys
import time
import uuid

import pytest

import pergil
from helpers import tasks


def assert_still_usable(executor):
    assert list(executor.map(tasks.square, range(8))) == [i * i for i in range(8)]


def test_exception_type_message_and_remote_traceback(executor):
    future = executor.submit(tasks.raise_value_error, "bad value 42")
    with pytest.raises(ValueError, match="^bad value 42$") as caught:
        future.result()
    cause = caught.value.__cause__
    assert isinstance(cause, pergil.RemoteTraceback)
    text = str(cause)
    assert "Traceback (most recent call last)" in text
    assert "raise_value_error" in text and "tasks.py" in text
    assert "ValueError: bad value 42" in text
    assert cause.traceback_text == text
    assert isinstance(future.exception(), ValueError)
    assert_still_usable(executor)


def test_custom_exception_keeps_type_and_attributes(executor):
    with pytest.raises(tasks.CustomError) as caught:
        executor.submit(tasks.raise_custom, 7, "seven").result()
    assert (caught.value.code, caught.value.detail) == (7, "seven")
    assert "raise_custom" in str(caught.value.__cause__)


def test_chained_exception_shows_both_in_remote_traceback(executor):
    with pytest.raises(RuntimeError, match="outer-x") as caught:
        executor.submit(tasks.raise_chained, "x").result()
    text = str(caught.value.__cause__)
    assert "KeyError: 'inner-x'" in text and "RuntimeError: outer-x" in text


def test_lambda_exception_traceback(executor):
    def failing_nested(x):
        return 1 // x

    with pytest.raises(ZeroDivisionError) as caught:
        executor.submit(failing_nested, 0).result()
    assert "failing_nested" in str(caught.value.__cause__)


def test_unpicklable_exception_arrives_as_remote_error(executor):
    with pytest.raises(pergil.RemoteError) as caught:
        executor.submit(tasks.raise_unpicklable, "cannot travel").result()
    error = caught.value
    assert "UnpicklableError" in error.type_name
    assert error.message == "cannot travel"
    assert "raise_unpicklable" in error.traceback_text
    assert "UnpicklableError" in str(error) and "cannot travel" in str(error)
    assert_still_usable(executor)


def test_map_reraises_task_exception_with_cause(executor):
    with pytest.raises(ValueError) as caught:
        list(executor.map(tasks.fail_on, range(10), [3] * 10))
    assert isinstance(caught.value.__cause__, pergil.RemoteTraceback)


# --- a module that refuses sub-interpreters ---------------------------------------------------

# (_testsinglephase is left out: on 3.12.1 a second refused import of it aborts the process.)
REFUSING_CANDIDATES = ["_tkinter", "readline", "_curses"]


def _existing(names):
    return [n for n in names if importlib.util.find_spec(n) is not None]


@pytest.fixture(scope="module")
def refusing_module():
    """The first candidate this Python has that a worker refuses to import."""
    import pergil as p

    with p.InterpreterPoolExecutor(max_workers=1) as probe:
        for name in _existing(REFUSING_CANDIDATES):
            if isinstance(probe.submit(tasks.import_module, name).exception(), ImportError):
                return name
    pytest.skip(f"none of {REFUSING_CANDIDATES} exists in this Python and refuses workers")


def test_refused_extension_import_explains(executor, refusing_module):
    with pytest.raises(ImportError) as caught:
        executor.submit(tasks.import_module, refusing_module).result()
    message = str(caught.value)
    assert repr(refusing_module) in message or refusing_module in message
    assert "pure-Python" in message and "isolated extension module" in message
    assert caught.value.name == refusing_module
    assert "import_module" in str(caught.value.__cause__)
    assert_still_usable(executor)


@pytest.mark.parametrize("name", _existing(REFUSING_CANDIDATES))
def test_every_refusing_candidate_is_explained(executor, name):
    error = executor.submit(tasks.import_module, name).exception()
    # Each of these is a single-phase or non-isolated extension in 3.12 and 3.13.
    assert isinstance(error, ImportError), f"{name} imported in a worker: {error!r}"
    assert name in str(error) and "pure-Python" in str(error)


# --- bad input --------------------------------------------------------------------------------


def test_unpicklable_result_fails_that_future_only(executor):
    bad = executor.submit(tasks.return_lock)
    good = executor.submit(tasks.square, 6)
    with pytest.raises(TypeError, match="lock") as caught:
        bad.result()
    assert "pickle" in str(caught.value)
    assert good.result() == 36
    assert_still_usable(executor)


def test_result_that_cannot_load_in_caller_fails_that_future(executor):
    error = executor.submit(tasks.return_loads_nowhere).exception()
    assert isinstance(error, Exception)
    assert "refuses to be unpickled" in str(error)
    assert_still_usable(executor)


@pytest.mark.parametrize("code", [0, 3, "message"])
def test_system_exit_arrives_on_the_future(executor, code):
    error = executor.submit(tasks.raise_system_exit, code).exception()
    assert type(error) is SystemExit and error.code == code
    with pytest.raises(SystemExit):
        executor.submit(tasks.raise_system_exit, code).result()
    assert_still_usable(executor)


def test_keyboard_interrupt_arrives_on_the_future(executor):
    error = executor.submit(tasks.raise_keyboard_interrupt).exception()
    assert type(error) is KeyboardInterrupt and "from the task" in str(error)
    with pytest.raises(KeyboardInterrupt):
        executor.submit(tasks.raise_keyboard_interrupt).result()
    assert_still_usable(executor)


def test_keyboard_interrupt_of_a_task_leaves_other_tasks_alone(executor, workers, tmp_path):
    """A KeyboardInterrupt *raised by a task* is that task's outcome: re-raising it from
    result() is not a Ctrl-C of the caller and must not interrupt the pool's other tasks."""
    gate, marks = tmp_path / "gate", tmp_path / "marks"
    marks.mkdir()
    failing = executor.submit(tasks.raise_keyboard_interrupt)
    held = [executor.submit(tasks.mark_then_wait, str(marks), str(gate)) for _ in range(workers)]
    assert tasks.wait_for_count(str(marks), workers), "the held tasks never all started"
    with pytest.raises(KeyboardInterrupt):
        failing.result()  # the held tasks are all running now
    gate.touch()
    assert [f.result() for f in held] == [True] * workers


def test_recursion_error(executor):
    with pytest.raises(RecursionError):
        executor.submit(tasks.recurse_forever).result()
    assert_still_usable(executor)


def test_missing_module_in_task(executor):
    name = f"no_such_module_{uuid.uuid4().hex}"
    with pytest.raises(ModuleNotFoundError) as caught:
        executor.submit(tasks.import_missing, name).result()
    assert caught.value.name == name
    assert_still_usable(executor)


def test_callable_whose_module_the_worker_cannot_import(executor, tmp_path, monkeypatch):
    """A module put on sys.path after the pool started is unknown to its workers: the future
    fails with ModuleNotFoundError instead of hanging."""
    name = f"late_module_{uuid.uuid4().hex}"
    (tmp_path / f"{name}.py").write_text("def f():\n    return 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module(name)
    try:
        with pytest.raises(ModuleNotFoundError):
            executor.submit(module.f).result()
    finally:
        sys.modules.pop(name, None)
    assert_still_usable(executor)


def test_submit_and_map_after_shutdown(executor):
    executor.submit(tasks.square, 1).result()
    executor.shutdown()
    with pytest.raises(RuntimeError):
        executor.submit(tasks.square, 2)
    with pytest.raises(RuntimeError):
        executor.map(tasks.square, range(3))


def test_submit_after_shutdown_without_wait(executor):
    executor.shutdown(wait=False)
    with pytest.raises(RuntimeError):
        executor.submit(tasks.square, 2)


def test_shutdown_cancel_futures_with_work_pending(executor, workers, tmp_path):
    """Every worker is held at a gate that opens only after shutdown(cancel_futures=True), so
    the queued tasks behind them are certainly still pending: each must end cancelled, the
    held ones must complete, and nothing may hang."""
    gate = tmp_path / "gate"
    held = [executor.submit(tasks.token_after_gate, str(gate)) for _ in range(workers)]
    queued = [executor.submit(tasks.square, i) for i in range(100)]
    executor.shutdown(wait=False, cancel_futures=True)
    with pytest.raises(RuntimeError):
        executor.submit(tasks.square, 1)
    gate.touch()
    done, not_done = cf.wait(held + queued, timeout=120)
    assert not not_done
    assert all(f.cancelled() for f in queued)
    for future in held:  # each ran (a worker took it before shutdown) or was cancelled queued
        assert future.cancelled() or isinstance(future.result(), str)
    executor.shutdown(wait=True)


# --- initializers -----------------------------------------------------------------------------


def test_initializer_that_raises_breaks_the_pool(workers):
    executor = pergil.InterpreterPoolExecutor(
        max_workers=workers, initializer=tasks.failing_initializer, initargs=("init failed 13",)
    )
    try:
        try:
            first = executor.submit(tasks.square, 2)
        except pergil.BrokenInterpreterPool as error:
            broken = error
        else:
            broken = first.exception(timeout=120)
        assert isinstance(broken, pergil.BrokenInterpreterPool)
        assert isinstance(broken, cf.BrokenExecutor)
        assert "init failed 13" in str(broken)
        with pytest.raises(pergil.BrokenInterpreterPool):
            for _ in range(20):  # the pool may learn it is broken one submit late, not 20
                executor.submit(tasks.square, 3).result(timeout=120)
    finally:
        executor.shutdown(wait=True)
    with pytest.raises((pergil.BrokenInterpreterPool, RuntimeError)):
        executor.submit(tasks.square, 4)


def test_initializer_that_raises_is_logged_without_any_submit(workers, caplog):
    """Like the standard executors: the traceback reaches the ``concurrent.futures`` logger
    when the pool breaks, not only at the next submit."""
    with caplog.at_level(logging.CRITICAL, logger="concurrent.futures"):
        executor = pergil.InterpreterPoolExecutor(
            max_workers=workers, initializer=tasks.failing_initializer, initargs=("logged 7",))
        try:
            deadline = time.monotonic() + 60  # bound on the workers ending, not a speed check
            while time.monotonic() < deadline and not any(
                    "logged 7" in r.getMessage() for r in caplog.records):
                time.sleep(0.01)
        finally:
            executor.shutdown(wait=True)
    records = [r for r in caplog.records
               if r.name == "concurrent.futures" and "logged 7" in r.getMessage()]
    assert len(records) == 1 and records[0].levelno == logging.CRITICAL
    text = records[0].getMessage()
    assert "the initializer failed" in text and "Traceback" in text
    assert "failing_initializer" in text and "RuntimeError: logged 7" in text


def test_working_initializer_logs_nothing(caplog):
    with caplog.at_level(logging.DEBUG, logger="concurrent.futures"):
        with pergil.InterpreterPoolExecutor(
                max_workers=2, initializer=tasks.set_worker_value, initargs=(1,)) as executor:
            assert executor.submit(tasks.square, 3).result() == 9
    assert not [r for r in caplog.records if r.name == "concurrent.futures"]


def test_initializer_that_raises_with_work_queued(workers):
    executor = pergil.InterpreterPoolExecutor(
        max_workers=workers, initializer=tasks.failing_initializer, initargs=("queued",)
    )
    futures = []
    try:
        for i in range(50):
            futures.append(executor.submit(tasks.square, i))
    except pergil.BrokenInterpreterPool:
        pass
    done, not_done = cf.wait(futures, timeout=120)
    assert not not_done
    assert all(isinstance(f.exception(), pergil.BrokenInterpreterPool) for f in futures)
    executor.shutdown(wait=True)


def test_initializer_that_raises_with_context_manager(workers):
    with pytest.raises(pergil.BrokenInterpreterPool):
        with pergil.InterpreterPoolExecutor(
            max_workers=workers, initializer=tasks.failing_initializer, initargs=("cm",)
        ) as executor:
            list(executor.map(tasks.square, range(10)))
