"""Retrying transient backend failures: exponential backoff with full jitter, Retry-After, and a
pause shared by every worker thread while the server asks for one.

Retried: :class:`~emoethics.errors.TransientBackendError` (timeouts, lost connections, HTTP
408/409/429/5xx) and :class:`~emoethics.errors.MalformedOutputError` (a reply that stayed invalid
after the backend's own re-asks). Anything else fails at once. Attempt ``n`` waits a random time
between 0 and ``min(cap, base * 2**(n-1))`` (full jitter: workers that failed together do not come
back together); a server's Retry-After is a floor on that wait, up to ``max_wait``, and holds back
every thread sharing the policy, not only the one that was told.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from ..errors import MalformedOutputError, TransientBackendError

T = TypeVar("T")


def retryable(e: BaseException) -> bool:
    """Whether calling again later may succeed."""
    return isinstance(e, TransientBackendError | MalformedOutputError)


@dataclass
class RetryPolicy:
    """How often and how long to retry; one policy is shared by the threads of a job."""

    retries: int = 4
    base: float = 0.5
    cap: float = 30.0
    max_wait: float = 120.0
    seed: int | None = None
    sleep: Callable[[float], None] = time.sleep
    _rng: random.Random = field(init=False, repr=False)
    _lock: threading.Lock = field(init=False, repr=False)
    _pause_until: float = field(init=False, default=0.0, repr=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before attempt ``attempt + 1``, after ``attempt`` failed."""
        with self._lock:
            wait = self._rng.uniform(0.0, min(self.cap, self.base * 2 ** (attempt - 1)))
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.max_wait))
        return wait

    def _hold(self, seconds: float) -> None:
        with self._lock:
            self._pause_until = max(self._pause_until, time.monotonic() + seconds)

    def _wait_for_pause(self) -> None:
        while (left := self._pause_until - time.monotonic()) > 0:
            self.sleep(min(left, 1.0))

    def call(self, fn: Callable[[], T]) -> tuple[T, int]:
        """``fn()`` and the number of attempts it took; the last error if every attempt failed."""
        attempt = 0
        while True:
            attempt += 1
            self._wait_for_pause()
            try:
                return fn(), attempt
            except Exception as e:
                if not retryable(e) or attempt > self.retries:
                    e.attempts = attempt  # type: ignore[attr-defined]
                    raise
                retry_after = getattr(e, "retry_after", None)
                wait = self.delay(attempt, retry_after)
                if retry_after is not None:
                    self._hold(min(retry_after, self.max_wait))
                self.sleep(wait)
