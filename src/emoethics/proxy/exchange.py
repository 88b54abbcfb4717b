"""One chat request on its way through the proxy (:class:`Exchange`) and the small steps every
answer shares: the client's disconnection, the request's context headers, the stream's base."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import JSONResponse

from ..errors import InputError
from ..store.queue import Case
from .choices import Judged
from .guard import Abandoned, UserState
from .openai_errors import error_response
from .upstream import completion_id
from .workspace import ProxyWorkspace

#: The longest X-Emoethics-Context or X-Emoethics-Culture header value.
MAX_HEADER_NAME = 64
#: Seconds between checks that a client is still connected.
DISCONNECT_POLL = 0.1
#: What a request refused for capacity waits before it tries again (Retry-After, seconds).
RETRY_AFTER = "1"
CLIENT_GONE = "the client closed the connection before the answer"
T = TypeVar("T")


@dataclass
class Exchange:
    """One chat request on its way: its body, context, culture, user state and run."""

    body: dict[str, Any]
    context: str
    culture: str | None
    user: UserState | None
    run_id: str
    inputs: dict[str, Any]
    start: float = field(default_factory=time.perf_counter)
    #: set once the client has gone: the work on the request stops at its next step
    gone: threading.Event = field(default_factory=threading.Event)
    #: taken by the first write of its run: a run is written once, however the request ends
    recorded: threading.Lock = field(default_factory=threading.Lock)


async def unless_gone(request: Request, gone: threading.Event, work: Awaitable[T]) -> T:
    """The result of ``work``; when the client disconnects first, ``gone`` is set, ``work`` is
    cancelled (work in a thread stops at its next step, which checks ``gone``) and
    :class:`~.guard.Abandoned` is raised."""
    task = asyncio.ensure_future(work)
    task.add_done_callback(lambda t: t.cancelled() or t.exception())  # an abandoned task's error is not news
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=DISCONNECT_POLL)
            if done:
                return task.result()
            if await request.is_disconnected():
                gone.set()
                raise Abandoned(CLIENT_GONE)
    finally:
        task.cancel()


def check_culture(workspace: ProxyWorkspace, culture: str | None) -> None:
    """Raise InputError for a culture no guardrail of the guideline set names."""
    known = workspace.cultures()
    if culture and culture not in known:
        raise InputError(
            f"unknown culture '{culture}' in guideline set '{workspace.guidelines.id}' (cultures: {', '.join(known)})"
        )


def header_name(request: Request, name: str) -> str | None:
    """A short name from a request header (context, culture), or None when it is not given."""
    value = request.headers.get(name)
    if value is not None and len(value) > MAX_HEADER_NAME:
        raise InputError(f"the {name} header is over {MAX_HEADER_NAME} characters")
    return value or None


def cases_of(judged: list[Judged | None]) -> list[Case]:
    """The review cases the decisions on a reply made (written with its run)."""
    return [d.case for j in judged if j is not None for d in j.fields.values() if d.case is not None]


def base_of(done: dict[str, Any]) -> dict[str, Any]:
    """The id, created time and model a stream's chunks carry."""
    return {
        "id": done.get("id") or completion_id(),
        "created": done.get("created") or int(time.time()),
        "model": done.get("model") or "upstream",
    }


def abandoned() -> JSONResponse:
    """The answer (never read) to a request whose client has gone."""
    return error_response(499, CLIENT_GONE, "client_closed_request")
