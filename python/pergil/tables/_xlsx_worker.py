"""_xlsx_worker.py: reads .xlsx cells with openpyxl inside a pergil worker (no pandas, no numpy).

The cell values it returns are exactly what pandas' openpyxl reader hands to its parser
(pandas/io/excel/_openpyxl.py, ``OpenpyxlReader.get_sheet_data`` and ``_convert_cell``), so
that the caller can run pandas' own sheet parsing on them and get ``pandas.read_excel``'s
result. Keep this module's imports to the standard library and openpyxl: it runs in workers.
"""

from pergil.tables import _openpyxl_sizing
from pergil.tables._worker_imports import import_openpyxl_without_numpy

# openpyxl.load_workbook's arguments as pandas passes them (engine_kwargs override them).
WORKBOOK_DEFAULTS = {"read_only": True, "data_only": True, "keep_links": False}


def probe():
    """Imports openpyxl (and with it pyexpat): raises ImportError where a worker cannot."""
    import_openpyxl_without_numpy()  # the import is the probe
    return True


def _convert_cell(cell, error_type, numeric_type):
    """One cell as pandas converts it: empty -> "", error -> NaN, integral number -> int."""
    value = cell.value
    if value is None:
        return ""  # what pandas returns, for compatibility with xlrd
    data_type = cell.data_type
    if data_type == error_type:
        return float("nan")
    if data_type == numeric_type:
        whole = int(value)
        return whole if whole == value else float(value)
    return value


def _sheet_rows(sheet, read_only, rows_needed):
    """The sheet's rows, trailing empty cells and rows trimmed, padded to one width."""
    if read_only:
        sheet.reset_dimensions()  # declared dimensions can be wrong: pandas does the same
        data = _trimmed(_plain_values(sheet), rows_needed)
        if not _may_hold_errors(data):
            return _padded(data)
    return _padded(_trimmed(_cell_values(sheet), rows_needed))


def _cell_values(sheet):
    """Each row's values as pandas converts them, from openpyxl's cell objects."""
    from openpyxl.cell.cell import TYPE_ERROR, TYPE_NUMERIC

    for row in sheet.rows:
        yield [_convert_cell(cell, TYPE_ERROR, TYPE_NUMERIC) for cell in row]


def _plain_values(sheet):
    """The same from a read-only sheet's values (no cell object per cell, ~9 % less time): a
    value's type tells its cell type (int/float only for numbers, bool, datetime, str), except
    for an error cell, whose value is its "#..." text: _may_hold_errors finds those rows out,
    and _sheet_rows then reads the cells."""
    for row in sheet.iter_rows(values_only=True):
        yield ["" if value is None else _whole(value) if type(value) is float else value
               for value in row]


def _whole(value):
    whole = int(value)
    return whole if whole == value else value


def _may_hold_errors(data):
    """Whether any text could be an error cell's value (all of them start with "#")."""
    texts = {value for values in data for value in values if type(value) is str}
    return any(text[:1] == "#" for text in texts)


def _trimmed(rows, rows_needed):
    """The rows (at most ``rows_needed``) without trailing empty cells and trailing empty rows."""
    data = []
    last_row_with_data = -1
    for number, values in enumerate(rows):
        while values and values[-1] == "":
            values.pop()
        if values:
            last_row_with_data = number
        data.append(values)
        if rows_needed is not None and len(data) >= rows_needed:
            break
    del data[last_row_with_data + 1:]
    return data


def _padded(data):
    if data:
        width = max(map(len, data))
        if min(map(len, data)) < width:
            data = [values + [""] * (width - len(values)) for values in data]
    return data


def _wanted_sheets(sheet_name, names):
    """The sheets pandas' parse() would look up for this ``sheet_name``, in its order, with
    duplicates dropped; those that do not exist are left for the caller's pandas to reject."""
    if isinstance(sheet_name, list):
        wanted = sheet_name
    elif sheet_name is None:
        wanted = names
    else:
        wanted = [sheet_name]
    found = []
    for key in dict.fromkeys(wanted):
        if isinstance(key, str):
            if key in names:
                found.append((key, key))
        elif isinstance(key, int) and -len(names) <= key < len(names):
            found.append((key, names[key]))
    return found


def read_cells(path, sheet_name, rows_needed, engine_kwargs, na_strings=None):
    """{"sheet_names": [...], "sheets": {key: rows}, "typed": {key: (names, columns)}} for the
    sheets ``sheet_name`` selects, where a key is the name or index as the caller gave it.
    With ``na_strings`` (pandas' default NA strings; the caller passes them only where every
    parsing option is at its default), a sheet whose frame _xlsx_columns can prove goes to
    "typed" as columns instead of to "sheets" as rows."""
    import_openpyxl_without_numpy()
    _openpyxl_sizing.install()  # in a pergil worker: no full parse to size a sheet
    from openpyxl import load_workbook

    from pergil.tables._xlsx_columns import typed_sheet

    options = WORKBOOK_DEFAULTS | dict(engine_kwargs or {})
    book = load_workbook(path, **options)
    try:
        names = [sheet.title for sheet in book.worksheets]
        sheets, typed = {}, {}
        for key, name in _wanted_sheets(sheet_name, names):
            rows = _sheet_rows(book[name], book.read_only, rows_needed)
            columns = typed_sheet(rows, na_strings) if na_strings is not None else None
            if columns is None:
                sheets[key] = rows
            else:
                typed[key] = columns
        return {"sheet_names": names, "sheets": sheets, "typed": typed}
    finally:
        book.close()
