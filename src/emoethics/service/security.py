"""Who may call the service, how often, with how much: API keys, browser sessions, CSRF tokens,
per-key rate limits, request size limits and security headers."""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Callable
from pathlib import Path

from fastapi import HTTPException, Request
from limits import parse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..config import data_dir, env
from ..store.keys import ApiKey, KeyStore
from ..store.rates import RateCounter

SESSION_KEY = "key_id"
CSRF_KEY = "csrf"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


_DATABASE = re.compile(
    r"\b(?:sqlite|postgres(?:ql)?|mysql|mariadb|oracle|mssql)(?:\+\w+)?://[^\s)'\"]*[^\s)'\":,;.]"
    r"|(?:[A-Za-z]:)?[\\/][^\s)'\"]*\.(?:db|sqlite3?)\b"
)


def hide_database(message: str, url: str | None = None) -> str:
    """``message`` without the store's location (a database URL or a database file's path), which
    callers have no use for and which shows the server's file system."""
    if url:
        from ..store import db

        for shown in (db.describe(url), url):
            message = message.replace(shown, "the store")
    return _DATABASE.sub("the store", message)


def session_secret() -> str:
    """``$EMOETHICS_SECRET_KEY``, or a random secret kept (0600) in the data directory."""
    if secret := env("EMOETHICS_SECRET_KEY"):
        return secret
    path = Path(data_dir()) / "service-secret"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


class RateLimiter:
    """Each key's own limit (e.g. '60/minute'), counted in the store so that every worker on the
    same database shares it (:class:`~emoethics.store.rates.RateCounter`)."""

    def __init__(self, url: str | None = None) -> None:
        self.counter = RateCounter(url)

    def check(self, key: ApiKey) -> None:
        limit = parse(key.rate_limit)
        seen = self.counter.hit(key.id, limit.amount, limit.get_expiry())
        if not seen.allowed:
            raise HTTPException(
                429,
                f"rate limit {key.rate_limit} reached for key {key.id}; retry in {seen.retry_after} s",
                headers={"Retry-After": str(seen.retry_after)},
            )


def bearer(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.headers.get("x-api-key")


def api_key(request: Request) -> ApiKey:
    """The caller's key: an ``Authorization: Bearer`` / ``X-API-Key`` header, or, for safe (GET)
    requests from the web pages, the signed-in session."""
    keys: KeyStore = request.app.state.keys
    secret = bearer(request)
    key = keys.verify(secret) if secret else None
    if key is None and secret is None and request.method == "GET":
        key = session_key(request)
    if key is None:
        raise HTTPException(
            401,
            "a valid API key is needed (Authorization: Bearer <key>); make one with `emoethics keys create NAME`",
            headers={"WWW-Authenticate": "Bearer"},
        )
    request.app.state.limiter.check(key)
    return key


def session_key(request: Request) -> ApiKey | None:
    """The key the browser session signed in with, if it is still valid."""
    key_id = request.session.get(SESSION_KEY)
    if not key_id:
        return None
    for k in request.app.state.keys.list():
        if k.id == key_id and not k.revoked:
            return k
    return None


def csrf_token(request: Request) -> str:
    """The session's CSRF token (made on first use); forms send it back in a hidden field."""
    token = request.session.get(CSRF_KEY)
    if not token:
        token = request.session[CSRF_KEY] = secrets.token_urlsafe(32)
    return token


def check_csrf(request: Request, sent: str | None) -> None:
    expected = request.session.get(CSRF_KEY)
    if not expected or not sent or not secrets.compare_digest(expected, sent):
        raise HTTPException(403, "the form's security token is missing or stale; reload the page and try again")


def too_large_body(max_bytes: int) -> bytes:
    """The service's 413 body: ``{"error": "..."}``."""
    return f'{{"error": "the request body is over the limit of {max_bytes} bytes"}}'.encode()


class LimitsMiddleware:
    """Refuses bodies over ``max_bytes`` (413, with the body ``too_large`` writes) and adds security
    headers to every answer."""

    def __init__(self, app: ASGIApp, max_bytes: int, too_large: Callable[[int], bytes] = too_large_body) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.too_large = too_large

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            await _too_large(send, self.too_large(self.max_bytes))
            return
        # read the body first (at most max_bytes), then hand it to the app
        body = b""
        more = True
        while more:
            msg = await receive()
            if msg["type"] == "http.disconnect":
                return
            body += msg.get("body", b"")
            more = msg.get("more_body", False)
            if len(body) > self.max_bytes:
                await _too_large(send, self.too_large(self.max_bytes))
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        async def secured_send(msg: Message) -> None:
            if msg["type"] == "http.response.start":
                hs = list(msg.get("headers", []))
                hs += [
                    (b"content-security-policy", CSP.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"x-frame-options", b"DENY"),
                ]
                msg = {**msg, "headers": hs}
            await send(msg)

        await self.app(scope, replay, secured_send)


async def _too_large(send: Send, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
