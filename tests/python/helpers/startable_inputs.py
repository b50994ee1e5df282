"""Generated StarTable input sets for the load_startables equality tests.

Each case writes its files into a folder and says how load_files is called on it. The same
builders feed the live comparisons (pdtable in the test's own environment) and the numpy<2
fixtures (tests/python/tables/make_numpy1_fixtures.py), so both see byte-identical inputs.
"""

import datetime
import random
import re

ALL_UNITS = """\
author: someone;
comment: unit test;;
**all_units;
all some_dest   more;
name;count;length;mass;flag;when;note;
text;-;m;kg;onoff;datetime;text;
a;1;2.5;-;1;2020-01-02;x
 b ;  2 ; 1e3 ;nan;0;2020-01-02 03:04:05;
c;-3;inf;NaN; true ;2020-01-02T03:04:05.25;with space
d;4;-1.5e-3; 7 ;FALSE;-;
e;5;1_000;-inf;1;nan;z
f;6;.5;  nan ;0; 2021-12-31 23:59 ;z

**second_table;
all;
k;v;
text;datetime;
k1;2021-03-04
k2;2021/03/05
k3;5 March 2021
k4;-

***mydirective;
line one
line two

:template_row;
::template2;

**numbers_only;
dst;
x;y;
-;mm;
1;2
3;4
"""

FIXER_CASES = {
    "illegal_float": "**bad_float;\nall\na;b;\n-;m;\n1;x\n2;\n",
    "illegal_onoff": "**bad_onoff;\nall\na;b;\n-;onoff;\n1;2\n2;yes\n",
    "illegal_datetime": "**bad_dt;\nall\na;b;\n-;datetime;\n1;2020-13-45\n2;soon\n3;\n",
    "missing_row_cells": "**short_rows;\nall\na;b;c;\n-;-;text;\n1;2;x\n3\n4;5\n",
    "two_bad_tables": (
        "**good1;\nall\na;\n-;\n1\n\n**bad1;\nall\na;\n-;\nq\n\n**good2;\nall\na;\n-;\n2\n\n"
        "**bad2;\nall\na;b;\nonoff;-;\n7;1\n"
    ),
}

MALFORMED_CASES = {
    "no_unit_row": "**no_units;\nall\na;b;\n",
    "empty_table": "**empty;\nall\n",
    "header_only": "**header_only;\nall\na;b;\n-;text;\n",
    "duplicate_columns": "**dups;\nall\na;b;a;\n-;-;-;\n1;2;3\n",
    "short_unit_row": "**short_units;\nall\na;b;c;\n-;-;\n1;2;3\n",
    "transposed": "**trans*;\nall\na;-;1;2;3\nb;text;x;y;z\nc;onoff;1;0;1\n",
    "comments_and_blanks": "just a comment;\n\n**t;\nall\na;\n-;\n1\n\nmore: 1;\n;;\n**u;\nall\nb;\ntext;\nq\n",
}


def write_all_units(folder):
    (folder / "all_units.csv").write_text(ALL_UNITS)


def write_big(folder, n_files=3, rows=500, seed=5):
    """Several larger files (whole-column fast paths, several tables per file)."""
    rng = random.Random(seed)
    t0 = datetime.datetime(2001, 1, 1)
    for f in range(n_files):
        lines = []
        for t in range(3):
            lines += [f"**big_{f}_{t};", "all", "id;x;on;when;label", "-;m;onoff;datetime;text"]
            for r in range(rows):
                when = t0 + datetime.timedelta(seconds=rng.randrange(10**9), microseconds=r)
                x = "-" if r % 97 == 0 else f"{rng.uniform(-1e6, 1e6):.9g}"
                lines.append(f"{r};{x};{r % 2};{when.isoformat(sep=' ')};L{rng.randrange(50)}")
            lines.append("")
        (folder / f"input_big_{f}.csv").write_text("\n".join(lines) + "\n")


def write_includes(folder):
    """A root folder whose inputs include files by relative and root-absolute paths."""
    sub = folder / "sub"
    sub.mkdir()
    (folder / "input_main.csv").write_text(
        "***include;\nsub/part_a.csv\n/shared.csv\n\n**main_t;\nall\nm;\n-;\n1\n"
    )
    (sub / "part_a.csv").write_text("***include;\npart_b.csv\n\n**part_a;\nall\na;\ntext;\nx\n")
    (sub / "part_b.csv").write_text("**part_b;\nall\nb;\n-;\n2\n")
    (folder / "shared.csv").write_text("**shared;\nall\ns;\nkg;\n3\n")
    (folder / "input_other.csv").write_text("**other;\nall\no;\nonoff;\n1\n")
    (folder / "notes.txt").write_text("not a table file\n")


