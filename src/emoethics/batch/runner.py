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

import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from ..errors import InputError
from ..schema.usage import Usage
from .checkpoint import Checkpoint, DoneSet, prepare
from .groups import BatchOptions, Sink, groups, process
from .io import BASE_COLUMNS, CsvLog, JsonlLog, Record, count_records, detect_format, iter_records, jsonl_to_parquet
from .jobs import Job, JobSpec


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


def run_batch(
    spec: JobSpec,
    input: str | Path,
    output: str | Path,
    *,
    options: BatchOptions | None = None,
    input_format: str | None = None,
    output_format: str | None = None,
    text_field: str = "text",
    id_field: str = "id",
    on_start: Callable[[int | None, Checkpoint], None] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> Summary:
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
    records = (
        iter_records(input, in_fmt, text_field=text_field, id_field=id_field)
        if options.engine == "local" or is_local
        else None
    )
    job = spec.build()
    columns = BASE_COLUMNS + job.columns + [("result", "str")]
    identity = _identity(spec, input, is_local, text_field, id_field, out_fmt)
    cp = prepare(out_path, log_path, out_fmt, identity, restart=options.restart, columns=[c for c, _ in columns])
    total = _count_total(input, in_fmt, is_local, options.limit)
    if on_start:
        on_start(None if total is None else total - cp.done.count_below(total), cp)
    log: JsonlLog | CsvLog = (
        CsvLog(log_path, [c for c, _ in columns], job.flatten) if out_fmt == "csv" else JsonlLog(log_path)
    )
    sink = Sink(log, options.max_failures, on_progress)
    start = time.perf_counter()
    try:
        _run_engine(spec, job, options, input, in_fmt, text_field, id_field, records, cp.done, sink)
    finally:
        log.close()
    seconds = time.perf_counter() - start
    if sink.stopped is None and out_fmt == "parquet":
        jsonl_to_parquet(log_path, out_path, columns, job.flatten)
    return _summary(spec, input, output, options, total, cp, sink, seconds)


def _identity(
    spec: JobSpec, input: str | Path, is_local: bool, text_field: str, id_field: str, out_fmt: str
) -> dict[str, Any]:
    """What makes an output part of the same job: the job's settings, the input and how it is read,
    and the output format; a resumed run must match it."""
    where = str(Path(input).resolve()) if is_local else str(input)
    return spec.identity() | {
        "input": where,
        "text_field": text_field,
        "id_field": id_field,
        "output_format": out_fmt,
    }


def _count_total(input: str | Path, in_fmt: str, is_local: bool, limit: int | None) -> int | None:
    """The records the run covers: those of a local input, at most ``limit``; None for a remote one."""
    total = count_records(input, in_fmt) if is_local else None
    if total is not None and limit is not None:
        total = min(total, limit)
    return total


def _run_engine(
    spec: JobSpec,
    job: Job,
    options: BatchOptions,
    input: str | Path,
    in_fmt: str,
    text_field: str,
    id_field: str,
    records: Iterable[Record] | None,
    done: DoneSet,
    sink: Sink,
) -> None:
    """Process the records not ``done`` on the engine ``options`` names, then flush ``sink``."""
    if options.engine == "ray":
        from .ray_engine import run_ray

        run_ray(spec, options, str(input), in_fmt, text_field, id_field, done, sink, job.group_size)
    else:
        assert records is not None
        run_local(job, options, _select(records, done, options.limit), sink)
    sink.finish()


def _summary(
    spec: JobSpec,
    input: str | Path,
    output: str | Path,
    options: BatchOptions,
    total: int | None,
    cp: Checkpoint,
    sink: Sink,
    seconds: float,
) -> Summary:
    """Sum up a run from the checkpoint it started from and what its sink took in."""
    processed = sink.ok + sink.failed
    price = options.price_in or options.price_out
    cost = (sink.usage.prompt_tokens * options.price_in + sink.usage.completion_tokens * options.price_out) / 1e6
    return Summary(
        job=spec.kind,
        input=str(input),
        output=str(output),
        engine=options.engine,
        total=total,
        already_done=cp.ok + cp.failed,
        processed=processed,
        ok=sink.ok,
        failed=sink.failed,
        output_rows=cp.ok + cp.failed + processed,
        seconds=round(seconds, 3),
        items_per_second=round(processed / seconds, 3) if seconds > 0 else 0.0,
        usage=sink.usage,
        cost_usd=round(cost, 6) if price else None,
        retried_items=sink.retried,
        failures=dict(sink.failures.most_common(5)),
        truncated_bytes=cp.truncated_bytes,
        duplicates=cp.duplicates,
        complete=sink.stopped is None,
        stopped=sink.stopped,
    )
