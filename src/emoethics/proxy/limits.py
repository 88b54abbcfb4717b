"""The proxy's limits: request size, and how many chat requests it works on at once.

:func:`too_large_body` is the 413 the service's limits middleware answers for the proxy, shaped
``{"error": {"message", "type", "param", "code"}}`` as an OpenAI client expects.

:class:`Capacity` counts the chat requests in progress (from the upstream call to the last byte of
the answer, a stream's too); one beyond it is refused at once (a 503 with ``Retry-After``) rather
than queued behind the others. :class:`SlotStream` is a streamed answer that gives its place back
when it ends, however it ends.
"""

from __future__ import annotations

import json

from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send


def too_large_body(max_bytes: int) -> bytes:
    """The 413 body for a request over ``max_bytes``."""
    return json.dumps(
        {
            "error": {
                "message": f"the request body is over the limit of {max_bytes:,} bytes",
                "type": "invalid_request_error",
                "param": None,
                "code": "request_too_large",
            }
        }
    ).encode()


class Slot:
    """One place of a :class:`Capacity`, given back once by :meth:`release`."""

    def __init__(self, capacity: Capacity) -> None:
        self._capacity: Capacity | None = capacity

    def release(self) -> None:
        if self._capacity is not None:
            self._capacity.busy -= 1
            self._capacity = None


class Capacity:
    """At most ``size`` requests in progress at once (the event loop's own count: no lock needed)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.busy = 0

    def take(self) -> Slot | None:
        """A place for one more request, or None when all are taken."""
        if self.busy >= self.size:
            return None
        self.busy += 1
        return Slot(self)


class SlotStream(StreamingResponse):
    """A streamed answer that releases its :class:`Slot` (set after it is made) when it ends."""

    slot: Slot | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            if self.slot is not None:
                self.slot.release()
