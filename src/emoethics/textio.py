"""Reading and checking the texts users give us.

Texts come from a command-line argument, standard input, or a file: ``.txt`` (the whole file is
one text, or one text per line with ``lines=True``), ``.jsonl`` (one JSON object per line with a
text field) or ``.csv`` (a header row with a text column). Every text is checked: not empty, not
longer than the limit, valid UTF-8. Problems become an :class:`~emoethics.errors.InputError`
that names the file and line.
"""

from __future__ import annotations

import csv
import io
import json
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .config import max_chars
from .errors import InputError

#: Longest text accepted, in characters (a small local model has a 4k-token context).
MAX_CHARS = max_chars()


@dataclass
class Item:
    """One text to process, with an id to find it again in the output."""

    id: str
    text: str


def check_text(text: str, where: str = "input") -> str:
    """Return ``text`` stripped, or raise :class:`InputError` if it cannot be analysed."""
    if not isinstance(text, str):
        raise InputError(f"{where}: expected text, got {type(text).__name__}")
    if any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        raise InputError(f"{where}: not valid UTF-8 (undecodable bytes); convert it to UTF-8")
    s = text.replace("\x00", "").strip()
    if not s:
        raise InputError(f"{where}: the text is empty")
    if len(s) > MAX_CHARS:
        raise InputError(
            f"{where}: the text has {len(s):,} characters; the limit is {MAX_CHARS:,} "
            "(split it, or set EMOETHICS_MAX_CHARS)"
        )
    return s


def decode(data: bytes, where: str) -> str:
    """Decode UTF-8 (with or without BOM) or raise :class:`InputError` naming the bad byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise InputError(
            f"{where}: not valid UTF-8 (byte 0x{data[e.start]:02x} on line {line}); "
            "convert it, e.g. iconv -f latin1 -t utf-8"
        ) from None


def read_bytes_limited(
    stream: typing.BinaryIO | io.BufferedReader | io.RawIOBase, where: str, limit: int = 200 * 1024 * 1024
) -> bytes:
    """Read a stream, refusing more than ``limit`` bytes."""
    data = stream.read(limit + 1) or b""
    if len(data) > limit:
        raise InputError(f"{where}: more than {limit // (1024 * 1024)} MB; split the input")
    return data


def read_items(
    path: Path | None = None,
    *,
    data: bytes | None = None,
    fmt: str | None = None,
    text_field: str = "text",
    id_field: str = "id",
    lines: bool = False,
) -> list[Item]:
    """Items from a file (or from ``data`` read off stdin), by extension or ``fmt``."""
    where = str(path) if path else "stdin"
    if data is None:
        assert path is not None
        if not path.is_file():
            raise InputError(f"{where}: no such file")
        with path.open("rb") as f:
            data = read_bytes_limited(f, where)
    text = decode(data, where)
    fmt = (fmt or (path.suffix.lstrip(".").lower() if path else "txt")) or "txt"
    if fmt == "jsonl":
        items = list(_jsonl(text, where, text_field, id_field))
    elif fmt == "csv":
        items = list(_csv(text, where, text_field, id_field))
    elif fmt == "txt":
        if lines:
            items = [
                Item(str(i), check_text(t, f"{where}:{i}")) for i, t in enumerate(text.splitlines(), 1) if t.strip()
            ]
        else:
            items = [Item("1", check_text(text, where))]
    else:
        raise InputError(f"{where}: unknown format '{fmt}' (use txt, jsonl or csv)")
    if not items:
        raise InputError(f"{where}: no texts found")
    return items


def _jsonl(text: str, where: str, text_field: str, id_field: str) -> Iterator[Item]:
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise InputError(f"{where}:{n}: not valid JSON ({e.msg})") from None
        if not isinstance(obj, dict) or not isinstance(obj.get(text_field), str):
            raise InputError(f"{where}:{n}: expected an object with a string field '{text_field}'")
        yield Item(str(obj.get(id_field, n)), check_text(obj[text_field], f"{where}:{n}"))


def _csv(text: str, where: str, text_field: str, id_field: str) -> Iterator[Item]:
    reader = csv.DictReader(io.StringIO(text))
    try:
        if not reader.fieldnames or text_field not in reader.fieldnames:
            raise InputError(
                f"{where}: no column '{text_field}' in the header "
                f"({', '.join(reader.fieldnames or [])}); use --text-field"
            )
        for n, row in enumerate(reader, 2):
            yield Item(str(row.get(id_field) or n), check_text(row[text_field] or "", f"{where}:{n}"))
    except csv.Error as e:
        raise InputError(f"{where}:{reader.line_num}: malformed CSV ({e})") from None
