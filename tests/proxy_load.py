"""A mixed load for the proxy, with faults: what the soak test and ``benchmarks/proxy.py --faults``
send, and how each answer is checked.

A scripted upstream (:func:`load_upstream`) answers by the first word of the user message: a
fact, a long reply (three windows of the judge), a threat, or a fault (500, garbage, a hang past
the proxy's upstream timeout, a cut or broken stream, an error that quotes a key). :func:`request`
sends one request and checks that its answer is well-formed; :func:`check_answer` that it is the
answer its kind calls for (nothing cut, abuse not delivered, faults as 502/504 or an error event).
:class:`Proxy` runs ``emoethics proxy`` as its own process group (kill -9 included).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from chat_upstream import ChatUpstream, chat_upstream, last_user
from servers import free_port

CALM = (
    "The museum opens at nine in the morning on weekdays. Tickets can be bought at the door or online. "
    "The north wing shows paintings from the last two centuries. "
)
LONG = (CALM * 50).strip()  # about 9,000 characters: two windows of the judge
THREAT = "I know where you live and I will hurt you and your family."
CANARY = "sk-soakcanary0123456789abcdefSOAK"
#: kind -> (upstream mode, reply); the kind is the first word of the user message
KINDS = {
    "fact": ("ok", "Paris is the capital of France, and the Seine runs through it."),
    "long": ("ok", LONG),
    "threat": ("ok", THREAT),
    "500": ("500", ""),
    "garbage": ("garbage", ""),
    "slow": ("slow", ""),
    "cut": ("cut", "The train leaves at nine from platform three and arrives at noon."),
    "badstream": ("badstream", "The shop is open every day from eight until six."),
    "secret": ("error", ""),
}
#: how many of every 80 requests are of each kind; a third are streamed, long replies excepted (a
#: sentence stream judges a long reply window by window, seconds of CPU: the hardening tests cover it)
MIX = {"fact": 36, "long": 1, "threat": 12, "500": 6, "garbage": 4, "slow": 2, "cut": 6, "badstream": 5, "secret": 8}


def kind_of(body: dict) -> str:
    return last_user(body).split(" ", 1)[0]


def plan(n: int) -> list[tuple[str, bool]]:
    """(kind, streamed) for each of ``n`` requests, in a fixed order."""
    cycle = [k for k, count in MIX.items() for _ in range(count)]
    kinds = [cycle[(i * 7) % len(cycle)] for i in range(n)]
    return [(k, i % 3 == 0 and k != "long") for i, k in enumerate(kinds)]


class Proxy:
    """`emoethics proxy --workers N` in its own process group, on a fresh port, with its own
    SQLite store in ``folder``; its output goes to ``folder/proxy.log``."""

    def __init__(self, folder: Path, upstream: str, workers: int = 2, stream_policy: str = "sentence") -> None:
        self.folder, self.upstream = folder, upstream
        self.workers, self.stream_policy = workers, stream_policy
        self.url = f"sqlite:///{folder / 'soak.db'}"
        self.log = folder / "proxy.log"
        self.process: subprocess.Popen | None = None
        self.base = ""

    def start(self) -> None:
        port = free_port()
        env = {
            **os.environ,
            "EMOETHICS_DATA_DIR": str(self.folder),
            "EMOETHICS_DATABASE_URL": self.url,
            "SOAK_UPSTREAM_KEY": CANARY,
        }
        cmd = [sys.executable, "-m", "emoethics.cli", "proxy", "--port", str(port), "--workers", str(self.workers)]
        cmd += ["--upstream", self.upstream, "--upstream-key-env", "SOAK_UPSTREAM_KEY", "--upstream-timeout", "2"]
        cmd += ["--judge-model", "never", "--context", "workplace", "--stream-policy", self.stream_policy]
        with self.log.open("a") as log:
            self.process = subprocess.Popen(cmd, stdout=log, stderr=log, env=env, start_new_session=True)
        self.base = f"http://127.0.0.1:{port}"
        deadline = time.time() + 240
        while time.time() < deadline:
            assert self.process.poll() is None, self.log.read_text()[-3000:]
            try:
                if httpx.get(f"{self.base}/v1/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise AssertionError("the proxy did not start: " + self.log.read_text()[-3000:])

    def kill(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


def request(client: httpx.Client, base: str, secret: str, i: int, kind: str, streamed: bool) -> dict:
    """Send one request; what came back, checked for well-formedness (AssertionError if not)."""
    body = {"model": "scripted", "messages": [{"role": "user", "content": f"{kind} request {i}"}], "stream": streamed}
    headers = {"Authorization": f"Bearer {secret}"}
    with client.stream("POST", f"{base}/v1/chat/completions", json=body, headers=headers, timeout=60) as r:
        raw = r.read().decode()
    seen = {"i": i, "kind": kind, "streamed": streamed, "status": r.status_code, "raw": raw}
    seen["run"] = r.headers.get("x-emoethics-run")
    if r.status_code != 200:
        error = json.loads(raw)["error"]
        assert set(error) == {"message", "type", "param", "code"} and error["message"], raw
        assert r.status_code in (400, 502, 504), raw  # 400: the upstream's own, relayed
        return seen
    if not streamed:
        done = json.loads(raw)
        seen["text"] = done["choices"][0]["message"]["content"]
        seen["verdict"] = done["emoethics"]["verdict"]
        seen["action"] = done["emoethics"]["action"]
        return seen
    assert raw.endswith("\n\n"), raw[-200:]
    events = [line[6:] for line in raw.splitlines() if line.startswith("data: ")]
    assert events, raw
    parsed = [json.loads(e) for e in events if e != "[DONE]"]
    seen["text"] = "".join((c["choices"][0]["delta"].get("content") or "") for c in parsed if c.get("choices"))
    last = parsed[-1]
    if events[-1] == "[DONE]":
        seen["verdict"] = last["emoethics"]["verdict"]
        seen["action"] = last["emoethics"]["action"]
    else:
        assert "error" in last and last["error"]["message"], raw[-500:]
        seen["stream_error"] = last["error"]["code"] or last["error"]["type"]
    return seen


def check_answer(seen: dict) -> None:
    """The answer is the one its kind calls for: nothing cut, abuse not delivered, faults as errors."""
    kind, mode_reply = seen["kind"], KINDS[seen["kind"]][1]
    if kind in ("fact", "long"):
        assert seen["status"] == 200 and seen["action"] in ("passed", "queued"), seen
        assert seen["text"] == mode_reply, (kind, len(seen.get("text") or ""))
    elif kind == "threat":
        assert seen["status"] == 200 and seen["action"] == "blocked", seen
        assert "hurt you" not in seen["text"], seen
    elif kind in ("cut", "badstream") and seen["streamed"]:
        assert seen["status"] == 502 or "stream_error" in seen, seen
    elif kind in ("cut", "badstream"):
        assert seen["status"] == 200, seen  # a plain request is not streamed by the upstream
    else:
        assert seen["status"] == {"slow": 504, "secret": 400}.get(kind, 502), seen


@contextmanager
def load_upstream(latency: float = 0.02) -> Iterator[ChatUpstream]:
    """The scripted upstream of the mixed load (its error messages quote :data:`CANARY`)."""

    def reply(body: dict) -> str:
        return KINDS.get(kind_of(body), KINDS["fact"])[1] or "unused"

    def mode(body: dict) -> str:
        return KINDS.get(kind_of(body), KINDS["fact"])[0]

    message = f"upstream refused: invalid key Bearer {CANARY} for this project"
    with chat_upstream(reply, mode=mode, slow_seconds=3, latency=latency, error_message=message) as up:
        yield up
