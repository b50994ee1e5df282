"""load_startables gives what pdtable's load_files gives: generated inputs and pdtable's samples.

The reference is pdtable's own loader in this environment, except where pdtable 1.0.1 cannot
run as written under numpy 2 (its fixer's ``np.NaN``): there the reference is load_files'
result recorded under numpy<2 (fixtures/numpy1_expected.json, make_numpy1_fixtures.py).
Each case runs at 1, 2 and 4 workers.
"""

import json
import os
from pathlib import Path

import pytest

from helpers.startable import CollectingTracker, case_subs, describe, sample_cases, samples_dir
from helpers.startable_inputs import cases

pdtable = pytest.importorskip("pdtable", reason="the tables extra (pip install '.[tables]')")
pd = pytest.importorskip("pandas")
from pdtable.io.load import load_files  # noqa: E402

import pergil  # noqa: E402
from pergil.tables import load_startables  # noqa: E402

FIXTURES = json.loads((Path(__file__).parent / "fixtures" / "numpy1_expected.json").read_text())
PANDAS_2 = int(pd.__version__.split(".")[0]) == 2
GENERATED = sorted(cases().items())
SAMPLES = samples_dir()
if SAMPLES is None and os.environ.get("CI") == "true":
    raise RuntimeError("pdtable samples missing: CI must have ../shared/pdtable-samples "
                       "or PERGIL_PDTABLE_SAMPLES")
SAMPLE_CASES = sample_cases(SAMPLES) if SAMPLES is not None else []


def _is_numpy2_fixer_crash(result):
    error = result.get("error")
    return error is not None and error[0] == "AttributeError" and "np.NaN" in error[1]


_LIVE = {}


def _reference(key, run_pdtable):
    """pdtable's live result (computed once per case: results are path-free), or under
    numpy 2 where pdtable's fixer crashes, the numpy<2 record."""
    if key not in _LIVE:
        _LIVE[key] = run_pdtable()
    live = _LIVE[key]
    if _is_numpy2_fixer_crash(live):
        return FIXTURES[key]
    return live


@pytest.fixture(scope="module", params=[1, 2, 4], ids=lambda n: f"w{n}")
def pool(request):
    ex = pergil.InterpreterPoolExecutor(max_workers=request.param)
    yield ex
    ex.shutdown(wait=True, cancel_futures=True)


@pytest.mark.parametrize("name,case", GENERATED, ids=[n for n, _ in GENERATED])
def test_generated(name, case, pool, tmp_path):
    write, roots, kwargs = case
    write(tmp_path)
    subs = case_subs(tmp_path)
    expected = _reference(f"generated/{name}", lambda: describe(
        lambda: load_files(roots(tmp_path), **kwargs(tmp_path)), subs))
    got = describe(lambda: load_startables(roots(tmp_path), workers=pool, **kwargs(tmp_path)), subs)
    assert got == expected


@pytest.mark.parametrize("name,case", GENERATED, ids=[n for n, _ in GENERATED])
def test_generated_with_collecting_tracker(name, case, pool, tmp_path):
    """A tracker that does not raise: the same issues, blocks and final exception."""
    write, roots, kwargs = case
    write(tmp_path)
    subs = case_subs(tmp_path)

    def run(loader, **extra):
        tracker = CollectingTracker()
        result = describe(lambda: loader(roots(tmp_path), issue_tracker=tracker.tracker,
                                         **extra, **kwargs(tmp_path)), subs)
        result["issues"] = tracker.describe(subs)
        return result

    expected = _reference(f"generated-tracker/{name}", lambda: run(load_files))
    assert run(load_startables, workers=pool) == expected


@pytest.mark.skipif(SAMPLES is None, reason="pdtable samples not found (PERGIL_PDTABLE_SAMPLES)")
@pytest.mark.parametrize("name,roots,kwargs", SAMPLE_CASES, ids=[c[0] for c in SAMPLE_CASES])
def test_samples(name, roots, kwargs, pool):
    subs = [(SAMPLES, "<SAMPLES>")]
    expected = _reference(f"samples/{name}", lambda: describe(
        lambda: load_files(roots, **kwargs), subs))
    assert describe(lambda: load_startables(roots, workers=pool, **kwargs), subs) == expected


@pytest.mark.skipif(not PANDAS_2, reason="fixtures were recorded with pandas 2 (the tables extra)")
@pytest.mark.parametrize("key", sorted(k for k in FIXTURES if k.startswith("generated/")))
def test_matches_numpy1_record(key, tmp_path):
    """Every recorded numpy<2 result, fixer or not, is what pergil gives (2 workers)."""
    write, roots, kwargs = cases()[key.split("/", 1)[1]]
    write(tmp_path)
    got = describe(lambda: load_startables(roots(tmp_path), workers=2, **kwargs(tmp_path)),
                   case_subs(tmp_path))
    assert got == FIXTURES[key]
