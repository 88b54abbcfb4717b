"""Undo the disguises people use to slip abuse past a filter, before a text is encoded.

:func:`normalise` returns the text as the heads should read it and the names of what it changed:

- ``unicode``: compatibility forms folded (NFKC: full-width letters, ligatures, styled letters);
- ``emoji``: emoji written as their names (``🐀`` -> ``rat``), so that an emoji standing for a word
  or a group reads as that word;
- ``invisible``: zero-width and other invisible format characters removed;
- ``homoglyphs``: Cyrillic and Greek look-alikes inside Latin words replaced by Latin letters;
- ``leet``: digits and symbols inside words read as letters (``h4te`` -> ``hate``, ``$cum`` -> ``scum``);
- ``spaced``: letters written apart joined (``k i l l``, ``k.i.l.l`` -> ``kill``);
- ``repeated``: a letter repeated three or more times cut to two (``diiiie`` -> ``diie``).

Text without any of these comes back unchanged, so normalising costs an ordinary text nothing.
"""

from __future__ import annotations

import re
import unicodedata

import emoji as emoji_names

#: Look-alike letters of other scripts, as the Latin letter they imitate.
HOMOGLYPHS = str.maketrans(
    {
        "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s",
        "к": "k", "м": "m", "н": "h", "т": "t", "в": "b", "г": "r", "ԁ": "d", "ӏ": "l",
        "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P", "С": "C", "Т": "T",
        "Х": "X", "У": "Y", "І": "I", "Ј": "J", "Ѕ": "S",
        "α": "a", "ο": "o", "ρ": "p", "ν": "v", "ι": "i", "κ": "k", "τ": "t", "υ": "u", "ε": "e",
        "Α": "A", "Β": "B", "Ε": "E", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O", "Ρ": "P",
        "Τ": "T", "Χ": "X", "Υ": "Y", "Ζ": "Z",
    }
)  # fmt: skip
LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"})
_LEET_CHARS = set("013457@$!")
_WORD = re.compile(r"\S+")
_SPACED = re.compile(r"(?<![\w])(?:[A-Za-z][ .\-_*]){2,}[A-Za-z](?![\w])")
_REPEAT = re.compile(r"([A-Za-z])\1{2,}")
_MIXED = re.compile(r"[A-Za-z]")
_NON_LATIN = re.compile(r"[\u0370-\u03ff\u0400-\u04ff\u0500-\u052f]")


def _invisible(c: str) -> bool:
    return unicodedata.category(c) == "Cf"


def _unleet(word: str) -> str:
    """``word`` with leet digits and symbols read as letters, when it is a word that uses them
    (letters on both sides of the symbols, or a symbol leading into letters); numbers, prices and
    punctuation at a word's end are left as they are."""
    core = word.rstrip(".,;:?!\"')")
    tail = word[len(core) :]
    if not core or not (set(core) & _LEET_CHARS) or not _MIXED.search(core):
        return word
    if any(not (c.isalpha() or c in _LEET_CHARS or c in "'-") for c in core):
        return word
    letters = sum(c.isalpha() for c in core)
    if letters < 1 or (core[0].isdigit() and core[1:].isalpha() and len(core) <= 4):  # 2nd, 4th, 1st
        return word
    if re.fullmatch(r"\d+(st|nd|rd|th|am|pm|s|k|m|x|h|min)?", core, re.IGNORECASE):
        return word
    return core.translate(LEET) + tail


def normalise(text: str) -> tuple[str, list[str]]:
    """``text`` with its disguises undone, and the names of the changes made (module docstring)."""
    changes: list[str] = []
    out = unicodedata.normalize("NFKC", text)
    if out != text:
        changes.append("unicode")
    if emoji_names.emoji_count(out):
        out = emoji_names.replace_emoji(out, replace=_emoji_name)
        out = re.sub(r"  +", " ", out).strip()
        changes.append("emoji")
    stripped = "".join(c for c in out if not _invisible(c))
    if stripped != out:
        changes.append("invisible")
        out = stripped
    if _NON_LATIN.search(out):
        words = []
        for w in out.split(" "):
            if _MIXED.search(w) and _NON_LATIN.search(w):
                w = w.translate(HOMOGLYPHS)
            words.append(w)
        fixed = " ".join(words)
        if fixed != out:
            changes.append("homoglyphs")
            out = fixed
    unleeted = _WORD.sub(lambda m: _unleet(m.group(0)), out)
    if unleeted != out:
        changes.append("leet")
        out = unleeted
    joined = _SPACED.sub(lambda m: re.sub(r"[ .\-_*]", "", m.group(0)), out)
    if joined != out and not _only_initials(out):
        changes.append("spaced")
        out = joined
    cut = _REPEAT.sub(lambda m: m.group(1) * 2, out)
    if cut != out:
        changes.append("repeated")
        out = cut
    return out, changes


def _emoji_name(chars: str, data: dict) -> str:
    """The English name of one emoji, as words between spaces (``:red_heart:`` -> `` red heart ``)."""
    name = str(data.get("en", "")).strip(":").replace("_", " ")
    return f" {name} " if name else " "


def _only_initials(text: str) -> bool:
    """Whether the spaced letters are abbreviations (``U.S.A.``, ``e.g.``) rather than a word pulled apart."""
    return all(re.fullmatch(r"(?:[A-Z]\.){2,}[A-Z]\.?|[a-z]\.[a-z]\.?", m.group(0)) for m in _SPACED.finditer(text))
