"""Which linguistic features changed between a text and its rewrite.

Two views: ``measured`` counts that anyone can check (words, sentences, punctuation,
intensifiers, words added and removed), and ``explained``, a model's short account per category
the paper names (vocabulary, tone, imagery, diction, figurative language, sentence structure).
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from pydantic import BaseModel

from ..llm.base import Backend
from ..prompting import render

CATEGORIES = ("vocabulary", "tone", "imagery", "diction", "figurative_language", "sentence_structure")

# Common English degree adverbs and amplifiers (our own short list).
INTENSIFIERS = frozenset(
    """absolutely awfully completely deeply enormously entirely especially
extremely fully highly incredibly insanely intensely really remarkably so terribly thoroughly
too totally truly utterly very""".split()
)
_STOP = frozenset(
    """a an and are as at be been but by for from had has have he her his i if in
into is it its me my of on or our she so that the their them they this to was we were will with
you your""".split()
)
_WORD = re.compile(r"[A-Za-z']+")


class FeatureChanges(BaseModel):
    """Measured and explained differences between a source text and a rewrite."""

    measured: dict[str, Any]
    explained: dict[str, str] | None = None
    explained_by: str | None = None


def _stats(text: str) -> dict[str, float]:
    words = _WORD.findall(text)
    sentences = [s for s in re.split(r"[.!?]+", text) if s.strip()]
    return {
        "words": len(words),
        "sentences": len(sentences),
        "mean_sentence_words": round(len(words) / max(len(sentences), 1), 1),
        "exclamations": text.count("!"),
        "questions": text.count("?"),
        "intensifiers": sum(w.lower() in INTENSIFIERS for w in words),
        "uppercase_words": sum(len(w) > 1 and w.isupper() for w in words),
    }


def measure_changes(source: str, rewrite: str) -> dict[str, Any]:
    """Counts before and after, and the content words added and removed."""
    a, b = _stats(source), _stats(rewrite)
    out: dict[str, Any] = {k: [a[k], b[k]] for k in a}
    wa = Counter(w.lower() for w in _WORD.findall(source) if w.lower() not in _STOP)
    wb = Counter(w.lower() for w in _WORD.findall(rewrite) if w.lower() not in _STOP)
    out["added_words"] = [w for w, _ in (wb - wa).most_common(10)]
    out["removed_words"] = [w for w, _ in (wa - wb).most_common(10)]
    return out


def _schema() -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {c: {"type": "string", "maxLength": 120} for c in CATEGORIES},
        "required": list(CATEGORIES),
    }


def _parse(data: Any) -> dict[str, str]:
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    missing = [c for c in CATEGORIES if not isinstance(data.get(c), str)]
    if missing:
        raise ValueError(f"missing text for {missing}")
    return {c: " ".join(data[c].split())[:300] for c in CATEGORIES}


def explain_changes(source: str, rewrite: str, level: str, backend: Backend | None) -> FeatureChanges:
    """Measured changes, plus ``backend``'s explanation when a backend is given."""
    fc = FeatureChanges(measured=measure_changes(source, rewrite))
    if backend is not None:
        msgs = render("features", source=source, rewrite=rewrite, level=level)
        fc.explained = backend.chat_json(msgs, _schema(), _parse, max_tokens=360)
        fc.explained_by = backend.id
    return fc
