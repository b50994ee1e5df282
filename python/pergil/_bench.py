"""_bench.py: the executor benchmark: serial, threads, processes, InterpreterPoolExecutor and
pergil side by side in one run, interleaved, every executor x workload in a fresh subprocess.

Run ``python -m pergil._bench [--workers N] [--rounds R] [--quick]`` (or ``bench/executors.py``,
or ``pergil bench``). The workload functions live here so that every executor runs them by
reference; keep this module's top-level imports to the standard library a worker can import.
"""

import array
import os
import sys
import time

from pergil._bench_child import run_child
from pergil._bench_figures import seconds_text

EXECUTORS = ("serial", "thread", "process-fork", "process-spawn", "interpreters", "pergil")
RESULT_MARK = "PERGIL-BENCH-RESULT "
FULL_SIZES = {"tiny": 5000, "fib": 30, "fib_tasks": 8, "big": 64 << 20,
              "csv_files": 16, "csv_rows": 80_000, "csv_share_files": 4}
QUICK_SIZES = {"tiny": 500, "fib": 22, "fib_tasks": 8, "big": 8 << 20,
               "csv_files": 4, "csv_rows": 5_000, "csv_share_files": 2}


# ---- workload functions: run inside threads, processes and interpreters, by reference ----

def identity(x):
    return x


def pause(seconds):
    time.sleep(seconds)


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def _fib_loop(n):
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


def make_bytes(n):
    return b"x" * n  # one allocation, every page touched (bytes(n) would leave them untouched)


def make_bytearray(n):
    return bytearray(b"x") * n


def make_memoryview(n):
    return memoryview(bytearray(b"x") * n)


