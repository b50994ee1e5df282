"""test_tables_read_many.py: pergil.tables.read_many equals pandas.read_csv / read_excel, file by
file, dtypes included, on quirky files, at 1, 2 and 4 workers; bad inputs fail as pandas fails."""

import os
import sys
import warnings
import zipfile

import pytest

pandas = pytest.importorskip("pandas")
pytest.importorskip("openpyxl")

import pergil.tables as pt  # noqa: E402
from helpers import table_files  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bench"))
import table_data  # noqa: E402

FALLBACK = "not in pergil workers"  # the warning where openpyxl cannot load in a worker
PANDAS_ENGINE_WARNING = "The default engine for reading 'xlsx' files will change"

CSV_CASES = [
    ("plain", {}),
    ("plain", {"parse_dates": ["when"]}),
    ("plain", {"index_col": 0, "usecols": ["id", "x", "when"]}),
    ("plain", {"dtype": {"x": "float32", "id": "int32"}, "true_values": ["True"]}),
    ("na", {}),
    ("na", {"na_values": ["-"], "keep_default_na": False}),
    ("na", {"na_filter": False}),
    ("quoting", {}),
    ("latin1", {"encoding": "latin-1"}),
    ("bom", {}),
    ("semicolon", {"sep": ";", "decimal": ","}),
    ("ints_floats", {}),
    ("ints_floats", {"dtype": str}),
    ("header_only", {}),
    ("plain", {"header": None, "skiprows": 1, "names": list("abcde")}),
    ("plain", {"nrows": 2, "converters": {"name": str.upper}}),
]

EXCEL_CASES = [
    (0, {}),
    ("quirks", {}),
    (None, {}),
    ([0, "second", "empty"], {}),
    (-1, {}),
    ("quirks", {"index_col": 0}),
    ("quirks", {"header": None}),
    ("quirks", {"usecols": "A:D", "nrows": 3}),
    ("quirks", {"dtype": {"int": "float64", "text": str}}),
    ("quirks", {"na_values": ["NA", "c"], "keep_default_na": False}),
    ("quirks", {"true_values": ["a"], "false_values": ["c"]}),
    ("quirks", {"converters": {"text": str}}),
    ("second", {"parse_dates": ["when"], "index_col": "key"}),
    ("second", {"skiprows": [1, 3, 5], "nrows": 4}),
    ("second", {"skipfooter": 2, "usecols": [0, 1]}),
    ("second", {"dtype_backend": "numpy_nullable"}),
    ("lower", {"header": [2, 3]}),
    ("lower", {"skiprows": 3}),
    ("lower", {"skiprows": lambda i: i in (0, 1), "header": 1}),
    ("empty", {}),
    ("header_only", {}),
]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = str(tmp_path_factory.mktemp("tables"))
    paths = table_files.csv_files(folder)
    paths["quirky_xlsx"] = table_files.write_quirky_xlsx(os.path.join(folder, "quirky.xlsx"))
    paths["generated_csv"] = table_data.write_plain_csv(os.path.join(folder, "gen.csv"), 500)
    paths["generated_xlsx"] = table_data.write_plain_xlsx(os.path.join(folder, "gen.xlsx"), 300)
    paths["truncated_xlsx"] = table_files.write_truncated_xlsx(
        paths["quirky_xlsx"], os.path.join(folder, "truncated.xlsx"))
    paths["no_workbook_xlsx"] = table_files.write_not_a_workbook(
        os.path.join(folder, "no_workbook.xlsx"))
    paths["missing_csv"] = os.path.join(folder, "missing.csv")
    paths["missing_xlsx"] = os.path.join(folder, "missing.xlsx")
    return paths


def pandas_read(path, sheet_name=0, **options):
    """The reference: what pandas itself returns (its default-engine warning silenced)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if os.path.splitext(path)[1] == ".xlsx":
            return pandas.read_excel(path, sheet_name=sheet_name, **options)
        return pandas.read_csv(path, **options)


def read_many(paths, workers, **kwargs):
    """read_many, allowing only the documented warning (where workers cannot load openpyxl)
    and, where pandas itself reads an .xlsx file, pandas' own default-engine warning."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = pt.read_many(paths, workers, **kwargs)
    for warning in caught:
        text = str(warning.message)
        assert (FALLBACK in text and "openpyxl" in text) or PANDAS_ENGINE_WARNING in text, text
    return result


def assert_same(got, expected):
    if isinstance(expected, dict):
        assert isinstance(got, dict) and list(got) == list(expected)
        for key in expected:
            pandas.testing.assert_frame_equal(got[key], expected[key])
    else:
        pandas.testing.assert_frame_equal(got, expected)


def expect_raises(function, *args, **kwargs):
    """The exception pandas raises (its type and message), for comparing with ours."""
    with pytest.raises(Exception) as info:
        function(*args, **kwargs)
    return info.value


@pytest.mark.parametrize("name, options", CSV_CASES,
                         ids=[f"{n}-{'-'.join(o) or 'defaults'}" for n, o in CSV_CASES])
