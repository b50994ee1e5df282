"""fork_script.py WORKERS WHEN: os.fork() in the caller while a pool is alive ("alive") or after
it was shut down ("after-shutdown"). Prints how the child ended; the parent must go on."""

import os
import resource
import signal
import sys
import time
import warnings

import pergil
from faults import tasks

CHILD_GRACE = 10.0  # a child that has not ended by then is deadlocked (seen on 3.12.1)


def wait_or_kill(pid):
    """The child's exit code (negative: killed by that signal), or "hung" once it is killed
    after CHILD_GRACE seconds: a fork child stuck in CPython's after-fork clean-up never ends."""
    deadline = time.monotonic() + CHILD_GRACE
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.02)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return "hung"


if __name__ == "__main__":
    workers, when = int(sys.argv[1]), sys.argv[2]
    warnings.simplefilter("ignore", DeprecationWarning)  # "multi-threaded, use of fork()"
    executor = pergil.InterpreterPoolExecutor(max_workers=workers)
    print("parent before:", executor.submit(tasks.add, 1, 1).result(), flush=True)
    if when == "after-shutdown":
        executor.shutdown()
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a crashing child leaves no core file
    pid = os.fork()
    if pid == 0:  # the child: must end, whatever happens; never returns into the script
        try:
            with pergil.InterpreterPoolExecutor(max_workers=workers) as fresh:
                print("child pool:", fresh.submit(tasks.add, 2, 2).result(timeout=30), flush=True)
        finally:
            os._exit(0)
    print("child exit:", wait_or_kill(pid), flush=True)
    if when == "alive":
        print("parent after:", executor.submit(tasks.add, 3, 3).result(timeout=30), flush=True)
        executor.shutdown()
    print("parent done", flush=True)
