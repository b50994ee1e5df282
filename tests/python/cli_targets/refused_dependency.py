"""refused_dependency.py: imports _curses, an extension module that refuses own-GIL
sub-interpreters: loads in the main interpreter, threads and processes, not in a worker."""

import _curses  # noqa: F401


def f(x):
    return x
