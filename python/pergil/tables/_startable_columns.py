"""Worker side of load_startables: a table block's columns as plain buffers (pure Python).

Mirrors the non-transposed branch of pdtable 1.0.1's ``make_table_json_precursor`` and its column
parsers (pdtable/io/parsers/columns.py) for the inputs where the result is provably the same and
pdtable's fixer would not be called. Anything else (a transposed or empty table, a short row, a
duplicate column name, a cell pdtable would "fix", a datetime form pandas might read differently)
makes parse_table_fast return None, and the block goes to pdtable's own handler instead.

Column payloads: ("f", array('d')) float64; ("b", bytes) bool; ("U", (width, bytes)) text as numpy '<U{width}';
("M", array('q')) datetime64[ns] (NaT as the minimum int64).
"""

import itertools
import re
from array import array
from datetime import datetime, timedelta

_NAT = -(2**63)
_EPOCH = datetime(1970, 1, 1)
_ONE_MICROSECOND = timedelta(microseconds=1)
# Strict ISO 8601 forms that pandas.to_datetime and datetime.fromisoformat read alike (no zone, at
# most microseconds, a year pandas holds in nanoseconds); anything else goes pdtable's way.
_ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)?")
_MIN_YEAR, _MAX_YEAR = 1678, 2261
# The codec is looked up (and its module imported) now, not in the middle of the first parse:
# objects made then sit among the parse's cells and keep their arenas mapped (issue 12).
"".encode("utf-32-le", "surrogatepass")

# pdtable's _onoff_to_bool table, applied to normalized cells.
_ONOFF = {0: False, 1: True, False: False, True: True, "0": False, "1": True,
          "false": False, "true": True}


class _NeedsPdtable(Exception):
    """A cell or shape that pdtable's fixer (or a pdtable error) would handle."""


def _normalize(val):
    """pdtable's normalize_if_str."""
    return val.strip().lower() if isinstance(val, str) else val


def _float_column(values):
    """pdtable's _parse_float_column without the fixer, whole column at C speed when possible.

    float() strips whitespace and reads nan/inf/exponents case-insensitively, so where it
    accepts every cell it gives what pdtable's strip().lower() then float() gives.
    """
    try:
        return array("d", map(float, values))
    except (TypeError, ValueError):
        pass
    out = array("d")
    for val in values:
        if isinstance(val, (float, int)):
            out.append(float(val))
        elif isinstance(val, str):
            val = _normalize(val)
            if val in ("nan", "-"):
                out.append(float("nan"))
            else:
                try:
                    out.append(float(val))
                except ValueError:
                    raise _NeedsPdtable from None
        elif val is None:
            out.append(float("nan"))
        else:
            raise _NeedsPdtable
    return out


def _onoff_column(values):
    try:
        return bytes(map(_ONOFF.__getitem__, map(_normalize, values)))
    except (KeyError, TypeError):
        raise _NeedsPdtable from None


def _text_column(values):
    """The bytes of numpy's ``np.array(values, dtype=str)``: UCS-4 code points, each cell
    padded with NULs to the longest (at least 1), so no Python object per cell crosses."""
    # numpy's str() of non-str cells (None, numbers from .xlsx) is left to pdtable.
    for val in values:
        if type(val) is not str:
            raise _NeedsPdtable
    width = max(1, max(map(len, values), default=0))
    padded = "".join([val.ljust(width, "\0") for val in values])
    return width, padded.encode("utf-32-le", "surrogatepass")


def _ns_since_epoch(dt):
    if dt.tzinfo is not None or not _MIN_YEAR <= dt.year <= _MAX_YEAR:
        raise _NeedsPdtable
    return ((dt - _EPOCH) // _ONE_MICROSECOND) * 1000


def _datetime_cell(val):
    if type(val) is datetime:
        return _ns_since_epoch(val)
    if not isinstance(val, str):
        raise _NeedsPdtable
    val = val.strip()
    if val in ("-", "nan"):
        return _NAT
    if _ISO_DATETIME.fullmatch(val) is None:
        raise _NeedsPdtable
    try:
        return _ns_since_epoch(datetime.fromisoformat(val))
    except ValueError:
        raise _NeedsPdtable from None


def _datetime_column(values):
    return array("q", map(_datetime_cell, values))


def _column(unit, values, fast_datetime):
    if unit == "text":
        return ("U", _text_column(values))
    if unit == "onoff":
        return ("b", _onoff_column(values))
    if unit == "datetime":
        if not fast_datetime:
            raise _NeedsPdtable
        return ("M", _datetime_column(values))
    return ("f", _float_column(values))


def _header(cells):
    """(name, destinations, column names, units) of a plain table, or raise _NeedsPdtable."""
    table_name = cells[0][0][2:]
    if table_name.endswith("*") or len(cells) < 5 or type(cells[1][0]) is not str:
        raise _NeedsPdtable
    destinations = list(dict.fromkeys(cells[1][0].strip().split(" ")))
    names = []
    for cell in itertools.takewhile(lambda c: not (c is None or (isinstance(c, str) and not c.strip())), cells[2]):
        if type(cell) is not str:
            raise _NeedsPdtable
        names.append(cell.strip())
    if not names or len(set(names)) != len(names):
        raise _NeedsPdtable
    units = cells[3][: len(names)]
    if len(units) < len(names) or any(type(u) is not str for u in units):
        raise _NeedsPdtable
    return table_name, destinations, names, [u.strip() for u in units]


def parse_table_fast(cells, fast_datetime):
    """(name, destinations, column names, units, columns) for a table pdtable parses without
    its fixer, or None when the block must go through pdtable's own handler."""
    try:
        table_name, destinations, names, units = _header(cells)
        n_col = len(names)
        data_rows = cells[4:]
        for line in data_rows:
            if len(line) < n_col:
                raise _NeedsPdtable
        # zip makes one column tuple at a time and stops after the n_col named ones: no
        # truncated copy of every row (a block's rows are most of a worker's peak memory).
        columns = [
            _column(unit, values, fast_datetime)
            for unit, values in zip(units, zip(*data_rows))
        ]
    except _NeedsPdtable:
        return None
    return (table_name, destinations, names, units, columns)
