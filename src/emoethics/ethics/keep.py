"""What a message must keep when it is rectified: its requests, questions, dates, numbers and names.

Rectification changes how a text says things, never what it asks for. :func:`message_points`
lists the points of a text, and :func:`missing_points` those a rewrite lost:

- ``request``: a sentence that asks something of the reader (``please``, ``can you``, ``could
  you``, ``would you``, ``I need you to``, ``let's`` ...), kept when the rewrite still has a
  request or question carrying at least half of its content words;
- ``question``: any other question, kept in the same way (a rhetorical "You know what you are?"
  in an insult is one; rectification may drop it, never a request);
- ``number``: digits (``11``, ``£40``, ``3.5``), kept when the same digits appear;
- ``date``: weekdays, months, ``today``, ``tomorrow``, ``tonight``, times like ``11pm``, kept
  when the word appears;
- ``name``: a capitalised word that does not start a sentence (``Sam``, ``Friday`` counts as a
  date), kept when it appears.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
_ASK = re.compile(
    r"\b(please|pls|can you|could you|would you|will you|would it be possible|i need you to|"
    r"i'd like you to|i would like you to|let's|let us|make sure|don't forget|remember to)\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")
_DATES = (
    "monday tuesday wednesday thursday friday saturday sunday january february march april may june july "
    "august september october november december today tomorrow tonight yesterday weekend morning evening "
    "midnight noon"
).split()
_DATE = re.compile(r"\b(" + "|".join(_DATES) + r")\b", re.IGNORECASE)
_NAME = re.compile(r"(?<=[a-z,;:] )[A-Z][a-z]+(?:[ -][A-Z][a-z]+)*")
_CONTENT = re.compile(r"[a-z0-9']+")
_STOP = set(
    "a an the and or but if of to in on at for with by from up down it its it's is are was be been am i me my "
    "you your we our they them their he she his her this that these those so do does did can could would will "
    "please just really very bit some any not no there here what when where why how who whom which as than "
    "too also get got let let's us".split()
)


@dataclass(frozen=True)
class Point:
    """One thing a message says that its rewrite must keep."""

    kind: str  # request, question, number, date or name
    text: str


def message_points(text: str) -> list[Point]:
    """The requests, questions, numbers, dates and names of ``text``, in order (module docstring)."""
    points: list[Point] = []
    for m in _SENTENCE.finditer(text):
        sentence = m.group(0).strip()
        if sentence and _ASK.search(sentence):
            points.append(Point("request", sentence))
        elif sentence.endswith("?"):
            points.append(Point("question", sentence))
    seen: set[tuple[str, str]] = set()
    for kind, pattern in (("number", _NUMBER), ("date", _DATE), ("name", _NAME)):
        for m in pattern.finditer(text):
            key = (kind, m.group(0).lower())
            if kind == "name" and _DATE.fullmatch(m.group(0)):
                continue
            if key not in seen:
                seen.add(key)
                points.append(Point(kind, m.group(0)))
    return points


def _content(text: str) -> set[str]:
    return {w for w in _CONTENT.findall(text.lower()) if w not in _STOP}


def missing_points(points: list[Point], rewritten: str) -> list[Point]:
    """The ``points`` that ``rewritten`` lost."""
    lower = rewritten.lower()
    asks = [
        s.group(0) for s in _SENTENCE.finditer(rewritten) if s.group(0).strip().endswith("?") or _ASK.search(s.group(0))
    ]
    words_of_asks = [_content(a) for a in asks]
    missing = []
    for p in points:
        if p.kind in ("request", "question"):
            need = _content(p.text)
            kept = any(len(need & w) >= max(1, len(need) // 2) for w in words_of_asks) if need else bool(asks)
        elif p.kind == "number":
            kept = re.search(rf"(?<!\d){re.escape(p.text)}(?!\d)", rewritten) is not None
        else:
            kept = re.search(rf"\b{re.escape(p.text.lower())}\b", lower) is not None
        if not kept:
            missing.append(p)
    return missing


def describe(points: list[Point]) -> str:
    """``points`` as a line for a prompt: ``the request "Can you ...?"; the number 11``."""
    return "; ".join(f'the {p.kind} "{p.text}"' for p in points)
