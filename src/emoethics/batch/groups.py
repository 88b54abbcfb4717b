"""Doing one group of records: the calls (with retries and metering), the rows they become, and
the sink that appends rows to the output and counts them. The local engine (:mod:`.runner`) and
the Ray engine (:mod:`.ray_engine`) both run their groups through here.
"""

from __future__ import annotations

import functools
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any, Literal

from ..errors import BackendError, ConfigError, EmoethicsError, InputError, ModelFileError
from ..schema.usage import Usage
from ..textio import check_text
from .io import CsvLog, JsonlLog, Record
from .jobs import Job
from .retry import RetryPolicy

#: Errors that concern the whole job, not one item: they stop it.
FATAL = (ConfigError, ModelFileError)


@dataclass
class BatchOptions:
    """How to run a job (none of this changes its results)."""

    concurrency: int = 8
    batch_size: int | None = None
    retries: int = 4
    backoff: float = 0.5
    max_failures: int = 50
    restart: bool = False
    limit: int | None = None
    engine: Literal["local", "ray"] = "local"
    address: str | None = None
    workers: int = 2
    worker_cpus: float = 1.0
    price_in: float = 0.0
    price_out: float = 0.0

    def policy(self) -> RetryPolicy:
        """The retry policy these options describe (one per job, shared by its threads)."""
        return RetryPolicy(retries=self.retries, base=self.backoff)


# -- one group of records ------------------------------------------------------------------------


def _row(rec: Record, attempts: int, seconds: float, usage: Usage) -> dict[str, Any]:
    return {
        "index": rec.index,
        "id": rec.id,
        "attempts": attempts,
        "seconds": round(seconds, 4),
        "usage": usage.model_dump(),
    }


def ok_row(rec: Record, result: dict, attempts: int, seconds: float, usage: Usage) -> dict[str, Any]:
    """The output row of a record that was done."""
    return {
        "index": rec.index,
        "id": rec.id,
        "ok": True,
        "result": result,
        **{k: v for k, v in _row(rec, attempts, seconds, usage).items() if k not in ("index", "id")},
    }


def failed_row(
    rec: Record, reason: str, kind: str, attempts: int = 0, seconds: float = 0.0, usage: Usage | None = None
) -> dict[str, Any]:
    """The output row of a record that failed: ``kind`` is input, backend or internal."""
    return {
        "index": rec.index,
        "id": rec.id,
        "ok": False,
        "error": reason,
        "error_kind": kind,
        **{k: v for k, v in _row(rec, attempts, seconds, usage or Usage()).items() if k not in ("index", "id")},
    }


def _metered(job: Job, policy: RetryPolicy, fn: Callable[[], Any]) -> tuple[Any, int, Exception | None, Usage, float]:
    """(value, attempts, error, usage, seconds) of ``fn`` under the retry policy."""
    start = time.perf_counter()
    with ExitStack() as stack:
        meters = [stack.enter_context(b.metered()) for b in job.backends]
        try:
            value, attempts = policy.call(fn)
            error = None
        except FATAL:
            raise
        except Exception as e:  # noqa: BLE001 - every other failure is the item's, reported in its row
            value, attempts, error = None, getattr(e, "attempts", 1), e
    usage = Usage()
    for m in meters:
        usage.add(m)
    return value, attempts, error, usage, time.perf_counter() - start


def _reason(e: Exception, attempts: int) -> tuple[str, str]:
    if isinstance(e, BackendError):
        return f"{e} (after {attempts} attempt{'s' if attempts != 1 else ''})", "backend"
    if isinstance(e, EmoethicsError):
        return str(e), "input"
    return f"internal error: {type(e).__name__}: {e}"[:500], "internal"


def process(job: Job, policy: RetryPolicy, records: list[Record], group_size: int = 1) -> list[dict[str, Any]]:
    """The output rows of ``records``, in their order: one call for the group where the job has
    one, then one call per text for the rest."""
    rows: dict[int, dict[str, Any]] = {}
    todo: list[tuple[Record, str]] = []
    for rec in records:
        if rec.error is not None or rec.text is None:
            rows[rec.index] = failed_row(rec, rec.error or "no text", "input")
            continue
        try:
            todo.append((rec, check_text(rec.text, f"record {rec.index} (id {rec.id})")))
        except InputError as e:
            rows[rec.index] = failed_row(rec, str(e), "input")
    carry = Usage()  # usage of a group call that produced no row of its own
    singles = todo
    if len(todo) > 1 and group_size > 1:
        value, attempts, error, usage, secs = _metered(job, policy, lambda: job.run_group([t for _, t in todo]))
        carry.add(usage)
        if error is None and value is not None:
            singles = []
            for (rec, text), result in zip(todo, value, strict=True):
                if result is None:
                    singles.append((rec, text))
                else:
                    rows[rec.index] = ok_row(rec, result, attempts, secs, carry)
                    carry = Usage()
    for rec, text in singles:
        value, attempts, error, usage, secs = _metered(job, policy, functools.partial(job.run_one, text))
        usage.add(carry)
        carry = Usage()
        if error is None:
            rows[rec.index] = ok_row(rec, value, attempts, secs, usage)
        else:
            reason, kind = _reason(error, attempts)
            rows[rec.index] = failed_row(rec, reason, kind, attempts, secs, usage)
    return [rows[r.index] for r in records]


def groups(records: Iterable[Record], size: int) -> Iterator[list[Record]]:
    """Consecutive records in lists of ``size``."""
    group: list[Record] = []
    for rec in records:
        group.append(rec)
        if len(group) >= size:
            yield group
            group = []
    if group:
        yield group


# -- where rows go -------------------------------------------------------------------------------

_NUMBERS = re.compile(r"\d+(\.\d+)?")


class Sink:
    """Writes rows as they come, counts them, and stops the job after ``max_failures`` backend
    failures in a row (holding those rows back, so that a resumed job does them again)."""

    def __init__(
        self, log: JsonlLog | CsvLog, max_failures: int, on_progress: Callable[[int, int], None] | None = None
    ) -> None:
        self.log, self.max_failures, self.on_progress = log, max(1, max_failures), on_progress
        self.ok = self.failed = self.retried = 0
        self.usage = Usage()
        self.failures: Counter[str] = Counter()
        self.held: list[dict] = []
        self.stopped: str | None = None

    def accept(self, rows: list[dict]) -> None:
        """Take the rows of one finished group: write them, or hold back backend failures."""
        out: list[dict] = []
        for row in rows:
            if not row["ok"] and row.get("error_kind") == "backend":
                self.held.append(row)
                if len(self.held) >= self.max_failures and self.stopped is None:
                    self.stopped = f"{len(self.held)} items in a row failed on the backend; last: {row['error']}"
                continue
            if row["ok"] and self.held and self.stopped is None:
                out += self.held
                self.held = []
            out.append(row)
        self._write(out)

    def finish(self) -> None:
        """Write the failures still held back, unless the job was stopped."""
        if self.stopped is None and self.held:
            self._write(self.held)
            self.held = []

    def _write(self, rows: list[dict]) -> None:
        if not rows:
            return
        self.log.write(rows)
        for row in rows:
            if row["ok"]:
                self.ok += 1
            else:
                self.failed += 1
                key = _NUMBERS.sub("N", row.get("error") or "")[:160]
                if key in self.failures or len(self.failures) < 1000:
                    self.failures[key] += 1
            self.retried += row.get("attempts", 0) > 1
            self.usage.add(Usage(**row.get("usage", {})))
        if self.on_progress:
            self.on_progress(self.ok, self.failed)
