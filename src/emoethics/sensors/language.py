"""Which language a text is written in, which encoder reads it, and whether the instruments were
trained for it.

:func:`detect_language` says which language a text is in (``py3langid``, a naive Bayes model over
byte n-grams, shipped with its package) and which reader it goes to:

- ``english``: the English instruments (MiniLM encoders, VADER) read English, and text too short,
  too mixed or too disguised to tell (``und``);
- ``multilingual``: any other language the detector names with probability
  :data:`READ_PROBABILITY` or more (:data:`ENGLISH_BASED` creoles from a higher one) or, below
  that, as more than four times as likely as English (:data:`ENGLISH_SHARE`), or text written
  mostly in a script other than Latin, is read by
  multilingual-e5-small (:mod:`emoethics.encoders.e5`) and the heads trained on its embeddings.

A text in another language with an English sentence in it (told with probability 0.9) is read
by the English instruments, as it was before there was a multilingual reader: the multilingual
conduct head reads such mixed texts poorly (an English confession followed by a French request to
the moderator read as an insult at 0.85). Its support is then at most ``transfer``.

How far an instrument can be trusted on the language (``support``) depends on what it was trained
on; each instrument passes its own list (:data:`EMOTION_LANGUAGES` for the sensor,
:data:`CONDUCT_LANGUAGES` for the judge's conduct head):

- ``supported``: trained on texts in it;
- ``transfer``: not trained on it, but read by an encoder that knows it (the multilingual encoder's
  hundred languages), or ``und`` text read by the English instruments;
- ``unsupported``: a language the multilingual encoder was not pre-trained on either, or a script
  whose language the detector cannot name (Cherokee): ``und``.

The judge without a model routes an unsupported text to review (the guideline file's
``unsupported_language``), instead of allowing it silently. The text is read with disguises
undone (:func:`~emoethics.sensors.normalise.normalise`), so that spaced or leet English is not taken
for another language (``tests/test_language.py``): of 2,000 GoEmotions dev comments and 2,000
English contrast sentences, 0.37% are given to the multilingual reader; of 2,700 BRIGHTER dev texts
in 27 other languages, 94.7% (the rest are read as English: short texts, Nigerian Pidgin, texts with an
English sentence in them).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any

from ..schema.language import KNOWN_SCRIPTS, LanguageReading, Reader, support_of
from .normalise import normalise

#: Languages the English-only instruments (the moral head, the injection check) were trained for.
SUPPORTED = frozenset({"en"})
#: Languages the sensor's emotion heads were trained on: English, and the multilingual heads'
#: BRIGHTER and XED languages (``training/train_multilingual.py``).
EMOTION_LANGUAGES = frozenset(
    "en af am ar zh de es ha hi ig rw mr om pt ro ru so su sw sv tt ti uk yo pcm vmw fi bg bs cs da el et eu fa "
    "fr gl he hr hu id is it ja mk ml ms nl no pl sk sl sr th tr vi".split()
)
#: Languages the conduct heads were trained on (English; the multilingual contrast set; MLMA French and
#: Arabic; Korean HateSpeech).
CONDUCT_LANGUAGES = frozenset("en fr de es it pt nl pl ar hi zh ko".split())
#: Another language is read by the multilingual reader from this probability (py3langid, normalised).
READ_PROBABILITY = 0.3
#: English-based creoles, which casual English resembles ("Well, shit happens." reads as Nigerian
#: Pidgin at 0.32): the multilingual reader takes them from a higher probability.
ENGLISH_BASED = {"pcm": 0.6}
#: Below :data:`READ_PROBABILITY`, a text still goes to the multilingual reader when English is less
#: than this share as likely as the language named ("Te voy a matar a golpes.": Hausa 0.28, English 0.06).
ENGLISH_SHARE = 0.25
_NOISE = re.compile(r"https?://\S+|@\w+|#|\d+|&\w+;")


@lru_cache(maxsize=1)
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def _main_script(text: str) -> str:
    counts: dict[str, int] = {}
    for c in text:
        if c.isalpha():
            script = unicodedata.name(c, "UNKNOWN").split(" ")[0]
            counts[script] = counts.get(script, 0) + 1
    return max(counts, key=lambda k: counts[k]) if counts else "LATIN"


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def _has_english_sentence(text: str) -> bool:
    """Whether one of the sentences of ``text`` (two or more) is English, told with confidence."""
    parts = [p for p in _SENTENCE_END.split(text) if len(p.split()) >= 4]
    if len(parts) < 2:
        return False
    for part in parts:
        found, p = _identifier().classify(part)
        if found == "en" and p >= 0.9:
            return True
    return False


def _non_latin_share(text: str) -> float:
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return 0.0
    return sum(1 for c in letters if not unicodedata.name(c, "").startswith("LATIN")) / len(letters)


def detect_language(text: str, trained: frozenset[str] = EMOTION_LANGUAGES) -> LanguageReading:
    """The language of ``text``, its reader, and its support by an instrument trained on ``trained``
    (module docstring)."""
    clean = _NOISE.sub(" ", normalise(text)[0])
    code, p = "und", 0.0
    reader: Reader = "english"
    script = _main_script(clean)
    if any(c.isalpha() for c in clean):
        ranked = _identifier().rank(clean)
        found, p = ranked[0][0], round(float(ranked[0][1]), 3)
        english = next((float(q) for c, q in ranked if c == "en"), 0.0)
        if script not in KNOWN_SCRIPTS:  # Cherokee read as Korean: a guess, not a language
            reader = "multilingual"
        elif found == "en":
            code = "en"
        elif p >= ENGLISH_BASED.get(found, READ_PROBABILITY):
            code, reader = found, "multilingual"
            if _has_english_sentence(clean):  # mixed: the English instruments read the English part
                reader = "english"
        elif found not in ENGLISH_BASED and english < ENGLISH_SHARE * p:  # not told apart, but not English
            reader = "multilingual"
        elif _non_latin_share(clean) > 0.5:
            reader = "multilingual"
    support = support_of(code, script, trained)
    if reader == "english" and code not in ("en", "und") and support == "supported":
        support = "transfer"  # another language with English in it, read by the English instruments
    return LanguageReading(code=code, probability=p, support=support, reader=reader, script=script)
