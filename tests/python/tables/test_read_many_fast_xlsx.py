"""read_many's typed-column fast path for .xlsx (_xlsx_columns): every quirky sheet equals
pandas.read_excel (dtypes, index and columns included) at 1, 2 and 4 workers, the fast path is
taken exactly where provable, and any other option or sheet goes through pandas' parser."""

import datetime
import random
import sys
import warnings

import pytest

pandas = pytest.importorskip("pandas")
pytest.importorskip("openpyxl")

import pergil.tables as pt  # noqa: E402
from pergil.tables import _excel_cells, _xlsx_columns, _xlsx_worker  # noqa: E402

INT64_MAX, INT64_MIN = 2**63 - 1, -(2**63)
BIGGEST = 2**63 - 1024  # the largest int64 a double (Excel's number) holds exactly
DAY = datetime.datetime(2021, 3, 4, 5, 6, 7, 890000)
NA_TEXTS = ["NA", "nan", "NaN", "#N/A", "null", "NULL", "None", "n/a", "<NA>", "-nan", "#NA"]
NUMBER_TEXTS = ["12", " 3 ", "1e5", "-2E-3", "inf", "-Infinity", "+7", ".5", "5.", "1_000",
                "nan ", "\u0661\u0662", "1e400", "-0"]
BOOL_TEXTS = ["true", "FALSE", "True", " true "]

# sheet -> (rows, header first; whether the worker types it). None is an empty cell.
SHEETS = {
    "ints": ([["a", "b"], [0, BIGGEST], [-5, INT64_MIN], [7, 2.0]], True),
    "int64_max": ([["a"], [INT64_MAX], [1]], False),  # a double: 2**63 once written
    "floats": ([["x"], [0.1], [-0.0], [1e15 + 0.5], [2.5]], True),
    "huge_float": ([["x"], [1e300], [2.5]], False),  # read back as an int beyond int64
    "int_float": ([["x", "y"], [1, 2.5], [3.5, 4], [5, 6]], True),
    "big_int": ([["x"], [2**63], [1]], False),
    "big_int_float": ([["x"], [2**64], [1.5]], False),
    "bools": ([["flag"], [True], [False], [True]], True),
    "bools_empty": ([["flag"], [True], [None], [False]], False),
    "bools_ints": ([["flag"], [True], [2]], False),
    "dates": ([["when", "day"], [DAY, datetime.date(2020, 2, 29)],
               [datetime.datetime(1999, 12, 31, 23, 59, 59), datetime.date(1970, 1, 1)]], True),
    "dates_empty": ([["when", "n"], [DAY, 1], [None, 2], ["NA", 3]], True),
    "dates_far": ([["when"], [datetime.datetime(1500, 1, 1)], [DAY]], False),
    "dates_9999": ([["when"], [datetime.datetime(9999, 12, 31)], [DAY]], False),
    "times": ([["at"], [datetime.time(3, 4, 5)], [datetime.time(0, 0)]], False),
    "dates_text": ([["when"], [DAY], ["soon"]], False),
    "empties": ([["i", "f", "s", "d", "all"], [1, 1.5, "a", DAY, None],
                 [None, None, None, None, None], [3, 2.5, "c", DAY, None]], True),
    "na_texts": ([["s", "i"]] + [[text, n] for n, text in enumerate(NA_TEXTS)]
                 + [["word", "NA"], ["more", "null"]], True),
    "na_only": ([["s", "t"], ["NA", "x"], ["nan", "y"]], True),
    "whitespace": ([["s"], [" a "], [" "], ["\t"], [" NA"], ["NA "], ["a\nb"]], True),
    "number_texts": ([["s"]] + [[text] for text in NUMBER_TEXTS] + [["word"]], False),
    "text_and_numbers": ([["s"], ["a"], [1], [2.5]], False),
    "header_empty": ([[None, "b", None, "d"], [1, 2, 3, 4], [5, 6, 7, 8]], True),
    "header_trailing_empty": ([["a"], [1, 2], [3, 4]], True),
    "header_spaces": ([[" a ", "a", "NA", "nan"], [1, 2, 3, 4]], True),
    "header_dup": ([["a", "a", "a.1"], [1, 2, 3]], False),
    "header_unnamed_clash": ([[None, "Unnamed: 0"], [1, 2]], False),
    "header_numeric": ([[1, 2.5], [1, 2]], False),
    "header_date": ([[DAY, "b"], [1, 2]], False),
    "header_bom": ([["\ufeffid", "b"], [1, 2]], False),
    "header_only": ([["a", "b"]], False),
    "empty": ([], False),
    "single_column": ([["only"], ["x"], ["y"]], True),
    "blank_row": ([["i", "s"], [1, "a"], [None, None], [2, "b"]], True),
    "trailing_column": ([["a", "b"], [1], [2], [3, "x"]], True),
    "error_cells": ([["i"], [1], ["#DIV/0!"], ["#N/A"], [3]], True),
    "error_in_text": ([["s"], ["a"], ["#REF!"], ["b"]], True),
    "hash_text": ([["s"], ["#tag"], ["b"]], True),  # not an error, but read from the cells
    "error_in_dates": ([["d"], [DAY], ["#REF!"]], False),
    "error_in_bools": ([["b"], [True], ["#REF!"]], False),
    "numbers_text_header": ([["1", "2.5", "True"], [1, 2, 3]], True),
}
for _n, _text in enumerate(NUMBER_TEXTS + BOOL_TEXTS):
    SHEETS[f"text_{_n}"] = ([["s"], ["word"], [_text], ["other"]], False)

