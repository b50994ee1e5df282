"""table_files.py: small CSV and .xlsx files with the quirks pandas' readers handle (test side).

Each builder writes one file into a folder and returns its path; pandas is the reference for
what reading it gives, so the files only need to be varied, not their results known here.
"""

import datetime
import os
import zipfile


def _write(folder, name, text, encoding="utf-8"):
    path = os.path.join(folder, name)
    with open(path, "w", encoding=encoding, newline="") as out:
        out.write(text)
    return path


def csv_files(folder):
    """{name: path} of CSV files, each with its own quirk."""
    return {
        "plain": _write(folder, "plain.csv",
                        "id,name,x,flag,when\n1,a,1.5,True,2024-01-02 03:04:05\n"
                        "2,b,,False,2024-02-03\n3,c,2.25,True,2024-03-04 00:00:01\n"),
        "na": _write(folder, "na.csv",
                     "a,b,c\nNA,1,x\nn/a,-,\n,2,NULL\n4,-,nan\n"),
        "quoting": _write(folder, "quoting.csv",
                          'k,v\n"one, two","say ""hi"""\n"multi\nline",3\nplain,"4"\n'),
        "latin1": _write(folder, "latin1.csv", "navn,by\nSøren,Århus\nÆble,Ølstykke\n",
                         encoding="latin-1"),
        "bom": _write(folder, "bom.csv", "\ufeffa,b\n1,2\n3,4\n"),
        "semicolon": _write(folder, "semicolon.csv", "a;b;c\n1;2,5;x\n3;4,75;y\n"),
        "ints_floats": _write(folder, "ints_floats.csv",
                              "i,f,big,mixed\n1,1.0,9007199254740993,1\n2,2.5,1,x\n3,,2,3.5\n"),
        "empty": _write(folder, "empty.csv", ""),
        "header_only": _write(folder, "header_only.csv", "a,b,c\n"),
        "malformed": _write(folder, "malformed.csv", "a,b\n1,2\n3,4,5\n6,7\n"),
    }


def _quirky_sheet(sheet):
    """Every cell type openpyxl reads, gaps, a merged range, an error cell, and trailing
    formatted-but-empty cells beyond the data (declared dimensions larger than the data)."""
    from openpyxl.styles import Font

    sheet.append(["int", "float", "intfloat", "text", "bool", "when", "day", "mixed", "gap"])
    rows = [
        [1, 1.5, 1.0, "a", True, datetime.datetime(2024, 1, 2, 3, 4, 5),
         datetime.date(2024, 1, 2), 1, None],
        [2, None, 2.0, None, False, datetime.datetime(2024, 2, 3), datetime.date(2024, 2, 3),
         "x", None],
        [3, 3.25, 3.0, "c", None, None, None, 2.5, None],
        [4, -1e300, 4.0, "NA", True, datetime.datetime(1999, 12, 31, 23, 59, 59),
         datetime.date(1999, 12, 31), datetime.datetime(2020, 1, 1), None],
        [5, 0.1, 5.0, "", False, datetime.datetime(2000, 2, 29, 12), datetime.date(2000, 2, 29),
         True, None],
    ]
    for row in rows:
        sheet.append(row)
    sheet["I3"] = "#DIV/0!"  # a string in openpyxl's error codes: an error cell
    sheet.merge_cells("D7:E7")
    sheet["D7"] = "merged"
    sheet["A7"] = 7
    for cell in ("L1", "A12", "M15"):  # formatted, no value: trailing empty rows and columns
        sheet[cell].font = Font(bold=True)


def write_quirky_xlsx(path):
    """Several sheets: quirks, a second table, an empty sheet, a header-only sheet, and a
    sheet whose table starts lower down (for skiprows/header)."""
    from openpyxl import Workbook

    book = Workbook()
    _quirky_sheet(book.active)
    book.active.title = "quirks"
    second = book.create_sheet("second")
    second.append(["key", "value", "when"])
    for i in range(20):
        second.append([f"k{i}", i * 0.5, datetime.datetime(2023, 1, 1) + datetime.timedelta(i)])
    book.create_sheet("empty")
    book.create_sheet("header_only").append(["a", "b", "c"])
    lower = book.create_sheet("lower")
    lower.append(["a title row"])
    lower.append([])
    lower.append(["top", "top", "other"])
    lower.append(["x", "y", "z"])
    for i in range(6):
        lower.append([i, f"s{i}", i % 2 == 0])
    book.save(path)
    return path


def write_truncated_xlsx(source, path):
    """The first half of a valid .xlsx (a zip whose central directory is gone)."""
    with open(source, "rb") as whole:
        data = whole.read()
    with open(path, "wb") as out:
        out.write(data[: len(data) // 2])
    return path


def write_not_a_workbook(path):
    """A .xlsx name on a zip that holds no workbook."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    return path
