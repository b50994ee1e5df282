"""_cli_info.py: ``pergil info``: the Python, the CPUs, and which standard-library extension
modules import in an own-GIL worker, found by importing each one there; ``pergil info MODULE``:
whether the named modules do."""

import os
import re
import sys
import textwrap

import pergil
from pergil._cli_worker import REFUSAL, describe, import_problem, try_import
from pergil._executor import _usable_cpu_count

# ---- pergil info ----

def extension_module_names():
    """The standard library's extension modules on this Python: names of sys.stdlib_module_names
    whose module is built into the interpreter or is a compiled extension file."""
    from importlib.machinery import BuiltinImporter, ExtensionFileLoader
    from importlib.util import find_spec

    names = []
    for name in sorted(sys.stdlib_module_names):
        try:
            spec = find_spec(name)
        except (ImportError, ValueError):
            continue
        if spec is not None and isinstance(spec.loader, ExtensionFileLoader):
            names.append(name)
        elif spec is not None and spec.loader is BuiltinImporter:
            names.append(name)
    return names


def probe_extension_modules(workers):
    """Imports each standard-library extension module in the main interpreter, then in an
    own-GIL worker (one task each). Returns {"loads": [...], "refused": {name: reason},
    "fails": {...}, "unavailable": {...}}: refused = the module declines sub-interpreters;
    fails = it imports in main but raises in a worker; unavailable = it does not import in
    main either (not tried in a worker).

    Main first, as a real program would: on 3.12.1 a first import of some modules in a
    sub-interpreter corrupts the heap (``_asyncio``: abort at exit, gh-119213; ``_zoneinfo``
    and ``_datetime`` in two workers at once: double free)."""
    report = {"loads": [], "refused": {}, "fails": {}, "unavailable": {}}
    names = []
    for name in extension_module_names():
        reason = try_import(name)
        if reason is None:
            names.append(name)
        else:
            report["unavailable"][name] = reason
    with pergil.InterpreterPoolExecutor(workers) as executor:
        futures = [executor.submit(try_import, name) for name in names]
        reasons = [future.result() for future in futures]
    for name, reason in zip(names, reasons):
        if reason is None:
            report["loads"].append(name)
        else:
            report["refused" if REFUSAL in reason else "fails"][name] = reason
    return report


# CPython gh-119213 (3.12.0-3.12.3): hashlib's keyword calls made first in a sub-interpreter
# abort the process at exit. Tried in two child processes: a bare sub-interpreter (CPython's
# own _xxsubinterpreters, no pergil), and a pergil worker, after pergil's warm-up.
_HASHLIB_CALLS = ("import hashlib, hmac; hashlib.blake2b(b'x', digest_size=16); "
                  "hmac.new(b'k', b'm', 'sha256').digest()")
_HASHLIB_BARE = ("import _xxsubinterpreters as i; n = i.create(); "
                 f"i.run_string(n, {_HASHLIB_CALLS!r}); i.destroy(n)")
_HASHLIB_PERGIL = ("import pergil\nwith pergil.InterpreterPoolExecutor(1) as ex:\n"
                   f"    ex.submit(exec, {_HASHLIB_CALLS!r}).result()")


def probe_hashlib_at_exit():
    """{"bare sub-interpreter": outcome, "pergil worker": outcome} on the Pythons that have
    gh-119213, else None. An outcome is "exits cleanly" or how the process ended."""
    import subprocess

    from pergil._executor import GH_119213

    if not GH_119213:
        return None
    found = {}
    tries = (("bare sub-interpreter", _HASHLIB_BARE), ("pergil worker", _HASHLIB_PERGIL))
    for label, code in tries:
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              timeout=120)
        last = (proc.stderr.strip().splitlines() or [""])[-1][:100]
        found[label] = ("exits cleanly" if proc.returncode == 0 and not proc.stderr.strip()
                        else f"exit status {proc.returncode}: {last}")
    return found


def gather_info():
    """The report of ``pergil info`` as plain data (its --json output)."""
    import platform
    import sysconfig

    info = {
        "pergil": pergil.__version__,
        "python": {
            "version": platform.python_version(),
            "implementation": platform.python_implementation(),
            "executable": sys.executable,
            "free_threaded": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
        },
        "cpus": {"usable": _usable_cpu_count(), "total": os.cpu_count()},
        "default_workers": _usable_cpu_count(),  # what InterpreterPoolExecutor() uses
    }
    try:
        report = probe_extension_modules(_usable_cpu_count())
    except Exception as error:  # noqa: BLE001 - no worker could start: say why
        info["own_gil_subinterpreters"] = False
        info["reason"] = describe(error)
        return info
    info["own_gil_subinterpreters"] = True
    info["extension_modules"] = report
    hashlib_at_exit = probe_hashlib_at_exit()
    if hashlib_at_exit is not None:
        info["hashlib_at_exit"] = hashlib_at_exit
    return info