FALLBACK_OPTIONS = [
    {"header": None}, {"header": 1}, {"index_col": 0}, {"usecols": "A"}, {"usecols": [0]},
    {"dtype": {"a": "float64"}}, {"dtype": object}, {"converters": {"a": str}},
    {"na_values": ["word"]}, {"keep_default_na": False}, {"na_filter": False},
    {"true_values": ["x"]}, {"false_values": ["y"]}, {"parse_dates": ["a"]}, {"nrows": 1},
    {"skiprows": 1}, {"skipfooter": 1}, {"thousands": ","}, {"decimal": ","}, {"comment": "#"},
    {"names": ["p", "q"]}, {"dtype_backend": "numpy_nullable"}, {"date_format": "%Y"},
]


def write_book(path, sheets):
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for name, (rows, _) in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return str(path)


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    return write_book(tmp_path_factory.mktemp("fast") / "quirks.xlsx", SHEETS)


def pandas_read(path, sheet_name=0, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pandas.read_excel(path, sheet_name=sheet_name, **options)


def read_many(path, workers, **options):
    """read_many of one file, tolerating only the 3.12 warning (xlsx read on threads)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*not in pergil workers.*")
        warnings.filterwarnings("ignore", message=".*default engine for reading 'xlsx'.*")
        return pt.read_many([path], workers, **options)[path]


def assert_same(got, expected):
    """Equal frames, dtypes, index type and column index type included."""
    if isinstance(expected, dict):
        assert isinstance(got, dict) and list(got) == list(expected)
        for key in expected:
            assert_same(got[key], expected[key])
        return
    pandas.testing.assert_frame_equal(got, expected, check_index_type=True,
                                      check_column_type=True, check_exact=True)
    assert type(got.index) is type(expected.index)


def cells_of(path, sheet_name=0, **options):
    """What a worker returns with the caller's fast-path decision, read here in the caller."""
    arguments = _excel_cells.excel_arguments(sheet_name, options)
    cells = _xlsx_worker.read_cells(path, sheet_name, _excel_cells.rows_needed(arguments),
                                    None, _excel_cells.fast_na_strings(arguments))
    return cells, arguments


@pytest.mark.parametrize("name", list(SHEETS))
def test_sheet_equals_pandas(book, workers, name):
    assert_same(read_many(book, workers, sheet_name=name), pandas_read(book, name))


@pytest.mark.parametrize("name", list(SHEETS))
def test_fast_path_taken_exactly_where_provable(book, name):
    """In the main interpreter (where 3.12 must read .xlsx): the worker code types the sheet
    exactly where the table says, and the frame built from its result is pandas'."""
    cells, arguments = cells_of(book, name)
    assert (name in cells["typed"]) is SHEETS[name][1]
    assert (name in cells["sheets"]) is not SHEETS[name][1]
    assert_same(_excel_cells.frame_from_cells(cells, arguments), pandas_read(book, name))


def test_every_sheet_at_once(book, workers):
    assert_same(read_many(book, workers, sheet_name=None), pandas_read(book, None))


def test_sheet_list_mixes_typed_and_parsed_sheets(book, workers):
    names = ["ints", 0, "header_dup", "ints", -1, "empty", "dates"]
    assert_same(read_many(book, workers, sheet_name=names), pandas_read(book, names))
    cells, _ = cells_of(book, names)
    assert set(cells["typed"]) == {"ints", 0, "dates"}


@pytest.mark.parametrize("sheet_name", ["nope", 99, ["ints", "nope"]])
def test_missing_sheet_raises_as_pandas(book, workers, sheet_name):
    with pytest.raises(Exception) as expected:
        pandas_read(book, sheet_name)
    with pytest.raises(type(expected.value)) as got:
        read_many(book, workers, sheet_name=sheet_name)
    assert str(got.value) == str(expected.value)


@pytest.mark.parametrize("options", FALLBACK_OPTIONS, ids=lambda o: "-".join(o))
def test_any_parsing_option_goes_through_pandas(book, options):
    arguments = _excel_cells.excel_arguments("ints", options)
    assert _excel_cells.fast_na_strings(arguments) is None
    assert _excel_cells.fast_na_strings(_excel_cells.excel_arguments("ints", {})) is not None


@pytest.mark.parametrize("options", FALLBACK_OPTIONS, ids=lambda o: "-".join(o))
def test_options_equal_pandas(book, options):
    try:
        expected = pandas_read(book, "ints", **options)
    except Exception as error:  # noqa: BLE001 - then read_many must raise the same
        with pytest.raises(type(error)):
            read_many(book, 2, sheet_name="ints", **options)
        return
    assert_same(read_many(book, 2, sheet_name="ints", **options), expected)


@pytest.mark.parametrize("options", [{"header": False}, {"skipfooter": False},
                                     {"engine_kwargs": {"keep_links": True}},
                                     {"engine": "openpyxl"}])
def test_default_lookalikes(book, options):
    """header=False is not header=0 (pandas rejects it); engine options do not parse."""
    arguments = _excel_cells.excel_arguments("ints", options)
    fast = _excel_cells.fast_na_strings(arguments) is not None
    assert fast is ("engine" in options or "engine_kwargs" in options)


def test_string_inference_goes_through_pandas(book):
    with pandas.option_context("future.infer_string", True):
        assert _excel_cells.fast_na_strings(_excel_cells.excel_arguments(0, {})) is None
        assert_same(read_many(book, 2, sheet_name="na_texts"), pandas_read(book, "na_texts"))


@pytest.mark.skipif(sys.version_info < (3, 13), reason="CPython 3.12: pyexpat refuses "
                    "sub-interpreters, so read_many reads .xlsx with pandas on threads")
def test_read_many_builds_typed_sheets_in_the_caller(book, monkeypatch):
    built = []
    original = _excel_cells.frame_from_typed

    def counting(names, columns):
        built.append(list(names))
        return original(names, columns)

    monkeypatch.setattr(_excel_cells, "frame_from_typed", counting)
    result = pt.read_many([book], 2, sheet_name=["ints", "header_dup", "na_texts"])[book]
    assert built == [["a", "b"], ["s", "i"]]  # header_dup went through pandas' parser
    assert_same(result, pandas_read(book, ["ints", "header_dup", "na_texts"]))


CELL_POOL = [0, 1, -7, BIGGEST, 2**63, 1.5, -0.25, 1e20, True, False, DAY,
             datetime.datetime(1600, 1, 1), datetime.time(1, 2), None, "", "a", "b b", " ",
             "NA", "nan", "#N/A", "null", "12", "inf", "true", "1e3"]


def test_random_sheets_equal_pandas(tmp_path, workers):
    """Random columns drawn from mostly one kind of cell plus a few of any kind."""
    rng = random.Random(1234 + workers)
    sheets = {}
    for number in range(24):
        width, height = rng.randint(1, 4), rng.randint(1, 8)
        header = [rng.choice(["a", "b", "c", None, "d", "e"]) for _ in range(width)]
        kinds = [rng.choice(CELL_POOL) for _ in range(width)]
        rows = [[kind if rng.random() < 0.8 else rng.choice(CELL_POOL) for kind in kinds]
                for _ in range(height)]
        sheets[f"s{number}"] = ([header] + rows, None)
    path = write_book(tmp_path / "random.xlsx", sheets)
    assert_same(read_many(path, workers, sheet_name=None), pandas_read(path, None))
    cells, arguments = cells_of(path, None)
    assert_same(_excel_cells.frame_from_cells(cells, arguments), pandas_read(path, None))


def same_cells(left, right):
    """Equal row lists, NaN (an error cell) equal to NaN, types compared too."""
    assert len(left) == len(right)
    for row_left, row_right in zip(left, right):
        assert [type(value) for value in row_left] == [type(value) for value in row_right]
        assert all(a == b or a != a and b != b for a, b in zip(row_left, row_right))


def test_values_path_equals_cell_path(book):
    """_xlsx_worker reads a read-only sheet's values, not its cells, unless a text could be an
    error cell's: every quirky sheet gives the cells the cell-by-cell conversion gives."""
    from openpyxl import load_workbook

    workbook = load_workbook(book, **_xlsx_worker.WORKBOOK_DEFAULTS)
    try:
        for sheet in workbook.worksheets:
            for rows_needed in (None, 1, 2):
                by_cells = _xlsx_worker._padded(_xlsx_worker._trimmed(
                    _xlsx_worker._cell_values(sheet), rows_needed))
                same_cells(_xlsx_worker._sheet_rows(sheet, True, rows_needed), by_cells)
    finally:
        workbook.close()


@pytest.mark.parametrize("text, plain", [("word", True), (" ", True), ("a1", True),
                                         ("0x10", True), ("1,5", True), ("1e", True),
                                         ("--1", True), ("a\x00", False), ("12", False),
                                         (" 1.5e3 ", False), ("Infinity", False),
                                         ("nan", False), ("TRUE", False), ("false ", False),
                                         ("\u0661", False)])
def test_plain_text(text, plain):
    assert _xlsx_columns.plain_text(text) is plain


def test_typed_column_limits():
    na = frozenset(["", "NA"])
    assert _xlsx_columns.typed_column((INT64_MAX, INT64_MIN), na)[0] == "int64"
    assert _xlsx_columns.typed_column((INT64_MAX + 1, 0), na) is None
    assert _xlsx_columns.typed_column((INT64_MIN - 1, 0.5), na) is None
    assert _xlsx_columns.typed_column(("NA", ""), na)[0] == "float64"
    assert _xlsx_columns.typed_column(("NA", 1), na)[0] == "float64"
    assert _xlsx_columns.typed_column((True, 1), na) is None
    assert _xlsx_columns.typed_column((DAY, 1), na) is None
    assert _xlsx_columns.typed_column((DAY.replace(tzinfo=datetime.timezone.utc),), na) is None
    kind, values = _xlsx_columns.typed_column((datetime.datetime(1970, 1, 1, 0, 0, 1, 5), "NA"),
                                              na)
    assert kind == "datetime64[ns]" and list(values) == [1_000_005_000, _xlsx_columns.NAT]
    assert _xlsx_columns.typed_sheet([["a"]], na) is None
    assert _xlsx_columns.typed_sheet([], na) is None
