"""An OpenAI-compatible chat server on loopback that misbehaves on purpose, for batch tests.

Every request to ``/v1/chat/completions`` draws a fault from a seeded mix (the first requests get
each fault of the mix once, so that a test sees all of them): HTTP 500, 429 with
Retry-After, a hang longer than the client's timeout, a slow but good answer, content that is not
JSON, a body cut short, an HTML page, a connection closed without an answer, or (for several-text
calls) an answer missing one text. Otherwise it answers a valid completion for the requested JSON
schema: a deterministic value built from the schema and the text being judged (the text between
``<<<`` and ``>>>``; for a numbered several-text prompt, text k for key "k"), so a text gets the
same answer alone or in a group, on any engine. ``latency`` delays every answer (benchmarks).
"""

from __future__ import annotations

import hashlib
import http.server
import json
import random
import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

FAULTS = ("error500", "rate_limit", "hang", "slow", "malformed", "truncated", "garbage", "reset", "partial")
_BLOCK = re.compile(r"<<<\n(.*?)\n>>>", re.DOTALL)


@dataclass
class FaultMix:
    """Probability of each fault per request (the rest are answered well)."""

    error500: float = 0.0
    rate_limit: float = 0.0
    hang: float = 0.0
    slow: float = 0.0
    malformed: float = 0.0
    truncated: float = 0.0
    garbage: float = 0.0
    reset: float = 0.0
    partial: float = 0.0
    hang_seconds: float = 3.0
    slow_seconds: float = 0.3
    retry_after_ms: int = 200
    seed: int = 0

    @classmethod
    def default(cls, seed: int = 0) -> FaultMix:
        """About one request in three goes wrong, in every way."""
        return cls(
            error500=0.06,
            rate_limit=0.04,
            hang=0.02,
            slow=0.04,
            malformed=0.05,
            truncated=0.03,
            garbage=0.02,
            reset=0.02,
            partial=0.05,
            seed=seed,
        )


def _h(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).digest()[:8], "big")


def fake_value(schema: dict, seed: str, path: str = "") -> Any:
    """A valid value for ``schema``, chosen deterministically from ``seed`` and ``path``."""
    if "enum" in schema:
        return schema["enum"][_h(seed, path) % len(schema["enum"])]
    kind = schema.get("type")
    if kind == "object":
        return {k: fake_value(sub, seed, f"{path}/{k}") for k, sub in schema.get("properties", {}).items()}
    if kind == "array":
        return [fake_value(schema.get("items", {}), seed, f"{path}/{i}") for i in range(schema.get("minItems", 0))]
    if kind == "boolean":
        return _h(seed, path) % 2 == 0
    if kind in ("number", "integer"):
        return 0
    if kind == "string":
        text = f"answer {_h(seed, path) % 100000} for {seed[:40]}".strip()
        lo, hi = schema.get("minLength", 0), schema.get("maxLength", 10_000)
        return (text + " " * max(0, lo - len(text)))[:hi]
    return None


def answer_for(body: dict) -> str:
    """The content of a good answer to the request ``body``."""
    users = [m.get("content") or "" for m in body.get("messages", []) if m.get("role") == "user"]
    # the request itself, not a re-ask that follows it ("That reply is not valid ...")
    last = next((u for u in reversed(users) if _BLOCK.search(u)), users[-1] if users else "")
    blocks = _BLOCK.findall(last)
    rf = body.get("response_format") or {}
    schema = (rf.get("json_schema") or {}).get("schema") or rf.get("schema")
    if schema is None:
        return f"A reply to: {(blocks[-1] if blocks else last)[:80]}"
    props = schema.get("properties", {})
    if props and all(k.isdigit() for k in props) and len(blocks) >= len(props):
        return json.dumps({k: fake_value(sub, blocks[int(k) - 1]) for k, sub in props.items()})
    return json.dumps(fake_value(schema, blocks[-1] if blocks else last))


