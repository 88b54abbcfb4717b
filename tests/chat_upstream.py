"""A scripted OpenAI-compatible chat server on loopback: the upstream of proxy tests and benchmarks.

It answers ``/v1/chat/completions`` (plain and ``stream: true``, as OpenAI's server-sent chunks) with
a reply chosen by a function of the request, after a fixed ``latency`` (streamed one word per
chunk, ``token_delay`` apart), and ``/v1/models``. A reply is a text, a message (a dict with
``content``, ``refusal``, ``reasoning_content``, ``tool_calls``, ... and optionally ``logprobs``,
which goes on the choice), or a list of them (one choice each). ``mode``
makes it fail on purpose: "500" (HTTP 500), "garbage" (200 with an HTML page), "slow" (sleeps
``slow_seconds`` before answering), "badstream" (a stream that turns into garbage after one chunk),
"json-stream" (a stream request answered with a plain JSON completion), "cut" (a stream that
closes after half its words, without ``[DONE]``), "error" (HTTP ``error_status`` with
``error_message`` in an OpenAI error body); a function of the request body chooses the mode of
each request.
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
    reply: Callable[[dict], Any]
    latency: float = 0.0
    mode: str | Callable[[dict], str] = "ok"
    slow_seconds: float = 5.0
    token_delay: float = 0.0
    error_status: int = 400
    error_message: str = "bad request"
    bodies: list[dict] = field(default_factory=list)
    auth: list[str | None] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def as_messages(reply: Any) -> list[dict]:
    """A scripted reply as the messages of its choices."""
    replies = reply if isinstance(reply, list) else [reply]
    return [r if isinstance(r, dict) else {"content": r} for r in replies]


def last_user(body: dict) -> str:
    for m in reversed(body.get("messages") or []):
        if isinstance(m, dict) and m.get("role") == "user" and isinstance(m.get("content"), str):
            return m["content"]
    return ""


@contextmanager
def chat_upstream(
    reply: Any = "Paris is the capital of France.",
    *,
    latency: float = 0.0,
    mode: str | Callable[[dict], str] = "ok",
    slow_seconds: float = 5.0,
    token_delay: float = 0.0,
    error_status: int = 400,
    error_message: str = "bad request",
) -> Iterator[ChatUpstream]:
    state = ChatUpstream(
        url="",
        reply=reply if callable(reply) else (lambda _b: reply),
        latency=latency,
        mode=mode,
        slow_seconds=slow_seconds,
        token_delay=token_delay,
        error_status=error_status,
        error_message=error_message,
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
            mode = state.mode(body) if callable(state.mode) else state.mode
            with state.lock:
                state.bodies.append(body)
                state.auth.append(self.headers.get("Authorization"))
            try:
                if state.latency:
                    time.sleep(state.latency)
                if mode == "slow":
                    time.sleep(state.slow_seconds)
                if mode == "500":
                    self._send(500, b'{"error": {"message": "internal failure", "type": "server_error"}}')
                    return
                if mode == "garbage":
                    self._send(200, b"<html><body>502 Bad Gateway</body></html>", "text/html")
                    return
                if mode == "error":
                    error = {"error": {"message": state.error_message, "type": "invalid_request_error"}}
                    self._send(state.error_status, json.dumps(error).encode())
                    return
                messages = as_messages(state.reply(body))
                if body.get("stream") and mode != "json-stream":
                    self._stream(body, messages[0], mode)
                    return
                self._send(200, json.dumps(completion(body, messages)).encode())
            except OSError:
                pass  # the client gave up

        def _stream(self, body: dict, message: dict, mode: str) -> None:
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
            deltas = stream_deltas(message)
            if mode == "cut":
                deltas = deltas[: max(2, len(deltas) // 2)]
            for i, d in enumerate(deltas):
                if state.token_delay and i > 1:
                    time.sleep(state.token_delay)
                if mode == "badstream" and i == 2:
                    self.wfile.write(b"data: <html>oops</html>\n\n")
                    self.wfile.flush()
                    return
                self.wfile.write(
                    b"data: "
                    + json.dumps({**base, "choices": [{"index": 0, "delta": d, "finish_reason": None}]}).encode()
                    + b"\n\n"
                )
                self.wfile.flush()
            if mode == "cut":
                return
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


def completion(body: dict, messages: list[dict]) -> dict:
    """A chat completion with one choice per message (a message's ``logprobs`` go on its choice)."""
    choices = []
    for i, m in enumerate(messages):
        message = {"role": "assistant", **{k: v for k, v in m.items() if k != "logprobs"}}
        choice = {"index": i, "finish_reason": "tool_calls" if m.get("tool_calls") else "stop", "message": message}
        if "logprobs" in m:
            choice["logprobs"] = m["logprobs"]
        choices.append(choice)
    return {
        "id": "chatcmpl-scripted",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model", "scripted"),
        "choices": choices,
        "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
    }


def stream_deltas(message: dict) -> list[dict]:
    """The deltas that stream ``message``: the role, its reasoning, its content one word a chunk,
    then its refusal and tool calls."""
    out: list[dict] = [{"role": "assistant", "content": ""}]
    if message.get("reasoning_content"):
        out.append({"reasoning_content": message["reasoning_content"]})
    words = (message.get("content") or "").split(" ") if message.get("content") else []
    out += [{"content": w + (" " if i < len(words) - 1 else "")} for i, w in enumerate(words)]
    if message.get("refusal"):
        out.append({"refusal": message["refusal"]})
    if message.get("tool_calls"):
        out.append({"tool_calls": [{"index": i, **c} for i, c in enumerate(message["tool_calls"])]})
    return out
