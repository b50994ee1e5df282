"""load_startables: pdtable's load_files with the files read and parsed on pergil workers.

The load order is pdtable 1.0.1's ``queued_load`` (pdtable/io/load/_orchestrators.py), replayed
in the main interpreter with pdtable's own loader objects (path resolution, folders, include
items, loop detection, issue tracker). Only reading a file and parsing its blocks moves to the
workers: files already in the load queue are read ahead, at most a few per worker, and their
blocks are yielded when pdtable would reach them. A file whose worker read fails (missing,
unreadable, truncated .xlsx, bad encoding) is read again by pdtable's own reader in the main
interpreter, so its blocks and its exception are exactly pdtable's.
"""

import concurrent.futures
import sys
import warnings

import pandas as pd
import pdtable
from pdtable.io.load import FileReader, load_files
from pdtable.io.load._loaders import FolderReader, IncludeReader, make_loader
from pdtable.store import BlockType
from pdtable.table_origin import LoadItem, NullInputIssueTracker

from pergil import _core
from pergil.tables._pool import kept_pool
from pergil.tables._startable_assemble import sheet_blocks
from pergil.tables._startable_worker import read_startable_file_packed

_WORKER_FUNCTION = read_startable_file_packed
# pandas 3 infers other datetime resolutions from strings; only pandas < 3 is proven ns here.
_FAST_DATETIME = int(pd.__version__.split(".")[0]) < 3
_XLSX_IN_WORKERS = sys.version_info >= (3, 13)
_XLSX_312_REASON = (
    "pergil.tables.load_startables: .xlsx files are read in the main interpreter on "
    "CPython 3.12, because pyexpat (which openpyxl needs) refuses sub-interpreters there; "
    "CSV files still load on all workers"
)


class _Orchestrator:
    """pdtable's queued_load Orchestrator: the LIFO load queue and the issue tracker."""

    def __init__(self, roots, issue_tracker):
        self.load_items = roots
        self.issue_tracker = issue_tracker

    def add_load_item(self, item):
        self.load_items.append(item)


def _file_kind(path):
    suffix = path.suffix.lower()
    return {".csv": "csv", ".xlsx": "xlsx"}.get(suffix)


class _ReadAhead:
    """Futures of worker reads, keyed by resolved path, started in the order pop() will need."""

    def __init__(self, executor, loader, limit, in_workers, kept_count=None):
        self._executor = executor
        self._kept_count = kept_count  # the worker count of a kept pool, None for the caller's
        self._fs_loader = getattr(loader, "loader", loader)  # unwrap IncludeLoader
        self._file_reader = self._fs_loader.file_reader
        self._limit = limit
        self._in_workers = in_workers
        self._futures = {}

    def _submit(self, path, kind):
        sep = self._file_reader.csv_sep or pdtable.CSV_SEP
        pattern = self._file_reader.sheet_name_pattern
        sheet_pattern = None if pattern is None else (pattern.pattern, pattern.flags)
        args = (str(path), kind, sep, sheet_pattern, _FAST_DATETIME)
        if not self._in_workers(kind):
            return _Deferred(_WORKER_FUNCTION, args)
        try:
            return self._executor.submit(_WORKER_FUNCTION, *args)
        except RuntimeError:
            if self._kept_count is None:
                raise  # the caller's executor: its shutdown is the caller's to report
            # The kept pool was ended under this load (shutdown_workers or os.fork() in
            # another thread; its cancelled reads fall back to pdtable): go on in a new one.
            self._executor = kept_pool(self._kept_count)
            return self._executor.submit(_WORKER_FUNCTION, *args)

    def fill(self, load_items, done):
        """Start reads for queued files (next to be popped first) up to the in-flight limit."""
        for item in reversed(load_items):
            if len(self._futures) >= self._limit:
                return
            try:
                path = self._fs_loader._resolve_load_item_path(item)
            except Exception:
                continue  # resolve() reports it when pdtable's order reaches the item
            kind = _file_kind(path)
            if kind is None or path in self._futures or path in done or not path.is_file():
                continue
            self._futures[path] = self._submit(path, kind)

    def take(self, path, kind):
        future = self._futures.pop(path, None)
        return future if future is not None else self._submit(path, kind)

    def cancel_all(self):
        for future in self._futures.values():
            future.cancel()
        self._futures.clear()


class _Deferred:
    """A read run in the main interpreter when its result is needed (.xlsx on CPython 3.12)."""

    def __init__(self, fn, args):
        self._fn, self._args = fn, args

    def result(self):
        return self._fn(*self._args)

    def cancel(self):
        return True


def _make_executor(workers):
    """(the caller's Executor, None), or (the pool pergil.tables keeps for ``workers``, its
    worker count): see _pool."""
    if isinstance(workers, concurrent.futures.Executor):
        return workers, None
    pool = kept_pool(workers)
    return pool, pool.max_workers


