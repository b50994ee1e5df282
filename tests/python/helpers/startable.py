"""Helpers for the load_startables equality tests: inputs, a comparable form of results, samples.

describe() turns load_files' output (or its exception) into plain data that compares equal
exactly when the blocks do (types, names, destinations, columns, units, dtypes, values, origins,
location tree). Paths and file times are replaced by placeholders so that results recorded on
one machine (the numpy<2 fixtures) compare on another.
"""

import math
import os
import re
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
_MTIME = re.compile(r"@\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")


def samples_dir():
    """pdtable's sample inputs: $PERGIL_PDTABLE_SAMPLES, else ../shared/pdtable-samples beside
    the repository (where CI has them), else /work/shared/pdtable-samples; None if absent."""
    candidates = [os.environ.get("PERGIL_PDTABLE_SAMPLES"),
                  REPO_ROOT.parent / "shared" / "pdtable-samples",
                  "/work/shared/pdtable-samples"]
    for candidate in candidates:
        if candidate and (Path(candidate) / "io" / "input").is_dir():
            return Path(candidate)
    return None


def _plain(value):
    """A JSON-able, NaN-safe form of one cell value."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return "<nan>"
    if type(value).__name__ == "NaTType":
        return "<NaT>"
    if hasattr(value, "isoformat"):
        return "ts:" + value.isoformat()
    if hasattr(value, "item"):  # numpy scalar
        return _plain(value.item())
    return value


def _clean(text, roots):
    text = _MTIME.sub("@<mtime>", str(text))
    for root, name in roots:
        text = text.replace(str(root), name)
    return text


def _describe_block(block_type, block, roots):
    from pdtable import Table

    if isinstance(block, Table):
        df = block.df
        return {
            "type": block_type.name,
            "name": block.name,
            "destinations": sorted(block.metadata.destinations),
            "columns": list(block.column_names),
            "units": list(block.units),
            "dtypes": [str(t) for t in df.dtypes],
            "values": {c: [_plain(v) for v in df[c].tolist()] for c in df.columns},
            "transposed": block.metadata.transposed,
            "strict_types": block.metadata.strict_types,
            "origin": _clean(block.metadata.origin.input_location, roots),
            "origin_spec": _clean(block.metadata.origin.input_location.load_specification, roots),
        }
    origin = getattr(block, "origin", None)
    return {
        "type": block_type.name,
        "class": type(block).__name__,
        "repr": _clean(repr(block), roots),
        "origin": _clean(getattr(origin, "input_location", origin), roots),
    }


def describe(load, roots=()):
    """Run load() (an iterator factory) and describe its blocks, exception and location tree.

    roots: (path, placeholder) pairs replaced in all text.
    """
    from pdtable import Table
    from pdtable.io.load import make_location_trees

    blocks = []
    outcome = {"blocks": blocks}
    try:
        for block_type, block in load():
            blocks.append((block_type, block))
    except Exception as exc:  # the exception is part of the result compared
        outcome["error"] = [type(exc).__name__, _clean(exc, roots)]
    tables = [b for _, b in blocks if isinstance(b, Table)]
    outcome["blocks"] = [_describe_block(t, b, roots) for t, b in blocks]
    try:
        outcome["tree"] = _clean("\n".join(str(n) for n in make_location_trees(tables)), roots)
    except Exception as exc:
        outcome["tree"] = f"error {type(exc).__name__}"
    return outcome


def case_subs(folder):
    """Placeholders for a generated case's folder (and its parent, named by some errors)."""
    return [(folder, "<CASE>"), (folder.parent, "<PARENT>")]


class CollectingTracker:
    """An issue tracker that records and does not raise (pdtable's InputIssueTracker API)."""

    def __init__(self):
        from pdtable.table_origin import InputIssueTracker

        class _Tracker(InputIssueTracker):
            def __init__(self):
                self.recorded = []

            def add_issue(self, input_issue):
                self.recorded.append(input_issue)

            @property
            def issues(self):
                return self.recorded

        self.tracker = _Tracker()

    def describe(self, roots=()):
        return [[i.severity, _clean(i.issue, roots), _clean(i.load_location, roots),
                 _clean(i.load_item, roots)] for i in self.tracker.recorded]


def sample_cases(samples):
    """(name, roots, load_files keyword arguments) for every file and folder of pdtable's
    samples, loaded as pdtable's own tests load them (test_load.py, test_csv.py, ...)."""
    inp = samples / "io" / "input"
    cases = [
        ("with_include", ["/"], {"root_folder": inp / "with_include", "csv_sep": ";",
                                 "file_name_start_pattern": "(input|setup)_"}),
        ("with_include_all", ["/"], {"root_folder": inp / "with_include"}),
        ("foo_relative", [inp / "with_include" / "foo_relative.csv"], {"csv_sep": ";"}),
        ("all_xlsx", ["/"], {"root_folder": inp,
                             "file_name_pattern": re.compile(r"(?!~\$).*\.xlsx$")}),
        ("multipage_input", ["file:/multipage.xlsx"],
         {"root_folder": inp, "sheet_name_pattern": re.compile(r"^input.*")}),
        ("multipage_input_setup", ["file:/multipage.xlsx"],
         {"root_folder": inp, "sheet_name_pattern": re.compile(r"^(input|setup).*", re.I)}),
        ("issue_raised", ["somefile.xlsx"], {"root_folder": inp}),
        ("include_loop", [(inp / "with_loop_include" / "load_include_loop.csv").absolute()], {}),
        ("io_input_root", ["/"], {"root_folder": inp}),
        ("with_errors_root", ["/"], {"root_folder": inp / "with_errors"}),
        ("input_incl", ["/"], {"root_folder": samples / "input"}),
    ]
    for path in sorted(samples.rglob("*")):
        if path.suffix.lower() in (".csv", ".xlsx"):
            cases.append((str(path.relative_to(samples)), [path], {}))
    return cases
