"""cli.py: the ``pergil`` command line: ``run`` a function over JSON inputs, ``bench``, ``info``.

Built on argparse: standard library (nothing to install, nothing that can break between
versions), sub-commands and ``--help`` built in. Exit statuses of ``pergil run``: 0 every
input succeeded; 1 some inputs failed (their lines hold an error object); 2 a usage error, a
bad target or a bad input (nothing ran); 130 interrupted by Ctrl-C; 141 stdout was closed.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys

import pergil
from pergil._cli_io import Progress, clip, read_inputs
from pergil._cli_worker import UsageError, call_chunk, failure, probe_target, resolve_target

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from collections.abc import Sequence

MODES = ("interpreters", "threads", "processes", "serial")
ERROR_KEY = "pergil_error"
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED, EXIT_BROKEN_PIPE = 0, 1, 2, 130, 141


# ---- pergil run ----


class ResultsChannel:
    """Results go to a private copy of stdout; file descriptor 1 is pointed at stderr while
    the run lasts, so that whatever the function prints (in any mode: threads, workers, child
    processes) lands on stderr and stdout holds nothing but the JSON lines."""

    def __enter__(self):
        sys.stdout.flush()
        self.saved = os.dup(1)
        os.dup2(2, 1)
        self.stream = open(os.dup(self.saved), "w", encoding="utf-8", newline="\n")
        return self.stream

    def __exit__(self, *exc_info):
        try:
            self.stream.close()
        except BrokenPipeError:
            pass
        sys.stdout.flush()
        os.dup2(self.saved, 1)
        os.close(self.saved)
        return False


def _add_cwd_to_path():
    """The target's module is looked up in the current directory first, as ``python -m`` does;
    worker interpreters copy this sys.path when the pool starts."""
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)


def default_workers():
    from pergil._executor import _usable_cpu_count

    return _usable_cpu_count()


def _make_executor(mode, workers):
    if mode == "interpreters":
        return pergil.InterpreterPoolExecutor(workers)
    if mode == "threads":
        from concurrent.futures import ThreadPoolExecutor

        return ThreadPoolExecutor(workers)
    if mode == "processes":
        from concurrent.futures import ProcessPoolExecutor

        return ProcessPoolExecutor(workers)
    return None


def _stop_executor(executor, mode):
    """Ends a run early (Ctrl-C, closed stdout, target error): queued chunks are dropped and,
    where the executor can, running ones interrupted. Threads cannot be interrupted and a
    process pool waits for its tasks, so for those the caller leaves with os._exit."""
    if executor is None:
        return
    if mode == "interpreters":
        executor.shutdown(wait=True, cancel_futures=True, interrupt_running=True)
        return
    # A process pool's children (a private attribute; 3.14 has terminate_workers()), read
    # before shutdown() forgets them: they would run on and hold our stdout open.
    processes = list((getattr(executor, "_processes", None) or {}).values())
    executor.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()


class DeferredInterrupt:
    """While a pool runs the tasks, Ctrl-C sets a flag that the waiting loop turns into
    KeyboardInterrupt at a safe point, never inside an executor's own code: an interrupted
    ProcessPoolExecutor.submit() can leave a lock held or a child process untracked."""

    def __init__(self, enabled):
        self.enabled, self.pending = enabled, False

    def __enter__(self):
        if self.enabled:
            self.previous = signal.signal(signal.SIGINT, self._note)
        return self

    def _note(self, signum, frame):
        self.pending = True

    def check(self):
        if self.pending:
            self.pending = False
            raise KeyboardInterrupt

    def __exit__(self, *exc_info):
        if self.enabled:  # a second Ctrl-C while stopping raises at once again
            signal.signal(signal.SIGINT, self.previous)
        return False


def _completed_future(function, *args):
    """serial mode: runs the call now, on this thread, and wraps its outcome in a Future."""
    from concurrent.futures import Future

    future = Future()
    try:
        future.set_result(function(*args))
    except Exception as error:  # noqa: BLE001 - reported like a worker's failure
        future.set_exception(error)
    return future


class Run:
    """One ``pergil run``: chunks of inputs go to the executor, a bounded window of them at a
    time; results come back and are written in input order as soon as the next one is ready."""

    def __init__(self, args, items, out):
        self.args, self.items, self.out = args, items, out
        self.workers = 1 if args.mode == "serial" else (args.workers or default_workers())
        self.chunksize = args.chunksize or max(1, min(64, len(items) // (self.workers * 16)))
        forced = args.progress is True
        enabled = forced or (args.progress is None and sys.stderr.isatty())
        self.progress = Progress(len(items), sys.stderr, enabled, 0.0 if forced else 0.5)
        self.failed = 0
        self.executor = None
        self.interrupt = DeferredInterrupt(enabled=args.mode != "serial")

    def submit(self, chunk):
        values = [value for _, value in chunk]
        if self.executor is None:
            return _completed_future(call_chunk, self.args.target, self.args.star, values)
        try:
            return self.executor.submit(call_chunk, self.args.target, self.args.star, values)
        except Exception as error:  # noqa: BLE001 - a broken pool: every item of it fails
            from concurrent.futures import Future

            future = Future()
            future.set_exception(error)
            return future

    def execute(self):
        """Returns the exit status. Raises UsageError if the target cannot load in a worker."""
        self.executor = _make_executor(self.args.mode, self.workers)
        if self.executor is not None:
            probe = self.executor.submit(probe_target, self.args.target)
            self._wait(probe, lambda: None)
            reason = probe.result()
            if reason is not None:
                raise UsageError(self._in_worker(reason))
        size = self.chunksize
        chunks = [self.items[i : i + size] for i in range(0, len(self.items), size)]
        self._drain(chunks)
        self.progress.finish(len(self.items))
        if self.executor is not None:
            self.executor.shutdown(wait=True)
        if self.failed:
            print(f"pergil run: {self.failed} of {len(self.items)} inputs failed", file=sys.stderr)
            return EXIT_FAILED
        return EXIT_OK

    def _drain(self, chunks):
        from collections import deque

        window = 1 if self.executor is None else max(32, 8 * self.workers)
        upcoming, pending, written = iter(chunks), deque(), 0
        while True:
            while len(pending) < window and (chunk := next(upcoming, None)) is not None:
                pending.append((chunk, self.submit(chunk)))
            if not pending:
                return
            chunk, future = pending[0]
            self._wait(future, lambda: self.progress.update(
                written + sum(len(c) for c, f in pending if f.done())))
            pending.popleft()
            self._write(chunk, self._entries(chunk, future))
            written += len(chunk)
            self.progress.update(written)

    def _wait(self, future, tick):
        """Waits for ``future``, calling ``tick`` every 0.1 s; raises KeyboardInterrupt there
        if Ctrl-C was pressed."""
        from concurrent.futures import wait

        while not wait([future], timeout=0.1).done:
            self.interrupt.check()
            tick()
        self.interrupt.check()

    def _entries(self, chunk, future):
        try:
            reason, entries = future.result()
        except Exception as error:  # noqa: BLE001 - the chunk never ran or its worker broke
            entry = failure(error)
            remote_text = getattr(error.__cause__, "traceback_text", None)  # pergil's, if any
            if remote_text:
                entry = (*entry[:3], remote_text)
            return [entry] * len(chunk)
        if reason is not None:
            raise UsageError(self._in_worker(reason))
        return entries

    def _in_worker(self, reason):
        if self.args.mode == "interpreters":
            return (f"{reason} (in a worker interpreter; --mode processes runs the function "
                    "in processes instead)")
        return f"{reason} (in a worker process)"

    def _write(self, chunk, entries):
        for (label, value), entry in zip(chunk, entries):
            if entry[0]:
                self.out.write(entry[1] + "\n")
                continue
            _, kind, message, text = entry
            self.failed += 1
            self.out.write(json.dumps({ERROR_KEY: {"type": kind, "message": message}}) + "\n")
            self.progress.clear()
            shown = f": {message}" if message else ""
            print(f"pergil run: {label} failed: {kind}{shown} (input: {clip(json.dumps(value))})",
                  file=sys.stderr)
            if self.args.traceback and text:
                sys.stderr.write("    " + text.rstrip().replace("\n", "\n    ") + "\n")
        self.out.flush()


def command_run(args):
    """``pergil run``: returns the exit status."""
    _add_cwd_to_path()
    try:
        resolve_target(args.target)
        items = read_inputs(args)
    except UsageError as error:
        print(f"pergil run: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    with ResultsChannel() as out:
        run = Run(args, items, out)
        try:
            with run.interrupt:
                return run.execute()
        except UsageError as error:
            _stop_executor(run.executor, args.mode)
            run.progress.clear()
            print(f"pergil run: error: {error}", file=sys.stderr)
            return EXIT_USAGE
        except BrokenPipeError:
            _silence_stdout(out.fileno())
            return _leave(run, EXIT_BROKEN_PIPE)
        except KeyboardInterrupt:
            run.progress.clear()
            print("pergil run: interrupted", file=sys.stderr)
            return _leave(run, EXIT_INTERRUPTED)


def _leave(run, status):
    """Stops the executor early; for threads and processes, which cannot be stopped mid-task,
    leaves the process at once instead of waiting for their tasks at exit."""
    try:
        _stop_executor(run.executor, run.args.mode)
    except KeyboardInterrupt:  # a second Ctrl-C: do not wait for anything any more
        sys.stderr.flush()
        os._exit(status)
    if run.args.mode in ("threads", "processes"):
        sys.stderr.flush()
        os._exit(status)
    return status


# ---- pergil info, pergil bench ----


def command_info(args):
    """``pergil info``: what this Python offers pergil; with module names, whether each imports
    in a worker (exit status 1 if one does not)."""
    from pergil._cli_info import command_modules, gather_info, print_info

    if args.modules:
        _add_cwd_to_path()  # as for `pergil run`: the current directory's modules count
        return command_modules(args.modules, args.json, default_workers())

    info = gather_info()
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        print_info(info)
    return EXIT_OK


def command_bench(argv):
    """Delegates to pergil._bench with the arguments as given: it owns the options (--workers,
    --rounds, --quick, --executors, --workloads, --timeout, --json) and their --help."""
    from pergil import _bench

    return _bench.main(argv)


# ---- argument parsing ----


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, not {text!r}")
    return value


RUN_EPILOG = """\
Each input is one JSON value: one argument of the function (an array is one list argument,
unless --star). Results are printed as JSON lines on stdout, in input order; a failed input
prints {"pergil_error": {"type": ..., "message": ...}} on its line and a message on stderr.
All inputs are read and checked before anything runs. What the function prints goes to
stderr. Exit status: 0 all inputs succeeded, 1 some failed, 2 bad target or bad input (nothing
ran), 130 interrupted (Ctrl-C), 141 stdout closed. Put -- before inputs such as -1e3.

