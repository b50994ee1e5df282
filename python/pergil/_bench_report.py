"""_bench_report.py: the executor benchmark's command line and text: a compact table (the
default), or with --full per-workload tables, the Markdown summary for the README, and pergil's
figures against the targets of issues 4 and 11."""

import argparse
import statistics
import sys

from pergil._bench import EXECUTORS, WORKLOADS, run
from pergil._bench_figures import figure

SUMMARY_ROWS = (  # (workload, what the row shows, how a cell is written)
    ("cold-start", "pool of {workers} constructed, first result", "value"),
    ("cold-start", "the same, with the executor's imports", "imports"),
    ("tiny-submit", "tiny task, submit + result (pipelined)", "value"),
    ("tiny-map", "tiny task, map", "value"),
    ("cpu-fib", "{fib_tasks} x fib({fib}), speed-up over serial", "ratio"),
    ("result-bytes", "{big_mib} MiB bytes result, time / serial's", "ratio"),
    ("result-bytearray", "{big_mib} MiB bytearray result, time / serial's", "ratio"),
    ("result-memoryview", "{big_mib} MiB memoryview result, time / serial's", "ratio"),
    ("result-array", "{big_mib} MiB array.array result, time / serial's", "ratio"),
    ("arg-bytes", "{big_mib} MiB bytes argument, time / serial's", "ratio"),
    ("result-memoryview", "{big_mib} MiB memoryview already built in a worker, to the caller",
     "cross"),
    ("result-bytes", "{big_mib} MiB bytes already built in a worker, to the caller", "cross"),
    ("arg-bytes", "{big_mib} MiB bytes argument already built, to the task's result", "cross"),
    ("cpu-fib", "peak RSS of the process tree (x serial), +MiB: fib run", "memory"),
    ("result-bytes", "peak RSS (x serial), +MiB: {big_mib} MiB bytes result run", "memory"),
    ("result-memoryview", "peak RSS (x serial), +MiB: {big_mib} MiB memoryview result run",
     "memory"),
    ("csv-columns", "{csv_files} CSV files ({csv_rows:,} rows) into dicts of lists, speed-up "
     "over serial", "ratio"),
    ("csv-columns", "the same, 1 worker: moving the result, % of the task's own time (wall, "
     "CPU)", "transfer"),
    ("csv-columns", "peak RSS (x serial), +MiB: CSV run", "memory"),
)
UNIT_TEXT = {"ms": "ms", "us/task": "µs", "s": "s"}


def _median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def _scaled(results, workload, seconds):
    unit = WORKLOADS[workload][2]
    if unit == "us/task":
        return seconds * 1e6 / results["sizes"]["tiny"]
    return seconds * 1e3 if unit == "ms" else seconds


def _samples(results, executor, workload, key):
    return [s.get(key) for s in results["cells"][(executor, workload)]["samples"]]


def _ratio(results, executor, workload, key="seconds", reference=None):
    """Median over rounds of this executor's figure over the reference's figure in the same
    round (reference/figure for a speed-up); None without a pair."""
    mode = WORKLOADS[workload][3]
    speedup = mode == "speed-up" and key == "seconds"
    reference = reference or ("serial" if mode == "speed-up" else mode)
    cells = results["cells"]
    if (reference, workload) not in cells:
        return None
    mine = {s["round"]: s.get(key) for s in cells[(executor, workload)]["samples"]}
    theirs = {s["round"]: s.get(key) for s in cells[(reference, workload)]["samples"]}
    pairs = [(mine[r], theirs[r]) for r in mine if mine[r] and theirs.get(r)]
    return _median([t / m if speedup else m / t for m, t in pairs]) if pairs else None


def _fmt_ratio(ratio):
    if ratio is None:
        return "-"
    if ratio >= 100:
        return f"{ratio:,.0f}x"
    return f"{ratio:.2f}x" if ratio >= 0.1 else f"{figure(ratio)}x"


_fmt = figure  # three significant digits, never in exponent notation


def _median_ms(results, executor, workload, key):
    return _median([v * 1e3 for v in _samples(results, executor, workload, key) if v is not None])


def _median_value(results, executor, workload):
    return _median([_scaled(results, workload, s) for s in
                    _samples(results, executor, workload, "seconds")])


def _failure_word(results, executor, workload):
    failure = results["cells"][(executor, workload)]["failure"]
    return None if failure is None else failure["status"]


def _sizes(results):
    sizes = results["sizes"]
    return dict(sizes, workers=results["workers"], big_mib=sizes["big"] >> 20)


