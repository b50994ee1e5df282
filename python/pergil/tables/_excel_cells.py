"""_excel_cells.py: turns the cells a worker read (see _xlsx_worker) into read_excel's result,
through pandas' own sheet parsing, in the caller's interpreter.

pandas.read_excel(path, ...) opens an ExcelFile, whose reader (OpenpyxlReader) lists sheets
and returns each sheet's cells as rows of Python values; BaseExcelReader.parse then does all
the rest (header, index_col, usecols, dtype, converters, NA values, dates, skiprows, nrows)
through pandas' TextParser. Here a reader of the same base class serves the rows the worker
already read, so everything after the cell reading is pandas' code, and the result is
read_excel's. Relies on pandas' BaseExcelReader (pandas 2.x and 3.x); ``supported()`` says
whether this pandas has it, and read_many falls back to pandas.read_excel where it does not.
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


def frame_from_cells(cells, arguments):
    """read_excel's result (a DataFrame, or {sheet: DataFrame}) from a worker's cells."""
    from pandas.util._validators import check_dtype_backend

    check_dtype_backend(arguments["dtype_backend"])
    return _reader(cells).parse(sheet_name=arguments["sheet_name"],
                                **parse_arguments(arguments))
