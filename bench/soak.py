"""soak.py: load and soak test of pergil: many tiny tasks through one pool, many pools in a
row, many running tasks cancelled; resident memory, open file descriptors and threads are
measured before and after each part.

Exits 1 if, after a warm-up, RSS grew by more than --rss-tolerance (5 %) plus --rss-slack-mib
(4 MiB) over a part, or if file descriptors or threads are not back to their count at the start of the part. Prints
a table either way. The default sizes fit CI (about a minute on 2 idle cores); --full runs
the sizes of issue 5: 1,000,000 tasks (map), 200,000 tasks (submit), 1,000 pools, 100 cancels.

Pools in a row: CPython 3.12 and 3.13 never give back the memory of an ended own-GIL
interpreter (about 2.6 MiB each; gh-110411, gh-113055: its allocator's arenas are freed only
if no block is left in them, and some always are). That part is therefore judged against
CPython alone: the same number of bare interpreters, doing the same imports and set-up, in a
separate process; pergil's growth may exceed theirs by the same 5 %. --full needs about
2.6 MiB x 2,000 interpreters = 5 GiB of memory for that reason.

The slack is the allocator's noise: the map part's RSS moves by up to +-2 MiB on a 28 MiB
process from run to run with nothing leaking (seen here: -2.2 % to +6.9 %), while a leak of one
small object per task grows it by 30 MiB or more over its 1,000,000 tasks.

    python bench/soak.py            # CI sizes
    python bench/soak.py --full     # full sizes
"""

import argparse
import gc
import os
import sys
import time

CI_SIZES = {"map_tasks": 1_000_000, "submit_tasks": 50_000, "pools": 100, "cancels": 100}
FULL_SIZES = {"map_tasks": 1_000_000, "submit_tasks": 200_000, "pools": 1_000, "cancels": 100}


def tiny(x):
    """The task of the throughput parts: as small as a Python call gets."""
    return x + 1


def spin(started_fd):
    """The task of the cancel part: announces its start, then loops until interrupted."""
    os.write(started_fd, b"s")
    while True:
        pass


# ---- measurements ------------------------------------------------------------------------


def _trim_heap():
    """Returns freed heap pages to the OS (glibc), so that RSS shows memory still in use
    rather than what the allocator keeps cached. A no-op where malloc_trim is missing.
    (ctypes is imported here, not at the top: workers re-run this script to find ``tiny``,
    and 3.12 refuses _ctypes in a sub-interpreter.)"""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    trim = getattr(ctypes.CDLL(name), "malloc_trim", None) if name else None
    if trim is not None:
        trim(0)


def snapshot():
    """(RSS in KiB, open fds, threads) of this process, after a full collection."""
    gc.collect()
    _trim_heap()
    with open("/proc/self/status") as status:
        rss = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
    return rss, len(os.listdir("/proc/self/fd")), len(os.listdir("/proc/self/task"))


class Part:
    """One measured part: counts, seconds, and resources before and after."""

    def __init__(self, name, unit):
        self.name, self.unit = name, unit
        self.count = 0
        self.seconds = 0.0
        self.before = self.after = None
        self.allowed_kib = 0.0  # growth CPython itself causes over this part (see baseline)

    def __enter__(self):
        self.before = snapshot()
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self._start
        self.after = snapshot()
        return False

    def problems(self, tolerance, slack_kib):
        (rss0, fd0, th0), (rss1, fd1, th1) = self.before, self.after
        found = []
        limit = rss0 * (1 + tolerance) + self.allowed_kib * (1 + tolerance) + slack_kib
        if rss1 > limit:
            found.append(f"{self.name}: RSS grew {100 * (rss1 / rss0 - 1):.1f} % "
                         f"({rss0 / 1024:.1f} -> {rss1 / 1024:.1f} MiB, limit "
                         f"{limit / 1024:.1f} MiB)")
        if fd1 != fd0:
            found.append(f"{self.name}: open fds {fd0} -> {fd1}")
        if th1 != th0:
            found.append(f"{self.name}: threads {th0} -> {th1}")
        return found


