"""Real servers on loopback for tests: llama.cpp's OpenAI-compatible server, and a broken one."""

from __future__ import annotations

import http.server
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def llama_server(model_path: str, alias: str = "smollm2") -> Iterator[str]:
    """llama-cpp-python's OpenAI-compatible server with ``model_path``; yields its base URL."""
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            model_path,
            "--model_alias",
            alias,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            "2048",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.time() + 90
        while True:
            try:
                urllib.request.urlopen(f"{base}/models", timeout=2).read()
                break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    raise RuntimeError("llama.cpp server did not start") from None
                time.sleep(0.5)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextmanager
def broken_server(mode: str) -> Iterator[str]:
    """A server that answers every request badly: 'garbage' (200 with HTML), 'badjson' (200 with
    a chat completion whose content is not JSON), '500' (always HTTP 500), 'slow' (sleeps)."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):  # keep test output clean
            pass

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if mode == "slow":
                time.sleep(3)
            if mode == "500":
                body, status, ctype = b'{"error": {"message": "boom"}}', 500, "application/json"
            elif mode == "badjson":
                body = (
                    b'{"id":"x","object":"chat.completion","created":0,"model":"m",'
                    b'"choices":[{"index":0,"finish_reason":"stop","message":{"role":'
                    b'"assistant","content":"I am not JSON at all"}}]}'
                )
                status, ctype = 200, "application/json"
            else:
                body, status, ctype = b"<html>502 gateway &amp; garbage", 200, "text/html"
            try:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:
                pass

        do_GET = do_POST

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}/v1"
    finally:
        srv.shutdown()
        srv.server_close()
