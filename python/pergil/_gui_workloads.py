"""_gui_workloads.py: the Python side of the desktop app's workloads (gui/). Imports only the
standard library and pergil.tables' worker modules (never pandas, numpy or pdtable; openpyxl
when an .xlsx is read), so that it imports in a worker interpreter, thread or process alike."""

import csv
import os
import re

from pergil._cli_worker import REFUSAL, probe_target
from pergil.tables import _xlsx_worker
from pergil.tables._startable_blocks import FAST_TABLE, TABLE
from pergil.tables._startable_worker import read_startable_file

# A StarTable block starts with "**name" (a table) or "***name" (a directive) in the first cell:
# pdtable's block marker, which a fourth "*" cancels.
_BLOCK_MARKER = re.compile(r"\*\*\*?(?!\*)")
# pdtable's default CSV separator (pdtable.CSV_SEP); "," where a file's head says so.
_STARTABLE_SEP = ";"
# Counts do not depend on it: True parses ISO datetime columns in the task, as load_startables
# does with the pandas 2 that pergil pins; other datetime forms stay raw cells either way.
_FAST_DATETIME = True
_xlsx_refused = None  # per interpreter: None untried, "" openpyxl imports, else the reason


def fib(n):
    """Naive Fibonacci: pure CPU work that holds the GIL all along."""
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def probe(spec):
    """None if ``spec`` (MODULE:FUNCTION) resolves where this runs, else the one-line reason."""
    return probe_target(spec)


def load_table_file(path):
    """Reads one CSV, StarTable (CSV or .xlsx with ``**name`` blocks) or .xlsx file and returns
    a summary: {"file", "reader", "tables", "rows", "columns", "fast_tables", "bad_tables"}.

    rows and columns are summed over the tables; as pandas' readers count them, a header row
    is not a row, nor is a blank CSV line, and a plain CSV has as many columns as its widest
    row. The same function runs in the four modes:

    - StarTable files go through pergil.tables' worker reader, read_startable_file (pdtable's
      block splitting; columns parsed where pdtable would need no fixer). fast_tables counts
      the tables whose columns it parsed; bad_tables the table blocks whose shape pdtable
      rejects (see _raw_shape), which count in neither tables, rows nor columns.
    - Plain .xlsx cells go through pergil.tables' read_many worker reader (_xlsx_worker).
    - Plain CSV goes through the standard csv module: pergil.tables reads plain CSV with
      pandas' C parser only, which a sub-interpreter refuses.
    """
    if path.lower().endswith(".xlsx"):
        return _read_xlsx(path)
    return _read_csv(path)


def _summary(path, reader, tables=0, rows=0, columns=0, fast_tables=0, bad_tables=0):
    return {"file": os.path.basename(path), "reader": reader, "tables": tables, "rows": rows,
            "columns": columns, "fast_tables": fast_tables, "bad_tables": bad_tables}


def _is_block_marker(cell):
    return isinstance(cell, str) and _BLOCK_MARKER.match(cell) is not None


def _read_csv(path):
    with open(path, newline="", encoding="utf-8-sig") as handle:
        lines = handle.readlines()
    sep = _delimiter(lines[:10])
    if any(_is_block_marker(line) for line in lines):
        del lines
        sheets = read_startable_file(path, "csv", sep, None, _FAST_DATETIME)
        return _summary(path, "StarTable csv (pergil.tables)", **_startable_counts(sheets))
    rows = [row for row in csv.reader(lines, delimiter=sep) if row]  # blank lines: none
    if not rows:
        return _summary(path, "csv (csv module)")
    columns = max(len(row) for row in rows)
    return _summary(path, "csv (csv module)", 1, len(rows) - 1, columns)


def _delimiter(head):
    """";" unless the first lines hold more commas than semicolons: pdtable's default separator
    for StarTable (ties included), and what a plain CSV's head shows."""
    text = "".join(head)
    return "," if text.count(",") > text.count(";") else _STARTABLE_SEP


def _read_xlsx(path):
    _check_openpyxl_loads()
    book = _xlsx_worker.read_cells(path, None, None, None)  # every sheet, as pandas gets them
    sheets = book["sheets"].values()
    if any(_is_block_marker(row[0]) for rows in sheets for row in rows if row):
        del book, sheets
        found = read_startable_file(path, "xlsx", _STARTABLE_SEP, None, _FAST_DATETIME)
        return _summary(path, "StarTable xlsx (pergil.tables)", **_startable_counts(found))
    # pandas.read_excel(header=0) per sheet: the first row names the columns.
    rows = sum(max(0, len(cells) - 1) for cells in sheets)
    columns = sum(len(cells[0]) if cells else 0 for cells in sheets)
    return _summary(path, "xlsx (pergil.tables)", len(book["sheets"]), rows, columns)


