"""tasks.py: task functions for the reliability tests. They run inside pergil workers.

Tasks tell the caller that they started by writing one byte to a pipe (``started_fd``): worker
interpreters share the process's file descriptors, so the caller can wait for "every worker is
now inside user code" without any timing guess.
"""

import os
import sys
import threading
import time

STARTED = b"s"


def announce(fd):
    if fd is not None:
        os.write(fd, STARTED)


def add(a, b):
    return a + b


def identity(value):
    return value


def spin(started_fd=None):
    """A pure-Python infinite loop: only an interrupt (cancel, timeout, shutdown) ends it."""
    announce(started_fd)
    n = 0
    while True:
        n += 1


def spin_catching_exceptions(started_fd=None):
    """An infinite loop that swallows every Exception: the interrupt is a BaseException."""
    announce(started_fd)
    while True:
        try:
            while True:
                pass
        except Exception:  # noqa: BLE001 - the point of the test
            pass


def print_then_spin(tag, started_fd):
    print(f"{tag}:before-cancel")
    print(f"{tag}:stderr-before-cancel", file=sys.stderr)
    spin(started_fd)


def count_to(n):
    """A bounded pure-Python loop: a task that runs a while, then returns n."""
    i = 0
    while i < n:
        i += 1
    return i


def sleep_then_return(seconds, value, started_fd=None):
    announce(started_fd)
    time.sleep(seconds)
    return value


def recurse(depth=0):
    return recurse(depth + 1)


def recurse_then_recover():
    """Hits RecursionError, catches it, then proves the interpreter still works."""
    try:
        recurse()
    except RecursionError:
        return sum(range(100))
    return None


def allocate_huge():
    return bytearray(1 << 50)  # 1 PiB: fails at allocation, whatever the overcommit policy


def raise_base_exception(kind):
    errors = {
        "SystemExit": SystemExit(3),
        "KeyboardInterrupt": KeyboardInterrupt("raised by the task"),
        "GeneratorExit": GeneratorExit("raised by the task"),
    }
    raise errors[kind]


def start_threads(count, gate_fd, done_fd):
    """Starts ``count`` non-daemon threads that each block until one byte arrives on
    ``gate_fd``, then write one byte to ``done_fd``. Returns while they still run."""

    def wait_for_gate():
        os.read(gate_fd, 1)
        os.write(done_fd, b"t")

    threads = [threading.Thread(target=wait_for_gate) for _ in range(count)]
    for thread in threads:
        thread.start()
    return sum(thread.is_alive() for thread in threads)


def write_streams(tag, lines):
    """Writes ``lines`` numbered lines to stdout and to stderr, through print and write."""
    for i in range(lines):
        print(f"{tag}:out:{i}")
        sys.stderr.write(f"{tag}:err:{i}\n")
    sys.stdout.write(f"{tag}:out:last")  # no newline: flushed at the task's end
    return tag


def write_then_raise(tag):
    print(f"{tag}:out:before-error")
    print(f"{tag}:err:before-error", file=sys.stderr)
    raise ValueError(tag)


def import_module(name):
    __import__(name)
    return name


class BadReduceError(Exception):
    """An exception that cannot be pickled: its __reduce__ raises."""

    def __reduce__(self):
        raise RuntimeError("BadReduceError refuses to be pickled")


def raise_bad_reduce(message):
    raise BadReduceError(message)


class UnpicklableResult:
    def __reduce__(self):
        raise RuntimeError("this result refuses to be pickled")


def return_unpicklable():
    return UnpicklableResult()


def _refuse_to_load():
    raise ValueError("this argument refuses to be unpickled")


class FailsToUnpickle:
    """Pickles fine in the caller; unpickling it (in the worker) raises ValueError."""

    def __reduce__(self):
        return (_refuse_to_load, ())


def failing_initializer(kind):
    if kind == "SystemExit":
        raise SystemExit(5)
    raise RuntimeError("the initializer failed on purpose")


def count_then_print(tag, n):
    """Runs a bounded loop, then prints "<tag> done": proof the task ran to its end."""
    count_to(n)
    sys.stdout.write(f"{tag} done\n")  # one write: print's two writes interleave across workers
    sys.stdout.flush()
    return tag


def structured_result(tag, n):
    """Prints "<tag> done", then returns a list and dict: not a scalar, so it leaves the
    worker through the full pickler, not the scalar fast path."""
    count_then_print(tag, n)
    return {"tag": [tag, n]}


def raise_after_print(tag, n):
    count_then_print(tag, n)
    raise ValueError(tag)


def spin_swallowing_interrupt(started_fd, swallowed_fd):
    """An infinite loop under a bare ``except``: it swallows the interrupt, reports it on
    ``swallowed_fd`` and returns normally."""
    try:
        announce(started_fd)  # inside the try: the caller cancels once this byte is written
        while True:
            pass
    except BaseException:  # noqa: BLE001 - the point of the test
        os.write(swallowed_fd, b"w")
    return "swallowed"
