"""test_gui_workloads.py: the desktop app's workload functions (pergil._gui_workloads), inline
and in worker interpreters at 1, 2 and 4 workers."""

import zipfile

import pytest

from pergil import _gui_workloads as workloads


def _write_xlsx(path, sheets):
    """A minimal workbook: one worksheet XML per sheet, each row a <row> of <c> cells."""
    with zipfile.ZipFile(path, "w") as book:
        for number, rows in enumerate(sheets, start=1):
            body = "".join(
                "<row r=\"%d\">%s</row>" % (i + 1, "".join(f"<c><v>{v}</v></c>" for v in row))
                for i, row in enumerate(rows))
            book.writestr(f"xl/worksheets/sheet{number}.xml",
                          f"<worksheet><sheetData>{body}</sheetData></worksheet>")


@pytest.fixture
def table_files(tmp_path):
    (tmp_path / "plain.csv").write_text("a,b,c\n1,2,3\n4,5,6\n")
    (tmp_path / "semicolon.csv").write_text("a;b\n1;2\n")
    (tmp_path / "star.csv").write_text(
        "**first\nall\nx;y\nm;kg\n1;2\n3;4\n\n**second\nall\nz\n-\n5\n")
    _write_xlsx(tmp_path / "book.xlsx", [[["h1", "h2"], [1, 2], [3, 4]], [["only"]]])
    return tmp_path


EXPECTED = {
    "plain.csv": {"tables": 1, "rows": 2, "columns": 3},
    "semicolon.csv": {"tables": 1, "rows": 1, "columns": 2},
    "star.csv": {"tables": 2, "rows": 3, "columns": 3},
    "book.xlsx": {"tables": 2, "rows": 4, "columns": 3},
}


def _counts(summary):
    return {key: summary[key] for key in ("tables", "rows", "columns")}


def test_fib_and_probe():
    assert [workloads.fib(n) for n in range(10)] == [0, 1, 1, 2, 3, 5, 8, 13, 21, 34]
    assert workloads.probe("pergil._gui_workloads:fib") is None
    assert "no module named 'no_such_module_x'" in workloads.probe("no_such_module_x:f")
    assert "has no attribute" in workloads.probe("pergil._gui_workloads:nothing")


def test_table_files_inline(table_files):
    for name, expected in EXPECTED.items():
        summary = workloads.load_table_file(str(table_files / name))
        assert summary["file"] == name
        assert _counts(summary) == expected, name


def test_table_files_in_worker_interpreters(table_files, executor):
    names = sorted(EXPECTED)
    summaries = list(executor.map(workloads.load_table_file, [str(table_files / n) for n in names]))
    for name, summary in zip(names, summaries):
        assert _counts(summary) == EXPECTED[name], name


def test_bad_files_raise(tmp_path):
    with pytest.raises(FileNotFoundError):
        workloads.load_table_file(str(tmp_path / "missing.csv"))
    (tmp_path / "broken.xlsx").write_text("not a zip")
    with pytest.raises(zipfile.BadZipFile):
        workloads.load_table_file(str(tmp_path / "broken.xlsx"))
