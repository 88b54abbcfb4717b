"""The ``emoethics`` command line's shared parts: the Typer app, its consoles, the option types
that several commands share, and the helpers every command uses (settings from the model flags,
the text argument or stdin, JSON or table output, reports, progress bars, the run log, and
:func:`run_text_command`, which runs one single-text command from input to output).

This module is the leaf the command modules import; it imports none of them.
"""

from __future__ import annotations

import functools
import inspect
import json
import sys
import time
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from ..config import Settings, env_flag, load_settings
from ..errors import EmoethicsError, InputError
from ..schema.emotion_models import builtin_models
from ..schema.usage import usage_record
from ..textio import check_text, decode, read_bytes_limited

app = typer.Typer(
    help="Emotions and ethics for LLM applications.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
eval_app = typer.Typer(help="Measure analysers on labelled data.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")
out = Console()
err = Console(stderr=True)

# Options shared by the commands that call models.
Backend = Annotated[
    str | None,
    typer.Option(
        "--backend",
        help="local or openai (language models); for analysis also sensor, sensor-fast or ensemble.",
        rich_help_panel="Models",
    ),
]
BaseUrl = Annotated[
    str | None,
    typer.Option(
        "--base-url",
        help="OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1 (implies openai).",
        rich_help_panel="Models",
    ),
]
Model = Annotated[
    str | None,
    typer.Option(
        "--model",
        help="Model name on the server, or a local model (qwen, smollm2, path.gguf).",
        rich_help_panel="Models",
    ),
]
CriticBackend = Annotated[
    str | None,
    typer.Option(
        "--critic-backend",
        rich_help_panel="Models",
        help="What measures rewrites: sensor (default), ensemble, local or openai.",
    ),
]
Calibration = Annotated[
    str | None, typer.Option("--calibration", help="A sensor calibration saved by 'emoethics calibrate'.")
]
CriticBaseUrl = Annotated[
    str | None, typer.Option("--critic-base-url", rich_help_panel="Models", help="Critic server URL.")
]
CriticModel = Annotated[str | None, typer.Option("--critic-model", rich_help_panel="Models", help="Critic model name.")]
Timeout = Annotated[
    float | None, typer.Option("--timeout", help="Seconds per server request.", rich_help_panel="Models")
]
NoCache = Annotated[bool, typer.Option("--no-cache", help="Do not use the response cache.", rich_help_panel="Models")]
EmotionModelOpt = Annotated[
    str, typer.Option("--emotion-model", "-E", help=f"Emotion model: {', '.join(builtin_models())} or a YAML file.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


def settings_from_flags(
    backend: str | None,
    base_url: str | None,
    model: str | None,
    critic_backend: str | None = None,
    critic_base_url: str | None = None,
    critic_model: str | None = None,
    timeout: float | None = None,
    no_cache: bool = False,
) -> Settings:
    """Settings from the model flags. ``--backend sensor|sensor-fast|ensemble`` (or a plugin's
    analyser) sets the analyser only."""
    from ..session import is_analyzer

    gen: dict[str, typing.Any] = {"backend": backend, "base_url": base_url, "model": model, "timeout": timeout}
    overrides: dict[str, dict] = {}
    if is_analyzer(backend):
        overrides["analyzer"] = {"backend": backend}
        gen["backend"] = None
    overrides["generator"] = {k: v for k, v in gen.items() if v is not None}
    flags: dict[str, typing.Any] = {"backend": critic_backend, "base_url": critic_base_url, "model": critic_model}
    crit = {k: v for k, v in flags.items() if v is not None}
    if crit and timeout is not None:
        crit["timeout"] = timeout
    overrides["critic"] = crit
    return load_settings(overrides, no_cache=no_cache or None)


_MODEL_OPTIONS = [
    inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)
    for name, annotation, default in (
        ("backend", Backend, None),
        ("base_url", BaseUrl, None),
        ("model", Model, None),
        ("critic_backend", CriticBackend, None),
        ("critic_base_url", CriticBaseUrl, None),
        ("critic_model", CriticModel, None),
        ("timeout", Timeout, None),
        ("no_cache", NoCache, False),
    )
]


def with_model_options(command: Callable[..., None]) -> Callable[..., None]:
    """Give a command the model options (--backend, --base-url, --model, --critic-*, --timeout,
    --no-cache) and pass it the resulting ``settings`` instead."""
    sig = inspect.signature(command)
    hints = typing.get_type_hints(command, include_extras=True)
    params = [
        p.replace(annotation=hints.get(p.name, p.annotation)) for p in sig.parameters.values() if p.name != "settings"
    ]

    @functools.wraps(command)
    def wrapper(*args: object, **kwargs: object) -> None:
        options = {p.name: kwargs.pop(p.name) for p in _MODEL_OPTIONS}
        command(*args, settings=settings_from_flags(**options), **kwargs)  # type: ignore[arg-type]

    wrapper.__signature__ = sig.replace(parameters=params + _MODEL_OPTIONS)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {
        **{p.name: p.annotation for p in params},
        **{p.name: p.annotation for p in _MODEL_OPTIONS},
    }
    return wrapper


def text_arg(text: str | None) -> str:
    """The text argument, or standard input when it is '-' or missing and stdin is piped."""
    if text is None or text == "-":
        if sys.stdin is None or sys.stdin.isatty():
            raise InputError("no text: give it as an argument or pipe it on standard input")
        return check_text(decode(read_bytes_limited(sys.stdin.buffer, "stdin"), "stdin"), "stdin")
    return check_text(text, "argument")


def print_json(obj: object) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=2) + "\n")


