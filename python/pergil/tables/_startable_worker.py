"""Worker entry of load_startables: read one StarTable file into block entries (pure Python).

Runs in a pergil worker interpreter (or, for .xlsx on CPython 3.12, in the main interpreter):
standard library and openpyxl only. Reads cells exactly as pdtable 1.0.1 does: CSV lines through
``open(path)`` then ``line.rstrip("\\n").split(sep)`` (pdtable.io.csv.read_csv; not the csv module,
which would unquote fields pdtable keeps), .xlsx through openpyxl in read-only, data-only mode
(pdtable.io._excel_openpyxl.read_sheets).
"""

import gc
import re

from pergil import _core
from pergil._wire import pickle
from pergil.tables import _openpyxl_sizing
from pergil.tables._startable_blocks import split_blocks
from pergil.tables._worker_imports import import_openpyxl_without_numpy, in_pergil_worker


def read_csv_blocks(path, sep, fast_datetime):
    """[(None, block entries)] for one StarTable CSV file, read line by line as pdtable does
    (only the current block's cells are held, not the whole file's)."""
    with open(path) as f:
        cell_rows = (line.rstrip("\n").split(sep) for line in f)
        return [(None, split_blocks(cell_rows, fast_datetime))]


def read_xlsx_blocks(path, sheet_pattern, fast_datetime):
    """[(sheet name, block entries)] for the sheets of one workbook whose name matches.

    sheet_pattern is None or (pattern, flags) of the caller's compiled ``sheet_name_pattern``;
    matching uses ``re.match`` as pdtable's read_excel does.
    """
    import_openpyxl_without_numpy()  # in a pergil worker, without numpy's failed import
    _openpyxl_sizing.install()  # in a pergil worker: no full parse to size a sheet
    import openpyxl

    pattern = None if sheet_pattern is None else re.compile(*sheet_pattern)
    wb = openpyxl.load_workbook(path, read_only=True, data_only=True, keep_links=False)
    try:
        sheets = []
        for ws in wb.worksheets:
            if pattern is not None and pattern.match(ws.title) is None:
                continue
            rows = ws.iter_rows(values_only=True)
            sheets.append((ws.title, split_blocks(rows, fast_datetime)))
        return sheets
    finally:
        wb.close()


def read_startable_file(path, kind, sep, sheet_pattern, fast_datetime):
    """Block entries of one file: kind is "csv" or "xlsx"."""
    # The previous file's cells and result are freed by now: return their pages before this
    # file's take new ones (peak memory; the caller trims after each file it assembles too).
    _core.trim_heap()
    if kind == "csv":
        return read_csv_blocks(path, sep, fast_datetime)
    return read_xlsx_blocks(path, sheet_pattern, fast_datetime)


def read_startable_file_packed(path, kind, sep, sheet_pattern, fast_datetime):
    """read_startable_file's sheets for load_startables, each block entry packed as its own
    pickle stream (protocol 5, buffers in band): [(sheet name, [bytes, ...])].

    Why (issue 12, peak memory): the entries' small objects (names, tuples) are made while
    the parse fills new 1 MiB small-object arenas; alive until the result is sent, they and
    the free lists (tuples, lists, dicts, floats) refilled from the parse's garbage keep most
    of those arenas mapped in every idle worker. Packed here, an entry's objects are freed as
    soon as its stream is made (so a file's columns are never held twice), and in a pergil
    worker (where a full collection costs ~1 ms) gc.collect() empties the free lists, so the
    arenas go back to the system. A table's stream is over pergil's loan threshold: it
    crosses by moving its pages, not by a copy.
    """
    sheets = read_startable_file(path, kind, sep, sheet_pattern, fast_datetime)
    packed = []
    for name, entries in sheets:
        entries.reverse()
        streams = []
        while entries:
            # Positional: see pergil._executor._warm_pickle_keyword_parsers (CPython gh-119213).
            streams.append(pickle.dumps(entries.pop(), 5))
        packed.append((name, streams))
    sheets = entries = None  # (entries is unbound when no sheet matched)
    if in_pergil_worker():
        gc.collect()
    return packed