examples:
  pergil run mymod:square 1 2 3
  pergil run mymod:add --star '[1, 2]' '{"a": 3, "b": 4}'
  seq 1000 | pergil run mymod:square --inputs - --mode processes
"""


def _add_run_parser(commands):
    run = commands.add_parser(
        "run", help="apply MODULE:FUNCTION to JSON inputs on every core",
        description="Applies a function to each input in a pool of workers and prints the\n"
        "results as JSON lines, in input order.",
        epilog=RUN_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    run.add_argument("target", metavar="MODULE:FUNCTION",
                     help="the function, looked up with the current directory on sys.path")
    run.add_argument("values", metavar="INPUT", nargs="*", help="a JSON value")
    run.add_argument("--inputs", dest="inputs_file", metavar="FILE",
                     help="read one JSON value per line from FILE (- for stdin); blank lines "
                     "are skipped")
    run.add_argument("--mode", choices=MODES, default="interpreters",
                     help="interpreters: pergil's own-GIL sub-interpreters (default); threads: "
                     "ThreadPoolExecutor; processes: ProcessPoolExecutor; serial: a plain loop")
    run.add_argument("--workers", type=_positive_int, metavar="N",
                     help="number of workers (default: usable CPUs; serial: ignored)")
    run.add_argument("--chunksize", type=_positive_int, metavar="K",
                     help="inputs sent to a worker at a time (default: automatic, 1 to 64)")
    run.add_argument("--star", action="store_true",
                     help="unpack each input: an array as positional arguments, an object as "
                     "keyword arguments")
    run.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                     help="progress bar on stderr (default: when stderr is a terminal and the "
                     "run lasts over 0.5 s)")
    run.add_argument("--traceback", action="store_true",
                     help="print the full traceback of each failed input on stderr")
    run.set_defaults(handler=command_run)
    return run


def build_parser() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    """Returns (the pergil parser, its ``run`` sub-parser)."""
    parser = argparse.ArgumentParser(
        prog="pergil", description="Run pure Python functions on every CPU core from one "
        "process, through own-GIL sub-interpreters.")
    parser.add_argument("--version", action="version",
                        version=f"pergil {pergil.__version__} (Python {sys.version.split()[0]})")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    run = _add_run_parser(commands)
    # Listed here for `pergil --help`; its arguments go to pergil._bench untouched (main()).
    commands.add_parser(
        "bench", add_help=False,
        help="compare serial, threads, processes and interpreters (pergil bench --help)")
    info = commands.add_parser(
        "info", help="Python, CPUs and which modules load in a worker",
        description="Prints the Python version, whether own-GIL sub-interpreters work, the "
        "usable CPU count and which standard-library extension modules import in an own-GIL "
        "worker, found by importing each one in a worker. Given MODULE names, prints instead "
        "one line per module: whether it imports in a worker on this Python, and if not, why "
        "(exit status 1 if one does not).")
    info.add_argument("modules", metavar="MODULE", nargs="*",
                      help="a module to try (third-party too; the current directory first)")
    info.add_argument("--json", action="store_true", help="machine-readable output")
    info.set_defaults(handler=command_info)
    return parser, run


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``pergil`` console script (and ``python -m pergil``).

    Args:
        argv: The arguments after the program name; ``None`` reads ``sys.argv[1:]``.

    Returns:
        The exit status: 0 success, 1 some inputs of ``pergil run`` failed, 2 a usage error
        or bad input, 130 Ctrl-C, 141 stdout was closed.

    Raises:
        SystemExit: From argparse, for ``--help``, ``--version`` and malformed options.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    parser, run_parser = build_parser()
    if argv[:1] == ["bench"]:
        return command_bench(argv[1:])
    if argv[:1] == ["run"]:
        # Intermixed: inputs may come before and after options (`run f --star [1] [2]`);
        # argparse's plain parse would give the first run of positionals only.
        args = run_parser.parse_intermixed_args(argv[1:])
    else:
        args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        status = handler(args)
        sys.stdout.flush()  # here, not at exit, so that a closed pipe is caught below
        return status
    except BrokenPipeError:  # `pergil info | head`: the reader left, not an error to report
        _silence_stdout(sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


def _silence_stdout(fd):
    """Points ``fd`` at /dev/null, so that the flush at exit does not fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)
