"""A scripted OpenAI-compatible chat server on loopback: the upstream of proxy tests and benchmarks.

It answers ``/v1/chat/completions`` (plain and ``stream: true``, as OpenAI's server-sent chunks) with
a reply chosen by a function of the request, after a fixed ``latency`` (streamed one word per
chunk, ``token_delay`` apart), and ``/v1/models``. ``mode``
makes it fail on purpose: "500" (HTTP 500), "garbage" (200 with an HTML page), "slow" (sleeps
``slow_seconds`` before answering), "badstream" (a stream that turns into garbage after one chunk).
It records every request body it received and the Authorization header it was sent.
"""

from __future__ import annotations

import http.server
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ChatUpstream:
    url: str
    reply: Callable[[dict], str]
    latency: float = 0.0
    mode: str = "ok"
    slow_seconds: float = 5.0
    token_delay: float = 0.0
    bodies: list[dict] = field(default_factory=list)
    auth: list[str | None] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def last_user(body: dict) -> str:
    for m in reversed(body.get("messages") or []):
        if isinstance(m, dict) and m.get("role") == "user" and isinstance(m.get("content"), str):
            return m["content"]
    return ""


@contextmanager
def chat_upstream(
    reply: str | Callable[[dict], str] = "Paris is the capital of France.",
    *,
    latency: float = 0.0,
    mode: str = "ok",
    slow_seconds: float = 5.0,
    token_delay: float = 0.0,
) -> Iterator[ChatUpstream]:
    state = ChatUpstream(
        url="",
        reply=reply if callable(reply) else (lambda _b: reply),
        latency=latency,
        mode=mode,
        slow_seconds=slow_seconds,
        token_delay=token_delay,
    )

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a: Any) -> None:
            pass

        def setup(self) -> None:
            super().setup()
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def _send(self, status: int, body: bytes, ctype: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()

        def do_GET(self) -> None:
            self._send(
                200,
                json.dumps(
                    {
                        "object": "list",
                        "data": [{"id": "scripted", "object": "model", "created": 0, "owned_by": "tests"}],
                    }
                ).encode(),
            )

        def do_POST(self) -> None:
            try:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            except ValueError:
                body = {}
            with state.lock:
                state.bodies.append(body)
                state.auth.append(self.headers.get("Authorization"))
            try:
                if state.latency:
                    time.sleep(state.latency)
                if state.mode == "slow":
                    time.sleep(state.slow_seconds)
                if state.mode == "500":
                    self._send(500, b'{"error": {"message": "internal failure", "type": "server_error"}}')
                    return
                if state.mode == "garbage":
                    self._send(200, b"<html><body>502 Bad Gateway</body></html>", "text/html")
                    return
                text = state.reply(body)
                if body.get("stream"):
                    self._stream(body, text)
                    return
                self._send(
                    200,
                    json.dumps(
                        {
                            "id": "chatcmpl-scripted",
                            "object": "chat.completion",
                            "created": int(time.time()),
                            "model": body.get("model", "scripted"),
                            "choices": [
                                {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}
                            ],
                            "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
                        }
                    ).encode(),
                )
            except OSError:
                pass  # the client gave up

        def _stream(self, body: dict, text: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            base = {
                "id": "chatcmpl-scripted",
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": body.get("model", "scripted"),
            }
            words = text.split(" ")
            deltas = [{"role": "assistant", "content": ""}] + [
                {"content": w + (" " if i < len(words) - 1 else "")} for i, w in enumerate(words)
            ]
            for i, d in enumerate(deltas):
                if state.token_delay and i > 1:
                    time.sleep(state.token_delay)
                if state.mode == "badstream" and i == 2:
                    self.wfile.write(b"data: <html>oops</html>\n\n")
                    self.wfile.flush()
                    return
                self.wfile.write(
                    b"data: "
                    + json.dumps({**base, "choices": [{"index": 0, "delta": d, "finish_reason": None}]}).encode()
                    + b"\n\n"
                )
                self.wfile.flush()
            self.wfile.write(
                b"data: "
                + json.dumps({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}).encode()
                + b"\n\ndata: [DONE]\n\n"
            )
            self.wfile.flush()

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
