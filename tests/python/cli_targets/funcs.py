"""funcs.py: plain functions for ``pergil run`` (run in workers: standard library only)."""

import os
import sys
import time

NOT_CALLABLE = 42


class CustomError(Exception):
    """A user exception: reported with its module-qualified name."""


class Shapes:
    @staticmethod
    def area(width, height):
        return width * height


def square(x):
    return x * x


def describe(value):
    """Returns the value's type name and the value: shows what one JSON input became."""
    return [type(value).__name__, value]


def add(a, b=0):
    return a + b


def echo_after(item):
    """item = [value, seconds]: sleeps, then returns value; lets later inputs finish first."""
    value, seconds = item
    time.sleep(seconds)
    return value


def fail_on_odd(x):
    if x % 2:
        raise ValueError(f"odd input {x}")
    return x


def raise_custom(message):
    raise CustomError(message)


def call_exit(code):
    sys.exit(code)


def return_set(x):
    return {x}


def chatty(x):
    """Prints on stdout and stderr: neither may reach pergil's stdout."""
    print(f"chatty stdout {x}", flush=True)
    print(f"chatty stderr {x}", file=sys.stderr, flush=True)
    return x


def spin(seconds):
    """Busy for ``seconds`` (Ctrl-C tests); announces its start on stderr first."""
    print("spin started", file=sys.stderr, flush=True)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass
    return seconds


def hard_exit(code):
    """Ends the process it runs in at once: in processes mode, breaks the pool."""
    os._exit(code)


def worker_identity(x):
    """(pid, interpreter id) of where the call ran, to check where each mode runs tasks."""
    try:
        import _interpreters as interpreters  # 3.13

        interpreter_id = interpreters.get_current()[0]
    except ImportError:
        import _xxsubinterpreters as interpreters  # 3.12

        interpreter_id = int(interpreters.get_current())
    return [os.getpid(), int(interpreter_id)]
