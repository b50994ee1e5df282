"""_columns.py: frame_from_columns(), a DataFrame from the columns a worker returned, with no
Python object per numeric cell.

A pergil worker cannot import numpy or pandas, but it can build ``array.array`` columns; a
fresh array.array result moves its memory into the caller (no copy), numpy.frombuffer wraps it
(no copy) and the DataFrame is built with copy=False, so the numbers are never copied or boxed.
"""

import array

_NUMERIC_TYPECODES = frozenset("bBhHiIlLqQfd")


def _numeric(name, values):
    """A 1-D numpy array over a numeric buffer column (no copy)."""
    import numpy

    if isinstance(values, array.array):
        if values.typecode not in _NUMERIC_TYPECODES:
            raise TypeError(f"frame_from_columns: column {name!r} is an array.array of "
                            f"typecode {values.typecode!r}; numeric typecodes are "
                            f"{''.join(sorted(_NUMERIC_TYPECODES))} (text: a list of str)")
        return numpy.frombuffer(values, dtype=values.typecode)
    if isinstance(values, memoryview):
        if values.ndim != 1:
            raise ValueError(f"frame_from_columns: column {name!r} is a {values.ndim}-D "
                             "memoryview; columns are 1-D")
        try:
            dtype = numpy.dtype(values.format)
        except TypeError:
            raise TypeError(f"frame_from_columns: column {name!r} is a memoryview of format "
                            f"{values.format!r}, which numpy does not know") from None
        return numpy.frombuffer(values, dtype=dtype)
    return numpy.frombuffer(values, dtype=numpy.uint8)  # bytes, bytearray: one byte a cell


def _text(name, values):
    """A list of str (None: missing) as pandas would take it; checks every item's type."""
    for position, item in enumerate(values):
        if item is not None and type(item) is not str:
            raise TypeError(f"frame_from_columns: column {name!r} is a list of str, but item "
                            f"{position} is {type(item).__name__} ({item!r}); numbers go in an "
                            "array.array")
    return values


def _column(name, values):
    if isinstance(values, (array.array, memoryview, bytes, bytearray)):
        return _numeric(name, values)
    if isinstance(values, (list, tuple)):
        return _text(name, list(values))
    raise TypeError(f"frame_from_columns: column {name!r} is a {type(values).__name__}; a column "
                    "is an array.array (numbers), a typed memoryview, bytes/bytearray (one uint8 "
                    "a byte) or a list of str (text, None for missing)")


def frame_from_columns(columns):
    """A pandas DataFrame from ``{name: column}``, columns in the mapping's order.

    A column is an ``array.array`` of a numeric typecode (``'d'`` -> float64, ``'q'`` ->
    int64, ``'i'`` -> int32, ...), a 1-D typed ``memoryview`` (its format gives the dtype),
    ``bytes``/``bytearray`` (uint8, one value a byte), or a list of ``str`` (``None`` for a
    missing value; the dtype is what pandas gives such a list). Numeric columns are wrapped,
    not copied: the frame shares their memory.

    Returns:
        pandas.DataFrame: one column per entry, with a default RangeIndex (an empty frame for
        an empty mapping).

    Raises:
        TypeError: ``columns`` is not a mapping, or a column is of another kind (named).
        ValueError: columns of different lengths, or a memoryview that is not 1-D.
    """
    from collections.abc import Mapping

    if not isinstance(columns, Mapping):
        raise TypeError(f"frame_from_columns: expected a mapping of column name to column, not "
                        f"{type(columns).__name__}")
    import pandas

    data = {name: _column(name, values) for name, values in columns.items()}
    lengths = {name: len(values) for name, values in data.items()}
    if len(set(lengths.values())) > 1:
        described = ", ".join(f"{name!r}: {length}" for name, length in lengths.items())
        raise ValueError(f"frame_from_columns: columns differ in length ({described})")
    if not data:
        return pandas.DataFrame()
    return pandas.DataFrame(data, copy=False)