def print_table(parts, baseline_kib):
    header = (f"{'part':<22} {'count':>10} {'seconds':>8} {'rate /s':>10} {'RSS before':>11} "
              f"{'RSS after':>10} {'growth':>7} {'fds':>7} {'threads':>8}")
    print(header)
    print("-" * len(header))
    for p in parts:
        (rss0, fd0, th0), (rss1, fd1, th1) = p.before, p.after
        rate = p.count / p.seconds if p.seconds else 0.0
        print(f"{p.name:<22} {p.count:>10,} {p.seconds:>8.2f} {rate:>10,.0f} "
              f"{rss0 / 1024:>9.1f}Mi {rss1 / 1024:>8.1f}Mi {100 * (rss1 / rss0 - 1):>6.1f}% "
              f"{fd0:>3}>{fd1:<3} {th0:>3}>{th1:<3}")
    if baseline_kib is not None:
        print(f"(CPython alone keeps {baseline_kib:,.0f} KiB per ended interpreter on this "
              f"Python: the pools part may grow by that, plus the tolerance)")


# ---- the parts ---------------------------------------------------------------------------


def map_tasks(executor, count, chunksize, window=100_000):
    """map() over rounds of ``window`` items: map submits a whole round at once, so rounds
    bound how many results can wait in the caller (and so its peak memory)."""
    total = 0
    for start in range(0, count, window):
        total += sum(executor.map(tiny, range(start, min(start + window, count)),
                                  chunksize=chunksize))
    expected = count * (count + 1) // 2
    if total != expected:
        raise AssertionError(f"map: sum {total} != {expected}")
    return count


def submit_tasks(executor, count, window=500):
    """Submits in windows of ``window`` futures, so the caller never holds them all."""
    done = 0
    while done < count:
        batch = [executor.submit(tiny, i) for i in range(done, min(done + window, count))]
        for i, future in enumerate(batch, start=done):
            if future.result() != i + 1:
                raise AssertionError(f"submit: task {i} returned {future.result()}")
        done += len(batch)
    return count


def pools_in_a_row(pergil, count, workers):
    """abs, a builtin, so that no worker re-runs this script: the part measures pools."""
    for i in range(count):
        with pergil.InterpreterPoolExecutor(max_workers=workers) as executor:
            if executor.submit(abs, -i).result() != i:
                raise AssertionError(f"pool {i}: wrong result")
    return count


_BASELINE = """
import gc, json, os, pickle, sys
try:
    import _interpreters as interpreters
except ImportError:
    import _xxsubinterpreters as interpreters
import ctypes, ctypes.util
trim = getattr(ctypes.CDLL(ctypes.util.find_library("c")), "malloc_trim", lambda pad: 0)
def rss():
    gc.collect(); trim(0)
    with open("/proc/self/status") as status:
        return next(int(l.split()[1]) for l in status if l.startswith("VmRSS:"))
count, path = int(sys.argv[1]), json.loads(sys.argv[2])
setup = pickle.dumps((None, None, None), 5)
code = (f"import sys; sys.path[:] = {path!r}; sys.setswitchinterval(0.001)\\n"
        f"import pergil._worker as w\\nw.setup({setup!r})\\n"
        f"w.run({pickle.dumps((abs, (-1,), {}), 5)!r}, [])")
def one():
    interp = interpreters.create()  # isolated: own GIL and allocator, as pergil's workers
    interpreters.run_string(interp, code)
    interpreters.destroy(interp)
for _ in range(3):
    one()
before = rss()
for _ in range(count):
    one()
print(json.dumps((rss() - before) / count))
"""