def workload_table(results, workload):
    """One workload: median, min-max, ratio and memory (or shutdown time) per executor."""
    title, _, unit, mode = WORKLOADS[workload]
    ratio_name = {"speed-up": "speed-up", "serial": "x serial"}.get(mode, f"x {mode}")
    tail_name = "+shutdown  imports" if workload == "cold-start" else "peak MiB   +MiB"
    if workload.startswith(("result-", "arg-")):
        tail_name += "  cross ms"
    elif workload == "csv-columns":
        tail_name += "  transfer at 1 worker: wall (CPU)"
    lines = [f"{title.format(**_sizes(results))}  [{unit}]",
             f"  {'executor':14}{'median':>10} {'min-max':>20}{ratio_name:>16}  {tail_name}"]
    for executor in results["executors"]:
        cell = results["cells"][(executor, workload)]
        values = [_scaled(results, workload, s["seconds"]) for s in cell["samples"]]
        word = _failure_word(results, executor, workload)
        if not values:
            lines.append(f"  {executor:14}{word:>10}  {cell['failure']['reason']}")
            continue
        ratio_text = _fmt_ratio(_ratio(results, executor, workload))
        if workload == "cold-start":
            tail = "".join(f"{_fmt(_median_ms(results, executor, workload, key)):>9}"
                           for key in ("with_shutdown", "imports"))
        else:
            tail = (f"{_fmt(_median(_samples(results, executor, workload, 'peak_mib'))):>8}"
                    f"  {_fmt(_median(_samples(results, executor, workload, 'delta_mib'))):>5}")
            tail += _cross_text(results, executor, workload)
        note = f"  ({word} in a later round: {cell['failure']['reason']})" if word else ""
        spread = f"{_fmt(min(values))}-{_fmt(max(values))}"
        lines.append(f"  {executor:14}{_fmt(_median(values)):>10} {spread:>20}{ratio_text:>16}"
                     f"  {tail}{note}")
    return "\n".join(lines)


def _cross_text(results, executor, workload):
    """The crossing time (object already built) in ms, or why it is missing; for the CSV
    workload, the transfer's share of the task's own time at 1 worker."""
    if workload == "csv-columns":
        return f"  {_share_text(results, executor, workload):>8}"
    if not workload.startswith(("result-", "arg-")):
        return ""
    cross = _median(_samples(results, executor, workload, "cross_seconds"))
    if cross is not None:
        return f"  {_fmt(cross * 1e3):>8}"
    errors = [e for e in _samples(results, executor, workload, "cross_error") if e]
    return f"  {'error':>8} ({errors[0]})" if errors else ""


def _share_text(results, executor, workload):
    """The transfer's share of the task's time at 1 worker: wall time (CPU time)."""
    wall = _median(_samples(results, executor, workload, "transfer_pct"))
    cpu = _median(_samples(results, executor, workload, "transfer_cpu_pct"))
    if wall is None:
        return "-"
    return f"{wall:.0f} %" + ("" if cpu is None else f" (CPU {cpu:.0f} %)")


def _summary_cell(results, executor, workload, kind, compact=False):
    if (executor, workload) not in results["cells"]:
        return "-"
    word = _failure_word(results, executor, workload)
    value = _median_value(results, executor, workload)
    if value is None:
        return word or "-"
    mark = "*" if word else ""
    if kind == "memory":
        peak = _median(_samples(results, executor, workload, "peak_mib"))
        ratio = _ratio(results, executor, workload, "peak_mib", reference="serial")
        delta = _median(_samples(results, executor, workload, "delta_mib"))
        text = "-" if peak is None else f"{peak:.0f} MiB"
        if ratio is not None and executor != "serial" and not compact:
            text += f" ({ratio:.2f}x)"
        return text + ("" if delta is None else f", +{delta:.0f}")
    if kind == "ratio":
        return _fmt_ratio(_ratio(results, executor, workload)) + mark
    if kind == "imports":
        pairs = zip(_samples(results, executor, workload, "imports"),
                    _samples(results, executor, workload, "seconds"))
        total = _median([(i + s) * 1e3 for i, s in pairs if i is not None])
        return "-" if total is None else f"{_fmt(total)} ms{mark}"
    if kind == "transfer":
        return _share_text(results, executor, workload) + mark
    if kind == "cross":
        cross = _median(_samples(results, executor, workload, "cross_seconds"))
        return "error" if cross is None else f"{_fmt(cross * 1e3)} ms{mark}"
    return f"{_fmt(value)} {UNIT_TEXT[WORKLOADS[workload][2]]}{mark}"


