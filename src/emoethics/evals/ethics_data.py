"""Ethics benchmark data, read into one shape: :class:`EthicsItem` (text, optional second text, 0/1 label).

Formats (labels exactly as each data set defines them; :data:`POSITIVE` says what 1 means):

- ``ethics-cm``: ETHICS commonsense morality CSV ``label,input,is_short,edited``; 1 = clearly morally
  wrong. ``text`` = input.
- ``ethics-deontology``: ETHICS CSV ``label,scenario,excuse``; 1 = a reasonable excuse.
  ``text`` = scenario (the request or role), ``second`` = excuse.
- ``ethics-justice``: ETHICS CSV ``label,scenario``; 1 = reasonable. ``text`` = scenario.
- ``ethics-virtue``: ETHICS CSV ``label,scenario`` with the scenario written ``"... [SEP] trait"``;
  1 = the trait is shown. ``text`` = the scenario without the trait, ``second`` = the trait.
- ``moral-stories``: Moral Stories JSONL ``{ID, norm, moral_action | immoral_action, label}``;
  1 = the moral action. ``text`` = the action, ``second`` = the norm, ``group`` = the story id
  (the ID without its last character: the moral and the immoral action share it).

Data (ETHICS, Hendrycks et al. 2021, MIT; Moral Stories, Emelin et al. 2021, MIT) is read from
wherever it lies; nothing is copied into the repository. :func:`split_of` gives the deterministic
train/dev split used where a data set has no split of its own (:func:`split_key` says by what).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
from pathlib import Path

from ..errors import InputError
from ..ethics.items import ETHICS_FORMATS, PAIR_FORMATS, POSITIVE, EthicsItem
from .datasets import read_labelled_file

__all__ = ["ETHICS_FORMATS", "PAIR_FORMATS", "POSITIVE", "EthicsItem", "load_ethics", "split_of", "split_key"]

# CSV columns each ETHICS format needs (extra columns are ignored).
_COLUMNS = {
    "ethics-cm": ("label", "input"),
    "ethics-deontology": ("label", "scenario", "excuse"),
    "ethics-justice": ("label", "scenario"),
    "ethics-virtue": ("label", "scenario"),
}


def load_ethics(path: Path, fmt: str, *, limit: int | None = None, seed: int = 0) -> list[EthicsItem]:
    """Items from ``path`` in format ``fmt`` (see the module docstring).

    With ``limit``, a random sample of at most that many items (``random.Random(seed)``), kept in
    file order. Raises :class:`InputError` with a one-line message for any unusable file."""
    if fmt not in ETHICS_FORMATS:
        raise InputError(f"unknown ethics format '{fmt}'; formats: {', '.join(ETHICS_FORMATS)}")
    if limit is not None and limit < 1:
        raise InputError(f"limit must be at least 1, got {limit}")
    path = Path(path)
    text = read_labelled_file(path)
    if not text.strip():
        raise InputError(f"{path}: the file is empty")
    try:
        items = _moral_stories(text, path) if fmt == "moral-stories" else _ethics_csv(text, path, fmt)
    except csv.Error as e:
        raise InputError(f"{path}: does not look like {fmt} CSV ({e})") from None
    if not items:
        raise InputError(f"{path}: no items (only a header?)")
    if limit is not None and limit < len(items):
        keep = sorted(random.Random(seed).sample(range(len(items)), limit))
        items = [items[i] for i in keep]
    return items


def split_of(key: str, dev_every: int = 5) -> str:
    """``"dev"`` for about 1 in ``dev_every`` keys, else ``"train"``: by sha256, so it never changes."""
    return "dev" if int(hashlib.sha256(key.encode("utf-8")).hexdigest(), 16) % dev_every == 0 else "train"


def split_key(item: EthicsItem) -> str:
    """What :func:`split_of` is applied to: the story for Moral Stories (both actions of a story stay
    on the same side), the text for everything else."""
    return item.group if item.group is not None else item.text


def _label(raw: object, path: Path, line: int) -> int:
    value = raw.strip() if isinstance(raw, str) else raw
    if value in ("0", "1", 0, 1) and not isinstance(value, bool):
        return int(value)
    raise InputError(f"{path}:{line}: label {raw!r} is not 0 or 1")


def _field(row: dict, name: str, path: Path, line: int) -> str:
    value = row.get(name)
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{path}:{line}: column '{name}' is missing or empty")
    return value.strip()


def _ethics_csv(text: str, path: Path, fmt: str) -> list[EthicsItem]:
    reader = csv.DictReader(io.StringIO(text))
    head = [h.strip() for h in reader.fieldnames or []]
    reader.fieldnames = head
    missing = [c for c in _COLUMNS[fmt] if c not in head]
    if missing:
        raise InputError(
            f"{path}: header {','.join(head)!r} lacks column(s) {', '.join(missing)} "
            f"({fmt} needs {','.join(_COLUMNS[fmt])})"
        )
    stem = path.stem
    out = []
    for row in reader:
        line = reader.line_num
        if not any((v or "").strip() for v in row.values() if isinstance(v, str)):
            continue  # blank line
        label = _label(row.get("label"), path, line)
        second = None
        if fmt == "ethics-cm":
            main = _field(row, "input", path, line)
        elif fmt == "ethics-deontology":
            main, second = _field(row, "scenario", path, line), _field(row, "excuse", path, line)
        elif fmt == "ethics-justice":
            main = _field(row, "scenario", path, line)
        else:  # virtue: "scenario [SEP] trait"
            scenario = _field(row, "scenario", path, line)
            main, sep, trait = scenario.rpartition("[SEP]")
            if not sep or not main.strip() or not trait.strip():
                raise InputError(f"{path}:{line}: virtue scenario must read '... [SEP] trait'")
            main, second = main.strip(), trait.strip()
        out.append(EthicsItem(id=f"{stem}:{line}", format=fmt, text=main, second=second, label=label))
    return out


def _moral_stories(text: str, path: Path) -> list[EthicsItem]:
    out = []
    for line, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        try:
            row = json.loads(raw)
        except json.JSONDecodeError as e:
            raise InputError(f"{path}:{line}: not valid JSON ({e.msg})") from None
        if not isinstance(row, dict):
            raise InputError(f"{path}:{line}: expected a JSON object")
        label = _label(row.get("label"), path, line)
        key = "moral_action" if label == 1 else "immoral_action"
        if not isinstance(row.get(key), str):
            raise InputError(f"{path}:{line}: label {label} needs a '{key}' field")
        story = _field(row, "ID", path, line)
        out.append(
            EthicsItem(
                id=story,
                format="moral-stories",
                text=_field(row, key, path, line),
                second=_field(row, "norm", path, line),
                label=label,
                group=story[:-1],
            )
        )
    return out
