"""API keys for the HTTP service: made once, stored only as a SHA-256 digest, revocable."""

from __future__ import annotations

import datetime
import hashlib
import re
import secrets

from pydantic import BaseModel
from sqlalchemy import select

from ..errors import InputError
from . import db
from .models import ApiKeyRow

PREFIX = "ee_"
_RATE = re.compile(r"^\d+\s*/\s*(second|minute|hour|day)$")


class ApiKey(BaseModel):
    """What is known about a key (never the key itself)."""

    id: str
    name: str
    created: datetime.datetime
    rate_limit: str
    revoked: bool


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


class KeyStore:
    def __init__(self, url: str | None = None) -> None:
        self.url = url or db.database_url()

    def create(self, name: str, rate_limit: str = "60/minute") -> tuple[ApiKey, str]:
        """A new key: its record, and the secret (shown once, never stored)."""
        if not name.strip() or len(name) > 128:
            raise InputError("a key needs a name of 1 to 128 characters")
        if not _RATE.match(rate_limit.strip()):
            raise InputError(f"rate limit '{rate_limit}' is not like '60/minute' (second, minute, hour or day)")
        secret = PREFIX + secrets.token_urlsafe(32)
        row = ApiKeyRow(name=name.strip(), digest=digest(secret), rate_limit=rate_limit.replace(" ", ""))
        with db.session(self.url) as s:
            s.add(row)
            s.flush()
            return ApiKey.model_validate(row, from_attributes=True), secret

    def verify(self, secret: str) -> ApiKey | None:
        """The key's record if ``secret`` is a valid, unrevoked key."""
        if not secret or len(secret) > 200:
            return None
        with db.session(self.url) as s:
            row = s.scalars(select(ApiKeyRow).where(ApiKeyRow.digest == digest(secret))).first()
            if row is None or row.revoked:
                return None
            return ApiKey.model_validate(row, from_attributes=True)

    def list(self) -> list[ApiKey]:
        with db.session(self.url) as s:
            return [
                ApiKey.model_validate(r, from_attributes=True)
                for r in s.scalars(select(ApiKeyRow).order_by(ApiKeyRow.created))
            ]

    def revoke(self, key_id: str) -> ApiKey:
        with db.session(self.url) as s:
            row = s.get(ApiKeyRow, key_id)
            if row is None:
                raise InputError(f"no API key '{key_id}'")
            row.revoked = True
            s.flush()
            return ApiKey.model_validate(row, from_attributes=True)
