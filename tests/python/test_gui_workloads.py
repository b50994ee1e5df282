"""test_gui_workloads.py: the desktop app's workload functions (pergil._gui_workloads), inline
and in worker interpreters at 1, 2 and 4 workers, against pdtable's and pandas' own readers."""

import subprocess
import sys
import zipfile

import pytest

from helpers import startable_inputs, table_files
from pergil import _gui_workloads as workloads
from pergil.tables._startable_blocks import FAST_TABLE, RAW, TABLE
from pergil.tables._startable_worker import read_startable_file

pdtable = pytest.importorskip("pdtable", reason="the tables extra (pip install '.[tables]')")
pd = pytest.importorskip("pandas")

XLSX_REFUSED_IN_WORKERS = sys.version_info < (3, 13)  # pyexpat refuses sub-interpreters there

# StarTable CSVs that pdtable reads: every file's blocks, in the fast and the raw (pdtable
# handler) paths: transposed, empty, header only, odd datetimes, comments, "," separator.
STARTABLE_CSV = {
    "all_units.csv": (startable_inputs.ALL_UNITS, ";"),
    "empty_table.csv": (startable_inputs.MALFORMED_CASES["empty_table"], ";"),
    "star_header_only.csv": (startable_inputs.MALFORMED_CASES["header_only"], ";"),
    "transposed.csv": (startable_inputs.MALFORMED_CASES["transposed"], ";"),
    "blank_unit.csv": (startable_inputs.MALFORMED_CASES["short_unit_row"], ";"),
    "comments.csv": (startable_inputs.MALFORMED_CASES["comments_and_blanks"], ";"),
    "commas.csv": ("**t1\nall\na,b,c\n-,text,onoff\n1,x,0\n2,y,1\n\n**t2*\nall\nk,-,1,2\n", ","),
    "no_sep.csv": ("**single\nall\nv\n-\n1\n2\n", ";"),
}
# CSVs pandas reads with these separators (its C parser), and the rows/columns it finds.
PLAIN_CSV = {"plain": ",", "na": ",", "quoting": ",", "bom": ",", "semicolon": ";",
             "ints_floats": ",", "header_only": ","}


@pytest.fixture(scope="module")
def table_folder(tmp_path_factory):
    """{name: path} of every kind of table file the app loads."""
    folder = tmp_path_factory.mktemp("tables")
    paths = {}
    for name, (text, _sep) in STARTABLE_CSV.items():
        (folder / name).write_text(text)
        paths[name] = str(folder / name)
    startable_inputs.write_big(folder, n_files=1, rows=300)
    paths["input_big_0.csv"] = str(folder / "input_big_0.csv")
    startable_inputs.write_xlsx(folder)
    paths["input_book.xlsx"] = str(folder / "input_book.xlsx")
    csv_paths = table_files.csv_files(str(folder))
    for key in PLAIN_CSV:
        paths[f"{key}.csv"] = csv_paths[key]
    paths["quirks.xlsx"] = table_files.write_quirky_xlsx(str(folder / "quirks.xlsx"))
    return paths


def _sep(name):
    if name in STARTABLE_CSV:
        return STARTABLE_CSV[name][1]
    return PLAIN_CSV.get(name[: -len(".csv")], ";")


def _table_counts(frames):
    frames = list(frames)
    return {"tables": len(frames), "rows": sum(len(df) for df in frames),
            "columns": sum(len(df.columns) for df in frames)}


def _startable_reference(blocks):
    return _table_counts(block.df for kind, block in blocks if kind == pdtable.BlockType.TABLE)


def _reference(name, path):
    """The counts pdtable (StarTable) or pandas (plain files) gives for the file."""
    if name.endswith(".xlsx") and name.startswith("input"):
        return _startable_reference(pdtable.read_excel(path))
    if name.endswith(".xlsx"):
        return _table_counts(pd.read_excel(path, sheet_name=None).values())
    if name in STARTABLE_CSV or name.startswith("input"):
        return _startable_reference(pdtable.read_csv(path, sep=_sep(name)))
    return _table_counts([pd.read_csv(path, sep=_sep(name))])


@pytest.fixture(scope="module")
def expected(table_folder):
    return {name: _reference(name, path) for name, path in table_folder.items()}


def _counts(summary):
    return {key: summary[key] for key in ("tables", "rows", "columns")}


def _reader(name):
    if name.endswith(".xlsx"):
        return "StarTable xlsx (pergil.tables)" if name.startswith("input") else \
            "xlsx (pergil.tables)"
    if name in STARTABLE_CSV or name.startswith("input"):
        return "StarTable csv (pergil.tables)"
    return "csv (csv module)"


def _check(name, summary, expected):
    assert summary["file"] == name.rsplit("/", 1)[-1]
    assert summary["reader"] == _reader(name), name
    assert _counts(summary) == expected[name], name
    assert summary["bad_tables"] == 0, name
    assert 0 <= summary["fast_tables"] <= summary["tables"], name


