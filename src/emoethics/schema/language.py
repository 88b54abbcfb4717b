"""A text's language as the instruments see it: its code, the reader (encoder) that takes it, and
how far an instrument trained on some languages can be trusted on it. Detection is
:func:`emoethics.sensors.language.detect_language`, whose docstring explains ``support``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Support = Literal["supported", "transfer", "unsupported"]
Reader = Literal["english", "multilingual"]

#: The languages of multilingual-e5-small's pre-training (XLM-RoBERTa's 100, as ISO 639-1 codes, with
#: Norwegian's two written forms): a text in one of them is read by the multilingual heads.
E5_LANGUAGES = frozenset(
    "af am ar as az be bg bn br bs ca cs cy da de el en eo es et eu fa fi fr fy ga gd gl gu ha he hi hr hu hy id "
    "is it ja jv ka kk km kn ko ku ky la lo lt lv mg mk ml mn mr ms my nb ne nl nn no om or pa pl ps pt ro ru sa "
    "sd si sk sl so sq sr su sv sw ta te th tl tr ug uk ur uz vi xh yi zh".split()
)
#: Scripts the detector and the multilingual encoder know (the first word of a letter's Unicode name);
#: a text written mostly in another script gets ``und``, whatever language the detector guesses.
KNOWN_SCRIPTS = frozenset(
    "LATIN CYRILLIC ARABIC DEVANAGARI CJK HANGUL HIRAGANA KATAKANA GREEK HEBREW THAI ETHIOPIC BENGALI TAMIL "
    "TELUGU KANNADA MALAYALAM GUJARATI GURMUKHI ORIYA SINHALA GEORGIAN ARMENIAN KHMER LAO MYANMAR".split()
)


class LanguageReading(BaseModel):
    """The detected language of a text and whether the instruments were trained for it."""

    code: str = Field(description="ISO 639-1 code (639-3 where there is none), or 'und' when it cannot be told.")
    probability: float = Field(ge=0.0, le=1.0)
    support: Support
    reader: Reader = Field("english", description="The encoder that reads it: English or multilingual.")
    script: str = Field("LATIN", description="The script most of its letters are written in (Unicode's name).")

    def for_instrument(self, trained: frozenset[str]) -> LanguageReading:
        """This reading with the support of an instrument trained on the languages ``trained``."""
        return self.model_copy(update={"support": support_of(self.code, self.script, trained)})


def support_of(code: str, script: str, trained: frozenset[str]) -> Support:
    """How far an instrument trained on ``trained`` can be trusted on ``code`` written in ``script``
    (module docstring)."""
    if script not in KNOWN_SCRIPTS:
        return "unsupported"
    if code in trained:
        return "supported"
    return "transfer" if code == "und" or code in E5_LANGUAGES else "unsupported"
