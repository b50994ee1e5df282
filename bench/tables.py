#!/usr/bin/env python3
"""tables.py: loading many table files: pandas, pdtable, calamine, fastexcel, process and thread
pools, and pergil.tables side by side in one run.

    python bench/tables.py [--workers N] [--rounds R] [--quick] [--data DIR] [--only DATASET ...]

Generated data (bench/table_data.py; kept in --data between runs): 16 files per format: plain
CSV (~4 MB each), plain .xlsx (1/8 of the CSV's rows), StarTable CSV and StarTable .xlsx
(4 tables, 25,000 rows in all per file, with a datetime column). Every dataset x method runs
in a fresh subprocess (as bench/executors.py does), rounds interleaved and rotated, and the
table gives medians over the rounds, the speed-up over the dataset's serial method, and the
peak RSS of the process tree (pergil._bench.ProcessTree: the sum of every process's
high-water mark, an upper bound where pool processes share pages). Pools are created inside
the timing: starting them is part of the job. "CPU s" is the CPU time of the process tree
(/proc), the work done, which a loaded machine distorts less than wall time. ``--quick`` (CI): 2 small files per format,
one round; exits 0 when every pergil method that is installed ran.
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import table_data  # noqa: E402

RESULT_MARK = "PERGIL-TABLES-RESULT "
FULL = {"files": 16, "csv": 45_000, "xlsx": 5_600, "startable-csv": 25_000,
        "startable-xlsx": 25_000, "datetime_every": 50}
QUICK = {"files": 2, "csv": 2_000, "xlsx": 250, "startable-csv": 1_000,
         "startable-xlsx": 1_000, "datetime_every": 50}
POOLS = ("serial", "threads", "fork", "forkserver")
METHODS = {
    "csv": [f"pandas {pool}" for pool in POOLS] + ["pergil read_many"],
    "xlsx": [f"pandas {pool}" for pool in POOLS]
    + ["calamine serial", "calamine threads", "fastexcel serial", "pergil read_many"],
    "startable-csv": ["pdtable load_files"] + [f"pdtable {pool}" for pool in POOLS[1:]]
    + ["pergil load_startables"],
}
METHODS["startable-xlsx"] = METHODS["startable-csv"]
DATASETS = tuple(METHODS)


# ---- per-file tasks: module functions, so that every pool runs them by reference ----

def pandas_csv(path):
    import pandas

    return pandas.read_csv(path)


def pandas_xlsx(path):
    import pandas

    return pandas.read_excel(path, engine="openpyxl")


def calamine_xlsx(path):
    import pandas

    return pandas.read_excel(path, engine="calamine")


def fastexcel_xlsx(path):
    import fastexcel

    return fastexcel.read_excel(path).load_sheet(0).to_pandas()


def pdtable_file(path):
    """One StarTable file's blocks, as pdtable's own readers give them."""
    from pdtable.io import read_csv, read_excel

    if path.endswith(".csv"):
        return list(read_csv(path, sep=";"))
    return list(read_excel(path))


TASKS = {"pandas csv": pandas_csv, "pandas xlsx": pandas_xlsx, "calamine xlsx": calamine_xlsx,
         "fastexcel xlsx": fastexcel_xlsx, "pdtable startable-csv": pdtable_file,
         "pdtable startable-xlsx": pdtable_file}


# ---- one measurement, in a fresh process ----

def _imports(dataset, method):
    """Imports what the method needs before the timing; returns why it cannot run, or None."""
    needs = {"calamine": ["pandas", "python_calamine"], "fastexcel": ["pandas", "fastexcel",
                                                                     "pyarrow"],
             "pdtable": ["pandas", "pdtable.io", "pdtable.io.load"],
             "pandas": ["pandas", "openpyxl"], "pergil": ["pandas", "pergil.tables"]}
    # openpyxl only where the method opens .xlsx in this process: load_startables reads
    # StarTable .xlsx in its workers, and openpyxl costs the caller 6.5 MiB of peak RSS.
    extra = ["openpyxl"] if method == "pergil read_many" and dataset == "xlsx" else []
    for module in needs[method.split()[0]] + extra + (["pdtable"] if "startable" in dataset
                                                      else []):
        try:
            __import__(module)
        except ImportError as error:
            return f"{module} is not installed ({error})"
    if method == "pergil load_startables":
        import pergil.tables

        try:
            pergil.tables.load_startables
        except (AttributeError, ImportError):
            return "not available (pergil.tables has no load_startables in this build)"
    return None


def _run_method(dataset, method, paths, folder, workers):
    """Runs the method once; returns (result count, the pool to shut down after the memory
    reading or None)."""
    kind, how = method.split(" ", 1)
    if method == "pdtable load_files":
        from pdtable.io.load import load_files

        return len(list(load_files(["/"], root_folder=folder, csv_sep=";"))), None
    if method == "pergil read_many":
        import pergil.tables

        options = {"engine": "openpyxl"} if dataset == "xlsx" else {}
        return len(pergil.tables.read_many(paths, workers, **options)), None
    if method == "pergil load_startables":
        import pergil.tables

        blocks = pergil.tables.load_startables(["/"], root_folder=folder, csv_sep=";",
                                               workers=workers)
        return len(list(blocks)), None
    task = TASKS[f"{kind} {dataset}"]
    if how == "serial":
        return len([task(path) for path in paths]), None
    if how == "threads":
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(workers) as pool:
            return len(list(pool.map(task, paths))), None
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(how))
    return len(list(pool.map(task, paths))), pool


def measure(dataset, method, workers, folder):
    from pergil._bench import ProcessTree

    reason = _imports(dataset, method)
    if reason is not None:
        return {"status": "n/a", "reason": reason}
    paths = sorted(os.path.join(folder, name) for name in os.listdir(folder)
                   if not name.startswith("."))
    tree = ProcessTree()
    tree.start()
    cpu_before = _tree_cpu_seconds()
    start = time.perf_counter()
    count, pool = _run_method(dataset, method, paths, folder, workers)
    seconds = time.perf_counter() - start
    memory = tree.peak()
    cpu = _tree_cpu_seconds() - cpu_before  # pool processes still alive: counted
    if pool is not None:
        pool.shutdown(wait=True)
    return {"status": "ok", "seconds": seconds, "results": count, "cpu_seconds": cpu, **memory}


def _tree_cpu_seconds():
    """User + system CPU seconds of this process and its live descendants (/proc; 0 where
    there is no /proc)."""
    from pergil._bench import _tree_pids

    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in _tree_pids(os.getpid()):
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / ticks


def _child(dataset, method, workers, folder):
    import traceback

    try:
        record = measure(dataset, method, workers, folder)
    except BaseException as error:  # noqa: BLE001 - reported as this cell's result
        traceback.print_exc()
        record = {"status": "error", "reason": f"{type(error).__name__}: {error}"[:200]}
    print(RESULT_MARK + json.dumps(record), flush=True)
    return 0


# ---- the parent: data, interleaved rounds, the table ----

def prepare(data, sizes, datasets, log):
    folders = {}
    for dataset in datasets:
        folder = os.path.join(data, dataset)
        started = time.perf_counter()
        extra = {"datetime_every": sizes["datetime_every"]} if "startable" in dataset else {}
        table_data.write_files(folder, dataset, sizes["files"], sizes[dataset], **extra)
        log(f"data: {dataset}: {sizes['files']} files of {sizes[dataset]:,} rows in {folder} "
            f"({time.perf_counter() - started:.1f} s)")
        folders[dataset] = folder
    return folders


def run_cell(dataset, method, workers, folder, timeout):
    """One cell in a fresh process, in its own process group: a cell that outlives the timeout
    is killed with its pool's processes (pergil._bench_child.run_child, as for the executors)."""
    from pergil._bench_child import run_child

    command = [sys.executable, os.path.abspath(__file__), "--one", dataset, method,
               "--workers", str(workers), "--data", folder]
    return run_child(command, timeout, RESULT_MARK)


