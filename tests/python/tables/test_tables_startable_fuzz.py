"""Random StarTable CSV input sets: load_startables gives what load_files gives, seed by seed.

Cells come from a vocabulary of edge cases (missing-value markers, blank cells, numbers in odd
forms, ISO and other date forms, block markers in data), tables of random shape (short rows,
short unit rows, duplicate and blank names, transposed, empty) among metadata, directives,
templates, comments and blank lines. pdtable's fixer is made to run as under numpy 1 by
giving numpy its old ``NaN`` alias for the test, so every seed has a live reference.
"""

import random

import pytest

pytest.importorskip("pdtable", reason="the tables extra (pip install '.[tables]')")
np = pytest.importorskip("numpy")
from pdtable.io.load import load_files  # noqa: E402

import pergil  # noqa: E402
from helpers.startable import CollectingTracker, case_subs, describe  # noqa: E402
from pergil.tables import load_startables  # noqa: E402

CELLS = ["", " ", "1", "2.5", "-", " - ", "nan", "NaN", "x", "1e3", " 0 ", "1", "0", "true",
         "FALSE", "2020-01-02", "2020-01-02 03:04:05", " 2021-06-07T08:09 ", "2020/01/02",
         "3 March 2020", "2020-02-30", "inf", "1_0", "abc def", "-7", "0.000001"]
UNITS = ["-", "text", "onoff", "datetime", "m", " kg ", "datetime", "-", "text", "DateTime"]
NAMES = ["a", "b", "c", " d ", "a", "", "long name"]


VALID = {
    "-": ["1", "2.5", "-", " - ", "nan", "NaN", "1e3", " 0 ", "inf", "1_0", "-7", "0.000001"],
    "text": CELLS,
    "onoff": ["1", "0", "true", "FALSE", " 0 ", " True "],
    "datetime": ["2020-01-02", "2020-01-02 03:04:05", " 2021-06-07T08:09 ", "-", "nan",
                 "1999-12-31 23:59:59.5", "2020/01/02", "3 March 2020"],
}


def _cells_for(unit, rng, rows, dirty):
    valid = VALID.get(unit.strip(), VALID["-"])
    return [rng.choice(CELLS) if rng.random() < dirty else rng.choice(valid) for _ in range(rows)]


def _table(rng):
    n_col = rng.choice([0, 1, 2, 3, 4, 5, 5])
    transposed = rng.random() < 0.1
    dirty = rng.choice([0, 0, 0, 0.02, 0.3])  # most tables are clean, as real inputs are
    name = f"**t{rng.randrange(1000)}{'*' if transposed else ''}"
    lines = [name + ";", rng.choice(["all", "a b", " x  y ", "all"])]
    units = [rng.choice(UNITS) for _ in range(n_col)]
    rows = rng.choice([0, 1, 2, 5, 12, 40])
    columns = [_cells_for(u, rng, rows, dirty) for u in units]
    if transposed:
        for i, unit in enumerate(units):
            lines.append(";".join([rng.choice(NAMES[:4] + ["e", "f"]), unit] + columns[i][:4]))
        return lines
    names = [f"c{i}" for i in range(n_col)]
    if rng.random() < dirty * 2:
        names = [rng.choice(NAMES) for _ in range(n_col)]
    lines.append(";".join(names))
    lines.append(";".join(units[: n_col - (rng.random() < dirty)]))
    for r in range(rows):
        row = [col[r] for col in columns]
        if rng.random() < dirty / 3:
            row = row[: rng.randrange(n_col + 1)]
        lines.append(";".join(row))
    return lines


def _other_block(rng):
    kind = rng.randrange(5)
    if kind == 0:
        return ["***note;", "line one", "line two"]
    if kind == 1:
        return ["key:;value;", "other: ;v2"]
    if kind == 2:
        return [":template;", "::t2;"]
    if kind == 3:
        return ["a comment;", ";;"]
    return [""]


def write_random_set(folder, seed):
    rng = random.Random(seed)
    for f in range(rng.randrange(1, 4)):
        lines = []
        for _ in range(rng.randrange(1, 7)):
            lines += _table(rng) if rng.random() < 0.7 else _other_block(rng)
            lines += [""] * rng.randrange(3)
        (folder / f"input_{f}.csv").write_text("\n".join(lines) + "\n")


@pytest.fixture
def numpy1_nan(monkeypatch):
    """pdtable's fixer runs as written under numpy 1 (np.NaN is np.nan there)."""
    monkeypatch.setattr(np, "NaN", np.nan, raising=False)


@pytest.fixture(scope="module")
def pool():
    ex = pergil.InterpreterPoolExecutor(max_workers=2)
    yield ex
    ex.shutdown(wait=True, cancel_futures=True)


@pytest.mark.parametrize("seed", range(80))
def test_random_sets(seed, tmp_path, pool, numpy1_nan):
    write_random_set(tmp_path, seed)
    subs = case_subs(tmp_path)
    for tracked in (False, True):
        results = []
        for loader, extra in ((load_files, {}), (load_startables, {"workers": pool})):
            tracker = CollectingTracker() if tracked else None
            if tracked:
                extra = {**extra, "issue_tracker": tracker.tracker}
            result = describe(lambda: loader(["/"], root_folder=tmp_path, **extra), subs)
            result["issues"] = tracker.describe(subs) if tracked else None
            results.append(result)
        assert results[1] == results[0]
