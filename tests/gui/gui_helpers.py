"""gui_helpers.py: user functions that the desktop app's tests run through the window."""

import time


def half(x):
    """Raises for odd inputs: some tasks fail, the others succeed."""
    if x % 2:
        raise ValueError(f"odd input {x}")
    return x // 2


def spin(seconds):
    """Pure Python busy loop for `seconds`: interruptible at any bytecode."""
    end = time.monotonic() + seconds
    count = 0
    while time.monotonic() < end:
        count += 1
    return count


def write_workbook(path, kind):
    """Writes a small .xlsx with openpyxl: kind "plain" (two sheets of a header and rows) or
    "startable" (StarTable blocks on one sheet)."""
    from openpyxl import Workbook

    book = Workbook()
    if kind == "plain":
        book.active.title = "first"
        for row in [["a", "b", "c"], [1, 2, 3], [4, 5, 6], [7, 8, 9]]:
            book.active.append(row)
        second = book.create_sheet("second")
        for row in [["only"], ["x"]]:
            second.append(row)
    else:
        for row in [["**one"], ["all"], ["x", "y"], ["-", "m"], [1, 2], [3, 4], [],
                    ["**two"], ["all"], ["t"], ["text"], ["a"], ["b"], ["c"]]:
            book.active.append(row)
    book.save(path)
    return path