def make_array(n):
    return array.array("d", [1.0]) * (n // 8)


def length(data):
    return len(data)


MAKERS = {"bytes": make_bytes, "bytearray": make_bytearray, "memoryview": make_memoryview,
          "array": make_array}
_built = {}


def hold_built(kind, n, seconds):
    """Builds one object of this kind in this worker and keeps it, then pauses: N such calls
    submitted together land on N different workers, so every worker holds one."""
    _built[kind] = MAKERS[kind](n)
    time.sleep(seconds)


def take_built(kind):
    """Returns the object hold_built kept: the timed call then measures only the crossing."""
    return _built[kind]


# ---- the executors under test ----

def executor_factory(name):
    """(factory(workers) -> Executor or None for serial, None), or (None, the reason it cannot
    run here). Does the executor's imports: the cold start times them apart."""
    if name == "serial":
        return (lambda workers: None), None
    if name == "thread":
        from concurrent.futures import ThreadPoolExecutor

        return ThreadPoolExecutor, None
    if name.startswith("process-"):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        context = multiprocessing.get_context(name.split("-", 1)[1])
        return (lambda workers: ProcessPoolExecutor(workers, mp_context=context)), None
    if name == "interpreters":
        try:
            from concurrent.futures import InterpreterPoolExecutor  # CPython 3.14+
        except ImportError:
            try:
                from interpreters_backport.concurrent.futures import InterpreterPoolExecutor
            except ImportError as error:
                return None, f"interpreters-pep-734 is not installed ({error})"
        return InterpreterPoolExecutor, None
    if name == "pergil":
        import pergil

        return pergil.InterpreterPoolExecutor, None
    raise ValueError(f"unknown executor {name!r}; choose from {', '.join(EXECUTORS)}")


# Peers that may be missing, how to get them: skipped with one line, never run per workload.
INSTALL_HINTS = {"interpreters": "pip install interpreters-pep-734"}


def missing_peer(name):
    """How to install executor ``name`` if it cannot run on this Python, else None. Looked up
    without importing it (the parent process times nothing but stays lean)."""
    from importlib.util import find_spec

    if name == "interpreters" and sys.version_info < (3, 14):
        if find_spec("interpreters_backport") is None:
            return INSTALL_HINTS[name]
    return None


def executor_label(name):
    """What the executor is, with versions, for the report's header."""
    from importlib import metadata

    if name.startswith("process-"):
        return f"concurrent.futures.ProcessPoolExecutor ({name.split('-', 1)[1]})"
    if name == "interpreters":
        if sys.version_info >= (3, 14):
            return "concurrent.futures.InterpreterPoolExecutor"
        try:
            version = metadata.version("interpreters-pep-734")
        except metadata.PackageNotFoundError:
            return "InterpreterPoolExecutor backport: not installed (pip install interpreters-pep-734)"
        return f"InterpreterPoolExecutor backport (interpreters-pep-734 {version})"
    if name == "pergil":
        import pergil

        return f"pergil.InterpreterPoolExecutor ({pergil.__version__})"
    return {"serial": "direct calls in the caller",
            "thread": "concurrent.futures.ThreadPoolExecutor"}[name]


# ---- memory of the process tree (Linux /proc; None elsewhere) ----

def _tree_pids(pid):
    pids = [pid]
    for parent in pids:
        try:
            for tid in os.listdir(f"/proc/{parent}/task"):
                with open(f"/proc/{parent}/task/{tid}/children") as children:
                    pids.extend(int(child) for child in children.read().split())
        except OSError:
            continue
    return pids


def _status_kib(pid, field):
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(field):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


class ProcessTree:
    """Resident memory of this process and its descendants. ``start()`` records the current
    RSS and resets each process's high-water mark (``/proc/PID/clear_refs`` = 5); ``peak()``
    sums the high-water marks since then: exact for one process, an upper bound for several
    (their peaks need not coincide)."""

    def __init__(self):
        self.supported = os.path.exists(f"/proc/{os.getpid()}/clear_refs")
        self.baseline_kib = 0

    def start(self):
        if not self.supported:
            return
        pids = _tree_pids(os.getpid())
        self.baseline_kib = sum(_status_kib(pid, "VmRSS:") for pid in pids)
        for pid in pids:
            try:
                with open(f"/proc/{pid}/clear_refs", "w") as refs:
                    refs.write("5")
            except OSError:
                pass

    def peak(self):
        """{"peak_mib", "delta_mib"} or {} where /proc is missing."""
        if not self.supported:
            return {}
        peak_kib = sum(_status_kib(pid, "VmHWM:") for pid in _tree_pids(os.getpid()))
        return {"peak_mib": peak_kib / 1024, "delta_mib": (peak_kib - self.baseline_kib) / 1024}


# ---- the workloads, as measured in the child (pool None = serial) ----

def _time_tiny_submit(pool, sizes):
    n = sizes["tiny"]
    start = time.perf_counter()
    if pool is None:
        results = [identity(i) for i in range(n)]
    else:
        futures = [pool.submit(identity, i) for i in range(n)]
        results = [future.result() for future in futures]
    seconds = time.perf_counter() - start
    _check(results == list(range(n)), "wrong tiny-task results")
    return seconds, None


def _time_tiny_map(pool, sizes):
    n = sizes["tiny"]
    start = time.perf_counter()
    results = list(map(identity, range(n)) if pool is None else pool.map(identity, range(n)))
    seconds = time.perf_counter() - start
    _check(results == list(range(n)), "wrong map results")
    return seconds, None


def _time_fib(pool, sizes):
    n, tasks = sizes["fib"], sizes["fib_tasks"]
    start = time.perf_counter()
    if pool is None:
        results = [fib(n) for _ in range(tasks)]
    else:
        results = [f.result() for f in [pool.submit(fib, n) for _ in range(tasks)]]
    seconds = time.perf_counter() - start
    _check(results == [_fib_loop(n)] * tasks, "wrong fib results")
    return seconds, None


def _result_timer(maker):
    def timed(pool, sizes):
        n = sizes["big"]
        start = time.perf_counter()
        value = maker(n) if pool is None else pool.submit(maker, n).result()
        seconds = time.perf_counter() - start
        view = memoryview(value)
        _check(type(value) is type(maker(1)) and view.nbytes == n // view.itemsize * view.itemsize,
               f"wrong result {type(value).__name__} of {view.nbytes} bytes")
        return seconds, value  # kept alive by the caller until memory is read

    return timed


def _time_argument(pool, sizes):
    """Builds the 64 MiB argument inside the timing (serial's time is then a real cost);
    also returns the seconds from the built argument to the result (its crossing)."""
    n = sizes["big"]
    start = time.perf_counter()
    data = make_bytes(n)
    built = time.perf_counter()
    result = length(data) if pool is None else pool.submit(length, data).result()
    end = time.perf_counter()
    _check(result == n, f"length {result} != {n}")
    return (end - start, end - built), data


def _time_crossing(pool, workers, kind, n):
    """Seconds to get an object that already exists in a worker into the caller."""
    if pool is None:
        hold_built(kind, n, 0)
    else:
        for future in [pool.submit(hold_built, kind, n, 0.2) for _ in range(workers)]:
            future.result()
    start = time.perf_counter()
    value = take_built(kind) if pool is None else pool.submit(take_built, kind).result()
    seconds = time.perf_counter() - start
    _check(memoryview(value).nbytes >= n - 8, "wrong crossing result")
    _built.clear()
    return seconds


def _time_csv(pool, sizes):
    from pergil import _bench_csv  # not at the top: workers import this module for every cell

    return _bench_csv.time_columns(pool, sizes)


def _check(condition, message):
    if not condition:
        raise AssertionError(message)


# name: (title, timer, unit, how the ratio is taken)
WORKLOADS = {
    "cold-start": ("cold start: pool of {workers} constructed, first result of a trivial task",
                   None, "ms", "process-fork"),
    "tiny-submit": ("tiny task: {tiny:,} x identity(i), submit all then result all",
                    _time_tiny_submit, "us/task", "thread"),
    "tiny-map": ("tiny task: {tiny:,} x identity(i) through map (default chunksize)",
                 _time_tiny_map, "us/task", "thread"),
    "cpu-fib": ("CPU: {fib_tasks} x fib({fib}), naive recursive", _time_fib, "s", "speed-up"),
    "result-bytes": ("big result: one task returning {big_mib} MiB bytes",
                     _result_timer(make_bytes), "ms", "serial"),
    "result-bytearray": ("big result: {big_mib} MiB bytearray", _result_timer(make_bytearray),
                         "ms", "serial"),
    "result-memoryview": ("big result: {big_mib} MiB memoryview (over a bytearray)",
                          _result_timer(make_memoryview), "ms", "serial"),
    "result-array": ("big result: {big_mib} MiB array.array('d')", _result_timer(make_array),
                     "ms", "serial"),
    "arg-bytes": ("big argument: build {big_mib} MiB bytes, pass it, get its length",
                  _time_argument, "ms", "serial"),
    "csv-columns": ("many objects: {csv_files} CSV files of {csv_rows:,} rows parsed with csv "
                    "into {{column: values}}, results kept", _time_csv, "s",
                    "speed-up"),
}


def _warm(pool, workers):
    """Makes every worker exist and answer (pools start workers lazily), before any timing."""
    if pool is None:
        return
    for future in [pool.submit(pause, 0.05) for _ in range(workers)]:
        future.result()
    list(pool.map(identity, range(4 * workers)))


def _cold_start(factory, workers):
    start = time.perf_counter()
    pool = factory(workers)
    value = identity(0) if pool is None else pool.submit(identity, 0).result()
    first = time.perf_counter() - start
    if pool is not None:
        pool.shutdown(wait=True)
    _check(value == 0, "wrong first result")
    return {"seconds": first, "with_shutdown": time.perf_counter() - start}


def measure_one(executor, workload, workers, quick):
    """Runs one executor x workload in this (fresh) process; returns the record sent back."""
    sizes = QUICK_SIZES if quick else FULL_SIZES
    start = time.perf_counter()
    factory, reason = executor_factory(executor)
    imports = time.perf_counter() - start
    if factory is None:
        return {"status": "n/a", "reason": reason}
    if workload == "cold-start":
        return {"status": "ok", "imports": imports, **_cold_start(factory, workers)}
    timer = WORKLOADS[workload][1]
    tree = ProcessTree()
    pool = factory(workers)
    try:
        _warm(pool, workers)
        tree.start()
        seconds, keep = timer(pool, sizes)
        memory = tree.peak()
        del keep
        if isinstance(seconds, tuple):
            seconds, memory["cross_seconds"] = seconds
        elif workload.startswith("result-"):
            kind = workload.split("-", 1)[1]
            try:
                memory["cross_seconds"] = _time_crossing(pool, workers, kind, sizes["big"])
            except Exception as error:  # noqa: BLE001 - the main figure still stands
                memory["cross_error"] = f"{type(error).__name__}: {error}"[:200]
        elif workload == "csv-columns" and pool is not None:
            from pergil import _bench_csv

            pool.shutdown(wait=True)
            pool = None
            memory.update(_bench_csv.transfer_share(factory, sizes))
    finally:
        if workload == "csv-columns":
            from pergil import _bench_csv

            _bench_csv.remove_files()
        if pool is not None:
            pool.shutdown(wait=True)
    return {"status": "ok", "seconds": seconds, **memory}


def _child(executor, workload, workers, quick):
    import json
    import traceback

    try:
        record = measure_one(executor, workload, workers, quick)
    except BaseException as error:  # noqa: BLE001 - reported as this cell's result
        traceback.print_exc()
        text = f"{type(error).__name__}: {error}".splitlines()[0]
        record = {"status": "error", "reason": text[:200]}
    sys.stdout.flush()
    print(RESULT_MARK + json.dumps(record), flush=True)
    return 0


# ---- the parent: one fresh subprocess per cell, interleaved rounds ----

def run_cell(executor, workload, workers, quick, timeout):
    """Runs one cell in a fresh ``python -m pergil._bench --one`` process, in its own process
    group so that a stuck peer (and its pool's processes) can be killed whole."""
    command = [sys.executable, "-m", "pergil._bench", "--one", executor, workload,
               "--workers", str(workers)] + (["--quick"] if quick else [])
    return run_child(command, timeout, RESULT_MARK)


def run(workers=2, rounds=5, quick=False, executors=EXECUTORS, workloads=tuple(WORKLOADS),
        timeout=None, log=None):
    """Runs the benchmark; returns the results that ``render`` turns into text. Each round
    takes every workload in turn and runs it on every executor, starting one executor later
    each round, so that drifting machine load touches all executors alike. A cell that fails
    or times out is not run again in later rounds."""
    import platform

    timeout = timeout or (60 if quick else 240)
    load_at_start = _loadavg()
    skipped = {name: hint for name in executors if (hint := missing_peer(name)) is not None}
    executors = tuple(name for name in executors if name not in skipped)
    cells = {(e, w): {"samples": [], "failure": None} for e in executors for w in workloads}
    for round_index in range(rounds):
        shift = round_index % len(executors)
        for workload in workloads:
            for executor in executors[shift:] + executors[:shift]:
                cell = cells[(executor, workload)]
                if cell["failure"] is not None:
                    continue
                record = run_cell(executor, workload, workers, quick, timeout)
                record["round"] = round_index
                if record["status"] == "ok":
                    cell["samples"].append(record)
                else:
                    cell["failure"] = record
                if log is not None:
                    outcome = (seconds_text(record["seconds"]) if "seconds" in record
                               else record.get("reason", ""))
                    log(f"round {round_index + 1}/{rounds} {workload:17} {executor:13} "
                        f"{record['status']} {outcome}")
    labels = {name: executor_label(name) for name in executors}
    machine = {"nproc": os.cpu_count(), "python": platform.python_version(),
               "implementation": platform.python_implementation(),
               "platform": platform.platform(terse=True), "loadavg": load_at_start,
               "loadavg_end": _loadavg()}
    return {"workers": workers, "rounds": rounds, "quick": quick, "executors": list(executors),
            "workloads": list(workloads), "labels": labels, "machine": machine, "cells": cells,
            "skipped": skipped,
            "sizes": QUICK_SIZES if quick else FULL_SIZES}


def _loadavg():
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


def table(workers=2, rounds=5, quick=False, executors=EXECUTORS, workloads=tuple(WORKLOADS),
          timeout=None, log=None):
    """Runs the benchmark and returns its report (tables, Markdown summary) as text."""
    from pergil import _bench_report

    return _bench_report.render(run(workers, rounds, quick, executors, workloads, timeout, log))


def main(argv=None):
    """Command line (``pergil bench``): the benchmark, or one cell of it (``--one``)."""
    from pergil import _bench_report

    options = _bench_report.parse_arguments(argv)
    if options.one:
        return _child(options.one[0], options.one[1], options.workers, options.quick)
    return _bench_report.main(options)


if __name__ == "__main__":
    from pergil import _bench  # the workload functions then pickle as pergil._bench.X

    sys.exit(_bench.main())
