"""refuses_subinterpreters.py: imports an extension module that is not isolated (as numpy is
not): loads in the main interpreter and in processes, refused in a sub-interpreter."""

import _curses  # noqa: F401


def echo(x):
    return x
