"""_gui_workloads.py: the Python side of the desktop app's workloads (gui/). Pure Python and
standard library only, so that it imports in a worker interpreter, thread or process alike."""

import csv
import os
import re
import zipfile

from pergil._cli_worker import probe_target


def fib(n):
    """Naive Fibonacci: pure CPU work that holds the GIL all along."""
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def probe(spec):
    """None if ``spec`` (MODULE:FUNCTION) resolves where this runs, else the one-line reason."""
    return probe_target(spec)


def load_table_file(path):
    """Reads one CSV, StarTable (.csv with ``**name`` blocks) or .xlsx file and returns a
    summary: {"file", "reader", "tables", "rows", "columns"}.

    Standard library only, in every mode, so that the four modes run the very same function:
    pergil.tables needs pandas (which sub-interpreters refuse) and starts a pool of its own."""
    if path.lower().endswith(".xlsx"):
        return _read_xlsx(path)
    return _read_csv(path)


def _summary(path, reader, tables, rows, columns):
    return {"file": os.path.basename(path), "reader": reader, "tables": tables, "rows": rows,
            "columns": columns}


def _read_csv(path):
    with open(path, newline="", encoding="utf-8-sig") as handle:
        lines = list(csv.reader(handle, delimiter=_delimiter(path)))
    if any(line and line[0].startswith("**") for line in lines):
        return _read_startable(path, lines)
    columns = max((len(line) for line in lines), default=0)
    return _summary(path, "csv", 1, max(0, len(lines) - 1), columns)


def _delimiter(path):
    with open(path, encoding="utf-8-sig") as handle:
        head = "".join(handle.readline() for _ in range(10))
    return ";" if head.count(";") > head.count(",") else ","


def _read_startable(path, lines):
    """StarTable blocks: **name, destinations, column names, units, then rows to a blank line."""
    tables = rows = columns = 0
    i = 0
    while i < len(lines):
        line = lines[i]
        if line and line[0].startswith("**") and not line[0].startswith("***"):
            tables += 1
            names = lines[i + 2] if i + 2 < len(lines) else []
            columns += len([n for n in names if n.strip()])
            i += 4
            while i < len(lines) and any(cell.strip() for cell in lines[i]):
                rows += 1
                i += 1
        i += 1
    return _summary(path, "csv (StarTable)", tables, rows, columns)


def _read_xlsx(path):
    """Counts sheets, rows and the first row's cells from the workbook's XML, with no XML
    library (pyexpat does not load in a 3.12 sub-interpreter)."""
    tables = rows = columns = 0
    with zipfile.ZipFile(path) as book:
        for name in book.namelist():
            if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", name):
                text = book.read(name).decode("utf-8")
                tables += 1
                found = re.findall(r"<row[ >].*?</row>", text, flags=re.S)
                rows += len(found)
                if found:
                    columns += len(re.findall(r"<c[ >]", found[0]))
    return _summary(path, "xlsx (zipfile)", tables, rows, columns)
