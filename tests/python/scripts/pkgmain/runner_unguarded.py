"""runner_unguarded.py: ``python -m pkgmain.runner_unguarded N`` without a main guard."""

import sys

import pergil


def inc(x):
    return x + 1


with pergil.InterpreterPoolExecutor(max_workers=int(sys.argv[1])) as executor:
    print("RESULT", list(executor.map(inc, range(6))))
print("AFTER")
