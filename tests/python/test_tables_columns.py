"""test_tables_columns.py: frame_from_columns builds a DataFrame from a worker's columns without
copying numeric columns; bad columns raise clear errors."""

import array
import warnings

import pytest

numpy = pytest.importorskip("numpy")
pandas = pytest.importorskip("pandas")

import pergil.tables as pt  # noqa: E402
from helpers import table_readers  # noqa: E402

DTYPES = {"f64": "float64", "f32": "float32", "i64": "int64", "i32": "int32", "u8": "uint8",
          "raw": "uint8", "view": "int16"}


def expected_frame(n):
    columns = table_readers.typed_columns(n)
    data = {name: numpy.array(list(memoryview(values).cast("B")) if name == "raw"
                              else list(values), dtype=DTYPES[name])
            for name, values in columns.items() if name in DTYPES}
    data["text"] = columns["text"]
    return pandas.DataFrame(data)


@pytest.mark.parametrize("n", [1, 1000, 50_000])
def test_columns_from_workers(executor, n):
    futures = [executor.submit(table_readers.typed_columns, n) for _ in range(3)]
    for future in futures:
        frame = pt.frame_from_columns(future.result())
        pandas.testing.assert_frame_equal(frame, expected_frame(n))


def test_users_reader_in_workers(executor, tmp_path):
    paths = []
    for number in range(6):
        path = tmp_path / f"part{number}.txt"
        path.write_text("".join(f"r{i} {i * 0.25 + number} {i - number}\n" for i in range(50)))
        paths.append(str(path))
    frames = [pt.frame_from_columns(columns)
              for columns in executor.map(table_readers.read_numbers, paths)]
    for number, frame in enumerate(frames):
        assert frame.dtypes.tolist()[1:] == [numpy.dtype("float64"), numpy.dtype("int64")]
        assert frame["x"].tolist() == [i * 0.25 + number for i in range(50)]
        assert frame["n"].tolist() == [i - number for i in range(50)]
        assert frame["name"].tolist() == [f"r{i}" for i in range(50)]


def test_zero_rows():
    """Built in the caller: an empty memoryview result from a worker arrives as format 'B'
    (pergil's transfer drops the format of an empty view), so the worker test starts at 1."""
    frame = pt.frame_from_columns(table_readers.typed_columns(0))
    pandas.testing.assert_frame_equal(frame, expected_frame(0))


def test_numeric_columns_are_not_copied():
    xs, ns = array.array("d", [1.0, 2.0, 3.0]), array.array("q", [4, 5, 6])
    frame = pt.frame_from_columns({"x": xs, "n": ns})
    assert numpy.shares_memory(frame["x"].to_numpy(), numpy.frombuffer(xs, "d"))
    assert numpy.shares_memory(frame["n"].to_numpy(), numpy.frombuffer(ns, "q"))


def test_read_only_memoryview_column():
    view = memoryview(bytes(array.array("d", [0.5, 1.5]))).cast("d")
    frame = pt.frame_from_columns({"v": view})
    assert frame["v"].tolist() == [0.5, 1.5] and frame["v"].dtype == numpy.float64


def test_column_order_and_empty_mapping():
    frame = pt.frame_from_columns({"b": array.array("i", [1]), "a": ["x"]})
    assert list(frame.columns) == ["b", "a"]
    assert pt.frame_from_columns({}).shape == (0, 0)


@pytest.mark.parametrize("columns, error, words", [
    ({"a": array.array("d", [1, 2]), "b": ["x"]}, ValueError, "differ in length ('a': 2, 'b': 1)"),
    ({"a": ["x", 3]}, TypeError, "item 1 is int"),
    ({"a": {1, 2}}, TypeError, "column 'a' is a set"),
    ({"a": 3.0}, TypeError, "column 'a' is a float"),
    ({"a": memoryview(b"abcd").cast("B", (2, 2))}, ValueError, "2-D memoryview"),
    ([("a", [1])], TypeError, "expected a mapping"),
])
def test_bad_columns(columns, error, words):
    with pytest.raises(error) as info:
        pt.frame_from_columns(columns)
    assert words in str(info.value) and "frame_from_columns" in str(info.value)


def test_unicode_array_is_refused():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # 'u' is deprecated in 3.13
        column = array.array("u", "xy")
    with pytest.raises(TypeError, match="typecode 'u'.*list of str"):
        pt.frame_from_columns({"a": column})


def test_import_pergil_tables_imports_no_pandas():
    """Workers import pergil.tables' worker modules through the package: it must stay light."""
    from helpers.support import run_python

    code = ("import sys, pergil.tables as pt; from pergil.tables import _xlsx_worker; "
            "print(sorted(m for m in ('pandas', 'numpy', 'openpyxl') if m in sys.modules))")
    done = run_python(["-c", code])
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