def run(options, log):
    sizes = QUICK if options.quick else FULL
    datasets = options.only or DATASETS
    folders = prepare(options.data, sizes, datasets, log)
    cells = {(d, m): [] for d in datasets for m in METHODS[d]}
    failures = {}
    load_start = os.getloadavg()[0]
    for round_index in range(options.rounds):
        for dataset in datasets:
            methods = METHODS[dataset]
            shift = round_index % len(methods)
            for method in methods[shift:] + methods[:shift]:
                if (dataset, method) in failures:
                    continue
                record = run_cell(dataset, method, options.workers, folders[dataset],
                                  options.timeout)
                if record["status"] == "ok":
                    cells[(dataset, method)].append(record)
                else:
                    failures[(dataset, method)] = record
                log(f"round {round_index + 1}/{options.rounds} {dataset:14} {method:24} "
                    f"{record['status']} {record.get('seconds', record.get('reason', ''))}")
    return {"cells": cells, "failures": failures, "sizes": sizes, "datasets": datasets,
            "load": (load_start, os.getloadavg()[0]), "workers": options.workers,
            "rounds": options.rounds}


def _median(records, key):
    values = [record[key] for record in records if key in record]
    return statistics.median(values) if values else None


def render(results):
    import platform
    from importlib import metadata

    def version(name):
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "not installed"

    sizes = results["sizes"]
    lines = [f"bench/tables.py: {results['workers']} workers, {results['rounds']} round(s), "
             f"CPython {platform.python_version()}, {os.cpu_count()} CPUs, load average "
             f"{results['load'][0]:.1f} at the start, {results['load'][1]:.1f} at the end",
             "pandas " + version("pandas") + ", openpyxl " + version("openpyxl") + ", pdtable "
             + version("pdtable") + ", python-calamine " + version("python-calamine")
             + ", fastexcel " + version("fastexcel") + ", pyarrow " + version("pyarrow"),
             f"{sizes['files']} files per dataset; rows per file: csv {sizes['csv']:,}, xlsx "
             f"{sizes['xlsx']:,}, StarTable {sizes['startable-csv']:,} (a datetime on every "
             f"{sizes['datetime_every']}th row)", "",
             "| dataset | method | median s | speed-up over serial | CPU s | peak RSS of the tree |",
             "|---|---|---|---|---|---|"]
    for dataset in results["datasets"]:
        serial = METHODS[dataset][0]
        base_s = _median(results["cells"][(dataset, serial)], "seconds")
        base_m = _median(results["cells"][(dataset, serial)], "peak_mib")
        for method in METHODS[dataset]:
            records = results["cells"][(dataset, method)]
            failure = results["failures"].get((dataset, method))
            if not records:
                reason = failure["reason"] if failure else "no sample"
                lines.append(f"| {dataset} | {method} | {failure and failure['status']}: "
                             f"{reason} | | | |")
                continue
            seconds, peak = _median(records, "seconds"), _median(records, "peak_mib")
            speed = f"{base_s / seconds:.2f}x" if base_s else "-"
            memory = "-" if peak is None else f"{peak:.0f} MiB" + (
                f" ({peak / base_m:.2f}x)" if base_m else "")
            cpu = _median(records, "cpu_seconds")
            cpu = "-" if cpu is None else f"{cpu:.3g}"
            lines.append(f"| {dataset} | {method} | {seconds:.3g} | {speed} | {cpu} | {memory} |")
    return "\n".join(lines)


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=None, help="default 3 (--quick: 1)")
    parser.add_argument("--quick", action="store_true", help="small files, one round (CI)")
    parser.add_argument("--data", default=None, help="where the generated files are kept")
    parser.add_argument("--only", nargs="+", choices=DATASETS, help="these datasets only")
    parser.add_argument("--timeout", type=float, default=None, help="seconds per cell")
    parser.add_argument("--json", help="also write the raw samples to this file")
    parser.add_argument("--one", nargs=2, metavar=("DATASET", "METHOD"), help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    options.rounds = options.rounds or (1 if options.quick else 3)
    options.timeout = options.timeout or (120 if options.quick else 1200)
    if options.data is None:
        options.data = os.path.join(tempfile.gettempdir(),
                                    f"pergil-bench-tables-{'quick' if options.quick else 'full'}")
    return options


def main(argv=None):
    options = parse_arguments(argv)
    if options.one:
        return _child(options.one[0], options.one[1], options.workers, options.data)

    def log(text):
        print(text, file=sys.stderr, flush=True)

    results = run(options, log)
    print(render(results))
    if options.json:
        with open(options.json, "w") as out:
            json.dump({**results, "cells": {" / ".join(key): value
                                            for key, value in results["cells"].items()},
                       "failures": {" / ".join(key): value
                                    for key, value in results["failures"].items()}}, out)
    if not options.quick:
        return 0
    broken = [f"{dataset} / {method}: {record['reason']}"
              for (dataset, method), record in results["failures"].items()
              if method.startswith("pergil") and not record["reason"].startswith("not available")]
    for line in broken:
        log(f"bench/tables.py --quick: FAILED {line}")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
