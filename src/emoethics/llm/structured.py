"""The one structured answer several prompts ask for: a single text, as ``{"text": "..."}``.

Rewrites, rectifications, DIKE's graded rewrites and compositions all ask the model for one
piece of text under a JSON schema with a length cap (the cap ends a small model's repetition
inside the string before its token budget runs out). :func:`text_schema` is that schema and
:func:`parse_text` its parser for :meth:`~emoethics.llm.base.Backend.chat_json`.
"""

from __future__ import annotations

from typing import Any


def text_schema(max_chars: int) -> dict[str, Any]:
    """The JSON schema of ``{"text": "<1 to max_chars characters>"}``."""
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["text"],
        "properties": {"text": {"type": "string", "minLength": 1, "maxLength": max_chars}},
    }


def parse_text(data: Any) -> str:
    """The text of a ``{"text": ...}`` answer, stripped; ``ValueError`` (the model is asked again)
    when it is missing or empty."""
    if not isinstance(data, dict) or not isinstance(data.get("text"), str):
        raise ValueError('expected {"text": "..."}')
    out = data["text"].strip()
    if not out:
        raise ValueError('expected {"text": "..."} with a non-empty text')
    return out
