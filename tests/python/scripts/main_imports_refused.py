"""main_imports_refused.py MODULE N: the script imports MODULE (one a worker refuses: numpy,
or the test's fake_refusing) at the top. Functions that never touch it still run in workers;
one that uses it fails with an error naming the script, the line and the fix."""

import importlib
import json
import sys

refused = importlib.import_module(sys.argv[1])  # what `import numpy as np` does

import pergil  # noqa: E402


def plain(x):
    return x * 3


class Item:
    def __init__(self, n):
        self.n = n


def item_value(item):
    return item.n + 1


def uses_module(x):
    return refused.__name__ + str(x)


if __name__ == "__main__":
    with pergil.InterpreterPoolExecutor(max_workers=int(sys.argv[2])) as executor:
        plain_results = list(executor.map(plain, range(8)))
        single = executor.submit(plain, 5).result()
        items = executor.submit(item_value, Item(9)).result()
        made = type(executor.submit(Item, 2).result()) is Item
        error = executor.submit(uses_module, 1).exception()
        again = executor.submit(plain, 6).result()
    print(json.dumps({"plain": plain_results, "single": single, "items": items, "made": made,
                      "again": again, "error_type": type(error).__name__,
                      "error": str(error), "notes": getattr(error, "__notes__", []),
                      "traceback": str(error.__cause__)}))
