"""The batch commands of the ``emoethics`` command line: ``batch analyze|judge|rewrite IN -o OUT``.

Each reads a JSONL, CSV or Parquet file as a stream, runs every text through the same analysis,
judge or rewriting as the single-text command, and appends one row per text to the output as it
finishes; a progress bar shows the rate and the time left, and a summary of counts, usage and cost
ends the run. Running the same command again resumes an interrupted job (see
:mod:`emoethics.batch`).
"""

from __future__ import annotations

import functools
import inspect
import os
import sys
import time
import typing
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from ..batch import BatchOptions, JobSpec, Summary, run_batch
from ..batch.checkpoint import Checkpoint
from ..config import Settings
from ..errors import BackendError, ConfigError
from ..ethics.guidelines import DEFAULT_GUIDELINES
from ..schema.emotion_models import DEFAULT_MODEL
from .app import (
    Calibration,
    EmotionModelOpt,
    JsonOpt,
    app,
    err,
    out,
    print_json,
    with_model_options,
)
from .ethics import ContextOpt, CultureOpt, GuidelinesOpt, RulebookOpt

batch_app = typer.Typer(
    help="Analyse, judge or rewrite every text of a large JSONL, CSV or Parquet file: "
    "resumable, retried, concurrent, locally or on Ray.",
    no_args_is_help=True,
)
app.add_typer(batch_app, name="batch")

_RUN = "Run"


@dataclass
class BatchArgs:
    """The options every batch command shares."""

    input: Path
    output: Path
    input_format: str | None
    output_format: str | None
    text_field: str
    id_field: str
    engine: str
    address: str | None
    workers: int
    worker_cpus: float
    concurrency: int
    batch_size: int | None
    retries: int
    backoff: float
    max_failures: int
    restart: bool
    limit: int | None
    price: str | None
    json_out: bool


def _param(name: str, annotation: object, default: object = inspect.Parameter.empty) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=default, annotation=annotation)


_BATCH_OPTIONS = [
    _param(
        "input",
        Annotated[
            Path,
            typer.Argument(
                help="Input file: .jsonl (one JSON string or object per line), .csv (with a header) or .parquet."
            ),
        ],
    ),
    _param(
        "output",
        Annotated[
            Path,
            typer.Option("--output", "-o", help="Output file: .jsonl, .csv or .parquet; an unfinished one is resumed."),
        ],
    ),
    _param(
        "input_format",
        Annotated[
            str | None, typer.Option("--input-format", help="jsonl, csv or parquet (default: from the file name).")
        ],
        None,
    ),
    _param(
        "output_format",
        Annotated[
            str | None, typer.Option("--output-format", help="jsonl, csv or parquet (default: from the file name).")
        ],
        None,
    ),
    _param("text_field", Annotated[str, typer.Option("--text-field", help="Field or column of the text.")], "text"),
    _param(
        "id_field",
        Annotated[str, typer.Option("--id-field", help="Field or column of the id (default: the record's position).")],
        "id",
    ),
    _param(
        "engine",
        Annotated[str, typer.Option("--engine", help="local (threads in this process) or ray.", rich_help_panel=_RUN)],
        "local",
    ),
    _param(
        "address",
        Annotated[
            str | None,
            typer.Option(
                "--address",
                help="Ray cluster, e.g. ray://head:10001 or auto (default: start Ray locally).",
                rich_help_panel=_RUN,
            ),
        ],
        None,
    ),
    _param(
        "workers",
        Annotated[int, typer.Option("--workers", min=1, help="Ray actors running the job.", rich_help_panel=_RUN)],
        2,
    ),
    _param(
        "worker_cpus",
        Annotated[float, typer.Option("--worker-cpus", min=0.01, help="CPUs per Ray actor.", rich_help_panel=_RUN)],
        1.0,
    ),
    _param(
        "concurrency",
        Annotated[
            int,
            typer.Option(
                "--concurrency",
                min=1,
                help="Calls in flight at once (per Ray actor); 1 for the embedded model.",
                rich_help_panel=_RUN,
            ),
        ],
        8,
    ),
    _param(
        "batch_size",
        Annotated[
            int | None,
            typer.Option(
                "--batch-size",
                min=1,
                help="Texts per call where the job allows it (default: 8 for a server, 1 for "
                "the embedded model, 64 for the sensor and for the judge without a model).",
                rich_help_panel=_RUN,
            ),
        ],
        None,
    ),
    _param(
        "retries",
        Annotated[
            int,
            typer.Option(
                "--retries",
                min=0,
                help="Retries of a failing call (backoff with jitter, Retry-After).",
                rich_help_panel=_RUN,
            ),
        ],
        4,
    ),
    _param(
        "backoff",
        Annotated[
            float,
            typer.Option(
                "--backoff",
                min=0.0,
                help="Seconds of the first retry's backoff (doubling each time, with jitter).",
                rich_help_panel=_RUN,
            ),
        ],
        0.5,
    ),
    _param(
        "max_failures",
        Annotated[
            int,
            typer.Option(
                "--max-failures",
                min=1,
                help="Stop after this many items in a row fail on the backend.",
                rich_help_panel=_RUN,
            ),
        ],
        50,
    ),
    _param(
        "restart",
        Annotated[
            bool,
            typer.Option(
                "--restart/--resume",
                help="Start over, or resume the output if it holds part of this job.",
                rich_help_panel=_RUN,
            ),
        ],
        False,
    ),
    _param(
        "limit",
        Annotated[int | None, typer.Option("--limit", min=1, help="Only the first N records.", rich_help_panel=_RUN)],
        None,
    ),
    _param(
        "price",
        Annotated[
            str | None,
            typer.Option(
                "--price",
                help="USD per million prompt,completion tokens for the cost, e.g. 0.15,0.60.",
                rich_help_panel=_RUN,
            ),
        ],
        None,
    ),
    _param("json_out", JsonOpt, False),
]