def cpython_leak_per_interpreter(count):
    """KiB of RSS that CPython alone keeps per ended own-GIL interpreter, measured in a fresh
    process with bare interpreters doing a pergil worker's imports and set-up; None if this
    Python has no private interpreters module to measure with."""
    import json
    import subprocess

    proc = subprocess.run([sys.executable, "-c", _BASELINE, str(count), json.dumps(sys.path)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"(no CPython baseline: {proc.stderr.strip().splitlines()[-1:]})")
        return None
    return float(proc.stdout)


def cancels_mid_run(executor, count):
    """Each round: a loop starts in a worker, is cancelled, and the pool answers a call."""
    read_fd, write_fd = os.pipe()
    try:
        for i in range(count):
            future = executor.submit(spin, write_fd)
            if os.read(read_fd, 1) != b"s":
                raise AssertionError("the loop did not start")
            if not future.cancel() or not future.cancelled():
                raise AssertionError(f"cancel {i}: the running task was not cancelled")
            if executor.submit(tiny, i).result(timeout=60) != i + 1:
                raise AssertionError(f"cancel {i}: the pool did not serve afterwards")
    finally:
        os.close(read_fd)
        os.close(write_fd)
    return count


# ---- driver ------------------------------------------------------------------------------


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true", help="the full sizes of issue 5")
    parser.add_argument("--workers", type=int, default=None, help="workers per pool (CPUs)")
    parser.add_argument("--map-tasks", type=int, help="tiny tasks through map(chunksize)")
    parser.add_argument("--submit-tasks", type=int, help="tiny tasks through submit()")
    parser.add_argument("--pools", type=int, help="pools created and shut down in a row")
    parser.add_argument("--cancels", type=int, help="running tasks cancelled, one by one")
    parser.add_argument("--chunksize", type=int, default=1_000, help="map chunksize")
    parser.add_argument("--rss-tolerance", type=float, default=0.05,
                        help="allowed RSS growth per part after warm-up (0.05 = 5 %%)")
    parser.add_argument("--rss-slack-mib", type=float, default=4.0,
                        help="allowed RSS growth per part on top of the tolerance: the "
                             "allocator's run-to-run noise (MiB)")
    args = parser.parse_args(argv)
    sizes = FULL_SIZES if args.full else CI_SIZES
    for key, value in sizes.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    return args


def run(args):
    import pergil

    workers = args.workers or len(os.sched_getaffinity(0))
    print(f"pergil soak: Python {sys.version.split()[0]}, {workers} workers per pool, "
          f"{'full' if args.full else 'CI'} sizes")
    parts = []
    with pergil.InterpreterPoolExecutor(max_workers=workers) as executor:
        # Each part runs first unmeasured, at its full size (twice for the throughput parts:
        # the caller's RSS settles during the second pass), right before it is measured, so
        # that imports, caches and the caller's allocator are in that part's steady state.
        # Each warm-up pass ends with a snapshot, as the measured pass does: the heap trim in
        # it changes what the next pass has to fault in again.
        for _ in range(2):
            map_tasks(executor, args.map_tasks, args.chunksize)
            snapshot()
        with Part("map (chunksize)", "tasks") as part:
            part.count = map_tasks(executor, args.map_tasks, args.chunksize)
        parts.append(part)
        for _ in range(2):
            submit_tasks(executor, args.submit_tasks)
            snapshot()
        with Part("submit", "tasks") as part:
            part.count = submit_tasks(executor, args.submit_tasks)
        parts.append(part)
        cancels_mid_run(executor, args.cancels)
        with Part("cancel mid-run", "cancels") as part:
            part.count = cancels_mid_run(executor, args.cancels)
        parts.append(part)
    pools_in_a_row(pergil, max(3, args.pools // 20), workers)  # warm-up of pool churn
    with Part("pools in a row", "pools") as part:
        part.count = pools_in_a_row(pergil, args.pools, workers)
    parts.append(part)
    baseline = cpython_leak_per_interpreter(min(200, args.pools * workers))
    if baseline is not None:
        part.allowed_kib = max(baseline, 0.0) * args.pools * workers
    return parts, baseline


def main(argv=None):
    args = parse_args(argv)
    parts, baseline = run(args)
    print()
    print_table(parts, baseline)
    problems = [p for part in parts for p in part.problems(args.rss_tolerance, args.rss_slack_mib * 1024)]
    print()
    if problems:
        print("FAILED:")
        for problem in problems:
            print(f"  {problem}")
        return 1
    print(f"OK: RSS within {100 * args.rss_tolerance:.0f} % + {args.rss_slack_mib:g} MiB after "
          "warm-up (pools: of what CPython alone keeps); fds and threads back to their start counts after every part")
    return 0


if __name__ == "__main__":
    sys.exit(main())
