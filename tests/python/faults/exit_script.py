"""exit_script.py MODE WORKERS: the main script ends while pools are open or their tasks still
run. Every task prints "<tag> done" when it ends; the test checks that all of them ended, and
that the process exits with the expected code, without a hang or a crash.

MODE: open (finished tasks, never shut down), running (module-level executor, tasks still
running and queued), dropped (the executor is garbage, never shut down, while its tasks run),
deleted (``del executor`` while tasks run), several (three open executors), thread (an executor
made and left open by another thread), sys-exit (sys.exit(3) while tasks run), raise (an
uncaught exception while tasks run), broken (an initializer failed), timeout (a timed task
still running: the exit waits for its deadline), values (scalar calls only, whose tasks
return lists and dicts or raise: the worker pickles them with the full pickler first).
"""

import sys
import threading

import pergil
from faults import tasks

LOOP = 300_000  # a task that runs for a while, so that the script ends first


def submit_all(executor, prefix, count):
    return [executor.submit(tasks.count_then_print, f"{prefix}{i}", LOOP) for i in range(count)]


def start_and_drop(workers):
    executor = pergil.InterpreterPoolExecutor(max_workers=workers)
    return submit_all(executor, "task", 3 * workers)  # the executor is dropped on return


def in_a_thread(workers, kept):
    executor = pergil.InterpreterPoolExecutor(max_workers=workers)
    kept.append(executor)
    submit_all(executor, "task", 3 * workers)


def main(mode, workers):
    global executor
    expected = 3 * workers
    if mode == "open":
        executor = pergil.InterpreterPoolExecutor(max_workers=workers)
        for future in submit_all(executor, "task", expected):
            future.result()
    elif mode in ("running", "sys-exit", "raise", "deleted"):
        executor = pergil.InterpreterPoolExecutor(max_workers=workers)
        submit_all(executor, "task", expected)
        if mode == "deleted":
            del executor
    elif mode == "dropped":
        start_and_drop(workers)
    elif mode == "several":
        executors = [pergil.InterpreterPoolExecutor(max_workers=workers) for _ in range(3)]
        for n, each in enumerate(executors):
            submit_all(each, f"pool{n}-task", workers)
        expected = 3 * workers
        globals()["executors"] = executors
    elif mode == "thread":
        kept = []
        thread = threading.Thread(target=in_a_thread, args=(workers, kept))
        thread.start()
        thread.join()
        globals()["kept"] = kept  # open until exit, made by a thread that has ended
    elif mode == "values":
        executor = pergil.InterpreterPoolExecutor(max_workers=workers)
        results = [executor.submit(tasks.structured_result, f"task{i}", LOOP)
                   for i in range(2 * workers)]
        errors = [executor.submit(tasks.raise_after_print, f"error{i}", LOOP)
                  for i in range(workers)]
        assert [f.result() for f in results] == [{"tag": [f"task{i}", LOOP]}
                                                 for i in range(2 * workers)]
        assert all(isinstance(f.exception(), ValueError) for f in errors)
    elif mode == "broken":
        executor = pergil.InterpreterPoolExecutor(
            max_workers=workers, initializer=tasks.failing_initializer, initargs=("x",))
        expected = 0
    elif mode == "timeout":
        executor = pergil.InterpreterPoolExecutor(max_workers=workers)
        executor.submit_with_timeout(0.5, tasks.spin)
        expected = 0
    else:
        raise ValueError(mode)
    print(f"main script ends; expecting {expected} tasks", flush=True)
    if mode == "sys-exit":
        sys.exit(3)
    if mode == "raise":
        raise ValueError("the main script failed")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