def with_batch_options(command: Callable[..., None]) -> Callable[..., None]:
    """Give a command the shared batch options and pass them as ``batch``."""
    sig = inspect.signature(command)
    hints = typing.get_type_hints(command, include_extras=True)
    own = [p.replace(annotation=hints.get(p.name, p.annotation)) for p in sig.parameters.values() if p.name != "batch"]

    @functools.wraps(command)
    def wrapper(*args: object, **kwargs: object) -> None:
        values = {p.name: kwargs.pop(p.name) for p in _BATCH_OPTIONS}
        command(*args, batch=BatchArgs(**values), **kwargs)  # type: ignore[arg-type]

    wrapper.__signature__ = sig.replace(parameters=_BATCH_OPTIONS + own)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in _BATCH_OPTIONS + own}
    return wrapper


def _prices(price: str | None) -> tuple[float, float]:
    if not price:
        return 0.0, 0.0
    try:
        a, b = (float(x) for x in price.split(","))
    except ValueError:
        raise ConfigError(
            "--price is two numbers: USD per million prompt and completion tokens, e.g. 0.15,0.60"
        ) from None
    if a < 0 or b < 0:
        raise ConfigError("--price cannot be negative")
    return a, b


class _Rate(ProgressColumn):
    def render(self, task: typing.Any) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.1f} items/s" if speed else "- items/s", style="cyan")