def test_csv_equals_pandas(files, workers, name, options):
    paths = [files[name], files["generated_csv"], files[name]]
    result = read_many(paths, workers, **options)
    assert list(result) == [files[name], files["generated_csv"]]
    for path in result:
        assert_same(result[path], pandas_read(path, **options))


@pytest.mark.parametrize("sheet_name, options", EXCEL_CASES,
                         ids=[f"{s}-{'-'.join(o) or 'defaults'}" for s, o in EXCEL_CASES])
def test_xlsx_equals_pandas(files, workers, sheet_name, options):
    paths = [files["quirky_xlsx"]]
    result = read_many(paths, workers, sheet_name=sheet_name, **options)
    assert_same(result[files["quirky_xlsx"]],
                pandas_read(files["quirky_xlsx"], sheet_name, **options))


def test_many_files_in_input_order(files, workers, tmp_path):
    """16 generated files of both formats, mixed, come back in input order, each as pandas'."""
    csvs = table_data.write_files(str(tmp_path / "c"), "csv", 8, 200)
    xlsxs = table_data.write_files(str(tmp_path / "x"), "xlsx", 8, 100)
    paths = [path for pair in zip(xlsxs, csvs) for path in pair]
    for _ in range(2):  # repeats: completion order differs from run to run
        result = read_many(paths, workers)
        assert list(result) == paths
        for path in paths:
            assert_same(result[path], pandas_read(path))


def test_sheet_none_gives_every_sheet(files, workers):
    result = read_many([files["quirky_xlsx"], files["generated_xlsx"]], workers, sheet_name=None)
    assert list(result[files["quirky_xlsx"]]) == ["quirks", "second", "empty", "header_only",
                                                  "lower"]
    assert_same(result[files["generated_xlsx"]], pandas_read(files["generated_xlsx"], None))


def test_engine_openpyxl_and_pathlike(files, workers):
    from pathlib import Path

    path = Path(files["generated_xlsx"])
    result = read_many([path], workers, engine="openpyxl")
    assert list(result) == [path]
    assert_same(result[path], pandas_read(str(path), engine="openpyxl"))


def test_calamine_passes_through(files, workers):
    pytest.importorskip("python_calamine")
    path = files["generated_xlsx"]
    result = read_many([path], workers, engine="calamine")
    assert_same(result[path], pandas_read(path, engine="calamine"))


# ---- bad inputs: the exception pandas raises, with the file named ----

@pytest.mark.parametrize("name, options", [
    ("missing_csv", {}), ("missing_xlsx", {}), ("truncated_xlsx", {}), ("no_workbook_xlsx", {}),
    ("malformed", {}), ("empty", {}), ("quirky_xlsx", {"sheet_name": "nope"}),
    ("quirky_xlsx", {"sheet_name": 9}), ("quirky_xlsx", {"dtype_backend": "wrong"}),
    ("quirky_xlsx", {"header": -1}), ("plain", {"usecols": ["nope"]}),
    ("quirky_xlsx", {"usecols": ["nope"]}), ("quirky_xlsx", {"sheet_name": []}),
])
def test_failing_file_raises_as_pandas(files, workers, name, options):
    path = files[name]
    expected = expect_raises(pandas_read, path, **options)
    with pytest.raises(type(expected)) as info:
        read_many([path], workers, **options)
    assert type(info.value) is type(expected)
    assert str(info.value) == str(expected)
    assert any(path in note for note in getattr(info.value, "__notes__", []))


def test_unknown_option_raises_type_error_before_reading(files, workers):
    expected = expect_raises(pandas.read_csv, files["plain"], no_such_option=1)
    with pytest.raises(TypeError):
        pt.read_many([files["plain"], files["missing_csv"]], workers, no_such_option=1)
    assert isinstance(expected, TypeError)
    with pytest.raises(TypeError):
        pt.read_many([files["quirky_xlsx"]], workers, sep=";")  # read_csv's, not read_excel's


@pytest.mark.parametrize("arguments, error", [
    ({"paths": [3]}, TypeError), ({"paths": ["a.csv"], "workers": 0}, ValueError),
    ({"paths": ["a.csv"], "workers": 1.5}, ValueError),
    ({"paths": ["a.csv"], "errors": "ignore"}, ValueError),
])
def test_bad_arguments(arguments, error):
    with pytest.raises(error, match="read_many"):
        pt.read_many(**arguments)


def test_no_paths_gives_empty_dict():
    assert pt.read_many([]) == {}


def test_collect_maps_failures_and_reads_the_rest(files, workers):
    bad = ["missing_csv", "truncated_xlsx", "malformed", "missing_xlsx", "no_workbook_xlsx"]
    good = ["plain", "quirky_xlsx", "generated_csv", "generated_xlsx"]
    paths = [files[name] for pair in zip(bad, good) for name in pair] + [files[bad[-1]]]
    result = read_many(paths, workers, errors="collect")
    assert list(result) == paths
    for name in good:
        assert_same(result[files[name]], pandas_read(files[name]))
    for name in bad:
        error = result[files[name]]
        expected = expect_raises(pandas_read, files[name])
        assert isinstance(error, pt.ReadError) and error.path == files[name]
        assert type(error.cause) is type(expected) and error.__cause__ is error.cause
        assert str(error.cause) == str(expected) and files[name] in str(error)
    assert result[files["malformed"]].row == 3  # "Expected 2 fields in line 3, saw 3"
    assert result[files["missing_csv"]].row is None


