"""_read_many.py: read_many(), many CSV and Excel files into pandas DataFrames on all cores.

Each format takes the fastest route that still gives pandas' exact result (measured by
bench/tables.py):
- CSV: pandas.read_csv itself, on threads: its C parser releases the GIL, so threads scale,
  and pure-Python parsing in workers would be ~9x slower than it.
- .xlsx/.xlsm with openpyxl (pandas' default engine, pure Python, holds the GIL): pergil
  workers read the cells with openpyxl; the caller runs pandas' own sheet parsing on them
  (_excel_cells), except for sheets the workers could type themselves with all options at
  their defaults (_xlsx_columns), whose frames the caller builds from the columns. Where a
  worker fails (a missing or broken file), pandas.read_excel reads that file in the caller,
  so the error raised is pandas' own.
- anything else (engine="calamine", .xls, .ods, .xlsb, a buffer): pandas.read_excel on threads.
"""

import os
import re
import sys
import warnings
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

WORKER_SUFFIXES = (".xlsx", ".xlsm", ".xltx", ".xltm")  # what openpyxl opens
EXCEL_SUFFIXES = WORKER_SUFFIXES + (".xls", ".xlsb", ".ods", ".odf", ".odt")
_ERRORS = ("raise", "collect")
_ROW = re.compile(r"\b(?:line|row)\s+(\d+)", re.IGNORECASE)
_worker_verdict = []  # [None] when openpyxl loads in a worker, [reason] when it cannot


class ReadError(Exception):
    """What ``read_many(..., errors="collect")`` maps a failing file to (it is returned, not
    raised): ``path``, ``row`` (the line or row pandas' message names, else None) and
    ``cause``, the exception pandas raised (also ``__cause__``)."""

    def __init__(self, path, cause):
        match = _ROW.search(str(cause))
        self.path = path
        self.row = int(match.group(1)) if match else None
        self.cause = cause
        where = f"{os.fspath(path)}" + (f", row {self.row}" if self.row is not None else "")
        super().__init__(f"{where}: {type(cause).__name__}: {cause}")

    def __reduce__(self):
        return type(self), (self.path, self.cause)


def _route(path, options):
    """'csv', 'worker' (openpyxl in pergil workers) or 'excel' (pandas.read_excel on threads)."""
    suffix = os.path.splitext(os.fspath(path))[1].lower()
    if suffix not in EXCEL_SUFFIXES:
        return "csv"
    if (suffix in WORKER_SUFFIXES and _engine(options) == "openpyxl"
            and options.get("storage_options") is None and isinstance(path, (str, os.PathLike))
            and "://" not in os.fspath(path)):
        return "worker"
    return "excel"


def _engine(options):
    """The engine pandas.read_excel picks for an .xlsx file with these options."""
    engine = options.get("engine")
    if engine is not None:
        return engine
    import pandas

    engine = pandas.get_option("io.excel.xlsx.reader")
    if engine == "auto":
        try:
            from pandas.io.excel._util import get_default_engine
        except ImportError:
            return "unknown"  # pandas.read_excel decides, on threads
        engine = get_default_engine("xlsx", mode="reader")
    return engine


def _check_paths(paths):
    paths = list(paths)
    for path in paths:
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"read_many: paths must be str or os.PathLike, not "
                            f"{type(path).__name__} ({path!r})")
    return paths


def _worker_problem(pool):
    """None if openpyxl imports in a pergil worker, else why not (found by trying, once)."""
    if not _worker_verdict:
        from pergil.tables import _xlsx_worker

        try:
            pool.submit(_xlsx_worker.probe).result()
            _worker_verdict.append(None)
        except ImportError as error:
            reason = f"{type(error).__name__}: {error}".splitlines()[0]
            _worker_verdict.append(f"openpyxl cannot load in a pergil worker ({reason})")
    return _worker_verdict[0]


class _Reads:
    """The reads of one read_many call: submits them, turns worker cells into frames, and
    re-reads a file with pandas where its worker failed."""

    def __init__(self, threads, pool, sheet_name, options):
        import pandas

        from pergil.tables import _excel_cells

        self.pandas, self.cells = pandas, _excel_cells
        self.threads, self.pool = threads, pool
        self.sheet_name, self.options = sheet_name, options
        self.arguments = None
        if pool is not None:
            self.arguments = _excel_cells.excel_arguments(sheet_name, options)
            self.rows_needed = _excel_cells.rows_needed(self.arguments)
            self.engine_kwargs = self.arguments["engine_kwargs"]
            self.na_strings = _excel_cells.fast_na_strings(self.arguments)

    def submit(self, path, route):
        if route == "csv":
            return self.threads.submit(self.pandas.read_csv, path, **self.options)
        if route == "worker":
            from pergil.tables import _xlsx_worker

            return self.pool.submit(_xlsx_worker.read_cells, os.fspath(path), self.sheet_name,
                                    self.rows_needed, self.engine_kwargs, self.na_strings)
        return self.threads.submit(self.pandas.read_excel, path, sheet_name=self.sheet_name,
                                   **self.options)

    def finish(self, future, route):
        """(value, None) when done, or (None, follow-up future) when a worker's file must be
        re-read by pandas; raises the read's exception."""
        if route != "worker":
            return future.result(), None
        try:
            cells = future.result()
        except Exception:  # noqa: BLE001 - pandas reads it again and raises its own error
            return None, self.submit_pandas_excel(future)
        return self.cells.frame_from_cells(cells, self.arguments), None

    def submit_pandas_excel(self, future):
        return self.threads.submit(self.pandas.read_excel, future.pergil_path,
                                   sheet_name=self.sheet_name, **self.options)


