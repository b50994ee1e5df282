"""_openpyxl_sizing.py: openpyxl's read-only sheet sizing without parsing a whole sheet that has
no ``<dimension>`` element (pergil workers only; standard library and openpyxl).

openpyxl 3.1's ``ReadOnlyWorksheet.__init__`` sizes every sheet of a workbook it opens:
``WorkSheetParser.parse_dimensions`` reads the sheet's XML until a ``<dimension>`` element ends
or until ``<sheetData>`` *ends*. A sheet without the element (openpyxl's own write-only mode
writes none; Excel writes one) is thereby parsed to its last row for nothing: ~24 % of a
worker's time on such a file, paid before the rows are read again. The schema
(CT_Worksheet) puts ``<dimension>`` before ``<sheetData>``, so the replacement below stops
where ``<sheetData>`` *starts*: the same boundaries for every valid sheet (it would miss only a
``<dimension>`` placed inside ``<sheetData>``, which no writer produces). A sheet whose XML is
broken after that point now fails when its rows are read instead of when it is opened: either
way the worker's read fails and the file is read again by pdtable or pandas in the caller,
which raises their own error.
"""

from pergil.tables._worker_imports import in_pergil_worker

_installed = []
_original_get_size = None  # openpyxl's, once replaced (the tests compare both)


def _get_size_until_sheet_data(self):
    """ReadOnlyWorksheet._get_size, stopping at the start of <sheetData>."""
    from openpyxl.worksheet._reader import DATA_TAG, DIMENSION_TAG
    from openpyxl.worksheet.dimensions import SheetDimension
    from openpyxl.xml.functions import iterparse

    source = self._get_source()
    try:
        for event, element in iterparse(source, events=("start", "end")):
            if event == "start":
                if element.tag == DATA_TAG:
                    return  # no <dimension> before the rows: the sheet is unsized
                continue
            if element.tag == DIMENSION_TAG:
                boundaries = SheetDimension.from_tree(element).boundaries
                if boundaries is not None:
                    self._min_column, self._min_row, self._max_column, self._max_row = boundaries
                return
            element.clear()
    finally:
        source.close()


def _openpyxl_matches():
    """True for the openpyxl this replacement was written against (3.1's read-only sheet)."""
    try:
        import openpyxl
        from openpyxl.worksheet import _reader
        from openpyxl.worksheet._read_only import ReadOnlyWorksheet
    except ImportError:
        return False
    return (openpyxl.__version__.startswith("3.1.")
            and callable(getattr(ReadOnlyWorksheet, "_get_size", None))
            and callable(getattr(ReadOnlyWorksheet, "_get_source", None))
            and hasattr(_reader, "DATA_TAG") and hasattr(_reader, "DIMENSION_TAG"))


def install():
    """In a pergil worker with openpyxl 3.1, sizes read-only sheets as above; elsewhere (the
    caller's interpreter, another openpyxl) changes nothing. Returns whether it is in place."""
    global _original_get_size
    if not _installed:
        ok = in_pergil_worker() and _openpyxl_matches()
        if ok:
            from openpyxl.worksheet._read_only import ReadOnlyWorksheet

            _original_get_size = ReadOnlyWorksheet._get_size
            ReadOnlyWorksheet._get_size = _get_size_until_sheet_data
        _installed.append(ok)
    return _installed[0]
