"""Keeping secrets in: scrubbing key-like strings from messages, and credentials out of URLs.

Whatever the proxy stores (``runs.error``) or sends back in an error body passes :func:`scrub`
first, which replaces anything that looks like a key: ``sk-...`` style keys, ``Bearer`` and
``Basic`` credentials, ``key=...``/``token: ...`` pairs, credentials inside URLs, and long runs
of hex or base64 characters. :func:`split_credentials` takes ``user:password@`` out of an
upstream URL at start-up, so that the URL can be printed and stored.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit, urlunsplit

HIDDEN = "[hidden]"

_PATTERNS = (
    # credentials inside a URL: scheme://user:password@host
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s:@]*:[^/\s@]*@"), r"\1" + HIDDEN + "@"),
    # Authorization values
    (re.compile(r"(?i)\b(bearer|basic|token)\s+[A-Za-z0-9._~+/=-]{4,}"), r"\1 " + HIDDEN),
    # name=value or name: value pairs that name a secret
    (
        re.compile(r"(?i)\b([a-z_-]*(?:api[_-]?key|secret|token|password|passwd|pwd)[a-z_-]*)(\s*[=:]\s*)[^\s,;&\"']+"),
        r"\1\2" + HIDDEN,
    ),
    # provider-style keys: sk-..., sk_live_..., ghp_..., xoxb-..., AKIA...
    (re.compile(r"\b(?:sk|pk|rk|ee)[-_][A-Za-z0-9_-]{8,}"), HIDDEN),
    (re.compile(r"\b(?:ghp|gho|ghs|github_pat|xox[abprs])[-_][A-Za-z0-9_-]{8,}"), HIDDEN),
    (re.compile(r"\bAKIA[0-9A-Z]{12,}\b"), HIDDEN),
    # long hex or base64 runs (tokens, digests)
    (re.compile(r"\b[0-9a-fA-F]{32,}\b"), HIDDEN),
    (re.compile(r"[A-Za-z0-9+/_-]{40,}={0,2}"), HIDDEN),
)


def scrub(text: str) -> str:
    """``text`` with everything that looks like a key or a credential replaced by ``[hidden]``."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def split_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """(``url`` without ``user:password@``, (user, password) or None)."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url, None
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port is not None else host
    clean = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return clean, (unquote(parts.username or ""), unquote(parts.password or ""))