def summary_table(results):
    """The Markdown table for the README: one row per figure, one column per executor."""
    executors = results["executors"]
    sizes = _sizes(results)
    lines = ["| figure | " + " | ".join(executors) + " |",
             "|---|" + "---|" * len(executors)]
    for workload, label, kind in SUMMARY_ROWS:
        if workload not in results["workloads"]:
            continue
        cells = [_summary_cell(results, e, workload, kind) for e in executors]
        lines.append(f"| {label.format(**sizes)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def compact_table(results):
    """The summary as aligned plain text: one row per figure, one column per executor run."""
    executors = results["executors"]
    sizes = _sizes(results)
    rows = [["figure", *executors]]
    for workload, label, kind in SUMMARY_ROWS:
        if workload in results["workloads"]:
            rows.append([label.format(**sizes).replace(" (x serial)", ""),
                         *(_summary_cell(results, e, workload, kind, True) for e in executors)])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip()
             for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def skipped_line(results):
    """One line naming the peers that were not run and how to install them; "" if none."""
    skipped = results.get("skipped") or {}
    if not skipped:
        return ""
    return "skipped (not installed): " + "; ".join(f"{name}: {hint}"
                                                   for name, hint in skipped.items())


def _targets(results):
    """pergil against the targets of issues 4 and 11 (full sizes only): 'met'/'MISSED'."""
    def value(executor, workload):
        return _median_value(results, executor, workload) if (
            executor, workload) in results["cells"] else None

    def cross(workload):
        if ("pergil", workload) not in results["cells"]:
            return None
        seconds = _median(_samples(results, "pergil", workload, "cross_seconds"))
        return None if seconds is None else seconds * 1e3

    def ratio(workload, key="seconds", reference=None):
        if ("pergil", workload) not in results["cells"]:
            return None
        return _ratio(results, "pergil", workload, key, reference)

    def share(workload, key):
        if ("pergil", workload) not in results["cells"]:
            return None
        return _median(_samples(results, "pergil", workload, key))

    checks = [
        ("tiny task submit+result <= 20 µs", value("pergil", "tiny-submit"), 20, "µs"),
        ("cold start <= 0.4x fork ProcessPool", ratio("cold-start"), 0.4, "x"),
        ("8 x fib(30) >= 1.95x serial", ratio("cpu-fib"), -1.95, "x"),
        ("memoryview result crossing < 1 ms", cross("result-memoryview"), 1.0, "ms"),
        ("bytes result <= 1.15x serial", ratio("result-bytes"), 1.15, "x"),
        ("bytes argument <= 1.15x serial", ratio("arg-bytes"), 1.15, "x"),
        ("peak RSS, bytes result <= 1.10x serial",
         ratio("result-bytes", "peak_mib", "serial"), 1.10, "x"),
        ("CSV into dicts of lists >= 1.55x serial", ratio("csv-columns"), -1.55, "x"),
        ("CSV: ahead of process-fork", ratio("csv-columns", reference="process-fork"), -1.0,
         "x"),
        ("CSV: ahead of process-spawn", ratio("csv-columns", reference="process-spawn"), -1.0,
         "x"),
        ("CSV: result transfer <= 15 % of the task", share("csv-columns", "transfer_pct"), 15,
         "%"),
        ("CSV: the same in CPU time", share("csv-columns", "transfer_cpu_pct"), 15, "%"),
    ]
    lines = []
    for name, got, bound, unit in checks:
        if got is None:
            lines.append(f"  {name:42} not measured")
            continue
        met = got >= -bound if bound < 0 else got <= bound
        lines.append(f"  {name:42} {got:.3g} {unit}  {'met' if met else 'MISSED'}")
    return lines


def _busy(machine):
    start, end, cpus = machine["loadavg"], machine.get("loadavg_end"), machine["nproc"] or 1
    return (start or 0) > cpus / 2 or (end or 0) > cpus * 1.5


def _header(results):
    """The full report's header: the run, the machine, each executor, how to read the tables."""
    machine = results["machine"]
    quick = " (--quick sizes)" if results["quick"] else ""
    title = (f"pergil executor benchmark: {results['workers']} workers, {results['rounds']} "
             f"round(s){quick}, interleaved; every executor x workload in a fresh subprocess")
    where = (f"machine: {machine['platform']}, nproc {machine['nproc']}, "
             f"{machine['implementation']} {machine['python']}, load average "
             f"{_fmt(machine['loadavg'])} at start, {_fmt(machine.get('loadavg_end'))} at end")
    lines = [title, where]
    if _busy(machine):
        lines.append(f"WARNING: the machine was busy (load average {_fmt(machine['loadavg'])} -> "
                     f"{_fmt(machine.get('loadavg_end'))} on {machine['nproc']} CPUs): parallel "
                     "speed-ups and times are depressed by other work; rerun on an idle machine "
                     "before publishing these figures")
    if skipped_line(results):
        lines.append(skipped_line(results))
    lines += [f"  {name:14}{label}" for name, label in results["labels"].items()]
    lines.append("ratios: median over rounds of the figure over the reference's in the same "
                 "round. peak MiB: high-water RSS of the cell's process tree during the timed "
                 "work (summed over processes: an upper bound for process pools); +MiB: over "
                 "its RSS just before. Timed work starts with warm pools (cold start aside). cross ms: "
                 "the same object already built in the worker (or the argument already built), "
                 "time to the caller's result: the crossing alone.")
    return lines


def _compact_header(results):
    """The compact report's header: the run and machine in one line, then only what matters."""
    machine = results["machine"]
    quick = ", quick sizes" if results["quick"] else ""
    lines = [f"pergil bench: {results['workers']} workers, {results['rounds']} round(s){quick}; "
             f"{machine['implementation']} {machine['python']}, {machine['nproc']} CPUs, "
             f"load average {_fmt(machine['loadavg'])} -> {_fmt(machine.get('loadavg_end'))}"]
    if _busy(machine):
        lines.append("the machine was busy: times and speed-ups are depressed by other work")
    if skipped_line(results):
        lines.append(skipped_line(results))
    lines.append("medians of the rounds; ratios against the same round's reference; "
                 "* = failed in some round; --full: every table")
    return lines


def render(results, full=False):
    """The report as text: a short header and the compact table; with ``full`` the header's
    legend, one table per workload, the Markdown summary and pergil's targets."""
    if not full:
        return "\n".join(_compact_header(results)) + "\n\n" + compact_table(results) + "\n"
    parts = ["\n".join(_header(results))]
    parts += [workload_table(results, workload) for workload in results["workloads"]]
    parts.append("Summary (Markdown, median of the rounds; * = failed in some round):\n\n"
                 + summary_table(results))
    if not results["quick"] and "pergil" in results["executors"]:
        parts.append("pergil against the targets of issues 4 and 11:\n"
                     + "\n".join(_targets(results)))
    return "\n\n".join(parts) + "\n"


def _names(text, known, what):
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = [name for name in names if name not in known]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown {what} {', '.join(unknown)}; "
                                         f"choose from {', '.join(known)}")
    return names


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(
        prog="pergil bench", description="Serial, threads, processes (fork, spawn), "
        "InterpreterPoolExecutor and pergil side by side: medians and ratios.")
    parser.add_argument("--workers", type=int, default=2, help="pool size (default 2)")
    parser.add_argument("--rounds", type=int, default=None,
                        help="interleaved rounds (default 5, or 1 with --quick)")
    parser.add_argument("--quick", action="store_true",
                        help="smaller sizes, one round: a smoke run for CI")
    parser.add_argument("--executors", type=lambda t: _names(t, EXECUTORS, "executor"),
                        default=EXECUTORS, help="comma-separated subset of " + ",".join(EXECUTORS))
    parser.add_argument("--workloads", type=lambda t: _names(t, tuple(WORKLOADS), "workload"),
                        default=tuple(WORKLOADS), help="comma-separated subset of "
                        + ",".join(WORKLOADS))
    parser.add_argument("--timeout", type=float, default=None,
                        help="seconds one cell may take before it is killed and reported as "
                        "'timeout' (default 240, or 60 with --quick)")
    parser.add_argument("--json", metavar="PATH", help="also write the raw results there")
    parser.add_argument("--full", action="store_true",
                        help="every workload's table (min-max, memory, crossing times), the "
                        "Markdown summary for the README and pergil's targets")
    parser.add_argument("--one", nargs=2, metavar=("EXECUTOR", "WORKLOAD"), help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.workers < 1:
        parser.error("--workers must be at least 1")
    if options.rounds is None:
        options.rounds = 1 if options.quick else 5
    return options


def main(options):
    """Runs the benchmark from parsed options, prints the report; 0 unless serial or pergil
    failed (a peer that fails or hangs is a result, not an error of this run)."""
    results = run(options.workers, options.rounds, options.quick, options.executors,
                  options.workloads, options.timeout,
                  log=lambda line: print(line, file=sys.stderr, flush=True))
    print(render(results, options.full), end="", flush=True)
    if options.json:
        _write_json(results, options.json)
    ours = [cell for (executor, _), cell in results["cells"].items()
            if executor in ("serial", "pergil")]
    return 1 if any(cell["failure"] is not None for cell in ours) else 0


def _write_json(results, path):
    import json

    data = dict(results, cells=[{"executor": e, "workload": w, **cell}
                                for (e, w), cell in results["cells"].items()])
    with open(path, "w") as file:
        json.dump(data, file, indent=1)
