"""gui_helpers.py: user functions that the desktop app's tests run through the window."""

import time


def half(x):
    """Raises for odd inputs: some tasks fail, the others succeed."""
    if x % 2:
        raise ValueError(f"odd input {x}")
    return x // 2


def spin(seconds):
    """Pure Python busy loop for `seconds`: interruptible at any bytecode."""
    end = time.monotonic() + seconds
    count = 0
    while time.monotonic() < end:
        count += 1
    return count