def log_run(kind: str, inputs: dict[str, typing.Any], result: typing.Any, seconds: float = 0.0) -> None:
    """Record a command's run in the run log (``emoethics runs``); ``EMOETHICS_NO_LOG=1`` turns it
    off. A log that cannot be written is a warning, never a failed command."""
    if env_flag("EMOETHICS_NO_LOG"):
        return
    from sqlalchemy.exc import SQLAlchemyError

    from ..store.records import Records

    usage = usage_record(getattr(result, "usage", None))
    models = getattr(result, "models", None) or {
        k: getattr(result, k) for k in ("generator", "critic", "analyzer") if isinstance(getattr(result, k, None), str)
    }
    try:
        Records().record_run(kind, inputs, result, models=models, usage=usage, seconds=seconds, source="cli")
    except (EmoethicsError, SQLAlchemyError, OSError) as e:
        err.print(f"[yellow]warning:[/] the run was not logged ({type(e).__name__}: {str(e)[:120]})", highlight=False)


def run_text_command(
    kind: str,
    text: str | None,
    run: Callable[[str], typing.Any],
    *,
    inputs: dict[str, typing.Any],
    json_out: bool,
    panel: Callable[[typing.Any], typing.Any],
) -> typing.Any:
    """Run one single-text command: read the text (argument, or stdin for '-' or none), call
    ``run`` on it, log the run with its inputs, seconds and usage, and print the result as a table
    (``panel``) or JSON."""
    source = text_arg(text)
    start = time.perf_counter()
    result = run(source)
    log_run(kind, {"text": source, **inputs}, result, seconds=time.perf_counter() - start)
    emit(result, json_out, panel)
    return result


def emit(result: typing.Any, json_out: bool, panel: Callable[[typing.Any], typing.Any]) -> None:
    """Print a result as JSON with ``--json``, else as the rich renderable ``panel(result)``."""
    if json_out:
        print_json(result.model_dump(mode="json"))
    else:
        out.print(panel(result))


def write_report(report: dict, output: Path | None, json_out: bool) -> bool:
    """Write an evaluation report to ``output`` if given; print it as JSON with ``--json``
    (and say so: True means nothing else should be printed)."""
    if output is not None:
        try:
            output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        except OSError as e:
            raise InputError(f"{output}: cannot write ({e.strerror})") from None
    if json_out:
        print_json(report)
    return json_out


def progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )
