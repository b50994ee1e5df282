"""main_defined_under_guard.py N: a function, a class and a helper defined under the main
guard: a worker re-running the script cannot get them, so they travel by value."""

import json
import sys
import threading

import pergil

LOCK = threading.Lock()


def top_level(x):
    return x + 1


def locked_add(x):
    """Refers to a lock: by value it does not pickle, by reference it works."""
    with LOCK:
        return x + 100


if __name__ == "__main__":

    def nested(x):
        return x * 10

    class Pair:
        def __init__(self, a, b):
            self.a, self.b = a, b

        def total(self):
            return self.a + self.b

    def make_pair(a, b):
        return Pair(a, b)

    with pergil.InterpreterPoolExecutor(max_workers=int(sys.argv[1])) as executor:
        first = executor.submit(nested, 4).result()
        mapped = list(executor.map(nested, range(6)))
        chunked = list(executor.map(nested, range(9), chunksize=4))
        pair = executor.submit(make_pair, 2, 3).result()
        total = executor.submit(Pair(5, 6).total).result()
        top = list(executor.map(top_level, range(3)))
        locked = executor.submit(locked_add, 1).result()
    print(json.dumps({"locked": locked, "first": first, "mapped": mapped, "chunked": chunked,
                      "pair": [type(pair) is Pair, pair.total()], "total": total, "top": top}))