def test_fib_and_probe():
    assert [workloads.fib(n) for n in range(10)] == [0, 1, 1, 2, 3, 5, 8, 13, 21, 34]
    assert workloads.probe("pergil._gui_workloads:fib") is None
    assert "no module named 'no_such_module_x'" in workloads.probe("no_such_module_x:f")
    assert "has no attribute" in workloads.probe("pergil._gui_workloads:nothing")


def test_imports_what_a_worker_interpreter_can():
    """No pandas, numpy, pdtable or openpyxl on import (openpyxl only when an .xlsx is read)."""
    code = ("import sys, pergil._gui_workloads; print(sorted(m for m in sys.modules if "
            "m.split('.')[0] in ('pandas', 'numpy', 'pdtable', 'openpyxl')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_reference_files_cover_both_startable_paths(table_folder):
    """all_units.csv has tables parsed in the task and tables left to pdtable's handlers."""
    summary = workloads.load_table_file(table_folder["all_units.csv"])
    assert 0 < summary["fast_tables"] < summary["tables"]
    summary = workloads.load_table_file(table_folder["transposed.csv"])
    assert summary["fast_tables"] == 0 and summary["tables"] == 1


def test_table_files_inline(table_folder, expected):
    for name, path in table_folder.items():
        _check(name, workloads.load_table_file(path), expected)


def test_table_files_in_worker_interpreters(table_folder, expected, executor):
    names = sorted(table_folder) * 2  # each worker sees several files, some twice
    futures = [executor.submit(workloads.load_table_file, table_folder[n]) for n in names]
    for name, future in zip(names, futures):
        if name.endswith(".xlsx") and XLSX_REFUSED_IN_WORKERS:
            with pytest.raises(ImportError) as caught:
                future.result()
            assert "pyexpat" in str(caught.value), name
            assert "sub-interpreters" in str(caught.value), name
        else:
            _check(name, future.result(), expected)


def test_xlsx_refusal_is_explained(table_folder, monkeypatch):
    """Where openpyxl does not import, the task says why, every time (it is tried once)."""
    refusal = ImportError("module pyexpat does not support loading in subinterpreters")

    def refused():
        raise ImportError("No module named expat; use SimpleXMLTreeBuilder instead") from refusal

    monkeypatch.setattr(workloads, "_xlsx_refused", None)
    monkeypatch.setattr(workloads._xlsx_worker, "probe", refused)
    for _ in range(2):
        with pytest.raises(ImportError) as caught:
            workloads.load_table_file(table_folder["quirks.xlsx"])
        message = str(caught.value)
        assert "module pyexpat does not support loading in subinterpreters" in message
        assert "cannot run in a sub-interpreter" in message
        assert "the processes mode runs it" in message
    monkeypatch.setattr(workloads, "_xlsx_refused", None)
    monkeypatch.setattr(workloads._xlsx_worker, "probe",
                        lambda: (_ for _ in ()).throw(ImportError("No module named 'openpyxl'")))
    with pytest.raises(ImportError, match="openpyxl, which does not import here") as caught:
        workloads.load_table_file(table_folder["quirks.xlsx"])
    assert "processes mode" not in str(caught.value)
    # CSV files do not need openpyxl.
    assert workloads.load_table_file(table_folder["plain.csv"])["tables"] == 1


def test_xlsx_in_worker_interpreters_reads_like_inline(table_folder, executor):
    """3.13: the same summaries as inline. 3.12: every .xlsx task (not only the first in a
    worker) fails with the refusal explained; the pool goes on with CSV files."""
    paths = [table_folder["quirks.xlsx"], table_folder["input_book.xlsx"]] * 3
    futures = [executor.submit(workloads.load_table_file, p) for p in paths]
    for path, future in zip(paths, futures):
        if XLSX_REFUSED_IN_WORKERS:
            with pytest.raises(ImportError, match="pyexpat.*sub-interpreters"):
                future.result()
        else:
            assert future.result() == workloads.load_table_file(path)
    csv_path = table_folder["all_units.csv"]
    assert executor.submit(workloads.load_table_file, csv_path).result() == \
        workloads.load_table_file(csv_path)


MALFORMED = {
    # A block pdtable rejects (ValueError: no units row, unequal column lengths, its default
    # fixer's duplicate name or short row; IndexError: no destinations row, no transposed unit)
    # beside a good one: the bad one is counted apart, no crash.
    "duplicates.csv": startable_inputs.MALFORMED_CASES["duplicate_columns"]
    + "\n**ok\nall\na\n-\n1\n",
    "short_row.csv": "**s\nall\na;b\n-;-\n1;2\n3\n\n**ok\nall\na\n-\n1\n",
    "no_units.csv": startable_inputs.MALFORMED_CASES["no_unit_row"] + "\n**ok\nall\na\n-\n1\n",
    "short_units.csv": "**su\nall\na;b;c\n-;-\n1;2;3\n\n**ok\nall\na\n-\n1\n",
    "lonely.csv": "**lonely\n\n**ok\nall\na\n-\n1\n",
    "number_unit.csv": "**t*\nall\nx\n\n**ok\nall\na\n-\n1\n",
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_startable_block(tmp_path, name, executor):
    path = tmp_path / name
    path.write_text(MALFORMED[name])
    with pytest.raises(Exception):  # noqa: B017 - pdtable's own error differs per case
        _startable_reference(pdtable.read_csv(str(path), sep=";"))
    good = tmp_path / "ok.csv"
    good.write_text("**ok\nall\na\n-\n1\n")
    reference = _startable_reference(pdtable.read_csv(str(good), sep=";"))
    # read_startable_file hands the bad block over as a raw cell grid (pdtable would reject it
    # in the caller); the good one is parsed.
    (_sheet, entries), = read_startable_file(str(path), "csv", ";", None, True)
    tables = [(kind, payload) for block_type, _row, kind, payload in entries
              if block_type == TABLE]
    assert [kind for kind, _ in tables] == [RAW, FAST_TABLE]
    for summary in (workloads.load_table_file(str(path)),
                    executor.submit(workloads.load_table_file, str(path)).result()):
        assert _counts(summary) == reference == {"tables": 1, "rows": 1, "columns": 1}
        assert summary["bad_tables"] == 1
        assert summary["reader"] == "StarTable csv (pergil.tables)"


def test_ragged_and_empty_files(tmp_path):
    """A ragged CSV counts its widest row; an empty file or workbook sheet no table."""
    ragged = table_files.csv_files(str(tmp_path))
    summary = workloads.load_table_file(ragged["malformed"])
    assert _counts(summary) == {"tables": 1, "rows": 3, "columns": 3}
    assert _counts(workloads.load_table_file(ragged["empty"])) == \
        {"tables": 0, "rows": 0, "columns": 0}
    (tmp_path / "blank_lines.csv").write_text("a,b\n\n1,2\n\n")
    assert _counts(workloads.load_table_file(str(tmp_path / "blank_lines.csv"))) == \
        _table_counts([pd.read_csv(tmp_path / "blank_lines.csv")])
    (tmp_path / "star_empty.csv").write_text("**\n")
    summary = workloads.load_table_file(str(tmp_path / "star_empty.csv"))
    assert summary["tables"] == 0 and summary["bad_tables"] == 1


def test_bad_files_raise(tmp_path, table_folder):
    with pytest.raises(FileNotFoundError):
        workloads.load_table_file(str(tmp_path / "missing.csv"))
    with pytest.raises(FileNotFoundError):
        workloads.load_table_file(str(tmp_path / "missing.xlsx"))
    (tmp_path / "broken.xlsx").write_text("not a zip")
    with pytest.raises(zipfile.BadZipFile):
        workloads.load_table_file(str(tmp_path / "broken.xlsx"))
    (tmp_path / "empty.xlsx").write_bytes(b"")
    with pytest.raises(zipfile.BadZipFile):
        workloads.load_table_file(str(tmp_path / "empty.xlsx"))
    truncated = table_files.write_truncated_xlsx(table_folder["quirks.xlsx"],
                                                 str(tmp_path / "truncated.xlsx"))
    with pytest.raises(zipfile.BadZipFile):
        workloads.load_table_file(truncated)
    with pytest.raises(KeyError):  # a zip with no workbook in it: openpyxl's own error
        workloads.load_table_file(table_files.write_not_a_workbook(str(tmp_path / "z.xlsx")))
    latin1 = table_files.csv_files(str(tmp_path))["latin1"]
    with pytest.raises(UnicodeDecodeError):
        workloads.load_table_file(latin1)


def test_bad_files_raise_in_workers(tmp_path, executor):
    """The same errors come back from worker interpreters, and the pool goes on."""
    (tmp_path / "broken.xlsx").write_text("not a zip")
    (tmp_path / "ok.csv").write_text("a\n1\n")
    missing = executor.submit(workloads.load_table_file, str(tmp_path / "missing.csv"))
    broken = executor.submit(workloads.load_table_file, str(tmp_path / "broken.xlsx"))
    ok = executor.submit(workloads.load_table_file, str(tmp_path / "ok.csv"))
    with pytest.raises(FileNotFoundError):
        missing.result()
    with pytest.raises(ImportError if XLSX_REFUSED_IN_WORKERS else zipfile.BadZipFile):
        broken.result()
    assert _counts(ok.result()) == {"tables": 1, "rows": 1, "columns": 1}
