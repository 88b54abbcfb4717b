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
    p = subprocess.run(
        [sys.executable, "-m", "emoethics.cli", *args],
        input=stdin,
        capture_output=True,
        timeout=600,
        env=dict(os.environ, COLUMNS="120"),
    )
    assert p.returncode == 0, p.stderr.decode()
    return p.stdout.decode()


def test_sweep_writes_reports_and_plot_and_covers_all_levels(tmp_path: Path):
    md, html, png = tmp_path / "s.md", tmp_path / "s.html", tmp_path / "s.png"
    out = json.loads(
        run(
            [
                "sweep",
                "The bus was late.",
                "--spectrum",
                "joy",
                "--rounds",
                "1",
                "--report",
                str(md),
                "--plot",
                str(png),
                "--json",
                *SMALL,
            ]
        )
    )
    assert [r["target"]["level"] for r in out["results"]] == [
        "grief",
        "sadness",
        "pensiveness",
        "neutral",
        "serenity",
        "joy",
        "ecstasy",
    ]
    assert md.read_text().count("\n| ") == 8  # header + 7 levels
    assert png.read_bytes()[:4] == b"\x89PNG"
    run(
        ["sweep", "The bus was late <b>today</b>.", "--spectrum", "joy", "--rounds", "1", "--report", str(html), *SMALL]
    )
    page = html.read_text()
    assert "<svg" in page and "&lt;b&gt;today&lt;/b&gt;" in page and "<b>today" not in page


def test_analyze_files_in_and_out_with_plot(tmp_path: Path):
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "a", "text": "I love this!"}\n{"id": "b", "text": "I hate waiting."}\n')
    csv_out, svg = tmp_path / "out.csv", tmp_path / "p.svg"
    lines = (
        run(["analyze", "-i", str(src), "-o", str(csv_out), "--plot", str(svg), "--json", *SMALL]).strip().splitlines()
    )
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


def test_eval_emotions_with_a_language_model(tmp_path: Path):
    head = "ID\tTweet\t" + "\t".join(
        [
            "anger",
            "anticipation",
            "disgust",
            "fear",
            "joy",
            "love",
            "optimism",
            "pessimism",
            "sadness",
            "surprise",
            "trust",
        ]
    )
    rows = [
        f"{i}\t{t}\t" + "\t".join(list(v))
        for i, (t, v) in enumerate(
            [
                ("I am so angry at you", "10000000000"),
                ("Best day ever!", "00001110000"),
                ("I'm scared of the dark", "00010001000"),
                ("Such a sad story", "00000000100"),
            ]
        )
    ]
    f = tmp_path / "ec.tsv"
    f.write_text(head + "\n" + "\n".join(rows) + "\n")
    rep = json.loads(
        run(
            [
                "eval",
                "emotions",
                "--format",
                "semeval-ec",
                "--data",
                str(f),
                "--analyzer",
                "local",
                "--model",
                "smollm2",
                "--limit",
                "3",
                "--json",
            ]
        )
    )
    assert rep["n"] + rep["failed"] == 3 and rep["analyzer"].startswith("llm:local:smollm2")
    assert set(rep["classification"]["per_label"]) == {
        "anger",
        "anticipation",
        "disgust",
        "fear",
        "joy",
        "sadness",
        "surprise",
        "trust",
    }
