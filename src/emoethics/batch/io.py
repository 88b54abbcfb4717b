"""Streaming input and output of batch jobs: JSONL, CSV and Parquet.

Input is read a record at a time (Parquet a row group's batch at a time), never as a whole file.
A JSONL line is either a JSON string (the text) or an object with a text field; a CSV file has a
header row; a Parquet file has a string column. Every record gets an ``index``: its position
among the file's records, from 0 (blank JSONL lines are not records). Its ``id`` is the id
field's value when there is one, else the index.

A record that cannot be read (a line that is not JSON, a missing text field, bytes that are not
UTF-8) comes back with an ``error`` instead of a text: the job reports it as a failed item and goes
on. A file that cannot be read at all (missing, unknown format, no such column, not Parquet) is an
:class:`~emoethics.errors.InputError`.

Output rows are dictionaries (``index``, ``id``, ``ok``, ``error``, ``result``, ``attempts``,
``seconds``, ``usage``). :class:`JsonlLog` and :class:`CsvLog` append them to a file, one
``write`` per row, so that a killed process leaves at most one torn last line (see
:mod:`.checkpoint`). CSV and Parquet rows are flat: the job's own columns and the whole result
as JSON in ``result``.
"""

from __future__ import annotations

import csv
import io
import json
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ..errors import InputError

#: Formats by file suffix.
SUFFIXES = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
}
FORMATS = ("jsonl", "csv", "parquet")
#: Common columns of flat (CSV, Parquet) output, before the job's own.
BASE_COLUMNS: list[tuple[str, str]] = [
    ("index", "int"),
    ("id", "str"),
    ("ok", "bool"),
    ("error", "str"),
    ("error_kind", "str"),
    ("attempts", "int"),
    ("seconds", "float"),
    ("calls", "int"),
    ("cached_calls", "int"),
    ("prompt_tokens", "int"),
    ("completion_tokens", "int"),
]


@dataclass
class Record:
    """One input text with its position; ``error`` says why it could not be read."""

    index: int
    id: str
    text: str | None
    error: str | None = None


def detect_format(path: str | Path, fmt: str | None = None) -> str:
    """``fmt`` if given, else the format named by the file's suffix."""
    if fmt:
        if fmt not in FORMATS:
            raise InputError(f"unknown format '{fmt}'; use {', '.join(FORMATS)}")
        return fmt
    suffix = Path(str(path)).suffix.lower()
    if suffix not in SUFFIXES:
        raise InputError(
            f"{path}: cannot tell the format from the name; use a .jsonl, .csv or .parquet file, or name the format"
        )
    return SUFFIXES[suffix]


def _id_of(value: Any, index: int) -> str:
    if value is None or value == "":
        return str(index)
    # an id read with undecodable bytes (or a lone surrogate from JSON) still has to be written out
    return str(value).encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def jsonl_record(line: bytes, index: int, where: str, text_field: str, id_field: str) -> Record:
    """The record in one JSONL line (without its newline)."""
    try:
        s = line.decode("utf-8-sig" if index == 0 else "utf-8")
    except UnicodeDecodeError as e:
        return Record(index, str(index), None, f"{where}: not valid UTF-8 (byte 0x{line[e.start]:02x})")
    try:
        obj = json.loads(s)
    except (json.JSONDecodeError, RecursionError) as e:
        msg = e.msg if isinstance(e, json.JSONDecodeError) else "nested too deeply"
        return Record(index, str(index), None, f"{where}: not valid JSON ({msg})")
    if isinstance(obj, str):
        return Record(index, str(index), obj)
    if not isinstance(obj, dict):
        return Record(
            index, str(index), None, f"{where}: expected a JSON string or an object with a '{text_field}' field"
        )
    rid = _id_of(obj.get(id_field), index)
    text = obj.get(text_field)
    if not isinstance(text, str):
        what = "no" if text is None else "a non-string"
        return Record(index, rid, None, f"{where}: {what} '{text_field}' field")
    return Record(index, rid, text)


def iter_jsonl(stream: IO[bytes], where: str, text_field: str = "text", id_field: str = "id") -> Iterator[Record]:
    """Records of a JSONL byte stream, one line at a time."""
    index = 0
    for n, line in enumerate(stream, 1):
        line = line.rstrip(b"\r\n")
        if not line.strip():
            continue
        yield jsonl_record(line, index, f"{where}:{n}", text_field, id_field)
        index += 1


