#!/usr/bin/env python3
"""dask_cluster.py: a Dask LocalCluster on threads, on processes and on pergil, side by side.

    python bench/dask_cluster.py [--rounds R] [--tasks N] [--n FIB] [--rows R]
                                 [--startable-files F] [--startable-rows S]
                                 [--workloads fib,csv,startable] [--quick] [--json PATH]

Three clusters on this machine, each with 2 cores' worth of workers on loopback:
``threads`` (one worker of 2 threads: Dask's default executor), ``processes`` (2 worker
processes of 1 thread) and ``pergil`` (one worker of 2 threads with pergil.dask's
InterpreterPlugin, 2 own-GIL workers). Workloads: N x fib(FIB) (32 x fib(27)); loading N
CSV files of R rows (32 x 20,000) into typed columns with the csv module (pure Python, one
file per task); and pergil.tables' table loading: F StarTable CSV files of S rows in 4 tables
(16 x 25,000, as bench/tables.py's set) read by load_startables' worker reader, whose block
entries go back to the client packed as load_startables packs them. Each run is a fresh subprocess; rounds interleave the clusters.
Reports medians of the compute time (cluster start and a first call of the function on every
worker excluded), the speed-up over ``threads``, the CPU time the worker processes spent in it
(user + system; a check on the wall times on a loaded machine), and the peak RSS of the
cluster's processes (the worker processes summed, sampled every 10 ms; and with the process
holding the scheduler and nannies). ``--quick`` (CI) runs 1 round of 8 x fib(24), 8 files of
2,000 rows and 4 StarTable files of 1,000 rows, and exits 0 when every cluster returned the
right results. Needs ``pip install ".[dask]"``.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import table_data  # bench/table_data.py, beside this script

CLUSTERS = {  # name: (worker processes, threads per worker, pergil workers per worker)
    "threads": (1, 2, 0),
    "processes": (2, 1, 0),
    "pergil": (1, 2, 2),
}


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def write_csv(path, rows, seed):
    """A CSV table file: id, name, quantity, price."""
    import csv

    with open(path, "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["id", "name", "quantity", "price"])
        for i in range(rows):
            writer.writerow([i, f"item-{(i * seed) % 97}", (i * 7 + seed) % 50,
                             f"{(i % 13) * 1.25:.2f}"])


def load_csv(path):
    """Table loading in pure Python: a CSV file into typed columns, and a summary of them."""
    import csv

    ids, names, quantities, prices = [], [], [], []
    with open(path, newline="") as source:
        reader = csv.reader(source)
        next(reader)
        for row in reader:
            ids.append(int(row[0]))
            names.append(row[1])
            quantities.append(int(row[2]))
            prices.append(float(row[3]))
    return len(ids), round(sum(q * p for q, p in zip(quantities, prices)), 2)


def read_startable(path):
    """pergil.tables' table loading: one StarTable CSV file read into the block entries that
    load_startables assembles into pdtable objects (pure Python, the same code on every
    cluster), packed as load_startables' workers pack them: one pickle stream per block, so
    the result is a few bytes objects for Dask to move, not thousands of objects to walk."""
    from pergil.tables._startable_worker import read_startable_file_packed

    return read_startable_file_packed(path, "csv", ";", None, True)


class PeakRss:
    """Samples the summed RSS of some processes every 10 ms on a thread; keeps the peak."""

    def __init__(self, pids):
        import psutil

        self.processes = [psutil.Process(pid) for pid in pids]
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self):
        while not self._stop.is_set():
            total = 0
            for process in self.processes:
                try:
                    total += process.memory_info().rss
                except Exception:  # noqa: BLE001 - a process that ended counts as 0
                    pass
            self.peak = max(self.peak, total)
            self._stop.wait(0.01)

    def stop(self):
        self._stop.set()
        self._thread.join()
        return self.peak


def _cpu_seconds(pids):
    import psutil

    total = 0.0
    for pid in pids:
        times = psutil.Process(pid).cpu_times()
        total += times.user + times.system
    return total


def run_one(name, workload, tasks, n, csv_dir):
    """One cluster, one measured computation, in this (fresh) process: a dict of figures."""
    from distributed import Client, LocalCluster

    worker_processes, threads, pergil_workers = CLUSTERS[name]
    with LocalCluster(n_workers=worker_processes, threads_per_worker=threads, processes=True,
                      host="127.0.0.1", dashboard_address="127.0.0.1:0",
                      worker_dashboard_address="127.0.0.1:0") as cluster, \
            Client(cluster) as client:
        pids = list(client.run(os.getpid).values())
        workers_rss = PeakRss(pids)
        total_rss = PeakRss([os.getpid(), *pids])
        if pergil_workers:
            import pergil.dask

            client.register_plugin(pergil.dask.InterpreterPlugin(workers=pergil_workers))
        if workload == "fib":
            function, inputs = fib, [n] * tasks
            warm_up = [15] * (2 * threads * worker_processes)
        else:
            function = load_csv if workload == "csv" else read_startable
            folder = os.path.join(csv_dir, workload)
            inputs = [os.path.join(folder, f"{i}.csv") for i in range(tasks)]
            warm_up = inputs[:2 * threads * worker_processes]
        # Every worker (process, or pergil interpreter) runs the function once first: its
        # imports and first-call costs are start-up, like the cluster's start.
        client.gather(client.map(function, warm_up, pure=False))
        cpu_before = _cpu_seconds(pids)
        start = time.perf_counter()
        results = client.gather(client.map(function, inputs, pure=False))
        seconds = time.perf_counter() - start
        cpu = _cpu_seconds(pids) - cpu_before
        if workload == "fib":
            ok = results == [fib(n)] * tasks if n <= 25 else len(set(results)) == 1 and (
                len(results) == tasks)
        elif workload == "csv":  # every file has n rows
            ok = len(results) == tasks and all(rows == n for rows, _ in results)
        else:  # one entry (no sheet) of 4 tables and their metadata per file
            ok = len(results) == tasks and all(len(r) == 1 and len(r[0][1]) >= 4 for r in results)
        return {"cluster": name, "workload": workload, "seconds": seconds, "ok": ok, "cpu": cpu,
                "workers_rss": workers_rss.stop(), "total_rss": total_rss.stop()}


def run_in_subprocess(name, workload, tasks, n, csv_dir, timeout):
    command = [sys.executable, os.path.abspath(__file__), "--one", name, "--workloads", workload,
               "--tasks", str(tasks), "--n", str(n), "--rows", str(n), "--csv-dir", csv_dir]
    failed = {"cluster": name, "workload": workload}
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return dict(failed, error=f"timeout after {timeout} s")
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        return dict(failed, error=f"exit {done.returncode}: {done.stderr[-800:]}")
    return json.loads(lines[-1])


WORKLOADS = ("fib", "csv", "startable")


def describe(workload, tasks, size):
    if workload == "fib":
        return f"{tasks} x fib({size})"
    if workload == "csv":
        return f"{tasks} CSV files of {size} rows loaded (csv module)"
    return f"{tasks} StarTable CSV files of {size} rows read (pergil.tables' worker reader)"


def report(samples, plan, rounds):
    mib = 1024 * 1024
    print(f"{rounds} round(s), medians; CPUs {os.cpu_count()}, Python "
          f"{sys.version.split()[0]}, load average {os.getloadavg()[0]:.1f} at the end")
    print("| workload | cluster | compute time | speed-up over threads | CPU time of the workers |"
          " peak RSS, worker processes | peak RSS, with the scheduler's process |")
    print("|---|---|---|---|---|---|---|")
    for workload, (tasks, size) in plan.items():
        base = None
        for name in CLUSTERS:
            label = describe(workload, tasks, size)
            runs = [s for s in samples if s["cluster"] == name and s["workload"] == workload
                    and "error" not in s]
            if not runs:
                errors = [s.get("error") for s in samples
                          if s["cluster"] == name and s["workload"] == workload]
                print(f"| {label} | {name} | error: {errors[:1]} | | | | |")
                continue
            seconds = statistics.median(r["seconds"] for r in runs)
            base = base or (seconds if name == "threads" else None)
            speedup = f"{base / seconds:.2f}x" if base else "n/a"
            cpu = statistics.median(r["cpu"] for r in runs)
            workers = statistics.median(r["workers_rss"] for r in runs) / mib
            total = statistics.median(r["total_rss"] for r in runs) / mib
            print(f"| {label} | {name} | {seconds:.2f} s | {speedup} | {cpu:.2f} s | "
                  f"{workers:.0f} MiB | {total:.0f} MiB |")


def write_inputs(folder, plan):
    """The input files of the file workloads in ``plan``, under folder/<workload>/<i>.csv."""
    for workload, (tasks, rows) in plan.items():
        if workload == "fib":
            continue
        os.makedirs(os.path.join(folder, workload))
        for i in range(tasks):
            path = os.path.join(folder, workload, f"{i}.csv")
            if workload == "csv":
                write_csv(path, rows, i + 1)
            else:  # as bench/tables.py's StarTable CSV set: a datetime on every 50th row
                table_data.write_startable_csv(path, rows, seed=i, datetime_every=50)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tasks", type=int, default=32, help="tasks (CSV files) per run")
    parser.add_argument("--n", type=int, default=27, help="fib argument")
    parser.add_argument("--rows", type=int, default=20000, help="rows per CSV file")
    parser.add_argument("--startable-files", type=int, default=16,
                        help="StarTable CSV files (tasks) per run")
    parser.add_argument("--startable-rows", type=int, default=25000,
                        help="rows per StarTable file, in 4 tables")
    parser.add_argument("--workloads", default=",".join(WORKLOADS),
                        help=f"comma-separated, of {', '.join(WORKLOADS)}")
    parser.add_argument("--quick", action="store_true",
                        help="CI: 1 round of 8 x fib(24), 8 files of 2000 rows and 4 StarTable "
                             "files of 1000 rows")
    parser.add_argument("--timeout", type=float, default=300, help="seconds per run")
    parser.add_argument("--json", help="write the raw samples here")
    parser.add_argument("--csv-dir", help=argparse.SUPPRESS)
    parser.add_argument("--one", choices=sorted(CLUSTERS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    workloads = [w for w in args.workloads.split(",") if w]
    if any(w not in WORKLOADS for w in workloads):
        parser.error(f"--workloads: each of {', '.join(WORKLOADS)}")
    if args.one:
        size = args.n if workloads[0] == "fib" else args.rows
        print(json.dumps(run_one(args.one, workloads[0], args.tasks, size, args.csv_dir)))
        return 0
    if args.quick:
        args.rounds, args.tasks, args.n, args.rows, args.timeout = 1, 8, 24, 2000, 120
        args.startable_files, args.startable_rows = 4, 1000
    plan = {"fib": (args.tasks, args.n), "csv": (args.tasks, args.rows),
            "startable": (args.startable_files, args.startable_rows)}
    plan = {w: plan[w] for w in workloads}  # workload: (tasks, size)
    print(f"load average at the start: {os.getloadavg()[0]:.1f}", file=sys.stderr)
    samples = []
    with tempfile.TemporaryDirectory(prefix="pergil-dask-bench-") as csv_dir:
        write_inputs(csv_dir, plan)
        for round_index in range(args.rounds):
            for workload in workloads:
                for name in CLUSTERS:
                    print(f"round {round_index + 1}/{args.rounds}: {workload} on {name}",
                          file=sys.stderr)
                    tasks, size = plan[workload]
                    samples.append(run_in_subprocess(name, workload, tasks, size, csv_dir,
                                                     args.timeout))
    report(samples, plan, args.rounds)
    if args.json:
        with open(args.json, "w") as out:
            json.dump(samples, out, indent=1)
    failed = [s for s in samples if "error" in s or not s.get("ok")]
    for sample in failed:
        print(f"{sample['workload']} on {sample['cluster']}: "
              f"{sample.get('error', 'wrong results')}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