def completion(content: str, model: str = "fault") -> bytes:
    return json.dumps(
        {
            "id": "x",
            "object": "chat.completion",
            "created": 0,
            "model": model,
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": 50, "completion_tokens": 20, "total_tokens": 70},
        }
    ).encode()


@dataclass
class FaultServer:
    """The running server: its URL and what it has done (``stats``: requests per outcome)."""

    url: str
    mix: FaultMix
    latency: float = 0.0
    stats: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)
    rng: random.Random = field(default_factory=random.Random)
    first: list[str] = field(default_factory=list)

    def draw(self) -> str:
        with self.lock:
            if self.first:  # every fault of the mix once, then at random
                return self.first.pop(0)
            x = self.rng.random()
        for name in FAULTS:
            p = getattr(self.mix, name)
            if x < p:
                return name
            x -= p
        return "ok"

    @property
    def requests(self) -> int:
        return sum(self.stats.values())


@contextmanager
def fault_server(mix: FaultMix | None = None, *, latency: float = 0.0) -> Iterator[FaultServer]:
    """Serve on a free loopback port; yields the :class:`FaultServer` (``.url`` ends in /v1)."""
    mix = mix or FaultMix()
    state = FaultServer(
        url="",
        mix=mix,
        latency=latency,
        rng=random.Random(mix.seed),
        first=[f for f in FAULTS if 0 < getattr(mix, f) < 1],
    )

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a: Any) -> None:
            pass

        def setup(self) -> None:
            super().setup()
            # headers and body go out as separate writes: without this, Nagle's algorithm and the
            # client's delayed ACK add about 40 ms to every answer
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def _send(
            self,
            status: int,
            body: bytes,
            ctype: str = "application/json",
            headers: dict[str, str] | None = None,
            cut: bool = False,
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body[: len(body) // 2] if cut else body)
            self.wfile.flush()
            if cut:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)

        def do_GET(self) -> None:
            self._send(200, json.dumps({"object": "list", "data": [{"id": "fault", "object": "model"}]}).encode())

        def do_POST(self) -> None:
            try:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            except ValueError:
                body = {}
            fault = state.draw()
            with state.lock:
                state.stats[fault] += 1
            if state.latency:
                time.sleep(state.latency)
            try:
                if fault == "error500":
                    self._send(500, b'{"error": {"message": "internal failure", "type": "server_error"}}')
                elif fault == "rate_limit":
                    self._send(
                        429,
                        b'{"error": {"message": "slow down", "type": "rate_limit"}}',
                        headers={"Retry-After": "1", "retry-after-ms": str(mix.retry_after_ms)},
                    )
                elif fault == "hang":
                    time.sleep(mix.hang_seconds)
                    self._send(200, completion(answer_for(body)))
                elif fault == "malformed":
                    self._send(
                        200,
                        completion(
                            answer_for(body)[:25]
                            if state.rng.random() < 0.5
                            else "Sure! Here is what I think about it."
                        ),
                    )
                elif fault == "truncated":
                    self._send(200, completion(answer_for(body)), cut=True)
                elif fault == "garbage":
                    self._send(200, b"<html><body>502 Bad Gateway</body></html>", ctype="text/html")
                elif fault == "reset":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                else:
                    if fault == "slow":
                        time.sleep(mix.slow_seconds)
                    content = answer_for(body)
                    if fault == "partial":
                        data = json.loads(content)
                        if isinstance(data, dict) and len(data) > 1 and all(k.isdigit() for k in data):
                            data.pop(sorted(data)[_h(content) % len(data)])
                        content = json.dumps(data)
                    self._send(200, completion(content, body.get("model", "fault")))
            except OSError:
                pass  # the client gave up (its timeout): nothing to answer

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{srv.server_address[1]}/v1"
    try:
        yield state
    finally:
        srv.shutdown()
        srv.server_close()