def iter_csv(stream: IO[bytes], where: str, text_field: str = "text", id_field: str = "id") -> Iterator[Record]:
    """Records of a CSV byte stream with a header row. Undecodable bytes make that record fail."""
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="surrogateescape", newline="")
    reader = csv.reader(text)
    try:
        header = next(reader, None)
        if not header:
            raise InputError(f"{where}: empty CSV file (a header row is needed)")
        if text_field not in header:
            raise InputError(
                f"{where}: no column '{text_field}' in the header ({', '.join(header)[:200]}); name the text column"
            )
        ti = header.index(text_field)
        ii = header.index(id_field) if id_field in header else None
        for index, row in enumerate(reader):
            line = reader.line_num
            if not row:
                row = [""]
            rid = _id_of(row[ii] if ii is not None and ii < len(row) else None, index)
            if ti >= len(row):
                yield Record(index, rid, None, f"{where}:{line}: the row has no '{text_field}' value")
            else:
                yield Record(index, rid, row[ti])
    except csv.Error as e:
        raise InputError(f"{where}:{reader.line_num}: malformed CSV ({e})") from None
    finally:
        text.detach()


def iter_parquet(
    source: Any, where: str, text_field: str = "text", id_field: str = "id", batch_rows: int = 1024
) -> Iterator[Record]:
    """Records of a Parquet file (a path or a random-access file), a batch of rows at a time."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(source)
    except (pa.ArrowInvalid, OSError) as e:
        raise InputError(f"{where}: not a readable Parquet file ({str(e).splitlines()[0][:160]})") from None
    names = pf.schema_arrow.names
    if text_field not in names:
        raise InputError(f"{where}: no column '{text_field}' (columns: {', '.join(names)[:200]}); name the text column")
    columns = [text_field] + ([id_field] if id_field in names and id_field != text_field else [])
    index = 0
    for batch in pf.iter_batches(batch_size=batch_rows, columns=columns):
        texts = batch.column(text_field).to_pylist()
        ids = batch.column(id_field).to_pylist() if id_field in columns else [None] * len(texts)
        for text, rid in zip(texts, ids, strict=True):
            if isinstance(text, bytes):
                try:
                    text = text.decode("utf-8")
                except UnicodeDecodeError:
                    text = None
            if isinstance(text, str):
                yield Record(index, _id_of(rid, index), text)
            else:
                yield Record(
                    index,
                    _id_of(rid, index),
                    None,
                    f"{where}: row {index}: '{text_field}' is {'empty' if text is None else 'not text'}",
                )
            index += 1


def open_input(path: str | Path) -> IO[bytes]:
    """The input file, opened for reading, or a clear :class:`InputError`."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{path}: no such file")
    if p.is_dir():
        raise InputError(f"{path}: is a directory, not a file")
    try:
        return p.open("rb")
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror})") from None


def iter_records(
    path: str | Path, fmt: str | None = None, *, text_field: str = "text", id_field: str = "id"
) -> Iterator[Record]:
    """Records of the file at ``path``, streamed; checks the first record eagerly (see
    :func:`check_first`) so a file of the wrong kind fails at once."""
    fmt = detect_format(path, fmt)
    where = str(path)
    if fmt == "parquet":
        if not Path(path).is_file():
            open_input(path).close()  # raises the right error
        return check_first(iter_parquet(str(path), where, text_field, id_field), where)

    def lines() -> Iterator[Record]:
        with open_input(path) as f:
            reader = iter_jsonl if fmt == "jsonl" else iter_csv
            yield from reader(f, where, text_field, id_field)

    return check_first(lines(), where)


def check_first(records: Iterator[Record], where: str) -> Iterator[Record]:
    """``records``, after checking the first: a file whose first record cannot be read is of the
    wrong format or encoding (or has no such field), which is an error of the whole file."""
    first = next(records, None)
    if first is None:
        raise InputError(f"{where}: no records")
    if first.error:
        raise InputError(f"{first.error} (in the first record: is this the right file, format and field?)")

    def chain() -> Iterator[Record]:
        yield first
        yield from records

    return chain()


def count_records(path: str | Path, fmt: str | None = None) -> int | None:
    """How many records the file holds (for a progress bar), or ``None`` if that is not cheap."""
    fmt = detect_format(path, fmt)
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            return pq.ParquetFile(str(path)).metadata.num_rows
        with open(path, "rb") as f:
            if fmt == "jsonl":
                return sum(1 for line in f if line.strip())
            text = io.TextIOWrapper(f, encoding="utf-8", errors="replace", newline="")
            return max(0, sum(1 for _ in csv.reader(text)) - 1)
    except (OSError, csv.Error, ValueError):
        return None
    except Exception:  # noqa: BLE001 - a count is only for the progress bar
        return None


# -- output --------------------------------------------------------------------------------------


