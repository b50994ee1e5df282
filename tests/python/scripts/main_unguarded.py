"""main_unguarded.py: a __main__ script WITHOUT a main guard that creates its pool at top level.

A worker that re-runs it must stop where the pool is created: it must neither hang nor start
pools of its own, and what follows the pool runs once, in the caller.
"""

import sys

import pergil
from _record import record

record(__name__)


def triple(x):
    return 3 * x


class Box:
    def __init__(self, value):
        self.value = value


def unbox(box):
    return box.value


with pergil.InterpreterPoolExecutor(max_workers=int(sys.argv[1])) as executor:
    print("RESULT", list(executor.map(triple, range(10))))
    print("BOX", executor.submit(unbox, Box(41)).result())
    print("BOXED", type(executor.submit(Box, 7).result()) is Box)

print("AFTER")
record("after")