def write_loop(folder):
    (folder / "input_a.csv").write_text("***include;\ninput_b.csv\n\n**a;\nall\nx;\n-;\n1\n")
    (folder / "input_b.csv").write_text("***include;\ninput_a.csv\n\n**b;\nall\nx;\n-;\n2\n")


def write_xlsx(folder, write_only=False):
    """A workbook with several sheets (input*, setup, other) and typed cells. ``write_only``:
    openpyxl's write-only mode, whose sheets have no <dimension> element (Excel's have one),
    so openpyxl sizes them differently when it reads them."""
    import openpyxl

    wb = openpyxl.Workbook(write_only=write_only)
    if not write_only:
        wb.remove(wb.active)
    sheets = {
        "input_one": [
            ["**xl_table"], ["all"], ["name", "n", "flag", "when", "t"],
            ["text", "-", "onoff", "datetime", "text"],
            ["a", 1, True, datetime.datetime(2020, 1, 2, 3, 4, 5), "x"],
            ["b", 2.5, 0, "-", "y"],
            ["c", None, 1, datetime.datetime(2021, 6, 7), "z"],
            [], ["***include"], ["extra.csv"], [], ["meta:", "value"],
        ],
        "setup": [["**setup_table"], ["all"], ["k", "v"], ["text", "kg"], ["k1", 3], ["k2", "-"]],
        "input_two": [["**numbers"], ["d1 d2"], ["x", "y"], ["-", "m"], [1, 2], [3, "4"],
                      [], ["**dt_mixed"], ["all"], ["d"], ["datetime"],
                      [datetime.datetime(2020, 1, 1)], ["2020-02-03"]],
    }
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    wb.save(folder / "input_book.xlsx")
    (folder / "extra.csv").write_text("**extra;\nall\ne;\n-;\n9\n")


def write_bad_files(folder):
    """A truncated workbook, a file with another extension included, a missing include."""
    write_xlsx(folder)
    data = (folder / "input_book.xlsx").read_bytes()
    (folder / "input_truncated.xlsx").write_bytes(data[: len(data) // 2])
    (folder / "input_missing.csv").write_text("***include;\nnot_there.csv\n")


def write_bad_encoding(folder):
    """A CSV that is not valid UTF-8 after its first table (pdtable's open() raises mid-file)."""
    (folder / "input_ok.csv").write_text("**ok;\nall\na;\n-;\n1\n")
    rows = b"".join(b"%d\n" % i for i in range(5000))  # past the text reader's first chunk
    (folder / "input_bad.csv").write_bytes(
        b"**t;\nall\na;\n-;\n" + rows + b"\n**u;\nall\nb;\ntext;\n\xff\xfe\n")


def write_text(folder, name, text):
    (folder / name).write_text(text)


def cases():
    """name -> (writer(folder), roots(folder) -> list, load_files keyword arguments(folder))."""
    root = lambda folder: ["/"]  # noqa: E731
    out = {
        "all_units": (write_all_units, root, lambda f: {"root_folder": f, "csv_sep": ";"}),
        "big": (write_big, root, lambda f: {"root_folder": f}),
        "includes": (write_includes, root,
                     lambda f: {"root_folder": f, "file_name_start_pattern": "input_"}),
        "includes_no_root": (write_includes, lambda f: [f / "input_main.csv"], lambda f: {}),
        "loop": (write_loop, root, lambda f: {"root_folder": f}),
        "xlsx_all_sheets": (write_xlsx, root, lambda f: {"root_folder": f}),
        "xlsx_write_only": (lambda f: write_xlsx(f, write_only=True), root,
                            lambda f: {"root_folder": f}),
        "xlsx_input_sheets": (write_xlsx, root, lambda f: {
            "root_folder": f, "sheet_name_pattern": re.compile(r"^input"),
            "file_name_pattern": re.compile(r".*\.xlsx$")}),
        "truncated_xlsx": (write_bad_files, lambda f: ["/input_truncated.xlsx"],
                           lambda f: {"root_folder": f}),
        "missing_include": (write_bad_files, lambda f: ["/input_missing.csv"],
                            lambda f: {"root_folder": f}),
        "missing_root_file": (write_all_units, lambda f: ["/nothing.csv"],
                              lambda f: {"root_folder": f}),
        "relative_root_without_folder": (write_all_units, lambda f: ["all_units.csv"],
                                         lambda f: {}),
        "bad_encoding": (write_bad_encoding, root, lambda f: {"root_folder": f}),
        "outside_root": (write_all_units, lambda f: ["/../x.csv"], lambda f: {"root_folder": f}),
    }
    for name, text in {**FIXER_CASES, **MALFORMED_CASES}.items():
        out[name] = (
            lambda folder, name=name, text=text: write_text(folder, f"{name}.csv", text),
            root,
            lambda f: {"root_folder": f},
        )
    return out
