"""sigint_script.py MODE WORKERS: fills a pool with infinite loops (and as many queued), prints
"ready" once every worker runs one and the main thread is blocked in the call MODE names; the
test then sends SIGINT.

MODE: result, exception, map, map-chunks, as_completed, wait, with, shutdown, exit (the main
script ends with the loops running: interpreter exit waits for them), and MODE-recover, which
catches the KeyboardInterrupt, cancels what is left, checks that the pool still serves and
exits normally. MODE-interrupts catches it and cancels nothing: the Ctrl-C alone must have
stopped the running loops (they end cancelled and the queued loops start), then as -recover.
"""

import concurrent.futures as cf
import sys
import threading

import pergil
from faults import tasks
from faults.support import WAIT_TIMEOUT, Signals

# The function that must be on the main thread's stack when SIGINT arrives, per mode.
WAITING_IN = {
    "result": "result", "exception": "exception", "map": "result_iterator",
    "map-chunks": "result_iterator", "as_completed": "as_completed", "wait": "wait",
    "with": "__exit__", "shutdown": "shutdown", "exit": "_shutdown_all_at_exit",
}
BLOCKING_CALLS = {"acquire", "join"}  # lock.acquire, thread handle join (3.13)


class BlockWatch:
    """A profile hook on the main thread: sets ``blocked`` when the main thread calls a blocking
    C function (a lock acquire, a thread join) while inside ``function``. (sys._current_frames()
    cannot be used: with own-GIL workers running it crashes the process.)"""

    def __init__(self, function):
        self.function = function
        self.depth = 0
        self.blocked = threading.Event()

    def __call__(self, frame, event, arg):
        if event in ("call", "return") and frame.f_code.co_name == self.function:
            self.depth += 1 if event == "call" else -1
        elif event == "c_call" and self.depth > 0 and getattr(arg, "__name__", "") in BLOCKING_CALLS:
            self.blocked.set()


def announce_when_waiting(signals, workers, function):
    """Prints "ready" once ``workers`` loops run and the main thread blocks in ``function``."""
    watch = BlockWatch(function)
    sys.setprofile(watch)

    def announce():
        signals.wait(workers)
        watch.blocked.wait()
        print("ready", flush=True)

    threading.Thread(target=announce, daemon=True).start()


def wait_in(mode, executor, futures, signals, workers):
    if mode == "result":
        futures[0].result()
    elif mode == "exception":
        futures[0].exception()
    elif mode in ("map", "map-chunks"):
        chunksize = 2 if mode == "map-chunks" else 1
        for _ in executor.map(tasks.spin, [signals.fd] * (2 * workers), chunksize=chunksize):
            pass
    elif mode == "as_completed":
        for _ in cf.as_completed(futures):
            pass
    elif mode == "wait":
        cf.wait(futures)
    elif mode == "shutdown":
        executor.shutdown(wait=True)
    elif mode == "with":
        with executor:
            pass
    else:
        raise ValueError(mode)


def report_interrupted(futures, signals, workers):
    """Nothing was cancelled by hand: the loops that ran at SIGINT end only if the Ctrl-C
    interrupted them, and only then do the queued ones start (a hang fails the test)."""
    try:
        signals.wait(workers, timeout=WAIT_TIMEOUT)
    except AssertionError as error:
        print("the queued loops never started:", error, flush=True)
        return
    done, _ = cf.wait(futures[:workers], timeout=WAIT_TIMEOUT)
    print("interrupted:", sum(future.cancelled() for future in done), flush=True)


def main(mode, workers):
    signals = Signals()
    executor = pergil.InterpreterPoolExecutor(max_workers=workers)
    base = mode.removesuffix("-recover").removesuffix("-interrupts")
    futures = []
    if base not in ("map", "map-chunks"):  # map() submits its own loops
        futures = [executor.submit(tasks.spin, signals.fd) for _ in range(2 * workers)]
    announce_when_waiting(signals, workers, WAITING_IN[base])
    if base == "exit":
        return  # interpreter exit waits for the loops; Ctrl-C there must stop them
    if base == mode:
        wait_in(base, executor, futures, signals, workers)
        return
    try:
        wait_in(base, executor, futures, signals, workers)
    except KeyboardInterrupt:
        print("caught KeyboardInterrupt", flush=True)
    if mode.endswith("-interrupts"):
        report_interrupted(futures, signals, workers)
    for future in futures:
        future.cancel()  # the loops still queued or running: the caller stops everything
    print("served:", executor.submit(tasks.add, 20, 22).result(timeout=60), flush=True)
    executor.shutdown(wait=True, cancel_futures=True, interrupt_running=True)
    print("clean exit", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
