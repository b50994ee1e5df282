"""_bench_csv.py: the benchmark's CSV workload: files parsed with ``csv`` into
{column: list of values}, a result of ~480,000 small objects per 4 MB file, held by the caller.

Also measures what moving such a result costs a task: at 1 worker, the same parse returning
its row count against returning its columns. Standard library only: workers import this
module, so what only the caller needs (generating the files) is imported where it is used.
"""

import csv
import os
import time

COLUMNS = ("id", "count", "price", "ratio", "name", "city")
_CONVERT = {"id": int, "count": int, "price": float, "ratio": float}
_WORDS = ("amber", "basalt", "cobalt", "dune", "ember", "fjord", "granite", "harbor")
_CITIES = ("Aarhus", "Bergen", "Cork", "Dresden", "Esbjerg", "Faro", "Gdansk", "Hamar")
_directory = None  # this process's generated files


def parse_columns(path):
    """The task: a CSV file as {column: values}, ints and floats converted, strings kept."""
    with open(path, newline="") as file:
        reader = csv.reader(file)
        header = next(reader)
        columns = [[] for _ in header]
        for row in reader:
            for column, value in zip(columns, row):
                column.append(value)
    result = {}
    for name, values in zip(header, columns):
        convert = _CONVERT.get(name)
        result[name] = list(map(convert, values)) if convert else values
    return result


def parse_count(path):
    """The same work with a tiny result: the task's own time, without moving its columns."""
    return len(parse_columns(path)["id"])


def _content(rows, seed=11):
    import io
    import random

    rnd = random.Random(seed)
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(COLUMNS)
    for i in range(rows):
        writer.writerow((i, rnd.randrange(10**7), f"{rnd.random() * 1e4:.2f}",
                         f"{rnd.random():.6f}", f"{rnd.choice(_WORDS)}-{rnd.randrange(1000)}",
                         rnd.choice(_CITIES)))
    return text.getvalue()


def make_files(count, rows):
    """Writes `count` CSV files of `rows` rows (one content: only the parse is measured) into
    a fresh temporary directory; returns their paths. remove_files() deletes them."""
    import tempfile

    global _directory
    remove_files()
    _directory = tempfile.mkdtemp(prefix="pergil-bench-csv-")
    content = _content(rows)
    paths = [os.path.join(_directory, f"part-{index:02}.csv") for index in range(count)]
    for path in paths:
        with open(path, "w", newline="") as file:
            file.write(content)
    return paths


def remove_files():
    import shutil

    global _directory
    if _directory is not None:
        shutil.rmtree(_directory, ignore_errors=True)
        _directory = None


def _check(results, rows):
    if not all(type(r) is dict and len(r["id"]) == rows for r in results):
        raise AssertionError("wrong CSV results")
    if results[0] != results[-1] or type(results[0]["price"][0]) is not float:
        raise AssertionError("CSV results differ")


def time_columns(pool, sizes):
    """Parses every file (serially, or one task per file), keeping every result."""
    paths = make_files(sizes["csv_files"], sizes["csv_rows"])
    start = time.perf_counter()
    if pool is None:
        results = [parse_columns(path) for path in paths]
    else:
        results = [future.result() for future in [pool.submit(parse_columns, p) for p in paths]]
    seconds = time.perf_counter() - start
    _check(results, sizes["csv_rows"])
    return seconds, results


def _tree_cpu_seconds():
    """CPU time of this process and its descendants, every thread (Linux /proc schedstat: ns
    on a CPU), or None elsewhere. Unlike wall time, other work on the machine does not add to
    it, so it still tells what the transfer costs on a loaded machine."""
    from pergil._bench import _tree_pids

    total = 0
    try:
        for pid in _tree_pids(os.getpid()):
            for tid in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{tid}/schedstat") as stat:
                    total += int(stat.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return total / 1e9


def transfer_share(factory, sizes):
    """{"transfer_pct", "transfer_cpu_pct"}: at 1 worker, (time returning the columns - time
    returning the count) over the latter, in percent, summed over alternating tasks on the
    files made last; in wall time, and in CPU time of the process tree."""
    paths = make_files(sizes["csv_share_files"], sizes["csv_rows"])
    pool = factory(1)
    try:
        pool.submit(parse_count, paths[0]).result()  # warm: the worker and its imports
        own = moved = own_cpu = moved_cpu = 0.0
        for path in paths:
            cpu_start, start = _tree_cpu_seconds(), time.perf_counter()
            pool.submit(parse_count, path).result()
            cpu_middle, middle = _tree_cpu_seconds(), time.perf_counter()
            result = pool.submit(parse_columns, path).result()
            end, cpu_end = time.perf_counter(), _tree_cpu_seconds()
            own, moved = own + middle - start, moved + end - middle
            if None not in (cpu_start, cpu_middle, cpu_end):
                own_cpu += cpu_middle - cpu_start
                moved_cpu += cpu_end - cpu_middle
            del result
    finally:
        pool.shutdown(wait=True)
        remove_files()
    shares = {"transfer_pct": 100.0 * (moved - own) / own}
    if own_cpu > 0:
        shares["transfer_cpu_pct"] = 100.0 * (moved_cpu - own_cpu) / own_cpu
    return shares
