"""test_bench_report.py: how ``pergil bench`` writes its figures: rounded, never in exponent
notation, one compact table, one line for the peers that are not installed (the cells are
faked here: no benchmark runs, no timing is asserted)."""

import re

import pytest

from pergil import _bench, _bench_report
from pergil._bench_figures import figure, seconds_text

RAW_FLOAT = re.compile(r"\d\.0*[1-9]\d{3,}|\de[-+]\d")  # 8.890000344763394e-07, 0.006139806999954089


@pytest.mark.parametrize("value, text", [
    (8.890000344763394e-07, "0.000000889"), (0.006139806999954089, "0.00614"), (0.0371, "0.0371"),
    (1.0, "1.0"), (16.44, "16.4"), (99.96, "100"), (205.3, "205"), (12345.6, "12,346"),
    (-0.5, "-0.5"), (0.0, "0.0"), (None, "-")])
def test_figure_rounds_to_three_digits_in_plain_notation(value, text):
    assert figure(value) == text


@pytest.mark.parametrize("seconds, text", [
    (8.890000344763394e-07, "0.889 µs"), (0.000671, "671 µs"), (0.0061398, "6.14 ms"),
    (2.5, "2.5 s"), (130.4, "130 s")])
def test_seconds_text_picks_a_short_unit(seconds, text):
    assert seconds_text(seconds) == text


def _fake_cell(executor, workload, workers, quick, timeout):
    """A record as a cell's subprocess would send it, with awkward floats."""
    seconds = {"serial": 8.890000344763394e-07, "thread": 0.006139806999954089}.get(
        executor, 0.012345678901234)
    record = {"status": "ok", "seconds": seconds, "peak_mib": 21.234567, "delta_mib": 8.0000001}
    if workload == "cold-start":
        record.update(imports=0.0012345678, with_shutdown=0.0234567891)
    if workload.startswith("result-"):
        record["cross_seconds"] = 3.0321234e-06
    if executor == "process-spawn" and workload == "tiny-submit":
        record = {"status": "error", "reason": "exit status 1: boom"}
    return record


@pytest.fixture
def results(monkeypatch):
    """A run over fake cells, with the interpreters peer missing."""
    monkeypatch.setattr(_bench, "run_cell", _fake_cell)
    monkeypatch.setattr(_bench, "missing_peer",
                        lambda name: "pip install interpreters-pep-734"
                        if name == "interpreters" else None)
    logged = []
    outcome = _bench.run(workers=2, rounds=2, quick=True, log=logged.append)
    outcome["log"] = logged
    return outcome


def test_missing_peer_is_skipped_not_run(results):
    assert "interpreters" not in results["executors"]
    assert results["skipped"] == {"interpreters": "pip install interpreters-pep-734"}
    assert not any(executor == "interpreters" for executor, _ in results["cells"])
    assert not any("interpreters" in line for line in results["log"])


def test_progress_log_has_rounded_figures(results):
    assert results["log"]
    for line in results["log"]:
        assert not RAW_FLOAT.search(line), line
    assert any(line.endswith("ok 0.889 µs") for line in results["log"])
    assert any(line.endswith("ok 6.14 ms") for line in results["log"])


def test_compact_report_is_one_table(results):
    text = _bench_report.render(results)
    assert not RAW_FLOAT.search(text), text
    lines = text.splitlines()
    skipped = [line for line in lines if "interpreters" in line]
    assert skipped == ["skipped (not installed): interpreters: pip install interpreters-pep-734"]
    header = next(i for i, line in enumerate(lines) if line.startswith("figure "))
    table = lines[header:]
    assert table[0].split() == ["figure", "serial", "thread", "process-fork", "process-spawn",
                                "pergil"]
    assert set(table[1]) == {"-", " "}
    assert len(table) == 2 + len(_bench_report.SUMMARY_ROWS)  # every workload ran
    assert len(table[1].split()) == len(table[0].split())  # one rule per column
    starts = [m.start() for m in re.finditer(r"\S+", table[1])]
    for row in table[2:]:  # every cell starts at its column's rule
        assert all(row[i - 2:i] in ("  ", "") or i == 0 for i in starts), row
    assert "Markdown" not in text and "|" not in text and "targets" not in text
    tiny = next(line for line in table if line.startswith("tiny task, submit"))
    # serial: 8.89e-07 s over 500 tasks; process-spawn failed: its column says so
    assert tiny.split()[-9:] == ["0.00178", "µs", "12.3", "µs", "24.7", "µs", "error", "24.7",
                                 "µs"]
    assert "(x serial)" not in text  # the compact memory cells carry no ratio


def test_full_report_keeps_every_table_without_the_missing_peer(results):
    text = _bench_report.render(results, full=True)
    assert not RAW_FLOAT.search(text), text
    assert "| figure | serial | thread | process-fork | process-spawn | pergil |" in text
    assert sum("interpreters" in line for line in text.splitlines()) == 1
    for workload in results["workloads"]:
        title = _bench.WORKLOADS[workload][0].format(**_bench_report._sizes(results))
        assert title in text
    assert "exit status 1: boom" in text  # a failing cell still says why


def test_no_skipped_line_when_every_peer_runs(monkeypatch):
    monkeypatch.setattr(_bench, "run_cell", _fake_cell)
    monkeypatch.setattr(_bench, "missing_peer", lambda name: None)
    outcome = _bench.run(workers=1, rounds=1, quick=True, executors=("serial", "pergil"),
                         workloads=("tiny-submit",))
    text = _bench_report.render(outcome)
    assert "skipped" not in text and outcome["skipped"] == {}
    assert text.splitlines()[-1].split()[:2] == ["tiny", "task,"]


def test_missing_peer_knows_the_backport():
    import importlib.util
    import sys

    if sys.version_info >= (3, 14) or importlib.util.find_spec("interpreters_backport"):
        assert _bench.missing_peer("interpreters") is None
    else:
        assert "pip install interpreters-pep-734" in _bench.missing_peer("interpreters")
    assert _bench.missing_peer("pergil") is None
