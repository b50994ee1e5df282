"""xlsx_sizes.py: runs in a pergil worker: a workbook's read-only sheet sizes as openpyxl sizes
them and as pergil.tables' workers do (_openpyxl_sizing), for test_tables_xlsx_sizing."""


def _sizes(path):
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=True, keep_links=False)
    try:
        return [(ws.title, ws._min_column, ws._min_row, ws._max_column, ws._max_row)
                for ws in book.worksheets]
    finally:
        book.close()


def sizes_both_ways(path):
    """(openpyxl's sizes, pergil's sizes, whether pergil's sizing was installed)."""
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    from pergil.tables import _openpyxl_sizing
    from pergil.tables._worker_imports import import_openpyxl_without_numpy

    import_openpyxl_without_numpy()
    installed = _openpyxl_sizing.install()
    ours = _sizes(path)
    patched = ReadOnlyWorksheet._get_size
    ReadOnlyWorksheet._get_size = _openpyxl_sizing._original_get_size or patched
    try:
        theirs = _sizes(path)
    finally:
        ReadOnlyWorksheet._get_size = patched
    return theirs, ours, installed
