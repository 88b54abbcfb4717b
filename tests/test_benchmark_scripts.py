"""Every benchmark script starts (``--help`` prints its usage) and runs end to end on a tiny input
(``--smoke --results-dir DIR``: a handful of texts, one repeat, results in DIR)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("script", sorted(p.name for p in (ROOT / "benchmarks").glob("*.py")))
def test_each_benchmark_script_prints_its_usage_on_help(script: str) -> None:
    p = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), "--help"], capture_output=True, text=True, timeout=120
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("usage:") and script in p.stdout


SCRIPTS = sorted(p.name for p in (ROOT / "benchmarks").glob("*.py"))
#: review_loop.py's smoke run is checked with its report by the test at the end of this file
SMOKE = [s for s in SCRIPTS if s != "review_loop.py"]


@pytest.mark.parametrize("script", SMOKE)
def test_each_benchmark_script_runs_on_a_tiny_input(script: str, tmp_path: Path) -> None:
    """A script that needs the shared data says so in one line and writes nothing when it is not
    beside the repository (the test then skips)."""
    out = tmp_path / "results"
    p = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), "--smoke", "--results-dir", str(out)],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=tmp_path,
    )
    assert p.returncode == 0, p.stderr[-3000:]
    assert "Traceback" not in p.stderr, p.stderr[-3000:]
    written = sorted(out.glob("*")) if out.is_dir() else []
    if not written and "shared data" in p.stderr:
        pytest.skip(p.stderr.strip().splitlines()[-1])
    assert written, p.stderr[-3000:]


SHARED = ROOT.parent / "shared" / "data" / "davidson_hate_offensive"


@pytest.mark.skipif(not SHARED.is_dir(), reason="the shared abuse sets are not beside the repository")
def test_the_review_loop_benchmark_runs_its_replay_end_to_end(tmp_path: Path) -> None:
    """The smoke replay (200 messages, 60 reviewed): calibration, the held-out figures with their
    intervals, and both speed measurements come out, in the shape the README quotes."""
    import json

    out = tmp_path / "loop.json"
    p = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "review_loop.py"), "--smoke", "--output", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert p.returncode == 0, p.stderr
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["replay"]["messages"] == 200 and report["replay"]["reviewed"] == 60
    for side in ("held_out_before", "held_out_after"):
        fpr = report[side]["false_positive_rate"]
        assert fpr["low"] <= fpr["value"] <= fpr["high"] and fpr["n"] + report[side]["recall"]["n"] == 140
    assert report["rulebook"].startswith("rulebook-v1@")
    assert report["speed_calibration"]["reviewed_cases"] == 1000
    assert report["speed_dashboard"]["verdicts"] == 5000 and report["speed_dashboard"]["ms_median"]["all"] > 0
