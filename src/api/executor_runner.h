// executor_runner.h: the Python code of the kSerial, kThreads and kProcesses pool modes.
#pragma once

namespace pergil::detail {

// Run in a fresh namespace of the main interpreter (which ExecutorPool gives SOURCE, this very
// text). A worker process receives it too, as an argument of builtins.eval: the host program
// needs no importable Python module of pergil's for any mode.
inline constexpr const char* kExecutorRunnerSource = R"PY(
import importlib, os, sys, threading, time, traceback

_functions = {}


def _type_name(kind):
    if kind.__module__ == "builtins":
        return kind.__qualname__
    return f"{kind.__module__}.{kind.__qualname__}"


def _resolve(spec, paths):
    for entry in reversed(paths):
        if entry not in sys.path:
            sys.path.insert(0, entry)
    function = _functions.get(spec)
    if function is None:
        module, _, qualname = spec.partition(":")
        function = importlib.import_module(module)
        for part in qualname.split("."):
            function = getattr(function, part)
        _functions[spec] = function
    return function


def run(spec, args, paths, started=None):
    """Returns (ok, result or (type name, message, traceback), start ns, end ns, (pid, thread))."""
    start = time.monotonic_ns()
    where = (os.getpid(), threading.get_ident())
    if started is not None:
        started(start, where)
    try:
        outcome = (True, _resolve(spec, paths)(*args))
    except BaseException as error:
        text = "".join(traceback.format_exception(error))
        outcome = (False, (_type_name(type(error)), str(error), text))
    return outcome + (start, time.monotonic_ns(), where)


def initialize(spec, args, paths):
    _resolve(spec, paths)(*args)


def real_python():
    """The Python executable for worker processes: sys.executable is the host program when
    Python is embedded. Prefers the environment's own bin/pythonX.Y (same version for sure)."""
    version = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    for prefix in (sys.prefix, sys.base_prefix):
        candidate = os.path.join(prefix, "bin", version)
        if os.access(candidate, os.X_OK):
            return candidate
    return sys.executable


# What a worker process evaluates: the runner's source, then one of its functions.
_REMOTE = "exec(SOURCE, ns := {}) or ns[name](*call)"


def make_executor(mode, workers, init):
    from concurrent import futures

    kwargs = {}
    if mode == "processes":
        import multiprocessing

        # spawn: forking while own-GIL interpreters exist kills the child (gh-101437).
        context = multiprocessing.get_context("spawn")
        python = real_python()
        if python != sys.executable:
            context.set_executable(python)
        if init is not None:
            kwargs = {"initializer": eval,
                      "initargs": (_REMOTE, {"SOURCE": SOURCE, "name": "initialize", "call": init})}
        return futures.ProcessPoolExecutor(workers, mp_context=context, **kwargs)
    if init is not None:
        kwargs = {"initializer": initialize, "initargs": init}
    return futures.ThreadPoolExecutor(workers, thread_name_prefix="pergil-" + mode, **kwargs)


def submit(executor, mode, spec, args, paths, started):
    if mode == "processes":
        names = {"SOURCE": SOURCE, "name": "run", "call": (spec, args, paths)}
        return executor.submit(eval, _REMOTE, names)
    return executor.submit(run, spec, args, paths, started)


def stop(executor, mode, wait, cancel_pending, interrupt_running):
    processes = []
    if mode == "processes" and interrupt_running:
        # Read before shutdown() forgets them (a private attribute; 3.14 has terminate_workers).
        processes = list((getattr(executor, "_processes", None) or {}).values())
    executor.shutdown(wait=wait and not processes, cancel_futures=cancel_pending)
    for process in processes:
        process.terminate()
    if processes and wait:
        for process in processes:
            process.join()
        executor.shutdown(wait=True)
)PY";

}  // namespace pergil::detail
