"""The openai backend against a real OpenAI-compatible server on loopback (llama.cpp's own)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from emoethics.emotions.analysis import LLMAnalyzer
from emoethics.llm.openai_backend import OpenAIBackend
from emoethics.llm.weights import resolve_model_path

from conftest import has_module, requires_smollm
from servers import llama_server

pytestmark = [requires_smollm, pytest.mark.skipif(not has_module("sse_starlette"), reason="server extras missing")]


@pytest.fixture(scope="module")
def server_url():
    with llama_server(str(resolve_model_path("smollm2")[1])) as url:
        yield url


def test_structured_output_through_the_sdk(server_url):
    b = OpenAIBackend("smollm2", base_url=server_url, timeout=60)
    p = LLMAnalyzer(b).analyze("What a wonderful surprise!")
    assert len(p.readings) == 4 and p.analyzer.startswith("llm:openai:smollm2@127.0.0.1:")
    assert b.usage.calls >= 1 and b.usage.completion_tokens > 0


def test_cli_analyze_and_rewrite_against_server(server_url, tmp_path):
    env = dict(os.environ, EMOETHICS_CACHE_DIR=str(tmp_path))
    common = ["--base-url", server_url, "--model", "smollm2", "--json"]
    p = subprocess.run(
        [sys.executable, "-m", "emoethics.cli", "analyze", "I can't believe they cancelled my flight again", *common],
        capture_output=True,
        timeout=300,
        env=env,
    )
    assert p.returncode == 0, p.stderr.decode()
    out = json.loads(p.stdout)
    assert [r["spectrum"] for r in out["readings"]] == [
        "sadness-joy",
        "disgust-trust",
        "fear-anger",
        "surprise-anticipation",
    ]
    assert all({"intensity", "level", "cues", "confidence"} <= set(r) for r in out["readings"])
    assert "smollm2" in out["analyzer"]
    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "emoethics.cli",
            "rewrite",
            "The meeting moved to Friday.",
            "--emotion",
            "anger",
            "--intensity",
            "0.9",
            "--rounds",
            "1",
            *common,
        ],
        capture_output=True,
        timeout=300,
        env=env,
    )
    assert p.returncode == 0, p.stderr.decode()
    r = json.loads(p.stdout)
    assert r["text"] and r["rounds"] and "similarity" in r and "features" in r
    assert r["target"] == {"spectrum": "fear-anger", "intensity": 0.9, "level": "rage"}