def test_read_error_pickles(files):
    error = pt.ReadError(files["malformed"], ValueError("bad in line 7"))
    import pickle

    copy = pickle.loads(pickle.dumps(error))
    assert (copy.path, copy.row, str(copy)) == (error.path, 7, str(error))


def test_progress_bar_counts_files_and_megabytes(files, capfd):
    pytest.importorskip("tqdm")
    read_many([files["plain"], files["generated_xlsx"], files["missing_csv"]], 2,
              errors="collect", progress=True)
    err = capfd.readouterr().err
    assert "read_many" in err and "3/3" in err and "MB" in err


def test_progress_without_tqdm_prints_lines(files, capfd, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    read_many([files["plain"], files["generated_csv"]], 2, progress=True)
    err = capfd.readouterr().err
    assert "install tqdm" in err
    assert "read_many: 2/2 files" in err and "MB" in err


def test_xlsx_where_workers_cannot_load_openpyxl_warns_and_still_reads(files, monkeypatch):
    """Forces the verdict CPython 3.12 reaches by trying (pyexpat refuses sub-interpreters)."""
    from pergil.tables import _read_many

    monkeypatch.setattr(_read_many, "_worker_verdict", ["openpyxl cannot load (forced)"])
    with pytest.warns(RuntimeWarning, match=FALLBACK):
        result = pt.read_many([files["quirky_xlsx"]], 2)
    assert_same(result[files["quirky_xlsx"]], pandas_read(files["quirky_xlsx"]))


def test_worker_verdict_matches_this_python():
    """openpyxl loads in a worker on 3.13; on 3.12 pyexpat refuses, and read_many says so."""
    from pergil.tables import _read_many

    import pergil

    _read_many._worker_verdict.clear()
    with pergil.InterpreterPoolExecutor(1) as pool:
        problem = _read_many._worker_problem(pool)
    if sys.version_info >= (3, 13):
        assert problem is None
    else:
        assert "pyexpat" in problem


def test_truncated_is_a_zip_error(files):
    """Documents what the truncated file is to pandas (the parametrized test compares types)."""
    error = expect_raises(pandas_read, files["truncated_xlsx"])
    assert isinstance(error, zipfile.BadZipFile)


@pytest.mark.parametrize("count", [1, 2, 4])
def test_given_executor_is_used_and_stays_open(files, count):
    """An InterpreterPoolExecutor passed as ``workers`` reads the .xlsx files (where openpyxl
    loads in a worker) and is still open afterwards: repeated calls pay no pool start."""
    import pergil

    paths = [files["generated_xlsx"], files["quirky_xlsx"], files["generated_csv"]]
    with pergil.InterpreterPoolExecutor(count) as pool:
        for _ in range(2):
            result = read_many(paths, pool)
            assert list(result) == paths
            for path in paths:
                assert_same(result[path], pandas_read(path))
        assert pool.submit(abs, -3).result() == 3  # not shut down by read_many


@pytest.mark.skipif(sys.version_info < (3, 13), reason="3.12: .xlsx never goes to a worker "
                    "(pyexpat refuses sub-interpreters), so the given pool is not used")
def test_given_executor_that_is_shut_down_fails_clearly(files):
    import pergil

    pool = pergil.InterpreterPoolExecutor(1)
    pool.shutdown()
    with pytest.raises(RuntimeError, match="shutdown"):
        pt.read_many([files["generated_xlsx"]], pool)


@pytest.mark.skipif(sys.version_info < (3, 13), reason="3.12 reads .xlsx in the caller")
def test_a_worker_reads_xlsx_without_half_importing_numpy(tmp_path):
    # As load_startables' workers: openpyxl's optional numpy import would run part of numpy's
    # __init__ in the worker before numpy refuses it (4.5 MiB per worker).
    import pergil
    from pergil.tables import _xlsx_worker

    path = table_data.write_plain_xlsx(str(tmp_path / "plain.xlsx"), 20)
    probe = ("(sorted(m for m in __import__('sys').modules if m.split('.')[0] == 'numpy'), "
             "__import__('openpyxl').compat.numbers.NUMPY)")
    with pergil.InterpreterPoolExecutor(max_workers=1) as ex:
        cells = ex.submit(_xlsx_worker.read_cells, path, 0, None, None).result()
        assert cells["sheet_names"] and ex.submit(eval, probe).result() == ([], False)
        with pytest.raises(ImportError) as refused:
            ex.submit(__import__, "numpy").result()
    assert "halted" not in str(refused.value)  # numpy's own refusal, not a None entry
    frames = pt.read_many([path], workers=1)  # and the result is still read_excel's
    pandas = pytest.importorskip("pandas")
    pandas.testing.assert_frame_equal(frames[path], pandas.read_excel(path))