def _check_openpyxl_loads():
    """Raises ImportError with the app's advice where openpyxl does not import: on CPython
    3.12 its pyexpat refuses sub-interpreters. Tried once per interpreter, since a failed
    import can leave half-imported modules that fail differently the next time."""
    global _xlsx_refused
    if _xlsx_refused is None:
        try:
            _xlsx_worker.probe()
            _xlsx_refused = ""
        except ImportError as error:
            _xlsx_refused = _import_failure(error)
    if not _xlsx_refused:
        return
    message = f"reading .xlsx needs openpyxl, which does not import here ({_xlsx_refused})"
    if REFUSAL in _xlsx_refused:
        message += (" -- this module cannot run in a sub-interpreter (an extension module that "
                    "is not isolated); the processes mode runs it")
    raise ImportError(message)


def _import_failure(error):
    """The message of the refusal behind an ImportError, else its own: xml.etree reports
    pyexpat's refusal as "No module named expat", with the refusal as its context."""
    seen = error
    while seen is not None:
        if REFUSAL in str(seen):
            return str(seen)
        seen = seen.__cause__ or seen.__context__
    return str(error)


def _startable_counts(sheets):
    """Tables, rows and columns of read_startable_file's [(sheet, block entries)]."""
    counts = {"tables": 0, "rows": 0, "columns": 0, "fast_tables": 0, "bad_tables": 0}
    for _sheet, entries in sheets:
        for block_type, _row, kind, payload in entries:
            if block_type != TABLE:
                continue
            shape = _fast_shape(payload) if kind == FAST_TABLE else _raw_shape(payload)
            if shape is None:
                counts["bad_tables"] += 1
                continue
            counts["tables"] += 1
            counts["rows"] += shape[0]
            counts["columns"] += shape[1]
            counts["fast_tables"] += kind == FAST_TABLE
    return counts


def _fast_shape(parsed):
    """(rows, columns) of a table parsed in the worker: (name, destinations, names, units,
    columns), each column (kind, buffer) with one item per row (text: UCS-4, width each)."""
    names, columns = parsed[2], parsed[4]
    kind, data = columns[0]  # a parsed table has at least one column
    if kind == "U":
        width, data = data
        return len(data) // (4 * width), len(names)
    return len(data), len(names)


def _is_blank(cell):
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _names(cells):
    """pdtable's parse_column_names: the cells up to the first blank one."""
    names = []
    for cell in cells:
        if _is_blank(cell):
            break
        names.append(cell)
    return names


def _raw_shape(cells):
    """(rows, columns) pdtable's make_table_json_precursor gives a table's raw cell grid, or
    None where pdtable rejects its shape: no destinations or units row, a unit or column name
    that is not text, fewer units than columns, or what its default fixer stops at (a duplicate
    column name, a row shorter than the header). Cells pdtable's fixer would replace are not
    looked at (that is parsing them): such a table counts by its shape. Every grid row's first
    cell is not blank."""
    if len(cells) < 2:
        return None
    if len(cells) == 2:
        return 0, 0  # pdtable's empty table
    if cells[0][0][2:].endswith("*"):
        return _transposed_shape(cells)
    if len(cells) == 3:
        return None
    names = _names(cells[2])
    units = cells[3][: len(names)]
    if len(units) < len(names) and len(cells) > 4:
        return None  # columns of unequal lengths
    if not all(isinstance(cell, str) for cell in names + units) or _duplicates(names):
        return None
    if any(len(row) < len(names) for row in cells[4:]):
        return None
    return len(cells) - 4, len(names)


def _duplicates(names):
    stripped = [name.strip() for name in names]
    return len(set(stripped)) != len(stripped)


def _transposed_shape(cells):
    """A transposed table: a line per column (name, unit, values); rows up to the last one
    with a non-blank value in some column."""
    lines = cells[2:]
    if any(len(line) < 2 or not isinstance(line[1], str) for line in lines):
        return None
    names = [line[0] for line in lines]
    if not all(isinstance(name, str) for name in names) or _duplicates(names):
        return None
    values = [line[2:] for line in lines]
    n_row = 0
    for i in range(max(map(len, values))):
        if not any(len(line) > i and not _is_blank(line[i]) for line in values):
            break
        n_row = i + 1
    return n_row, len(lines)
