"""load_startables' parts against pdtable's: the worker's column fast paths cell by cell, pool
handling (own pool, caller's pool, thread pool, early close), the 3.12 .xlsx fallback, imports,
and the small-object arenas a worker keeps after a file."""

import datetime
import math
import re
import subprocess
import sys
import warnings

import pytest

pdtable = pytest.importorskip("pdtable", reason="the tables extra (pip install '.[tables]')")
pd = pytest.importorskip("pandas")
from pdtable.io.load import load_files  # noqa: E402
from pdtable.io.parsers import columns as pdcolumns  # noqa: E402

import pergil  # noqa: E402
from helpers.startable import describe  # noqa: E402
from helpers.startable_inputs import write_all_units, write_big, write_xlsx  # noqa: E402
from pergil.tables import _startable_columns as fast  # noqa: E402
from pergil.tables import load_startables  # noqa: E402
from pergil.tables._startable_assemble import CompatFixer  # noqa: E402

FLOAT_CELLS = ["1", " 1 ", "1.5e3", "-2E-3", "1_000", "inf", "-Infinity", "nan", "NaN", " -nan ",
               "-", " - ", "+7", ".5", "5.", "\u0661\u0662", "1e400", "-0", "0x10", "", "a",
               "1,5", "--1", "1e", "nan nan"]
DATETIME_CELLS = ["2020-01-02", "2020-01-02 03:04", "2020-01-02 03:04:05", "2020-01-02T03:04:05",
                  "2020-01-02 03:04:05.1", "2020-01-02 03:04:05.123456", "2020-02-29",
                  "1678-01-01", "2261-12-31 23:59:59.999999", " 2020-01-02 ", "-", "nan",
                  "2021-02-29", "2020-13-01", "2020-01-32", "2020-01-02 24:00:00"]


def _pdtable_float(cell):
    fixer = CompatFixer()
    fixer._called_from_test = True
    value = pdcolumns._parse_float_column([cell], fixer)[0]
    return ("fixed" if fixer.fixes else "ok", value)


@pytest.mark.parametrize("cell", FLOAT_CELLS)
def test_float_cells_as_pdtable(cell):
    expected = _pdtable_float(cell)
    try:
        got = ("ok", fast._float_column((cell,))[0])
    except fast._NeedsPdtable:
        got = ("fixed", float("nan"))
    assert got[0] == expected[0]
    if got[0] == "ok":
        same_nan = math.isnan(got[1]) and math.isnan(expected[1])
        assert same_nan or (got[1] == expected[1] and math.copysign(1, got[1]) == math.copysign(1, expected[1]))


def test_float_column_whole_and_per_cell_paths_agree():
    cells = ("1", " 2 ", "-", "nan", "3e2")  # "-" sends the column down the per-cell path
    assert list(fast._float_column(cells))[4] == 300.0
    assert [v == v for v in fast._float_column(cells)] == [True, True, False, False, True]


@pytest.mark.parametrize("cell", DATETIME_CELLS)
def test_datetime_cells_as_pandas(cell):
    """Where the worker converts a cell it equals pandas.to_datetime (pdtable's way)."""
    try:
        ns = fast._datetime_cell(cell)
    except fast._NeedsPdtable:
        return  # pdtable's own way handles it in the main interpreter
    stripped = cell.strip()
    expected = pd.NaT if stripped in ("-", "nan") else pd.to_datetime(stripped)
    if expected is pd.NaT:
        assert ns == -(2**63)
    else:
        assert ns == expected.value


def test_datetime_forms_pandas_rejects_go_to_pdtable():
    for cell in ("2021-02-29", "2020-13-01", "2020-01-32", "2020-01-02 24:00:00", "1600-01-01"):
        with pytest.raises(fast._NeedsPdtable):
            fast._datetime_cell(cell)


def test_datetime_objects_from_xlsx():
    dt = datetime.datetime(2020, 5, 6, 7, 8, 9, 123456)
    assert fast._datetime_cell(dt) == pd.Timestamp(dt).value
    with pytest.raises(fast._NeedsPdtable):
        fast._datetime_cell(dt.replace(tzinfo=datetime.timezone.utc))
    with pytest.raises(fast._NeedsPdtable):
        fast._datetime_cell(datetime.date(2020, 1, 1))


@pytest.mark.parametrize("cell", ["1", " 0 ", "TRUE", "false", 1, 0, 1.0, True, "yes", "", None, 2])
def test_onoff_cells_as_pdtable(cell):
    try:
        expected = pdcolumns._onoff_to_bool(cell)
    except KeyError:
        expected = None
    try:
        got = bool(fast._onoff_column((cell,))[0])
    except fast._NeedsPdtable:
        got = None
    assert got == expected


def _same_as_pdtable(tmp_path, **kwargs):
    expected = describe(lambda: load_files(["/"], root_folder=tmp_path))
    assert describe(lambda: load_startables(["/"], root_folder=tmp_path, **kwargs)) == expected


def test_own_pool_by_worker_count(tmp_path):
    write_all_units(tmp_path)
    write_big(tmp_path, n_files=2, rows=50)
    _same_as_pdtable(tmp_path, workers=2)
    _same_as_pdtable(tmp_path)  # workers=None: all usable CPUs


