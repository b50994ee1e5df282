"""introspection_tasks.py: tasks for test_thread_frames.py (run in workers and in the caller)."""

import sys
import threading
import time


def spin_in_marked_frame(seconds):
    """Runs Python code (not a sleep in C) for ``seconds``, in a frame with a telling name."""
    end = time.monotonic() + seconds
    count = 0
    while time.monotonic() < end:
        count += 1
    return count


def raise_and_spin(seconds):
    """Spins while handling an exception, so that the thread has a current exception."""
    try:
        raise LookupError("raised in a worker")
    except LookupError:
        return spin_in_marked_frame(seconds)


def frames_seen_in_worker(seconds):
    """sys._current_frames() inside a worker while others run: this interpreter's threads only.
    Returns (calls made, thread ids seen, whether this thread was among them)."""
    end = time.monotonic() + seconds
    calls, seen = 0, set()
    while time.monotonic() < end:
        frames = sys._current_frames()
        sys._current_exceptions()
        seen.update(frames)
        calls += 1
    return calls, sorted(seen), threading.get_ident() in seen