def print_info(info):
    """The report for a person: one fact a line, module names wrapped."""
    python = info["python"]
    print(f"pergil {info['pergil']}")
    print(f"Python {python['version']} ({python['implementation']}"
          f"{', free-threaded' if python['free_threaded'] else ''}) {python['executable']}")
    supported = info["own_gil_subinterpreters"]
    print(f"own-GIL sub-interpreters: {'supported' if supported else 'NOT supported'}"
          + ("" if supported else f" ({info['reason']})"))
    print(f"usable CPUs: {info['cpus']['usable']} of {info['cpus']['total']} "
          f"(default worker count: {info['default_workers']})")
    if not supported:
        return
    report = info["extension_modules"]
    tried = len(report["loads"]) + sum(len(report[k]) for k in ("refused", "fails", "unavailable"))
    print(f"standard-library extension modules in an own-GIL worker ({tried} tried, each "
          "imported in a worker):")
    print(f"  load ({len(report['loads'])}):")
    for line in textwrap.wrap(" ".join(report["loads"]), 76):
        print("    " + line)
    if report["refused"]:
        print(f"  refused: not isolated, import them in the main interpreter "
              f"({len(report['refused'])}):")
        for line in textwrap.wrap(" ".join(report["refused"]), 76):
            print("    " + line)
    if "hashlib_at_exit" in info:
        print("hashlib's keyword calls in a sub-interpreter (CPython gh-119213, 3.12.0-3.12.3; "
              "pergil makes them in the main interpreter first):")
        for label, outcome in info["hashlib_at_exit"].items():
            print(f"  {label}: {outcome}")
    titles = {"fails": "import in main, fail in a worker",
              "unavailable": "do not import in main either (not tried in a worker)"}
    for key, title in titles.items():
        if report[key]:
            print(f"  {title} ({len(report[key])}):")
            for name, reason in report[key].items():
                print(f"    {name}: {reason.splitlines()[0][:100]}")


# ---- pergil info MODULE [MODULE ...] ----

_REFUSED_NAME = re.compile(r"module (\S+) " + re.escape(REFUSAL))


def probe_modules(names, workers):
    """Imports each named module in the main interpreter, then, if that worked, in an own-GIL
    worker (main first, as a program would: see probe_extension_modules). Returns {name:
    {"main": bool, "worker": bool, "reason": str or None}} in the order given; "worker" is
    False (not tried) when the module does not import in main."""
    report = {}
    for name in names:
        reason = import_problem(name)
        report[name] = {"main": reason is None, "worker": False, "reason": reason}
    tried = [name for name in report if report[name]["main"]]
    if tried:
        with pergil.InterpreterPoolExecutor(min(workers, len(tried))) as executor:
            futures = {name: executor.submit(import_problem, name) for name in tried}
            for name, future in futures.items():
                reason = future.result()
                report[name].update(worker=reason is None, reason=reason)
    return report


def module_line(name, entry):
    """One line: whether ``name`` imports in a worker on this Python, and if not, why."""
    if entry["worker"]:
        return f"{name}: imports in a worker"
    reason = entry["reason"]
    if not entry["main"]:
        if reason.startswith("ModuleNotFoundError"):
            return f"{name}: not found on this Python ({reason})"
        return f"{name}: fails to import in the main interpreter too ({reason})"
    refused = _REFUSED_NAME.search(reason)
    if refused:
        culprit = refused.group(1)
        which = "it is" if culprit == name else f"it needs {culprit}, which is"
        return (f"{name}: refused in a worker: {which} an extension module without own-GIL "
                "sub-interpreter support; import it in the main interpreter and send workers "
                "plain data")
    return f"{name}: imports in the main interpreter but fails in a worker ({reason})"


def command_modules(names, as_json, workers):
    """``pergil info MODULE ...``: prints one line per module (or JSON); returns 0 if every
    module imports in a worker, else 1."""
    import json
    import platform

    report = probe_modules(names, workers)
    if as_json:
        print(json.dumps({"python": platform.python_version(), "modules": report}, indent=2))
    else:
        for name, entry in report.items():
            print(module_line(name, entry))
    return 0 if all(entry["worker"] for entry in report.values()) else 1
