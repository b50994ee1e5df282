"""_excel_cells.py: turns the cells a worker read (see _xlsx_worker) into read_excel's result,
through pandas' own sheet parsing, in the caller's interpreter.

pandas.read_excel(path, ...) opens an ExcelFile, whose reader (OpenpyxlReader) lists sheets
and returns each sheet's cells as rows of Python values; BaseExcelReader.parse then does all
the rest (header, index_col, usecols, dtype, converters, NA values, dates, skiprows, nrows)
through pandas' TextParser. Here a reader of the same base class serves the rows the worker
already read, so everything after the cell reading is pandas' code, and the result is
read_excel's. Relies on pandas' BaseExcelReader (pandas 2.x and 3.x); ``supported()`` says
whether this pandas has it, and read_many falls back to pandas.read_excel where it does not.
Sheets a worker typed itself (_xlsx_columns; only where fast_na_strings allows it) skip the
parser: frame_from_typed builds the frame pandas' TextFileReader.read would build.
"""

import inspect

_EXCEL_ONLY = ("io", "sheet_name", "engine", "storage_options", "engine_kwargs")


def _base_class():
    try:
        from pandas.io.excel._base import BaseExcelReader
    except ImportError:
        return None
    if not all(hasattr(BaseExcelReader, name) for name in ("parse", "_calc_rows")):
        return None
    return BaseExcelReader


def supported():
    """Whether this pandas has the reader interface the cells are fed into."""
    return _base_class() is not None


def excel_arguments(sheet_name, options):
    """read_excel's arguments for these options, defaults filled in; raises TypeError for an
    argument read_excel does not take, as read_excel would."""
    import pandas

    bound = inspect.signature(pandas.read_excel).bind("path", sheet_name, **options)
    bound.apply_defaults()
    return dict(bound.arguments)


def parse_arguments(arguments):
    """The arguments read_excel passes on to its reader's parse(), sheet_name excluded."""
    return {name: value for name, value in arguments.items() if name not in _EXCEL_ONLY}


def _reader_class():
    base = _base_class()

    class CellsReader(base):
        """A pandas Excel reader over cells read elsewhere: {"sheet_names", "sheets"}."""

        def __init__(self, cells):  # no file to open: the worker did that
            self.book = None
            self._names = list(cells["sheet_names"])
            self._sheets = cells["sheets"]

        def close(self):
            pass

        @property
        def sheet_names(self):
            return self._names

        def get_sheet_by_name(self, name):
            self.raise_if_bad_sheet_by_name(name)
            return name

        def get_sheet_by_index(self, index):
            self.raise_if_bad_sheet_by_index(index)
            if index not in self._sheets:
                raise IndexError("list index out of range")  # as worksheets[index] would
            return index

        def get_sheet_data(self, sheet, rows=None):
            # The worker cut the rows at the same count (rows_needed); pandas' parse may
            # modify the list it gets, so it gets its own.
            return list(self._sheets[sheet])

    return CellsReader


_CLASS = []


def _reader(cells):
    if not _CLASS:
        _CLASS.append(_reader_class())
    return _CLASS[0](cells)


def rows_needed(arguments):
    """How many rows of a sheet pandas reads for these arguments (None: all), as its reader
    computes it; None too where the arguments are invalid (parse() then rejects them)."""
    reader = _reader({"sheet_names": [], "sheets": {}})
    try:
        return reader._calc_rows(arguments["header"], arguments["index_col"],
                                 arguments["skiprows"], arguments["nrows"])
    except Exception:  # noqa: BLE001 - pandas' own checks in parse() raise the right error
        return None


def fast_na_strings(arguments):
    """pandas' default NA strings, for the worker to type columns itself (_xlsx_columns), or
    None where it must not: that module's proof holds for pandas 2.x with string inference off
    and every parsing argument at read_excel's default (compared by type and value, so that
    header=False or a numpy 0 is not taken for 0)."""
    import pandas

    if not pandas.__version__.startswith("2.") or _infers_strings(pandas):
        return None
    defaults = {name: parameter.default for name, parameter
                in inspect.signature(pandas.read_excel).parameters.items()}
    for name, value in parse_arguments(arguments).items():
        default = defaults.get(name, inspect.Parameter.empty)
        if value is not default and (type(value) is not type(default) or value != default):
            return None
    from pandas._libs.parsers import STR_NA_VALUES

    return frozenset(STR_NA_VALUES)


def _infers_strings(pandas):
    try:
        return bool(pandas.get_option("future.infer_string"))
    except (KeyError, pandas.errors.OptionError):
        return False


def frame_from_cells(cells, arguments):
    """read_excel's result (a DataFrame, or {sheet: DataFrame}) from a worker's cells: sheets
    the worker typed are built from their columns, the others go through pandas' parse(), in
    the order and with the keys parse() would use."""
    from pandas.util._validators import check_dtype_backend

    check_dtype_backend(arguments["dtype_backend"])
    typed = cells.get("typed")
    sheet_name = arguments["sheet_name"]
    if not typed:
        return _reader(cells).parse(sheet_name=sheet_name, **parse_arguments(arguments))
    if isinstance(sheet_name, list):
        keys = sheet_name
    elif sheet_name is None:
        keys = cells["sheet_names"]
    else:
        keys = [sheet_name]
    output = {}
    for key in dict.fromkeys(keys):  # parse() drops duplicate keys the same way
        if key in typed:
            output[key] = frame_from_typed(*typed[key])
        else:  # pandas' parse() raises for a missing sheet here, as read_excel would
            output[key] = _reader(cells).parse(sheet_name=key, **parse_arguments(arguments))
    return output if isinstance(sheet_name, list) or sheet_name is None else output[key]


def frame_from_typed(names, columns):
    """The frame pandas' TextFileReader.read builds from these columns: DataFrame(dict,
    columns=names, index=RangeIndex(0, rows), copy=True); a column is (dtype, data) as
    _xlsx_columns makes it: numbers, bools and datetimes are wrapped (no Python object per
    cell), "object" data is a list of str/NaN."""
    import numpy
    import pandas

    data = {}
    for name, (dtype, values) in zip(names, columns):
        if dtype == "object":
            data[name] = numpy.array(values, dtype=object)
        else:
            data[name] = numpy.frombuffer(values, dtype=_NUMPY_DTYPES[dtype])
    index = pandas.RangeIndex(0, len(columns[0][1]))
    return pandas.DataFrame(data, columns=names, index=index, copy=True)


_NUMPY_DTYPES = {"int64": "int64", "float64": "float64", "bool": "bool",
                 "datetime64[ns]": "datetime64[ns]"}
