#!/usr/bin/env python3
"""dask_cluster.py: a Dask LocalCluster on threads, on processes and on pergil, side by side.

    python bench/dask_cluster.py [--rounds R] [--tasks N] [--n FIB] [--quick] [--json PATH]

Three clusters on this machine, each with 2 cores' worth of workers on loopback:
``threads`` (one worker of 2 threads: Dask's default executor), ``processes`` (2 worker
processes of 1 thread) and ``pergil`` (one worker of 2 threads with pergil.dask's
InterpreterPlugin, 2 own-GIL workers). Each run computes N x fib(FIB) (32 x fib(27) by
default) in a fresh subprocess; rounds interleave the clusters. Reports medians of the compute
time (cluster start excluded), the speed-up over ``threads``, the CPU time the worker
processes spent in it (user + system; a check on the wall times on a loaded machine), and the
peak RSS of the cluster's
processes (the worker processes summed, sampled every 10 ms; and with the process holding
the scheduler and nannies). ``--quick`` (CI) runs 1 round of 8 x fib(24) and exits 0 when
every cluster returned the right results. Needs ``pip install ".[dask]"``.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time

CLUSTERS = {  # name: (worker processes, threads per worker, pergil workers per worker)
    "threads": (1, 2, 0),
    "processes": (2, 1, 0),
    "pergil": (1, 2, 2),
}


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


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


def run_one(name, tasks, n):
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
        client.gather(client.map(fib, [15] * (2 * threads * worker_processes), pure=False))
        cpu_before = _cpu_seconds(pids)
        start = time.perf_counter()
        results = client.gather(client.map(fib, [n] * tasks, pure=False))
        seconds = time.perf_counter() - start
        cpu = _cpu_seconds(pids) - cpu_before
        ok = results == [fib(n)] * tasks if n <= 25 else len(set(results)) == 1 and (
            len(results) == tasks)
        return {"cluster": name, "seconds": seconds, "ok": ok, "cpu": cpu,
                "workers_rss": workers_rss.stop(), "total_rss": total_rss.stop()}


def run_in_subprocess(name, tasks, n, timeout):
    command = [sys.executable, os.path.abspath(__file__), "--one", name, "--tasks", str(tasks),
               "--n", str(n)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"cluster": name, "error": f"timeout after {timeout} s"}
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        return {"cluster": name, "error": f"exit {done.returncode}: {done.stderr[-800:]}"}
    return json.loads(lines[-1])


def report(samples, tasks, n, rounds):
    mib = 1024 * 1024
    rows, base = [], None
    for name in CLUSTERS:
        runs = [s for s in samples if s["cluster"] == name and "error" not in s]
        if not runs:
            errors = [s["error"] for s in samples if s["cluster"] == name]
            rows.append(f"| {name} | error: {errors[:1]} | | | | |")
            continue
        seconds = statistics.median(r["seconds"] for r in runs)
        base = base or (seconds if name == "threads" else None)
        speedup = f"{base / seconds:.2f}x" if base else "n/a"
        cpu = statistics.median(r["cpu"] for r in runs)
        workers = statistics.median(r["workers_rss"] for r in runs) / mib
        total = statistics.median(r["total_rss"] for r in runs) / mib
        rows.append(f"| {name} | {seconds:.2f} s | {speedup} | {cpu:.2f} s | {workers:.0f} MiB | "
                    f"{total:.0f} MiB |")
    load = os.getloadavg()
    print(f"{tasks} x fib({n}), {rounds} round(s), medians; CPUs {os.cpu_count()}, "
          f"Python {sys.version.split()[0]}, load average {load[0]:.1f} at the end")
    print("| cluster | compute time | speed-up over threads | CPU time of the workers |"
          " peak RSS, worker processes | peak RSS, with the scheduler's process |")
    print("|---|---|---|---|---|---|")
    print("\n".join(rows))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tasks", type=int, default=32)
    parser.add_argument("--n", type=int, default=27, help="fib argument")
    parser.add_argument("--quick", action="store_true", help="CI: 1 round of 8 x fib(24)")
    parser.add_argument("--timeout", type=float, default=300, help="seconds per run")
    parser.add_argument("--json", help="write the raw samples here")
    parser.add_argument("--one", choices=sorted(CLUSTERS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(run_one(args.one, args.tasks, args.n)))
        return 0
    if args.quick:
        args.rounds, args.tasks, args.n, args.timeout = 1, 8, 24, 120
    print(f"load average at the start: {os.getloadavg()[0]:.1f}", file=sys.stderr)
    samples = []
    for round_index in range(args.rounds):
        for name in CLUSTERS:
            print(f"round {round_index + 1}/{args.rounds}: {name}", file=sys.stderr)
            samples.append(run_in_subprocess(name, args.tasks, args.n, args.timeout))
    report(samples, args.tasks, args.n, args.rounds)
    if args.json:
        with open(args.json, "w") as out:
            json.dump(samples, out, indent=1)
    failed = [s for s in samples if "error" in s or not s.get("ok")]
    for sample in failed:
        print(f"{sample['cluster']}: {sample.get('error', 'wrong results')}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
