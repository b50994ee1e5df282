"""table_data.py: generated input files for bench/tables.py and the tables tests: plain CSV and
.xlsx tables, and StarTable (pdtable) input sets in CSV and .xlsx.

Deterministic (a seeded random.Random), standard library only, except that .xlsx files are
written with openpyxl (write-only mode). Importable from tests:
``sys.path.insert(0, "<repo>/bench"); import table_data``.
"""

import csv
import datetime
import os
import random

PLAIN_COLUMNS = ("id", "name", "x", "y", "count", "flag", "when", "group")
STARTABLE_UNITS = ("text", "m", "-", "onoff", "datetime", "kg")
STARTABLE_COLUMNS = ("name", "length", "count", "active", "when", "mass")
_WORDS = ("alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa")
_EPOCH = datetime.datetime(2020, 1, 1)


def plain_rows(rows, seed=0):
    """Rows of a plain table: ints, text, floats, bools, ISO datetimes, a few empty cells."""
    rng = random.Random(seed)
    for i in range(rows):
        yield [i, f"{rng.choice(_WORDS)}_{rng.randrange(1000)}", round(rng.uniform(-1e3, 1e3), 6),
               "" if i % 97 == 5 else rng.random(), rng.randrange(10**6),
               rng.random() < 0.5, _EPOCH + datetime.timedelta(minutes=rng.randrange(10**6)),
               rng.choice(_WORDS)]


def write_plain_csv(path, rows, seed=0):
    with open(path, "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(PLAIN_COLUMNS)
        for row in plain_rows(rows, seed):
            row[6] = row[6].isoformat(" ")
            writer.writerow(row)
    return path


def write_plain_xlsx(path, rows, seed=0):
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("data")
    sheet.append(PLAIN_COLUMNS)
    for row in plain_rows(rows, seed):
        sheet.append([None if value == "" else value for value in row])
    book.save(path)
    return path


def startable_blocks(rows, tables=4, seed=0, name="t", datetime_every=1):
    """The cell rows of a StarTable file: ``tables`` tables of ``rows`` rows in all, each with
    every column kind (text, float unit, dimensionless, onoff, datetime), missing values (-).
    ``datetime_every``: a datetime value on every n-th row only, "-" on the others (pdtable
    parses each datetime cell through pandas.to_datetime, 0.2-2 ms a cell)."""
    rng = random.Random(seed)
    per_table = rows // tables
    cells = [["author:", "table_data.py"], []]
    for table in range(tables):
        cells += [[f"**{name}_{table}"], ["all"], list(STARTABLE_COLUMNS), list(STARTABLE_UNITS)]
        for i in range(per_table):
            missing = i % 53 == 7
            when = _EPOCH + datetime.timedelta(seconds=rng.randrange(10**8))
            if missing or i % datetime_every:
                when = "-"
            cells.append([f"{rng.choice(_WORDS)}_{i}", "-" if missing else rng.uniform(0, 1e4),
                          rng.randrange(1000), rng.randrange(2), when,
                          round(rng.uniform(0, 50), 3)])
        cells.append([])
    return cells


def _csv_cell(value):
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return value


def write_startable_csv(path, rows, tables=4, seed=0, sep=";", datetime_every=1):
    with open(path, "w", newline="") as out:
        writer = csv.writer(out, delimiter=sep)
        for row in startable_blocks(rows, tables, seed, _stem(path), datetime_every):
            writer.writerow([_csv_cell(value) for value in row])
    return path


def write_startable_xlsx(path, rows, tables=4, seed=0, sheet="input_data", datetime_every=1):
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(sheet)
    for row in startable_blocks(rows, tables, seed, _stem(path), datetime_every):
        sheet.append(row)
    book.save(path)
    return path


def _stem(path):
    return os.path.splitext(os.path.basename(path))[0].removeprefix(".partial_").replace("-", "_")


WRITERS = {"csv": write_plain_csv, "xlsx": write_plain_xlsx,
           "startable-csv": write_startable_csv, "startable-xlsx": write_startable_xlsx}
SUFFIXES = {"csv": ".csv", "xlsx": ".xlsx", "startable-csv": ".csv", "startable-xlsx": ".xlsx"}


def write_files(folder, kind, files, rows, **options):
    """Writes ``files`` files of ``kind`` (a WRITERS key) with ``rows`` rows each into folder
    (created; existing files are kept); returns their paths, sorted. StarTable files are named
    input_NN so that pdtable's load_files(root_folder=folder) finds them all. ``options`` go to
    the writer (datetime_every for StarTable files)."""
    os.makedirs(folder, exist_ok=True)
    prefix = "input_" if kind.startswith("startable") else "table_"
    paths = []
    for number in range(files):
        path = os.path.join(folder, f"{prefix}{number:02d}{SUFFIXES[kind]}")
        if not os.path.exists(path):
            partial = os.path.join(folder, ".partial_" + os.path.basename(path))
            WRITERS[kind](partial, rows, seed=number, **options)
            os.replace(partial, path)
        paths.append(path)
    return paths


def write_startable_folder(folder, files=16, rows=25_000, fmt="csv", datetime_every=1):
    """A StarTable input set: ``files`` files (fmt "csv" or "xlsx") of 4 tables and ``rows``
    rows in all each; load it with ``load_files(["/"], root_folder=folder, csv_sep=";")``."""
    return write_files(folder, f"startable-{fmt}", files, rows, datetime_every=datetime_every)
