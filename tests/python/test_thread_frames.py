"""test_thread_frames.py: sys._current_frames() / sys._current_exceptions() with pools running.

CPython's own versions walk every interpreter's threads and build objects for other
interpreters' frames with the caller's allocator: with own-GIL workers running Python code the
process aborts ("free(): invalid pointer"; Dask's profile thread calls it every 10 ms).
pergil._core installs versions limited to the calling interpreter (src/python/thread_frames.cpp).
Each case runs in a child process, so that a crash fails the test instead of ending pytest.
"""

import textwrap

import pytest

from helpers.support import WORKER_COUNTS, check_ok, run_python


def run_child(code):
    return check_ok(run_python(["-c", textwrap.dedent(code)]))


def test_installed_in_the_caller():
    out = run_child("""
        import sys
        from pergil import _core
        print(sys._current_frames is _core.current_frames,
              sys._current_exceptions is _core.current_exceptions)
    """)
    assert out.split() == ["True", "True"]


def test_same_result_as_cpython_for_the_callers_threads():
    # Before any pool exists CPython's version is safe: both must agree thread for thread,
    # down to the frame objects, for threads in Python code, in C code and handling errors.
    out = run_child("""
        import sys, threading
        original_frames, original_exceptions = sys._current_frames, sys._current_exceptions
        from pergil import _core
        gate, done = threading.Barrier(3), threading.Event()
        def in_python():
            gate.wait()
            while not done.is_set():
                pass
        def handling():
            try:
                raise KeyError("k")
            except KeyError:
                gate.wait()
                done.wait()
        threads = [threading.Thread(target=f) for f in (in_python, handling)]
        for t in threads:
            t.start()
        gate.wait()
        mine, theirs = _core.current_frames(), original_frames()
        same_frames = mine.keys() == theirs.keys() and all(
            mine[k] is theirs[k] for k in mine)
        mine, theirs = _core.current_exceptions(), original_exceptions()
        same_exceptions = mine.keys() == theirs.keys() and all(
            mine[k] is theirs[k] for k in mine)
        handled = type(mine[threads[1].ident]).__name__
        done.set()
        for t in threads:
            t.join()
        print(same_frames, same_exceptions, len(theirs), handled)
    """)
    assert out.split() == ["True", "True", "3", "KeyError"]


@pytest.mark.parametrize("workers", WORKER_COUNTS)
def test_callers_threads_only_while_workers_run_python(workers):
    out = run_child(f"""
        import sys, threading, time
        import pergil
        from helpers import introspection_tasks as tasks
        with pergil.InterpreterPoolExecutor({workers}) as pool:
            futures = [pool.submit(tasks.spin_in_marked_frame, 0.6) for _ in range({workers})]
            futures += [pool.submit(tasks.raise_and_spin, 0.3) for _ in range({workers})]
            time.sleep(0.1)
            names, calls = set(), 0
            while not all(f.done() for f in futures):
                for frame in sys._current_frames().values():
                    while frame is not None:
                        names.add(frame.f_code.co_name)
                        frame = frame.f_back
                for error in sys._current_exceptions().values():
                    names.add(type(error).__name__)
                calls += 1
            ok = all(f.result() > 0 for f in futures)
        main_seen = threading.main_thread().ident in sys._current_frames()
        print(ok, calls > 10, main_seen, "spin_in_marked_frame" in names, "LookupError" in names)
    """)
    assert out.split() == ["True", "True", "True", "False", "False"]


@pytest.mark.parametrize("workers", [w for w in WORKER_COUNTS if w > 1])
def test_inside_workers_each_sees_its_own_thread(workers):
    out = run_child(f"""
        import pergil
        from helpers import introspection_tasks as tasks
        with pergil.InterpreterPoolExecutor({workers}) as pool:
            results = list(pool.map(tasks.frames_seen_in_worker, [0.4] * {workers}))
        print(all(calls > 10 for calls, _, _ in results),
              all(len(seen) == 1 and own for _, seen, own in results))
    """)
    assert out.split() == ["True", "True"]