def row_line(row: dict) -> bytes:
    """A JSONL output line; ``index`` comes first so a resume can read it without parsing JSON."""
    ordered = {"index": row["index"], **{k: v for k, v in row.items() if k != "index"}}
    return (json.dumps(ordered, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def flat_row(row: dict, flatten: Callable[[dict], dict]) -> dict:
    """A row as flat columns: the common ones, the job's (``flatten(result)``), and ``result``."""
    usage = row.get("usage") or {}
    out = {
        "index": row["index"],
        "id": row["id"],
        "ok": row["ok"],
        "error": row.get("error"),
        "error_kind": row.get("error_kind"),
        "attempts": row.get("attempts", 0),
        "seconds": row.get("seconds", 0.0),
        "calls": usage.get("calls", 0),
        "cached_calls": usage.get("cached_calls", 0),
        "prompt_tokens": usage.get("prompt_tokens", 0),
        "completion_tokens": usage.get("completion_tokens", 0),
    }
    result = row.get("result")
    out.update(flatten(result) if result is not None else {})
    out["result"] = json.dumps(result, ensure_ascii=False) if result is not None else None
    return out


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


class _AppendFile:
    """An append-only file written with one ``os.write`` per call, synced every few seconds."""

    def __init__(self, path: Path, sync_every: float = 5.0) -> None:
        self.path = path
        try:
            self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as e:
            raise InputError(f"{path}: cannot write ({e.strerror})") from None
        self.sync_every = sync_every
        self._synced = time.monotonic()

    def write(self, data: bytes) -> None:
        """Append ``data``, all of it."""
        view = memoryview(data)
        try:
            while view:
                n = os.write(self.fd, view)
                view = view[n:]
            if time.monotonic() - self._synced > self.sync_every:
                os.fsync(self.fd)
                self._synced = time.monotonic()
        except OSError as e:
            raise InputError(f"{self.path}: cannot write ({e.strerror})") from None

    def close(self) -> None:
        if self.fd >= 0:
            try:
                os.fsync(self.fd)
            finally:
                os.close(self.fd)
                self.fd = -1


class JsonlLog:
    """Appends rows to a JSONL file."""

    def __init__(self, path: Path) -> None:
        self.file = _AppendFile(path)

    def write(self, rows: Iterable[dict]) -> None:
        """Append ``rows``, one line each, in one write."""
        data = b"".join(row_line(r) for r in rows)
        if data:
            self.file.write(data)

    def close(self) -> None:
        self.file.close()


class CsvLog:
    """Appends flat rows to a CSV file, writing the header when the file is new."""

    def __init__(self, path: Path, columns: list[str], flatten: Callable[[dict], dict]) -> None:
        new = not path.exists() or path.stat().st_size == 0
        self.file = _AppendFile(path)
        self.columns, self.flatten = columns, flatten
        if new:
            self.file.write(self._line(columns))

    @staticmethod
    def _line(cells: list[str]) -> bytes:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow(cells)
        return buf.getvalue().encode("utf-8", errors="surrogateescape")

    def write(self, rows: Iterable[dict]) -> None:
        """Append ``rows`` as flat CSV records, in one write."""
        data = b""
        for r in rows:
            flat = flat_row(r, self.flatten)
            data += self._line([_cell(flat.get(c)) for c in self.columns])
        if data:
            self.file.write(data)

    def close(self) -> None:
        self.file.close()


def arrow_schema(columns: list[tuple[str, str]]) -> Any:
    """The Parquet schema of flat rows."""
    import pyarrow as pa

    types = {"int": pa.int64(), "float": pa.float64(), "str": pa.string(), "bool": pa.bool_()}
    return pa.schema([(name, types[kind]) for name, kind in columns])


def jsonl_to_parquet(
    log: Path, target: Path, columns: list[tuple[str, str]], flatten: Callable[[dict], dict], chunk: int = 5000
) -> int:
    """Write the rows of a JSONL log as a Parquet file (via a temporary file, then renamed);
    returns the number of rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = arrow_schema(columns)
    tmp = target.with_name(target.name + ".tmp")
    n = 0
    try:
        with pq.ParquetWriter(str(tmp), schema) as writer, log.open("rb") as f:
            buf: list[dict] = []
            for line in f:
                if not line.strip():
                    continue
                flat = flat_row(json.loads(line), flatten)
                buf.append({name: _typed(flat.get(name), kind) for name, kind in columns})
                if len(buf) >= chunk:
                    writer.write_table(pa.Table.from_pylist(buf, schema=schema))
                    n += len(buf)
                    buf = []
            if buf:
                writer.write_table(pa.Table.from_pylist(buf, schema=schema))
                n += len(buf)
        os.replace(tmp, target)
    except OSError as e:
        raise InputError(f"{target}: cannot write ({e.strerror})") from None
    return n


def _typed(v: Any, kind: str) -> Any:
    if v is None:
        return None
    try:
        if kind == "int":
            return int(v)
        if kind == "float":
            return float(v)
        if kind == "bool":
            return bool(v)
    except (TypeError, ValueError):
        return None
    return v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
