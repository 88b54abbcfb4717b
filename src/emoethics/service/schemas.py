"""Request bodies of the HTTP API. Answers use the library's own result models."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator

from ..ethics.guidelines import DEFAULT_GUIDELINES, builtin_guidelines
from ..schema.emotion_models import DEFAULT_MODEL, builtin_models, load_model
from ..store.queue import Decision
from ..textio import MAX_CHARS


def _names() -> list[str]:
    """Spectrum ids and poles of the built-in emotion models (what ``emotion``/``spectrum`` accept)."""
    out: set[str] = set()
    for m in builtin_models():
        em = load_model(m)
        out |= {s.id for s in em.spectra} | set(em.poles())
    return sorted(out)


Text = Annotated[str, Field(min_length=1, max_length=MAX_CHARS, description="The text (UTF-8).")]
Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]


def _enum(values: Sequence[str | None]) -> dict[str, JsonValue]:
    """An OpenAPI ``enum`` for a field that is validated against the same names."""
    return {"enum": list(values)}


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _WithModel(_Body):
    model: str = Field(
        default=DEFAULT_MODEL, description="A built-in emotion model.", json_schema_extra=_enum(builtin_models())
    )

    @field_validator("model")
    @classmethod
    def _builtin_model(cls, v: str) -> str:
        if v not in builtin_models():
            raise ValueError(f"unknown emotion model; built-in models: {', '.join(builtin_models())}")
        return v


class _WithGuidelines(_Body):
    context: Name | None = Field(default=None, description="Where the text is used (e.g. personal, workplace).")
    culture: Name | None = None
    guidelines: str = Field(
        default=DEFAULT_GUIDELINES,
        description="A built-in guideline set.",
        json_schema_extra=_enum(builtin_guidelines()),
    )

    @field_validator("guidelines")
    @classmethod
    def _builtin_guidelines(cls, v: str) -> str:
        if v not in builtin_guidelines():
            raise ValueError(f"unknown guideline set; built-in sets: {', '.join(builtin_guidelines())}")
        return v


class AnalyzeRequest(_WithModel):
    text: Text


class RewriteRequest(_WithModel):
    text: Text
    emotion: Name | None = Field(
        default=None,
        description="A pole (joy) or a spectrum (sadness-joy).",
        json_schema_extra=_enum([*_names(), None]),
    )
    intensity: float | None = Field(default=None, ge=-1.0, le=1.0)
    level: Name | None = Field(default=None, description="A level word, e.g. ecstasy.")
    rounds: int = Field(default=3, ge=1, le=5)
    tolerance: int = Field(default=1, ge=0, le=3)
    background: bool = Field(default=False, description="Answer 202 at once with a job to poll.")


class SweepRequest(_WithModel):
    text: Text
    spectrum: Name = Field(
        description="A spectrum id (sadness-joy) or a pole of the chosen model.", json_schema_extra=_enum(_names())
    )
    rounds: int = Field(default=2, ge=1, le=3)


class JudgeRequest(_WithGuidelines):
    text: Text
    history: list[Text] = Field(default_factory=list, max_length=20, description="Earlier turns, oldest first.")
    rulebook: str | None = Field(
        default=None,
        max_length=64,
        pattern=r"^(latest|rulebook-v\d+@[0-9a-f]{12})$",
        description="A stored rulebook id, or 'latest'.",
    )


class ReviewRequest(_WithGuidelines):
    text: Text
    rounds: int = Field(default=3, ge=1, le=5)
    background: bool = False


class RectifyRequest(_WithGuidelines):
    text: Text
    attempts: int = Field(default=2, ge=1, le=4)
    rounds: int = Field(default=2, ge=1, le=3)
    background: bool = False


class FeedbackRequest(_Body):
    case_id: str | None = Field(default=None, max_length=32)
    rule_id: str | None = Field(default=None, max_length=128)
    decision: Decision
    label: str | None = Field(default=None, max_length=32)
    rule_text: str | None = Field(default=None, max_length=2000)
    reviewer: str = Field(default="anonymous", min_length=1, max_length=128)
    note: str = Field(default="", max_length=4000)


class JobAccepted(BaseModel):
    job: str
    status: str
    status_url: str


class ErrorBody(BaseModel):
    error: str = Field(description="What went wrong and what to do.")
    detail: Any = None
