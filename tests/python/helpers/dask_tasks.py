"""dask_tasks.py: task functions the Dask tests send to workers (importable there by name)."""

import csv
import io
import time


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def where_am_i(_=None):
    """'main' in the main interpreter, 'sub-interpreter' in a pergil worker."""
    try:
        import _interpreters as interpreters
    except ImportError:  # CPython 3.12
        import _xxsubinterpreters as interpreters
    current = interpreters.get_current()
    current = current[0] if isinstance(current, tuple) else current
    return "main" if int(current) == 0 else "sub-interpreter"


def make_csv(seed, rows=2000):
    """A small CSV table as text: id, name, quantity, price."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "name", "quantity", "price"])
    for i in range(rows):
        price = f"{(i % 13) * 1.25:.2f}"
        writer.writerow([i, f"item-{(i * seed) % 97}", (i * 7 + seed) % 50, price])
    return out.getvalue()


def load_table(text):
    """Table-loading work in pure Python: parse CSV text into typed columns and summarise."""
    reader = csv.DictReader(io.StringIO(text))
    columns = {"id": [], "name": [], "quantity": [], "price": []}
    for row in reader:
        columns["id"].append(int(row["id"]))
        columns["name"].append(row["name"])
        columns["quantity"].append(int(row["quantity"]))
        columns["price"].append(float(row["price"]))
    total = sum(q * p for q, p in zip(columns["quantity"], columns["price"]))
    return {"rows": len(columns["id"]), "names": len(set(columns["name"])),
            "total": round(total, 2)}


def fail(value):
    raise ValueError(f"bad value {value}")


def import_refused(x):
    """Imports an extension module that refuses own-GIL sub-interpreters (fine in main)."""
    import _curses  # noqa: F401

    return x * 2


def spin(_=None):
    """Pure-Python loop that never ends unless interrupted."""
    n = 0
    while True:
        n += 1


def spin_for(seconds):
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:
        n += 1
    return n > 0


def numpy_total(n):
    """NumPy refuses own-GIL sub-interpreters: fine in main, refused in a pergil worker."""
    import numpy

    return int(numpy.arange(n).sum())