def _file_blocks(proxy, future, orch):
    """Blocks of one file as pdtable's FileReader (wrapped in IncludeReader) yields them."""
    reader = proxy.reader
    include = isinstance(reader, IncludeReader)
    try:
        sheets = future.result()
    except Exception:
        # Let pdtable read it and raise (or recover) exactly as load_files does.
        yield from proxy.read(orch)
        return
    location_file = proxy.load_location
    for sheet_name, entries in sheets:
        location_sheet = location_file.make_location_sheet(sheet_name)
        for block_type, value in sheet_blocks(entries, location_sheet, orch.issue_tracker):
            if include and block_type == BlockType.DIRECTIVE and value.name == "include":
                source = value.origin.input_location
                for line in value.lines:
                    orch.add_load_item(LoadItem(specification=line, source=source))
            else:
                yield block_type, value
    sheets = entries = None  # (entries is unbound when no sheet matched: no del)
    # The file's wire buffers and parsed entries are free now, in this thread's arena and in
    # the workers': give their pages back, or the peak keeps every past file's (issue 12).
    _core.trim_heap()


def _base_reader(reader):
    return reader.reader if isinstance(reader, IncludeReader) else reader


def _queued_load(roots, loader, issue_tracker, read_ahead):
    """pdtable's queued_load, reading files through read_ahead."""
    orch = _Orchestrator(roots, issue_tracker if issue_tracker is not None else NullInputIssueTracker())
    visited = set()
    done = set()
    while orch.load_items:
        read_ahead.fill(orch.load_items, done)
        load_proxy = loader.resolve(orch.load_items.pop(), orch)
        load_identifier = load_proxy.load_location.load_identifier
        if load_identifier in visited:
            orch.issue_tracker.add_error(
                "Load location included multiple times (this may be due to an include loop)",
                load_location=load_proxy.load_location,
            )
            continue
        visited.add(load_identifier)
        base = _base_reader(load_proxy.reader)
        path = getattr(load_proxy.load_location, "local_path", None)
        kind = _file_kind(path) if isinstance(base, FileReader) and path is not None else None
        if kind is None or isinstance(base, FolderReader):
            yield from load_proxy.read(orch)
            continue
        done.add(path)
        yield from _file_blocks(load_proxy, read_ahead.take(path, kind), orch)


def load_startables(
    roots=None,
    *,
    issue_tracker=None,
    csv_sep=None,
    sheet_name_pattern=None,
    file_reader=None,
    root_folder=None,
    file_name_pattern=None,
    file_name_start_pattern=None,
    additional_protocol_loaders=None,
    allow_include=True,
    workers=None,
    **kwargs,
):
    """Load a StarTable input set as ``pdtable.io.load.load_files`` does, on all cores.

    Takes load_files' arguments and yields the same ``(BlockType, block)`` pairs in the same
    order. ``workers`` is a worker count (None: all usable CPUs), run on the pergil pool
    pergil.tables keeps for that count between calls (ended interpreters would keep their
    memory, call after call; ``shutdown_workers`` ends it), or an existing Executor to use.
    A custom ``file_reader`` or ``additional_protocol_loaders`` are pdtable extension points
    whose reading pergil cannot move to workers: load_files itself runs then.

    Returns:
        A generator of ``(pdtable.BlockType, block)`` pairs, as load_files yields them; the
        files are read as it is iterated (``pdtable.TableBundle(...)`` consumes it).

    Raises:
        Exception: what load_files raises for the same input (the same type and message: a
            missing file, an include loop, a path outside ``root_folder``, a malformed block),
            or reports to ``issue_tracker`` instead, as load_files does.
    """
    if file_reader is not None or additional_protocol_loaders is not None:
        yield from load_files(
            roots, issue_tracker=issue_tracker, csv_sep=csv_sep,
            sheet_name_pattern=sheet_name_pattern, file_reader=file_reader,
            root_folder=root_folder, file_name_pattern=file_name_pattern,
            file_name_start_pattern=file_name_start_pattern,
            additional_protocol_loaders=additional_protocol_loaders,
            allow_include=allow_include, **kwargs,
        )
        return
    loader = make_loader(
        csv_sep=csv_sep, sheet_name_pattern=sheet_name_pattern, root_folder=root_folder,
        file_name_pattern=file_name_pattern, file_name_start_pattern=file_name_start_pattern,
        allow_include=allow_include, **kwargs,
    )
    if roots is None and root_folder is not None:
        roots = ["/"]
    load_roots = [LoadItem(str(f), source=None) for f in roots]
    executor, kept_count = _make_executor(workers)
    n_workers = getattr(executor, "_max_workers", None) or 2
    in_workers = _xlsx_policy(executor)
    # One file ahead per worker plus one: every worker stays busy while the caller
    # assembles, and at most n_workers + 1 files' results wait in memory.
    read_ahead = _ReadAhead(executor, loader, n_workers + 1, in_workers, kept_count)
    try:
        yield from _queued_load(load_roots, loader, issue_tracker, read_ahead)
    finally:
        # Stopped early (an error, Ctrl-C, the generator closed): the reads still queued or
        # running stop (a cancelled pergil task is interrupted at its next bytecode); a kept
        # pool stays for the next call.
        read_ahead.cancel_all()


def _xlsx_policy(executor):
    """Which kinds run on the executor: .xlsx stays in the main interpreter on 3.12 pergil pools."""
    from pergil import InterpreterPoolExecutor

    if _XLSX_IN_WORKERS or not isinstance(executor, InterpreterPoolExecutor):
        return lambda kind: True
    warned = []

    def in_workers(kind):
        if kind != "xlsx":
            return True
        if not warned:
            # stacklevel 6: in_workers, _submit, fill or take, _queued_load, load_startables, caller.
            warnings.warn(_XLSX_312_REASON, RuntimeWarning, stacklevel=6)
            warned.append(True)
        return False

    return in_workers
