"""`emoethics proxy` as a user runs it, in front of llama.cpp's OpenAI-compatible server with the small
packaged model (SmolLM2), which also plays the judge and the rectifier: the unmodified OpenAI SDK gets
answers, plain and streamed (both policies), with the verdict attached."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import httpx
import pytest
from openai import OpenAI

from emoethics.llm.weights import resolve_model_path
from emoethics.store.records import Records

from conftest import has_module, requires_smollm
from servers import free_port, llama_server

pytestmark = [requires_smollm, pytest.mark.skipif(not has_module("sse_starlette"), reason="server extras missing")]
VERDICTS = ("allow", "review", "rectify", "block")


@pytest.fixture(scope="module")
def server_url():
    with llama_server(str(resolve_model_path("smollm2")[1])) as url:
        yield url


def start_proxy(server_url: str, folder, *extra: str):
    env = dict(os.environ, EMOETHICS_NO_CACHE="1", EMOETHICS_DATA_DIR=str(folder), OPENAI_API_KEY="sk-unused")
    env.pop("EMOETHICS_DATABASE_URL", None)
    made = subprocess.run(
        [sys.executable, "-m", "emoethics.cli", "keys", "create", "me", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert made.returncode == 0, made.stderr
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "emoethics.cli",
            "proxy",
            "--upstream",
            server_url,
            "--port",
            str(port),
            "--base-url",
            server_url,
            "--model",
            "smollm2",
            "--timeout",
            "120",
            *extra,
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(240):
        try:
            if httpx.get(f"{base}/v1/health", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            assert proc.poll() is None, proc.stderr.read()
            time.sleep(0.5)
    return proc, OpenAI(base_url=f"{base}/v1", api_key=json.loads(made.stdout)["key"], max_retries=0, timeout=600)


def test_the_openai_sdk_gets_judged_answers_from_a_llama_cpp_server_through_the_proxy(server_url, tmp_path):
    proc, client = start_proxy(server_url, tmp_path, "--context", "personal")
    try:
        assert "smollm2" in [m.id for m in client.models.list().data]
        raw = client.chat.completions.with_raw_response.create(
            model="smollm2", max_tokens=40, messages=[{"role": "user", "content": "Name one colour of the sky."}]
        )
        done = raw.parse()
        assert done.choices[0].message.content.strip()
        assert raw.headers["x-emoethics-verdict"] in VERDICTS and raw.headers["x-emoethics-run"]
        assert done.model_extra["emoethics"]["verdict"] == raw.headers["x-emoethics-verdict"]
        parts, last = [], None
        for ch in client.chat.completions.create(
            model="smollm2", max_tokens=40, stream=True, messages=[{"role": "user", "content": "Say hello to Ana."}]
        ):
            last = ch
            if ch.choices and ch.choices[0].delta.content:
                parts.append(ch.choices[0].delta.content)
        assert "".join(parts).strip() and last.model_extra["emoethics"]["verdict"] in VERDICTS
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    runs = Records(f"sqlite:///{tmp_path / 'emoethics.db'}").runs("proxy")
    assert len(runs) == 2 and all(r.status == "ok" and r.models["upstream"] == server_url for r in runs)


def test_sentence_streaming_from_a_llama_cpp_server_ends_with_the_full_judgement(server_url, tmp_path):
    proc, client = start_proxy(server_url, tmp_path, "--stream-policy", "sentence", "--empathy")
    try:
        raw = client.chat.completions.with_raw_response.create(
            model="smollm2",
            max_tokens=60,
            stream=True,
            messages=[{"role": "user", "content": "Tell me two short facts about the moon."}],
        )
        assert raw.headers["x-emoethics-verdict"] == "pending"
        chunks = list(raw.parse())
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        info = chunks[-1].model_extra["emoethics"]
        assert text.strip() and info["verdict"] in VERDICTS and info["stream_policy"] == "sentence"
        assert chunks[-1].choices[0].finish_reason in ("stop", "length", "content_filter")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
