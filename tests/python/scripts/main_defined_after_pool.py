"""main_defined_after_pool.py N: no main guard; functions and a class are defined after the
pool is created, where a worker's re-run of the script stops: they travel by value."""

import sys

import pergil


def early(x):
    return -x


executor = pergil.InterpreterPoolExecutor(max_workers=int(sys.argv[1]))


def late(x):
    return x * 5


class Late:
    def __init__(self, value):
        self.value = value


def unwrap(box):
    return box.value


print("EARLY", list(executor.map(early, range(4))))
print("LATE", list(executor.map(late, range(4))))
print("CHUNKED", list(executor.map(late, range(7), chunksize=3)))
print("UNWRAP", executor.submit(unwrap, Late(41)).result())
print("CLASS", type(executor.submit(Late, 7).result()) is Late)
executor.shutdown()
print("AFTER")