def _validate(errors, sheet_name, options, routes):
    """Raises TypeError for an argument pandas' readers do not take, before any file is read."""
    import inspect

    import pandas

    if errors not in _ERRORS:
        raise ValueError(f"read_many: errors must be 'raise' or 'collect', not {errors!r}")
    if "csv" in routes.values():
        inspect.signature(pandas.read_csv).bind("path", **options)
    if set(routes.values()) & {"worker", "excel"}:
        inspect.signature(pandas.read_excel).bind("path", sheet_name, **options)


def read_many(paths, workers=None, *, sheet_name=0, errors="raise", progress=False,
              **options):
    """Reads many CSV and Excel files at once; returns {path: DataFrame} in input order.

    Each value equals ``pandas.read_csv(path, **options)`` (CSV: any suffix but Excel's) or
    ``pandas.read_excel(path, sheet_name=sheet_name, **options)`` (.xlsx, .xlsm, .xls, .ods,
    .xlsb); ``sheet_name=None`` or a list gives {sheet: DataFrame} per path, as pandas does.
    ``workers``: threads and pergil workers to use (default: the usable CPU count; the .xlsx
    files run on the pergil pool pergil.tables keeps for that count between calls, see
    ``shutdown_workers``), or an existing ``pergil.InterpreterPoolExecutor`` to read the
    .xlsx files on (as many threads as it has workers).
    ``errors="raise"`` raises the first failing file's exception (pandas' own, with a note
    naming the file) and cancels the rest; ``errors="collect"`` maps each failing path to a
    ``ReadError`` (path, row, cause) and reads the others. ``progress=True`` shows a bar of
    files and MB (tqdm when installed).

    Returns:
        dict: ``{path: DataFrame}`` (or ``{path: {sheet: DataFrame}}`` for a ``sheet_name``
        of None or a list) in the order of ``paths``; with ``errors="collect"``, a failing
        path maps to its ``ReadError``.

    Raises:
        TypeError: a path that is not str or os.PathLike, or an option neither
            ``pandas.read_csv`` nor ``pandas.read_excel`` takes (before any file is read).
        ValueError: ``workers`` not a positive int, None or a pergil
            InterpreterPoolExecutor, or ``errors`` not "raise"/"collect".
        Exception: with ``errors="raise"``, the first failing file's own pandas exception.
    """
    from pergil._executor import _usable_cpu_count
    from pergil.tables._progress import Progress

    import pergil

    paths = _check_paths(paths)
    given = workers if isinstance(workers, pergil.InterpreterPoolExecutor) else None
    workers = _usable_cpu_count() if workers is None else workers
    if given is not None:
        workers = given.max_workers
    elif not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise ValueError(f"read_many: workers must be a positive int, None or a pergil "
                         f"InterpreterPoolExecutor, not {workers!r}")
    routes = {path: _route(path, options) for path in paths}
    _validate(errors, sheet_name, options, routes)
    excel_files = sum(route == "worker" for route in routes.values())
    with Progress(paths, progress) as bar, ThreadPoolExecutor(workers) as threads:
        pool = _worker_pool(workers, routes, given) if excel_files else None
        reads = _Reads(threads, pool, sheet_name, options)
        results = _run(reads, routes, errors, bar)
    return {path: results[path] for path in paths}


def _worker_pool(workers, routes, given=None):
    """A pergil pool for the .xlsx files (``given``, the caller's, or the kept one), or None
    (and those files go to threads, with a warning saying why) where openpyxl cannot load in a
    worker (CPython 3.12: pyexpat)."""
    from pergil.tables import _excel_cells
    from pergil.tables._pool import kept_pool

    pool = None
    problem = _worker_verdict[0] if _worker_verdict else None
    if problem is None and not _excel_cells.supported():
        problem = "this pandas has no BaseExcelReader to feed the cells into"
    if problem is None:
        pool = given or kept_pool(workers)
        problem = _worker_problem(pool)
        if problem is None:
            return pool
    warnings.warn(f"pergil.tables.read_many: .xlsx files are read by pandas on threads of the "
                  f"main interpreter, not in pergil workers, on Python {sys.version.split()[0]}: "
                  f"{problem}",
                  RuntimeWarning, stacklevel=3)
    for path, route in routes.items():
        if route == "worker":
            routes[path] = "excel"
    return None


def _run(reads, routes, errors, bar):
    """Submits every read, finishes them as they complete; returns {path: value}."""
    pending = {}
    for path, route in routes.items():
        future = reads.submit(path, route)
        future.pergil_path, future.pergil_route = path, route
        pending[future] = path
    results = {}
    try:
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                _finish_one(future, pending, results, reads, errors, bar)
    except BaseException:
        # The first failure with errors="raise", or Ctrl-C: the other reads stop (a cancelled
        # pergil task is interrupted at its next bytecode), the pool stays for later calls.
        _cancel(pending)
        raise
    return results


def _finish_one(future, pending, results, reads, errors, bar):
    path = pending.pop(future)
    try:
        value, follow_up = reads.finish(future, future.pergil_route)
    except Exception as error:  # noqa: BLE001 - per errors=
        if errors == "raise":
            error.add_note(f"pergil.tables.read_many: while reading {os.fspath(path)}")
            raise
        results[path] = _collected(path, error)
        bar.update(path)
        return
    if follow_up is not None:
        follow_up.pergil_path, follow_up.pergil_route = path, "excel"
        pending[follow_up] = path
        return
    results[path] = value
    bar.update(path)


def _collected(path, error):
    collected = ReadError(path, error)
    collected.__cause__ = error
    return collected


def _cancel(pending):
    for future in pending:
        future.cancel()
