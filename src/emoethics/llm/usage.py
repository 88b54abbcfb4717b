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
