"""Usage accounting for language-model calls."""

from __future__ import annotations

from pydantic import BaseModel


class Usage(BaseModel):
    """Calls, tokens and seconds spent; ``cached_calls`` were answered from the cache."""

    calls: int = 0
    cached_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0

    def add(self, other: Usage) -> None:
        """Add ``other`` into this record in place."""
        self.calls += other.calls
        self.cached_calls += other.cached_calls
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.seconds += other.seconds

    def __sub__(self, other: Usage) -> Usage:
        return Usage(
            calls=self.calls - other.calls,
            cached_calls=self.cached_calls - other.cached_calls,
            prompt_tokens=self.prompt_tokens - other.prompt_tokens,
            completion_tokens=self.completion_tokens - other.completion_tokens,
            seconds=round(self.seconds - other.seconds, 4),
        )


def usage_record(usage: Usage | dict[str, Usage] | None) -> dict:
    """The one shape usage is recorded in (the run log, the service, batch summaries): the total
    (``calls``, ``cached_calls``, tokens, ``seconds``), and ``roles`` with each role's share when
    the usage came per role."""
    if usage is None:
        return Usage().model_dump()
    if isinstance(usage, Usage):
        return usage.model_dump()
    total = Usage()
    for u in usage.values():
        total.add(u)
    return {**total.model_dump(), "roles": {role: u.model_dump() for role, u in usage.items()}}