def test_callers_pool_stays_open(tmp_path):
    write_all_units(tmp_path)
    with pergil.InterpreterPoolExecutor(max_workers=2) as ex:
        _same_as_pdtable(tmp_path, workers=ex)
        assert ex.submit(abs, -3).result() == 3


def test_thread_pool_is_accepted(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    write_all_units(tmp_path)
    with ThreadPoolExecutor(2) as ex:
        _same_as_pdtable(tmp_path, workers=ex)


@pytest.mark.parametrize("workers", [1, 2, 4])
def test_early_close_does_not_hang(tmp_path, workers):
    write_big(tmp_path, n_files=6, rows=200)
    for _ in range(3):
        gen = load_startables(["/"], root_folder=tmp_path, workers=workers)
        first = next(gen)
        gen.close()  # cancels the reads ahead and shuts the pool down
        assert first[0].name == "TABLE"


def test_xlsx_fallback_warning_on_312_only(tmp_path):
    write_xlsx(tmp_path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        list(load_startables(["/input_book.xlsx"], root_folder=tmp_path, workers=2))
    reasons = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    if sys.version_info < (3, 13):
        assert len(reasons) == 1 and "pyexpat" in reasons[0] and "3.12" in reasons[0]
        assert caught[0].filename == __file__  # points at the caller's line
    else:
        assert reasons == []


@pytest.mark.parametrize("workers", [1, 2])
def test_a_workbook_whose_sheets_all_miss_the_pattern_loads_as_load_files(tmp_path, workers):
    # The file yields no sheet at all: nothing to assemble, and nothing may fail after it.
    write_xlsx(tmp_path)
    kwargs = {"root_folder": tmp_path, "sheet_name_pattern": re.compile(r"^no_such_sheet")}
    expected = describe(lambda: load_files(["/input_book.xlsx"], **kwargs))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # 3.12's .xlsx-in-the-caller notice
        got = describe(lambda: load_startables(["/input_book.xlsx"], workers=workers, **kwargs))
    assert got == expected


_ARENA_CHECK = """
import sys, pergil
from pergil.tables._startable_worker import read_startable_file_packed
with pergil.InterpreterPoolExecutor(max_workers=1) as ex:
    ex.submit(read_startable_file_packed, sys.argv[1], "csv", ";", None, True).result()
    ex.submit(sys._debugmallocstats).result()  # the worker's own small-object allocator
"""


def _arena_counts(text):
    found = dict(re.findall(r"# arenas (highwater mark|allocated current) += +(\d+)", text))
    return {name: int(count) for name, count in found.items()}


@pytest.mark.skipif(sys.version_info < (3, 13), reason="3.12's sys._debugmallocstats aborts in "
                    "a sub-interpreter (free(): invalid pointer), the probe this test needs")
def test_a_worker_gives_its_parse_arenas_back_after_a_file(tmp_path):
    # Issue 12 (peak memory): the parse of 3 tables of 20,000 rows takes ~12 small-object
    # arenas (1 MiB each); the entries leave packed and the free lists are emptied, so an idle
    # worker keeps about the 3-4 it started with. Before: 7-8, pinned by a few objects each.
    write_big(tmp_path, n_files=1, rows=20_000)
    out = subprocess.run([sys.executable, "-c", _ARENA_CHECK, str(tmp_path / "input_big_0.csv")],
                         capture_output=True, text=True, timeout=120, check=True)
    counts = _arena_counts(out.stderr)
    if len(counts) != 2:
        pytest.skip("pymalloc is not the allocator here (PYTHONMALLOC=malloc or a sanitizer)")
    assert counts["highwater mark"] >= 8, counts  # the file is big enough to tell
    assert counts["allocated current"] <= counts["highwater mark"] // 2, counts


@pytest.mark.skipif(sys.version_info < (3, 13), reason="3.12 reads .xlsx in the caller")
def test_a_worker_reads_xlsx_without_half_importing_numpy(tmp_path):
    # openpyxl's optional numpy import fails in a worker after running part of numpy's
    # __init__ (4.5 MiB per worker); load_startables' read skips it, and leaves no trace.
    from pergil.tables._startable_worker import read_startable_file_packed

    write_xlsx(tmp_path)
    probe = ("(sorted(m for m in __import__('sys').modules if m.split('.')[0] == 'numpy'), "
             "__import__('openpyxl').compat.numbers.NUMPY)")
    with pergil.InterpreterPoolExecutor(max_workers=1) as ex:
        ex.submit(read_startable_file_packed, str(tmp_path / "input_book.xlsx"), "xlsx", ";",
                  None, True).result()
        assert ex.submit(eval, probe).result() == ([], False)
        with pytest.raises(ImportError) as refused:
            ex.submit(__import__, "numpy").result()
    assert "halted" not in str(refused.value)  # numpy's own refusal, not our None entry


def test_import_pergil_tables_imports_no_pandas():
    code = ("import sys, pergil.tables, pergil.tables._startable_worker; "
            "print(sorted(m for m in ('pandas', 'numpy', 'pdtable', 'openpyxl') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_unknown_keyword_raises_as_load_files():
    with pytest.raises(TypeError) as expected:
        list(load_files(["/x.csv"], no_such_option=1))
    with pytest.raises(TypeError) as got:
        list(load_startables(["/x.csv"], no_such_option=1, workers=1))
    assert str(got.value) == str(expected.value)
