"""Running a batch job: stream the input, call the models with bounded concurrency, retry what is
transient, record what fails, append every result to the output as it arrives, and sum up.

The local engine keeps at most ``2 x concurrency`` groups of texts in flight on a thread pool (one
at a time for a model that runs in this process); the input is read only as fast as results come
back, so memory does not grow with the file. Each group is one call where the job allows it (see
:mod:`.jobs`); texts without a usable answer in the group are done one by one. A record that
cannot be read, an invalid text, or a call that keeps failing after the retries becomes a row
with ``"ok": false`` and the reason: the job goes on.

When ``max_failures`` items in a row fail on the backend (the server is down, the key is wrong),
the job stops: those rows are not written, so running the same command again, once the backend
is back, resumes with them. See :mod:`.checkpoint` for resuming.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from ..errors import BackendError, ConfigError, EmoethicsError, InputError, ModelFileError
from ..llm.usage import Usage
from ..textio import check_text
from .checkpoint import Checkpoint, DoneSet, prepare
from .io import BASE_COLUMNS, CsvLog, JsonlLog, Record, count_records, detect_format, iter_records, jsonl_to_parquet
from .jobs import Job, JobSpec
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


class Summary(BaseModel):
    """What a run did: counts, speed, usage and cost, the most common failures."""

    job: str
    input: str
    output: str
    engine: str
    total: int | None = Field(description="Records in the input (None if not counted).")
    already_done: int = Field(description="Rows found in the output when the run started.")
    processed: int
    ok: int
    failed: int
    output_rows: int
    seconds: float
    items_per_second: float
    usage: Usage
    cost_usd: float | None = Field(description="From the prices given, if any.")
    retried_items: int
    failures: dict[str, int] = Field(description="The most common reasons items failed.")
    truncated_bytes: int = Field(description="A torn last row cut off when resuming.")
    duplicates: int
    complete: bool
    stopped: str | None = None


# -- one group of records ------------------------------------------------------------------------

def _row(rec: Record, attempts: int, seconds: float, usage: Usage) -> dict[str, Any]:
    return {"index": rec.index, "id": rec.id, "attempts": attempts, "seconds": round(seconds, 4),
            "usage": usage.model_dump()}


def ok_row(rec: Record, result: dict, attempts: int, seconds: float, usage: Usage) -> dict[str, Any]:
    """The output row of a record that was done."""
    return {"index": rec.index, "id": rec.id, "ok": True, "result": result,
            **{k: v for k, v in _row(rec, attempts, seconds, usage).items() if k not in ("index", "id")}}


def failed_row(rec: Record, reason: str, kind: str, attempts: int = 0, seconds: float = 0.0,
               usage: Usage | None = None) -> dict[str, Any]:
    """The output row of a record that failed: ``kind`` is input, backend or internal."""
    return {"index": rec.index, "id": rec.id, "ok": False, "error": reason, "error_kind": kind,
            **{k: v for k, v in _row(rec, attempts, seconds, usage or Usage()).items()
               if k not in ("index", "id")}}


def _metered(job: Job, policy: RetryPolicy, fn: Callable[[], Any]) -> tuple[Any, int, Exception | None,
                                                                             Usage, float]:
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
        value, attempts, error, usage, secs = _metered(job, policy, lambda t=text: job.run_one(t))
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

    def __init__(self, log: JsonlLog | CsvLog, max_failures: int,
                 on_progress: Callable[[int, int], None] | None = None) -> None:
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
                    self.stopped = (f"{len(self.held)} items in a row failed on the backend; last: "
                                    f"{row['error']}")
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


# -- engines -------------------------------------------------------------------------------------

def run_local(job: Job, options: BatchOptions, records: Iterable[Record], sink: Sink) -> None:
    """Process ``records`` on a thread pool, at most ``2 x concurrency`` groups in flight."""
    policy = options.policy()
    size = max(1, options.batch_size or job.group_size)
    concurrency = 1 if job.in_process else max(1, options.concurrency)
    pending: set[Future] = set()

    def drain(until: int) -> None:
        nonlocal pending
        while len(pending) > until:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for f in finished:
                sink.accept(f.result())

    pool = ThreadPoolExecutor(concurrency, thread_name_prefix="emoethics-batch")
    try:
        for group in groups(records, size):
            if sink.stopped:
                break
            drain(2 * concurrency - 1)
            pending.add(pool.submit(process, job, policy, group, size))
        drain(0)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)  # do not wait for calls in flight
        raise
    pool.shutdown()


def _select(records: Iterable[Record], done: DoneSet, limit: int | None) -> Iterator[Record]:
    for rec in records:
        if limit is not None and rec.index >= limit:
            return
        if rec.index not in done:
            yield rec


def run_batch(spec: JobSpec, input: str | Path, output: str | Path, *, options: BatchOptions | None = None,
              input_format: str | None = None, output_format: str | None = None, text_field: str = "text",
              id_field: str = "id", on_start: Callable[[int | None, Checkpoint], None] | None = None,
              on_progress: Callable[[int, int], None] | None = None) -> Summary:
    """Run ``spec`` over every record of ``input`` into ``output`` (resuming it if it holds part of
    the same job); ``on_start(records to do, checkpoint)`` and ``on_progress(ok, failed)`` report."""
    options = options or BatchOptions()
    in_fmt = detect_format(input, input_format)
    out_fmt = detect_format(output, output_format)
    out_path = Path(output)
    log_path = out_path.with_name(out_path.name + ".rows.jsonl") if out_fmt == "parquet" else out_path
    is_local = "://" not in str(input)
    if is_local and Path(input).resolve() in (out_path.resolve(), log_path.resolve()):
        raise InputError(f"{output}: the output cannot be the input file")
    records = iter_records(input, in_fmt, text_field=text_field, id_field=id_field) \
        if options.engine == "local" or is_local else None
    job = spec.build()
    columns = BASE_COLUMNS + job.columns + [("result", "str")]
    where = str(Path(input).resolve()) if is_local else str(input)
    identity = spec.identity() | {"input": where, "text_field": text_field, "id_field": id_field,
                                  "output_format": out_fmt}
    cp = prepare(out_path, log_path, out_fmt, identity, restart=options.restart,
                 columns=[c for c, _ in columns])
    total = count_records(input, in_fmt) if is_local else None
    if total is not None and options.limit is not None:
        total = min(total, options.limit)
    todo = None if total is None else total - cp.done.count_below(total)
    if on_start:
        on_start(todo, cp)
    log: JsonlLog | CsvLog = CsvLog(log_path, [c for c, _ in columns], job.flatten) if out_fmt == "csv" \
        else JsonlLog(log_path)
    sink = Sink(log, options.max_failures, on_progress)
    start = time.perf_counter()
    try:
        if options.engine == "ray":
            from .ray_engine import run_ray

            run_ray(spec, options, str(input), in_fmt, text_field, id_field, cp.done, sink, job.group_size)
        else:
            assert records is not None
            run_local(job, options, _select(records, cp.done, options.limit), sink)
        sink.finish()
    finally:
        log.close()
    seconds = time.perf_counter() - start
    complete = sink.stopped is None
    rows = cp.ok + cp.failed + sink.ok + sink.failed
    if complete and out_fmt == "parquet":
        jsonl_to_parquet(log_path, out_path, columns, job.flatten)
    processed = sink.ok + sink.failed
    price = options.price_in or options.price_out
    cost = (sink.usage.prompt_tokens * options.price_in + sink.usage.completion_tokens * options.price_out) / 1e6
    return Summary(
        job=spec.kind, input=str(input), output=str(output), engine=options.engine, total=total,
        already_done=cp.ok + cp.failed, processed=processed, ok=sink.ok, failed=sink.failed, output_rows=rows,
        seconds=round(seconds, 3), items_per_second=round(processed / seconds, 3) if seconds > 0 else 0.0,
        usage=sink.usage, cost_usd=round(cost, 6) if price else None, retried_items=sink.retried,
        failures=dict(sink.failures.most_common(5)), truncated_bytes=cp.truncated_bytes,
        duplicates=cp.duplicates, complete=complete, stopped=sink.stopped)
