"""Which language a text is written in, and whether the judge's instruments were trained for it.

The sensor, the moral and conduct heads and the injection detector were trained on English text
(their encoders are English MiniLMs), so a verdict on another language rests on subword fragments
of an English model. :func:`detect_language` says which language a text is in (``py3langid``, a
naive Bayes model over byte n-grams for 97 languages, shipped with its package), and how far the
instruments can be trusted on it:

- ``supported``: trained for it (English);
- ``transfer``: not trained for it, but read as well as the English instruments can (a text too
  short or too mixed to tell, ``und``);
- ``unsupported``: another language, detected with probability :data:`MIN_PROBABILITY` or more,
  or written mostly in a script other than Latin (``und`` when the language itself is not told
  apart, as for Cherokee, which the detector does not know).

The judge without a model routes an unsupported text to review (the guideline file's
``unsupported_language``), instead of allowing it silently. The text is read with disguises
undone (:func:`~emoethics.sensors.normalise.normalise`), so that spaced or leet English is not taken for another
language: on 3,000 GoEmotions dev comments 0.1% were read as another language, on the conduct
contrast set none (``tests/test_language.py``).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, Field

from .normalise import normalise

Support = Literal["supported", "transfer", "unsupported"]
#: Languages the instruments were trained for.
SUPPORTED = frozenset({"en"})
#: A language other than English counts as detected from this probability (py3langid, normalised).
MIN_PROBABILITY = 0.6
_NOISE = re.compile(r"https?://\S+|@\w+|#|\d+|&\w+;")


class LanguageReading(BaseModel):
    """The detected language of a text and whether the instruments were trained for it."""

    code: str = Field(description="ISO 639-1 code, or 'und' when it cannot be told.")
    probability: float = Field(ge=0.0, le=1.0)
    support: Support


@lru_cache(maxsize=1)
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def _non_latin_share(text: str) -> float:
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return 0.0
    return sum(1 for c in letters if not unicodedata.name(c, "").startswith("LATIN")) / len(letters)


def detect_language(text: str) -> LanguageReading:
    """The language of ``text`` (module docstring)."""
    clean = _NOISE.sub(" ", normalise(text)[0])
    if not any(c.isalpha() for c in clean):
        return LanguageReading(code="und", probability=0.0, support="transfer")
    code, p = _identifier().classify(clean)
    p = round(float(p), 3)
    if code in SUPPORTED:
        return LanguageReading(code=code, probability=p, support="supported")
    if p >= MIN_PROBABILITY:
        return LanguageReading(code=code, probability=p, support="unsupported")
    if _non_latin_share(clean) > 0.5:  # another script, in a language not told apart (Cherokee)
        return LanguageReading(code="und", probability=p, support="unsupported")
    return LanguageReading(code="und", probability=p, support="transfer")
