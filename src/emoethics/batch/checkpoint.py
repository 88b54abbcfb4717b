"""Resuming a batch job: the output file is its own checkpoint.

Every output row carries the ``index`` of its input record and is appended with one ``write``;
a job killed at any moment (``kill -9`` included) leaves complete rows and at most one torn last
row. To resume, the torn tail is cut off, the indices of the complete rows are collected, and those
records are skipped. A record is therefore either in the output once, or is done again.

The indices already done are kept as a low watermark (every index below it is done) plus the set
of done indices above it, so memory stays small however large the file: rows are written in
nearly input order, and the set only holds those that finished ahead of a slower one.

Next to the output, ``<output>.job.json`` describes the job (kind, input, fields, options,
models). A job resumes only into an output written by the same job; anything else is refused with
a message that says what differs, unless ``restart`` is asked for.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError

HEADER_VERSION = 1
_ROW = re.compile(rb'^\{"index":(\d+),"id":"(?:[^"\\]|\\.)*","ok":(true|false)[,}]')


class DoneSet:
    """The set of record indices already done: a low watermark and the done indices above it."""

    def __init__(self) -> None:
        self.low = 0
        self.extra: set[int] = set()
        self.count = 0

    def add(self, index: int) -> bool:
        """Mark ``index`` done; False if it already was (a duplicate)."""
        if index in self:
            return False
        if index == self.low:
            self.low += 1
            while self.low in self.extra:
                self.extra.remove(self.low)
                self.low += 1
        else:
            self.extra.add(index)
        self.count += 1
        return True

    def count_below(self, n: int) -> int:
        """How many indices below ``n`` are done."""
        return min(self.low, n) + sum(1 for i in self.extra if i < n)

    def __contains__(self, index: object) -> bool:
        return isinstance(index, int) and (index < self.low or index in self.extra)

    def __len__(self) -> int:
        return self.count


@dataclass
class Checkpoint:
    """What an existing output holds: done indices, ok/failed counts, a torn tail cut off."""

    done: DoneSet = field(default_factory=DoneSet)
    ok: int = 0
    failed: int = 0
    duplicates: int = 0
    truncated_bytes: int = 0
    resumed: bool = False

    def note(self, index: int, ok: bool) -> None:
        """Count a row found in the output."""
        if not self.done.add(index):
            self.duplicates += 1
        elif ok:
            self.ok += 1
        else:
            self.failed += 1


def _damaged(path: Path, where: int | str) -> InputError:
    return InputError(
        f"{path}:{where}: not a result row of a batch job; the file is damaged or is not "
        "this job's output (start over with --restart, or choose another output)"
    )


def scan_jsonl(path: Path) -> Checkpoint:
    """Read a JSONL output: cut a torn last line, collect the done indices."""
    cp = Checkpoint(resumed=True)
    good = 0
    with path.open("r+b") as f:
        for n, line in enumerate(f, 1):
            if not line.endswith(b"\n"):
                break  # torn: written partly when the job was killed
            m = _ROW.match(line)
            if m:
                cp.note(int(m.group(1)), m.group(2) == b"true")
            elif line.strip():
                try:
                    row = json.loads(line)
                    cp.note(int(row["index"]), bool(row["ok"]))
                except (ValueError, KeyError, TypeError):
                    raise _damaged(path, n) from None
            good += len(line)
        size = f.seek(0, io.SEEK_END)
        if size > good:
            f.truncate(good)
            cp.truncated_bytes = size - good
    return cp


def _csv_complete_end(path: Path) -> int:
    """Byte offset just after the last complete CSV record (a newline outside quotes)."""
    end, in_quote, pos = 0, False, 0
    with path.open("rb") as f:
        while chunk := f.read(1 << 16):
            parts = chunk.split(b'"')  # pieces alternate outside / inside quotes
            for k, part in enumerate(parts):
                if not in_quote and (j := part.rfind(b"\n")) >= 0:
                    end = pos + j + 1
                pos += len(part) + (k < len(parts) - 1)
                if k < len(parts) - 1:
                    in_quote = not in_quote
    return end


def scan_csv(path: Path, columns: list[str]) -> Checkpoint:
    """Read a CSV output: check its header, cut a torn last record, collect the done indices."""
    cp = Checkpoint(resumed=True)
    end = _csv_complete_end(path)
    size = path.stat().st_size
    if size > end:
        with path.open("r+b") as f:
            f.truncate(end)
        cp.truncated_bytes = size - end
    with path.open("r", encoding="utf-8", errors="replace", newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None:
            return cp
        if header != columns:
            raise InputError(
                f"{path}: its columns are not this job's (start over with --restart, or choose another output)"
            )
        try:
            for row in reader:
                try:
                    cp.note(int(row[0]), row[2] == "true")
                except (ValueError, IndexError):
                    raise _damaged(path, f"line {reader.line_num}") from None
        except csv.Error:
            raise _damaged(path, f"line {reader.line_num}") from None
    return cp


def sidecar(output: Path) -> Path:
    """The file that describes the job that writes ``output``."""
    return output.with_name(output.name + ".job.json")


def prepare(
    output: Path,
    log: Path,
    fmt: str,
    identity: dict[str, Any],
    *,
    restart: bool = False,
    columns: list[str] | None = None,
    extra_files: tuple[Path, ...] = (),
) -> Checkpoint:
    """Get ``output`` ready for the job ``identity``: start it, or read how far it got.

    ``log`` is the file rows are appended to (the output itself, or for Parquet a JSONL log next to
    it); ``columns`` are a CSV log's columns. With ``restart`` an existing output is removed."""
    side = sidecar(output)
    if restart:
        for p in (output, log, side, *extra_files):
            p.unlink(missing_ok=True)
    if log.exists() or output.exists():
        if not side.exists():
            raise InputError(
                f"{output} exists and was not written by a batch job; use --restart to "
                "overwrite it, or choose another output"
            )
        try:
            header = json.loads(side.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise InputError(f"{side}: unreadable job description; use --restart to start over") from None
        before = header.get("identity", {})
        if before != identity:
            keys = sorted({*before, *identity})
            diff = [k for k in keys if before.get(k) != identity.get(k)]
            raise InputError(
                f"{output} holds the results of a different job (it differs in: "
                f"{', '.join(diff)}); use --restart to overwrite it, or choose another output"
            )
        if not log.exists():
            raise InputError(f"{output} exists without its row log {log.name}; use --restart to start over")
        return scan_csv(log, columns or []) if fmt == "csv" else scan_jsonl(log)
    output.parent.mkdir(parents=True, exist_ok=True)
    try:
        side.write_text(
            json.dumps(
                {
                    "emoethics_batch": HEADER_VERSION,
                    "identity": identity,
                    "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                },
                indent=2,
            )
            + "\n",
            encoding="utf-8",
        )
    except OSError as e:
        raise InputError(f"{side}: cannot write ({e.strerror})") from None
    return Checkpoint()
