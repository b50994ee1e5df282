"""daemon_exit_script.py MODE WORKERS: the main script ends while a daemon thread keeps
calling into pergil. At finalization CPython ends such a thread when it next takes the GIL,
with pthread_exit: inside a pergil call that released the GIL, that unwinds through
pergil's C++ (it must not abort the process: "terminate called ...").

MODE: shutdown (the thread loops on executor.shutdown(wait=False), a call that releases the
GIL each time), result (it waits in future.result() for a task that ends after the main
script: a wait in Python code, the control case)."""

import sys
import threading

import pergil
from faults import tasks


def hammer_shutdown(executor):
    while True:
        executor.shutdown(wait=False)


def main(mode, workers):
    executor = pergil.InterpreterPoolExecutor(workers)
    assert executor.submit(tasks.add, 20, 22).result(timeout=60) == 42
    started = threading.Event()
    if mode == "shutdown":
        target, args = hammer_shutdown, (executor,)
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
