"""_xlsx_columns.py: a sheet's cells as typed columns, in a worker, where pandas' default parsing
provably gives the same frame (standard library only: it runs where pandas cannot import).

Contract (pandas 2.x, read_excel with every parsing option at its default; the caller checks
the options, see _excel_cells.fast_na_strings): pandas hands the cell rows to its python
TextParser, which takes row 0 as the header (an empty name -> "Unnamed: i", duplicates
renamed, a BOM stripped from the first name) and runs each data column through
``lib.maybe_convert_numeric`` (a value in the NA strings -> NaN; int -> int64; any float or NaN
-> float64; ints out of int64 -> uint64/object), else through ``sanitize_objects`` (NA strings
-> NaN, object column) and ``maybe_convert_bool`` ("True"/"false"... -> bool). This module
returns a column, as ``(dtype, data)``, only where that outcome is certain:
- all ints within int64 -> ("int64", array('q'));
- ints, floats and NA strings (no other text), at least one cell -> ("float64", array('d')),
  NA -> NaN (a column of NA strings only is all-NaN float64, as pandas gives);
- all bools, no NA -> ("bool", array('B')) (with NA pandas gives float64: left to it);
- naive datetimes within 1678-2261 and NA strings -> ("datetime64[ns]", array('q') of ns since
  the epoch, NaT for NA): the parser leaves them an object column, which the DataFrame
  constructor turns into datetime64[ns] (outside the ns range it stays object: left to pandas);
- text, NA strings and NaN (error cells) only, where no text is one pandas would read as a
  number (anything ``float()`` accepts, a superset of pandas' parser) or a bool word ->
  ("object", a list of str with NaN for NA).
Anything else (time or timedelta cells, bools or text mixed with numbers, a non-str or duplicate
header, no data rows) returns None: the caller runs pandas' own parser on the cells instead.
"""

from array import array
from datetime import datetime

INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1
NAN = float("nan")
_CELL_TYPES = frozenset((int, float, str))
_BOOL_WORDS = frozenset(("true", "false"))  # maybe_convert_bool's words, any case (conservative)
_BOM = "\ufeff"
_EPOCH = datetime(1970, 1, 1)
_FIRST_DATE, _END_DATE = datetime(1678, 1, 1), datetime(2262, 1, 1)  # inside the ns range
NAT = INT64_MIN  # numpy's NaT in datetime64[ns]


def typed_sheet(rows, na_strings):
    """``(names, columns)`` for a sheet's rows (as _xlsx_worker reads them: one width, trailing
    empties trimmed), or None where pandas' parser must decide. ``na_strings``: pandas'
    default NA strings (the caller passes ``pandas._libs.parsers.STR_NA_VALUES``)."""
    if len(rows) < 2:  # empty sheet or header only: pandas' own empty-frame rules
        return None
    names = column_names(rows[0])
    if names is None:
        return None
    columns = []
    for values in zip(*rows[1:]):
        column = typed_column(values, na_strings)
        if column is None:
            return None
        columns.append(column)
    return names, columns


def column_names(header):
    """The header row as pandas names its columns, or None where it would rename them (a
    duplicate, a BOM) or a name is not text (numbers, dates: kept as objects by pandas)."""
    names = []
    for position, cell in enumerate(header):
        if type(cell) is not str:
            return None
        names.append(cell if cell else f"Unnamed: {position}")
    if not names or names[0].startswith(_BOM) or len(set(names)) < len(names):
        return None
    return names


def typed_column(values, na_strings):
    """One data column as (dtype, data) (see the module's contract); None: not provable."""
    kinds = set(map(type, values))
    if kinds == {int}:
        return ("int64", array("q", values)) if _in_int64(values) else None
    if kinds == {bool}:
        return "bool", array("B", values)
    if datetime in kinds:
        return _datetime_column(values, kinds, na_strings)
    if not kinds <= _CELL_TYPES:  # bool beside others, time, timedelta...: pandas decides
        return None
    if str not in kinds:
        return _float_column(values)
    texts = {value for value in values if type(value) is str}
    if texts <= na_strings:  # numbers and NA strings only (or NA strings only)
        return _float_column([NAN if type(value) is str else value for value in values])
    if not (kinds == {str} or kinds == {str, float} and _all_nan(values)):
        return None  # text beside numbers stays mixed objects
    if not all(map(plain_text, texts - na_strings)):
        return None  # number-like or bool-like text would convert
    return "object", [value if type(value) is str and value not in na_strings else NAN
                      for value in values]


def _all_nan(values):
    """Whether every float is NaN (an error cell): sanitize_objects keeps it NaN in an object
    column, where it equals an NA string's NaN."""
    return all(value != value for value in values if type(value) is float)


def _in_int64(values):
    return INT64_MIN <= min(values) and max(values) <= INT64_MAX


def _float_column(values):
    """float64 of ints and floats; None where an int is out of int64 (pandas then goes
    through uint64 or object, or float() would overflow)."""
    whole = [value for value in values if type(value) is int]
    if whole and not _in_int64(whole):
        return None
    return "float64", array("d", values)


def _datetime_column(values, kinds, na_strings):
    """datetime64[ns] of naive datetimes and NA strings (NaT), or None."""
    if not kinds <= {datetime, str}:
        return None
    nanoseconds = array("q")
    for value in values:
        if type(value) is str:
            if value not in na_strings:
                return None
            nanoseconds.append(NAT)
        elif value.tzinfo is not None or not _FIRST_DATE <= value < _END_DATE:
            return None
        else:
            delta = value - _EPOCH  # exact: days, seconds, microseconds
            nanoseconds.append(((delta.days * 86400 + delta.seconds) * 1_000_000
                                + delta.microseconds) * 1000)
    return "datetime64[ns]", nanoseconds


def plain_text(text):
    """Whether pandas keeps this (non-NA) text as it is: not a number to its parser (float()
    accepts all that pandas' xstrtod and inf/infinity spellings accept), not a bool word, and
    no NUL (pandas' C parser would stop there)."""
    if "\x00" in text or text.strip().lower() in _BOOL_WORDS:
        return False
    try:
        float(text)
    except ValueError:
        return True
    return False
