"""Batch jobs with the embedded default model (slow: each loads the 1.5B model)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import requires_llama

pytestmark = [pytest.mark.slow, requires_llama]

CLI = [sys.executable, "-m", "emoethics.cli", "batch"]


def run(tmp_path: Path, *args: str) -> tuple[dict, list[dict]]:
    out = tmp_path / "out.jsonl"
    env = dict(os.environ, EMOETHICS_NO_CACHE="1", EMOETHICS_THREADS=os.environ.get("EMOETHICS_THREADS", "1"))
    p = subprocess.run([*CLI, *args, "-o", str(out), "--json"], capture_output=True, timeout=900, env=env)
    assert p.returncode == 0, p.stderr.decode()
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    return json.loads(p.stdout), sorted(rows, key=lambda r: r["index"])


def write(tmp_path: Path, texts: list[str]) -> str:
    src = tmp_path / "in.jsonl"
    src.write_text(
        "".join(json.dumps({"id": f"t{i}", "text": t}) + "\n" for i, t in enumerate(texts)), encoding="utf-8"
    )
    return str(src)


def test_batch_judge_with_the_embedded_model(tmp_path):
    src = write(
        tmp_path,
        ["I found a wallet with 200 dollars and kept it.", "Thank you so much for helping me move last weekend."],
    )
    summary, rows = run(tmp_path, "judge", src, "--context", "personal")
    assert summary["ok"] == 2 and summary["usage"]["calls"] >= 2 and summary["complete"]
    assert [r["id"] for r in rows] == ["t0", "t1"]
    for r in rows:
        j = r["result"]
        assert j["verdict"] in ("allow", "review", "rectify", "block") and j["models"]["judge"].startswith("local:")
    assert rows[0]["result"]["verdict"] != "allow"  # keeping a found wallet is not fine as it is


def test_batch_analyze_two_texts_in_one_call_with_the_embedded_model(tmp_path):
    src = write(tmp_path, ["We won the final!!! I can't stop smiling!", "I'm scared the results will be bad."])
    summary, rows = run(tmp_path, "analyze", src, "--batch-size", "2")
    assert summary["ok"] == 2
    for r in rows:
        assert [x["spectrum"] for x in r["result"]["readings"]] == [
            "sadness-joy",
            "disgust-trust",
            "fear-anger",
            "surprise-anticipation",
        ]
        assert r["result"]["analyzer"].startswith("llm:local:")
    # one call for both, or the text without a usable answer on its own
    assert 1 <= summary["usage"]["calls"] <= 1 + 2 * 3


def test_batch_rewrite_with_the_embedded_model(tmp_path):
    src = write(tmp_path, ["The meeting moved to Friday."])
    summary, rows = run(tmp_path, "rewrite", src, "--level", "joy", "--rounds", "1")
    assert summary["ok"] == 1
    r = rows[0]["result"]
    assert r["text"] and r["target"]["level"] == "joy" and r["generator"].startswith("local:")
