"""Labelled emotion data sets, read into one shape: text, Plutchik labels, optional intensities.

Formats:

- ``xed``: XED ``en-annotated.tsv`` (``sentence TAB 1, 4``) or ``neu_en.txt`` (``9 TAB sentence``);
  ids 1..8 = anger, anticipation, disgust, fear, joy, sadness, surprise, trust; 9 = neutral.
- ``goemotions``: ``text TAB ids TAB comment_id``; ids index ``labels.txt`` beside the file; the
  27 categories are folded onto Plutchik's eight by :data:`GOEMOTIONS_TO_PLUTCHIK`.
- ``gne``: GoodNewsEveryone ``gne-release-v1.0.tsv`` (news headlines): a header with ``headline``,
  ``dominant_emotion`` and ``other_emotions``; both emotion columns count as labels, folded onto
  Plutchik's eight by :data:`GNE_TO_PLUTCHIK`.
- ``semeval-ec``: SemEval-2018 Task 1 E-c TSV with a header ``ID Tweet anger anticipation ...``
  (0/1 columns; love, optimism and pessimism are not Plutchik primaries and are ignored).
- ``semeval-ei``: SemEval-2018 EI-reg TSV ``ID Tweet Affect Dimension Intensity Score``.
- ``jsonl`` / ``csv``: generic, with a column map (``text``, ``labels`` as a list or a
  comma-separated string of emotion names, or one 0/1 or 0..1 column per emotion).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from ..errors import InputError
from ..sensors.examples import Example
from ..textio import decode

PLUTCHIK8 = ("anger", "anticipation", "disgust", "fear", "joy", "sadness", "surprise", "trust")
FORMATS = ("xed", "goemotions", "gne", "semeval-ec", "semeval-ei", "jsonl", "csv")
XED_IDS = {str(i): e for i, e in enumerate(PLUTCHIK8, 1)}

#: Our mapping of GoEmotions' 27 categories onto Plutchik's eight (the rest map to nothing). Love
#: is Plutchik's primary dyad of joy and trust, so it maps to both.
GOEMOTIONS_TO_PLUTCHIK: dict[str, tuple[str, ...]] = {
    "anger": ("anger",),
    "annoyance": ("anger",),
    "disgust": ("disgust",),
    "fear": ("fear",),
    "nervousness": ("fear",),
    "joy": ("joy",),
    "amusement": ("joy",),
    "excitement": ("joy",),
    "love": ("joy", "trust"),
    "sadness": ("sadness",),
    "grief": ("sadness",),
    "disappointment": ("sadness",),
    "surprise": ("surprise",),
    "realization": ("surprise",),
    "confusion": ("surprise",),
    "admiration": ("trust",),
    "approval": ("trust",),
    "gratitude": ("trust",),
    "optimism": ("anticipation",),
    "desire": ("anticipation",),
    "curiosity": ("anticipation",),
}

#: Our mapping of GoodNewsEveryone's 15 emotions onto Plutchik's eight. Where GoodNewsEveryone
#: names one of Plutchik's dyads we map to its two primaries as for GoEmotions' love (love = joy +
#: trust, shame = fear + disgust); guilt is read as Plutchik's remorse (sadness + disgust), pride
#: as joy alone (Plutchik's pride = anger + joy, but no proud headline reads as angry). Positive
#: and negative surprise are surprise, optimism and pessimism anticipation.
GNE_TO_PLUTCHIK: dict[str, tuple[str, ...]] = {
    "anger": ("anger",),
    "annoyance": ("anger",),
    "disgust": ("disgust",),
    "fear": ("fear",),
    "guilt": ("sadness", "disgust"),
    "joy": ("joy",),
    "pride": ("joy",),
    "love_including_like": ("joy", "trust"),
    "negative_anticipation_including_pessimism": ("anticipation",),
    "positive_anticipation_including_optimism": ("anticipation",),
    "negative_surprise": ("surprise",),
    "positive_surprise": ("surprise",),
    "sadness": ("sadness",),
    "shame": ("fear", "disgust"),
    "trust": ("trust",),
}


def read_labelled_file(path: Path) -> str:
    """The text of a labelled data file, decoded (one clear error for a missing or undecodable file)."""
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    return decode(path.read_bytes(), str(path))


def load_examples(path: Path, fmt: str, *, columns: dict[str, str] | None = None) -> list[Example]:
    """Examples from ``path`` in format ``fmt`` (see the module docstring)."""
    text = read_labelled_file(path)
    try:
        if fmt == "xed":
            return _xed(text, path)
        if fmt == "goemotions":
            return _goemotions(text, path)
        if fmt == "gne":
            return _gne(text, path)
        if fmt == "semeval-ec":
            return _semeval_ec(text, path)
        if fmt == "semeval-ei":
            return _semeval_ei(text, path)
        if fmt in ("jsonl", "csv"):
            return _generic(text, path, fmt, columns or {})
    except (KeyError, IndexError, ValueError, csv.Error) as e:
        raise InputError(f"{path}: does not look like {fmt} data ({type(e).__name__}: {e})") from None
    raise InputError(f"unknown format '{fmt}'; formats: {', '.join(FORMATS)}")


def _xed(text: str, path: Path) -> list[Example]:
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        if "\t" not in line:
            raise InputError(f"{path}:{n}: expected 'sentence TAB labels' or 'label TAB sentence'")
        first, _, rest = line.partition("\t")
        if first.strip().isdigit():  # neu_en.txt: label first
            ids, sentence = [first.strip()], rest
        else:
            sentence, _, id_text = line.rpartition("\t")
            ids = [x.strip() for x in id_text.split(",")]
        labels = set()
        for i in ids:
            if i == "9":
                continue
            if i not in XED_IDS:
                raise InputError(f"{path}:{n}: unknown XED label '{i}' (1..9)")
            labels.add(XED_IDS[i])
        if sentence.strip():
            out.append(Example(sentence.strip(), frozenset(labels)))
    return out


def _goemotions(text: str, path: Path) -> list[Example]:
    labels_file = path.parent / "labels.txt"
    if not labels_file.is_file():
        raise InputError(f"{path}: GoEmotions needs labels.txt beside the data file")
    names = [x.strip() for x in read_labelled_file(labels_file).splitlines() if x.strip()]
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split("\t")
        if len(parts) < 2:
            raise InputError(f"{path}:{n}: expected 'text TAB label ids'")
        try:
            cats = [names[int(i)] for i in parts[1].split(",") if i.strip()]
        except (ValueError, IndexError):
            raise InputError(f"{path}:{n}: bad label ids '{parts[1]}'") from None
        labels = frozenset(e for c in cats for e in GOEMOTIONS_TO_PLUTCHIK.get(c, ()))
        out.append(Example(parts[0].strip(), labels))
    return out


def _tsv(text: str) -> csv.DictReader:
    return csv.DictReader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE)


def _gne(text: str, path: Path) -> list[Example]:
    reader = _tsv(text)
    missing = [c for c in ("headline", "dominant_emotion", "other_emotions") if c not in (reader.fieldnames or [])]
    if missing:
        raise InputError(f"{path}: GoodNewsEveryone header lacks {missing}")
    out = []
    for row in reader:
        names = [row["dominant_emotion"].strip(), *row["other_emotions"].split(",")]
        labels = frozenset(e for n in names for e in GNE_TO_PLUTCHIK.get(n.strip(), ()))
        if row["headline"].strip():
            out.append(Example(row["headline"].strip(), labels))
    return out


def _semeval_ec(text: str, path: Path) -> list[Example]:
    reader = _tsv(text)
    head = reader.fieldnames or []
    missing = [c for c in ("Tweet", *PLUTCHIK8) if c not in head]
    if missing:
        raise InputError(f"{path}: SemEval E-c header lacks {missing}")
    out = []
    for row in reader:
        labels = frozenset(e for e in PLUTCHIK8 if row[e].strip() == "1")
        out.append(Example(row["Tweet"].strip(), labels))
    return out


def _semeval_ei(text: str, path: Path) -> list[Example]:
    reader = _tsv(text)
    head = reader.fieldnames or []
    missing = [c for c in ("Tweet", "Affect Dimension", "Intensity Score") if c not in head]
    if missing:
        raise InputError(f"{path}: SemEval EI-reg header lacks {missing}")
    out = []
    for n, row in enumerate(reader, 2):
        emo = row["Affect Dimension"].strip().lower()
        if emo not in PLUTCHIK8:
            raise InputError(f"{path}:{n}: affect dimension '{emo}' is not a Plutchik emotion")
        try:
            score = float(row["Intensity Score"])
        except ValueError:
            raise InputError(f"{path}:{n}: intensity '{row['Intensity Score']}' is not a number") from None
        out.append(Example(row["Tweet"].strip(), intensity={emo: score}))
    return out


def _generic(text: str, path: Path, fmt: str, columns: dict[str, str]) -> list[Example]:
    tcol = columns.get("text", "text")
    lcol = columns.get("labels", "labels")
    if fmt == "jsonl":
        rows = []
        for n, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as e:
                    raise InputError(f"{path}:{n}: not valid JSON ({e.msg})") from None
    else:
        rows = list(csv.DictReader(io.StringIO(text)))
    out = []
    for n, row in enumerate(rows, 1):
        if not isinstance(row, dict) or not isinstance(row.get(tcol), str):
            raise InputError(f"{path}: row {n} has no text column '{tcol}' (map it with text=COL)")
        labels: set[str] = set()
        intensity: dict[str, float] = {}
        raw = row.get(lcol)
        if isinstance(raw, str):
            raw = [x for x in raw.replace(";", ",").split(",") if x.strip()]
        for lab in raw or []:
            name = str(lab).strip().lower()
            if name in PLUTCHIK8:
                labels.add(name)
        for emotion in PLUTCHIK8:  # optional one column per emotion: 0/1 labels or 0..1 intensities
            value = row.get(columns.get(emotion, emotion))
            if value not in (None, ""):
                intensity[emotion] = float(value)
                if intensity[emotion] >= 0.5:
                    labels.add(emotion)
        out.append(Example(row[tcol].strip(), frozenset(labels), intensity))
    return out
