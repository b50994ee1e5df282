"""daemon_exit_script.py MODE WORKERS: the main script ends while a daemon thread keeps
calling into pergil. At finalization CPython ends such a thread when it next takes the GIL,
with pthread_exit: inside a pergil call that released the GIL, that unwinds through
pergil's C++ (it must not abort the process: "terminate called ...").

MODE: shutdown (the thread loops on executor.shutdown(wait=False), a call that releases the
GIL each time), create (it creates and uses pools in a loop), result (it waits in future.result() for a task that ends after the main
script: a wait in Python code, the control case)."""

import sys
import threading

import pergil
from faults import tasks


def hammer_shutdown(executor):
    while True:
        executor.shutdown(wait=False)


def create_pools(workers):
    """Creates and uses pools until the interpreter refuses: a pool must not start after the
    exit hook has ended the others."""
    while True:
        try:
            with pergil.InterpreterPoolExecutor(workers) as executor:
                executor.submit(tasks.add, 1, 2).result()
        except RuntimeError:
            pass


def main(mode, workers):
    executor = pergil.InterpreterPoolExecutor(workers)
    assert executor.submit(tasks.add, 20, 22).result(timeout=60) == 42
    started = threading.Event()
    if mode == "shutdown":
        target, args = hammer_shutdown, (executor,)
    elif mode == "create":
        target, args = create_pools, (workers,)
    else:
        late = executor.submit(tasks.sleep_then_return, 0.3, "late")
        target, args = late.result, ()

    def run():
        started.set()
        target(*args)

    threading.Thread(target=run, daemon=True).start()
    started.wait()
    tasks.count_to(200_000)  # let the thread run a while in its loop
    print("main script ends", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
