"""CLI commands end to end on the small packaged model: sweep reports, plots, respond, chat."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import requires_smollm

pytestmark = requires_smollm
SMALL = ["--backend", "local", "--model", "smollm2"]


def run(args, stdin: bytes | None = None):
    p = subprocess.run([sys.executable, "-m", "emoethics.cli", *args], input=stdin,
                       capture_output=True, timeout=600, env=dict(os.environ, COLUMNS="120"))
    assert p.returncode == 0, p.stderr.decode()
    return p.stdout.decode()


def test_sweep_writes_reports_and_plot_and_covers_all_levels(tmp_path: Path):
    md, html, png = tmp_path / "s.md", tmp_path / "s.html", tmp_path / "s.png"
    out = json.loads(run(["sweep", "The bus was late.", "--spectrum", "joy", "--rounds", "1",
                          "--report", str(md), "--plot", str(png), "--json", *SMALL]))
    assert [r["target"]["level"] for r in out["results"]] == [
        "grief", "sadness", "pensiveness", "neutral", "serenity", "joy", "ecstasy"]
    assert md.read_text().count("\n| ") == 8  # header + 7 levels
    assert png.read_bytes()[:4] == b"\x89PNG"
    run(["sweep", "The bus was late <b>today</b>.", "--spectrum", "joy", "--rounds", "1",
         "--report", str(html), *SMALL])
    page = html.read_text()
    assert "<svg" in page and "&lt;b&gt;today&lt;/b&gt;" in page and "<b>today" not in page


def test_analyze_files_in_and_out_with_plot(tmp_path: Path):
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "a", "text": "I love this!"}\n{"id": "b", "text": "I hate waiting."}\n')
    csv_out, svg = tmp_path / "out.csv", tmp_path / "p.svg"
    lines = run(["analyze", "-i", str(src), "-o", str(csv_out), "--plot", str(svg), "--json",
                 *SMALL]).strip().splitlines()
    assert [json.loads(x)["id"] for x in lines] == ["a", "b"]
    rows = csv_out.read_text().strip().splitlines()
    assert rows[0].startswith("id,text,analyzer,sadness-joy:intensity") and len(rows) == 3
    assert "<svg" in svg.read_text()
    table = run(["analyze", "I love this!", *SMALL])
    assert "sadness-joy" not in table and "joy" in table and "analyser:" in table


def test_respond_and_chat(tmp_path: Path):
    out = json.loads(run(["respond", "I failed my exam and I feel awful.", "--json", *SMALL]))
    assert out["reply"] and out["tone"] and out["reason"] and out["detected"]["readings"]
    transcript = run(["chat", *SMALL], stdin=b"Hello there\n/quit\n")
    assert "reply" in transcript
