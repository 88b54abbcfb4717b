"""Errors as an OpenAI server writes them: ``{"error": {"message", "type", "param", "code"}}``,
scrubbed of anything that looks like a key."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel

from .redact import scrub
from .upstream import UpstreamError


class OpenAIError(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | None = None


class ErrorBody(BaseModel):
    error: OpenAIError


#: The error answers of the proxy's routes, for its OpenAPI schema.
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": why}
    for code, why in (
        (400, "bad request (unknown context or culture, invalid body, text that is not valid Unicode)"),
        (401, "no valid API key"),
        (413, "body over the size limit"),
        (429, "rate limit reached (see Retry-After)"),
        (502, "the upstream failed or answered something unusable"),
        (503, "the proxy is at its capacity of requests in progress (see Retry-After)"),
        (504, "the upstream timed out"),
    )
}


def error_response(
    status: int, message: str, kind: str, headers: dict[str, str] | None = None, code: str | None = None
) -> JSONResponse:
    """An OpenAI error body; the message is scrubbed of anything that looks like a key."""
    error = OpenAIError(message=scrub(message), type=kind, code=code or (kind if status >= 500 else None))
    return JSONResponse(ErrorBody(error=error).model_dump(), status_code=status, headers=headers)


def upstream_error(e: UpstreamError) -> JSONResponse:
    """The answer to a request the upstream failed (its status, with Retry-After when it gave one)."""
    headers = {"Retry-After": e.retry_after} if e.retry_after else None
    return error_response(e.status, e.message, e.kind, headers)
