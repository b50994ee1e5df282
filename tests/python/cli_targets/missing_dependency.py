"""missing_dependency.py: a target module that imports a module that does not exist."""

import pergil_no_such_dependency  # noqa: F401


def f(x):
    return x
