"""Record pdtable's load_files results under numpy<2, where its fixer works as written.

pdtable 1.0.1's fixer uses ``np.NaN`` (removed in numpy 2), so under numpy 2 every input with
an illegal cell makes load_files raise AttributeError. The equality tests compare pergil with
these recorded results for such inputs. Regenerate (then commit fixtures/numpy1_expected.json):

    python3.12 -m venv /tmp/np1 && /tmp/np1/bin/pip install "numpy<2" "pandas<3" pdtable==1.0.1 \
        openpyxl typing_extensions
    /tmp/np1/bin/python tests/python/tables/make_numpy1_fixtures.py [--check]

--check compares with the committed file instead of writing it (exit 1 on a difference).
"""

import json
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from helpers.startable import (  # noqa: E402
    CollectingTracker, case_subs, describe, sample_cases, samples_dir)
from helpers.startable_inputs import cases  # noqa: E402

FIXTURE = HERE / "fixtures" / "numpy1_expected.json"
SKIP = {"big"}  # large and never reaches the fixer


def record():
    import numpy
    from pdtable.io.load import load_files

    assert hasattr(numpy, "NaN"), "run this under numpy<2 (see the docstring)"
    out = {}
    for name, (write, roots, kwargs) in sorted(cases().items()):
        if name in SKIP:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            write(folder)
            subs = case_subs(folder)
            out[f"generated/{name}"] = describe(
                lambda: load_files(roots(folder), **kwargs(folder)), subs)
            tracker = CollectingTracker()
            result = describe(
                lambda: load_files(roots(folder), issue_tracker=tracker.tracker, **kwargs(folder)),
                subs)
            result["issues"] = tracker.describe(subs)
            out[f"generated-tracker/{name}"] = result
    samples = samples_dir()
    if samples is None:
        raise SystemExit("pdtable samples not found (set PERGIL_PDTABLE_SAMPLES)")
    for name, roots, kwargs in sample_cases(samples):
        out[f"samples/{name}"] = describe(
            lambda: load_files(roots, **kwargs), [(samples, "<SAMPLES>")])
    return out


def main():
    data = record()
    text = json.dumps(data, indent=1, sort_keys=True) + "\n"
    if "--check" in sys.argv:
        if FIXTURE.read_text() != text:
            print(f"{FIXTURE} differs from pdtable under numpy<2", file=sys.stderr)
            return 1
        print(f"{FIXTURE}: {len(data)} cases agree")
        return 0
    FIXTURE.write_text(text)
    print(f"wrote {len(data)} cases to {FIXTURE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