class _Reporter:
    """A rich progress bar on a terminal; otherwise a line on stderr every ``every`` seconds."""

    def __init__(self, label: str, every: float = 15.0) -> None:
        self.label, self.every = label, every
        self.bar: Progress | None = None
        self.task: typing.Any = None
        self.total: int | None = None
        self.start = self.last = time.monotonic()

    def begin(self, todo: int | None, cp: Checkpoint) -> None:
        self.total = todo
        if cp.resumed:
            cut = f"; cut a torn last row ({cp.truncated_bytes} bytes)" if cp.truncated_bytes else ""
            err.print(f"resuming: {cp.ok + cp.failed:,} rows already in the output{cut}", highlight=False)
        if err.is_terminal:
            self.bar = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                _Rate(),
                TextColumn("[red]{task.fields[failed]} failed"),
                TimeElapsedColumn(),
                TextColumn("left"),
                TimeRemainingColumn(),
                console=err,
            )
            self.bar.start()
            self.task = self.bar.add_task(self.label, total=todo, failed=0)

    def update(self, ok: int, failed: int) -> None:
        if self.bar is not None:
            self.bar.update(self.task, completed=ok + failed, failed=failed)
            return
        now = time.monotonic()
        if now - self.last >= self.every:
            self.last = now
            done = ok + failed
            rate = done / max(now - self.start, 1e-9)
            left = f", {(self.total - done) / rate / 60:.1f} min left" if self.total and rate > 0 else ""
            of = f"/{self.total:,}" if self.total is not None else ""
            err.print(f"{self.label}: {done:,}{of} done, {failed:,} failed, {rate:.1f} items/s{left}", highlight=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
            self.bar = None


def _summary_table(s: Summary) -> Table:
    t = Table(title=f"batch {s.job} ({s.engine})", show_header=False, title_justify="left")
    t.add_column(style="bold")
    t.add_column()
    total = f" of {s.total:,}" if s.total is not None else ""
    t.add_row("output", f"{s.output}: {s.output_rows:,} rows{total}" + ("" if s.complete else " (unfinished)"))
    t.add_row(
        "this run",
        f"{s.processed:,} items in {s.seconds:.1f} s ({s.items_per_second:,.1f}/s): "
        f"{s.ok:,} ok, {s.failed:,} failed, {s.retried_items:,} retried",
    )
    if s.already_done:
        t.add_row("resumed", f"{s.already_done:,} rows were already done")
    u = s.usage
    t.add_row(
        "usage",
        f"{u.calls - u.cached_calls:,} calls, {u.cached_calls:,} from the cache, "
        f"{u.prompt_tokens:,} prompt + {u.completion_tokens:,} completion tokens",
    )
    t.add_row("cost", f"${s.cost_usd:,.4f}" if s.cost_usd is not None else "give --price to see it")
    for reason, n in s.failures.items():
        t.add_row("failed", f"{n:,} x {reason}")
    return t


def _run(spec: JobSpec, b: BatchArgs) -> None:
    if b.engine not in ("local", "ray"):
        raise ConfigError(f"unknown engine '{b.engine}'; use local or ray")
    price_in, price_out = _prices(b.price)
    options = BatchOptions(
        concurrency=b.concurrency,
        batch_size=b.batch_size,
        retries=b.retries,
        backoff=b.backoff,
        max_failures=b.max_failures,
        restart=b.restart,
        limit=b.limit,
        engine=b.engine,  # type: ignore[arg-type]  # typer checks the choice
        address=b.address,
        workers=b.workers,
        worker_cpus=b.worker_cpus,
        price_in=price_in,
        price_out=price_out,
    )
    reporter = _Reporter(f"batch {spec.kind}")
    try:
        summary = run_batch(
            spec,
            b.input,
            b.output,
            options=options,
            input_format=b.input_format,
            output_format=b.output_format,
            text_field=b.text_field,
            id_field=b.id_field,
            on_start=reporter.begin,
            on_progress=reporter.update,
        )
    except KeyboardInterrupt:
        # The output is consistent at every moment: leave now rather than wait for calls in flight.
        reporter.close()
        err.print("interrupted; run the same command again to resume")
        sys.stderr.flush()
        os._exit(130)
    finally:
        reporter.close()
    if b.json_out:
        print_json(summary.model_dump(mode="json"))
    else:
        out.print(_summary_table(summary))
    if summary.stopped:
        raise BackendError(f"stopped: {summary.stopped}; run the same command again to resume")


@batch_app.command("analyze")
@with_model_options
@with_batch_options
def batch_analyze(
    emotion_model: EmotionModelOpt = DEFAULT_MODEL,
    calibration: Calibration = None,
    settings: Settings = None,  # type: ignore[assignment]  # filled by @with_model_options
    batch: BatchArgs = None,  # type: ignore[assignment]  # filled by @with_batch_options
) -> None:
    """Read the emotions of every text (as 'analyze'); several texts per call to a server."""
    _run(JobSpec(kind="analyze", settings=settings, emotion_model=emotion_model, calibration=calibration), batch)


@batch_app.command("judge")
@with_model_options
@with_batch_options
def batch_judge(
    context: ContextOpt = None,
    culture: CultureOpt = None,
    guidelines: GuidelinesOpt = DEFAULT_GUIDELINES,
    rulebook: RulebookOpt = None,
    shadow: Annotated[
        str | None,
        typer.Option(
            help="A candidate rulebook (file, stored id, 'latest'): each row also gets the verdict its fast "
            "judge would give (shadow_verdict), to see what a switch would change."
        ),
    ] = None,
    behaviour_method: Annotated[
        str, typer.Option(help="What decides the behaviour level: emotion or direct.")
    ] = "emotion",
    no_model: Annotated[bool, typer.Option("--no-model", help="Emotion-mediated only: no language model.")] = False,
    emotion_model: EmotionModelOpt = DEFAULT_MODEL,
    settings: Settings = None,  # type: ignore[assignment]
    batch: BatchArgs = None,  # type: ignore[assignment]
) -> None:
    """Judge every text (as 'judge'): verdict, behaviour, guidelines violated, rationale."""
    if behaviour_method not in ("emotion", "direct"):
        raise ConfigError("--behaviour-method is emotion or direct")
    _run(
        JobSpec(
            kind="judge",
            settings=settings,
            emotion_model=emotion_model,
            context=context,
            culture=culture,
            guidelines=guidelines,
            rulebook=str(rulebook) if rulebook else None,
            shadow=shadow,
            behaviour_method=behaviour_method,
            use_model=not no_model,
        ),
        batch,
    )


@batch_app.command("rewrite")
@with_model_options
@with_batch_options
def batch_rewrite(
    emotion: Annotated[
        str | None, typer.Option(help="Target pole (joy, anger, ...) or spectrum id (sadness-joy).")
    ] = None,
    intensity: Annotated[float | None, typer.Option(help="0..1 toward a pole, or -1..1 on a spectrum.")] = None,
    level: Annotated[str | None, typer.Option(help="Target level word, e.g. ecstasy.")] = None,
    rounds: Annotated[int, typer.Option(min=1, max=10, help="Most generator attempts per text.")] = 3,
    tolerance: Annotated[int, typer.Option(min=0, help="Levels of error accepted.")] = 1,
    explain: Annotated[
        bool, typer.Option(help="Ask the generator which features changed (one more call per text).")
    ] = False,
    emotion_model: EmotionModelOpt = DEFAULT_MODEL,
    settings: Settings = None,  # type: ignore[assignment]
    batch: BatchArgs = None,  # type: ignore[assignment]
) -> None:
    """Rewrite every text at one target emotion (as 'rewrite'); a critic checks each."""
    _run(
        JobSpec(
            kind="rewrite",
            settings=settings,
            emotion_model=emotion_model,
            emotion=emotion,
            intensity=intensity,
            level=level,
            rounds=rounds,
            tolerance=tolerance,
            explain=explain,
        ),
        batch,
    )
