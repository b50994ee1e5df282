"""openpyxl's read-only sheet sizing in pergil workers (_openpyxl_sizing): the same boundaries
as openpyxl's own on every kind of sheet, without parsing a sheet that has no <dimension> to
its end; the caller's openpyxl untouched; a sheet broken after its start fails as pdtable's."""

import re
import sys
import zipfile

import pytest

pytest.importorskip("pdtable", reason="the tables extra (pip install '.[tables]')")
from pdtable.io.load import load_files  # noqa: E402

import pergil  # noqa: E402
from helpers.startable import describe  # noqa: E402
from helpers.startable_inputs import write_xlsx  # noqa: E402
from helpers.xlsx_sizes import sizes_both_ways  # noqa: E402
from pergil.tables import _openpyxl_sizing, load_startables  # noqa: E402

pytestmark = pytest.mark.skipif(sys.version_info < (3, 13), reason="3.12: pyexpat refuses "
                                "sub-interpreters, so openpyxl never runs in a worker")


def _rewrite_sheet(path, change):
    """Rewrites xl/worksheets/sheet1.xml of the workbook at path through change(text)."""
    with zipfile.ZipFile(path) as book:
        items = {name: book.read(name) for name in book.namelist()}
    name = "xl/worksheets/sheet1.xml"
    items[name] = change(items[name].decode()).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as book:
        for item, data in items.items():
            book.writestr(item, data)


def _dimension_after_sheet_data(text):
    dimension = re.search(r"<dimension [^>]*/>", text).group(0)
    return text.replace(dimension, "").replace("</sheetData>", "</sheetData>" + dimension)


def _one_cell_dimension(text):
    return re.sub(r'<dimension ref="[^"]*"/>', '<dimension ref="B2"/>', text)


SHEETS = {
    "with_dimension": (False, None),
    "write_only_no_dimension": (True, None),
    "dimension_after_sheet_data": (False, _dimension_after_sheet_data),
    "one_cell_dimension": (False, _one_cell_dimension),
}


@pytest.fixture(scope="module")
def pool():
    with pergil.InterpreterPoolExecutor(max_workers=1) as ex:
        yield ex


@pytest.mark.parametrize("name", sorted(SHEETS))
def test_workers_size_sheets_as_openpyxl_does(name, pool, tmp_path):
    write_only, change = SHEETS[name]
    write_xlsx(tmp_path, write_only=write_only)
    path = tmp_path / "input_book.xlsx"
    if change is not None:
        _rewrite_sheet(path, change)
    theirs, ours, installed = pool.submit(sizes_both_ways, str(path)).result()
    assert installed
    assert ours == theirs
    assert len(ours) == 3
    if name == "write_only_no_dimension":
        assert all(size[3:] == (None, None) for size in ours)  # unsized, as openpyxl leaves it


def test_the_callers_openpyxl_is_untouched():
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    original = ReadOnlyWorksheet._get_size
    assert _openpyxl_sizing.install() is False
    assert ReadOnlyWorksheet._get_size is original


@pytest.mark.parametrize("workers", [1, 2])
def test_a_sheet_broken_inside_its_rows_fails_as_load_files(tmp_path, workers):
    # openpyxl's own sizing parsed the whole sheet when the workbook opened; the workers stop
    # at <sheetData>, so the broken XML fails later, in the worker's read: the file is then
    # read by pdtable in the caller, which raises its own error.
    write_xlsx(tmp_path, write_only=True)
    _rewrite_sheet(tmp_path / "input_book.xlsx",
                   lambda text: text.replace("</row>", "</rowx>", 3))
    expected = describe(lambda: load_files(["/input_book.xlsx"], root_folder=tmp_path))
    assert "error" in expected
    got = describe(lambda: load_startables(["/input_book.xlsx"], root_folder=tmp_path,
                                           workers=workers))
    assert got == expected
