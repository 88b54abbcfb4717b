"""The ``emoethics`` command line.

Every command takes its text as an argument, from standard input, or (``analyze``) from a
.txt/.jsonl/.csv file; prints a readable table, or JSON with ``--json``; and chooses models with
``--backend/--base-url/--model`` (generator, and critic unless ``--critic-*`` says otherwise).
Errors are one line on stderr and a non-zero exit code: 2 bad input or settings, 3 model backend.
"""

from __future__ import annotations

import csv
import functools
import inspect
import json
import os
import sys
import typing
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from . import api
from .config import ANALYSER_ONLY, Settings, load_settings
from .emotions.models import DEFAULT_MODEL, builtin_models, load_model
from .errors import EmoethicsError, InputError
from .textio import Item, check_text, decode, read_bytes_limited, read_items

app = typer.Typer(help="Emotions and ethics for LLM applications.", no_args_is_help=True,
                  add_completion=False, pretty_exceptions_enable=False,
                  context_settings={"help_option_names": ["-h", "--help"]})
out = Console()
err = Console(stderr=True)

# Options shared by the commands that call models.
Backend = Annotated[str | None, typer.Option(
    "--backend", help="local or openai (language models); for analysis also sensor or ensemble.",
    rich_help_panel="Models")]
BaseUrl = Annotated[str | None, typer.Option(
    "--base-url", help="OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1 (implies openai).",
    rich_help_panel="Models")]
Model = Annotated[str | None, typer.Option(
    "--model", help="Model name on the server, or a local model (qwen, smollm2, path.gguf).",
    rich_help_panel="Models")]
CriticBackend = Annotated[str | None, typer.Option(
    "--critic-backend", rich_help_panel="Models",
    help="What measures rewrites: sensor (default), ensemble, local or openai.")]
Calibration = Annotated[str | None, typer.Option(
    "--calibration", help="A sensor calibration saved by 'emoethics calibrate'.")]
CriticBaseUrl = Annotated[str | None, typer.Option("--critic-base-url", rich_help_panel="Models",
                                                     help="Critic server URL.")]
CriticModel = Annotated[str | None, typer.Option("--critic-model", rich_help_panel="Models",
                                                   help="Critic model name.")]
Timeout = Annotated[float | None, typer.Option("--timeout", help="Seconds per server request.",
                                                 rich_help_panel="Models")]
NoCache = Annotated[bool, typer.Option("--no-cache", help="Do not use the response cache.",
                                       rich_help_panel="Models")]
EmotionModelOpt = Annotated[str, typer.Option(
    "--emotion-model", "-E", help=f"Emotion model: {', '.join(builtin_models())} or a YAML file.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")]


def _settings(backend: str | None, base_url: str | None, model: str | None,
              critic_backend: str | None = None, critic_base_url: str | None = None,
              critic_model: str | None = None, timeout: float | None = None,
              no_cache: bool = False) -> Settings:
    """Settings from the model flags. ``--backend sensor|ensemble`` sets the analyser only."""
    gen = {"backend": backend, "base_url": base_url, "model": model, "timeout": timeout}
    overrides: dict[str, dict] = {}
    if backend in ANALYSER_ONLY:
        overrides["analyzer"] = {"backend": backend}
        gen["backend"] = None
    overrides["generator"] = {k: v for k, v in gen.items() if v is not None}
    crit = {"backend": critic_backend, "base_url": critic_base_url, "model": critic_model}
    crit = {k: v for k, v in crit.items() if v is not None}
    if crit and timeout is not None:
        crit["timeout"] = timeout
    overrides["critic"] = crit
    return load_settings(overrides, no_cache=no_cache or None)


_MODEL_OPTIONS = [
    inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)
    for name, annotation, default in (
        ("backend", Backend, None), ("base_url", BaseUrl, None), ("model", Model, None),
        ("critic_backend", CriticBackend, None), ("critic_base_url", CriticBaseUrl, None),
        ("critic_model", CriticModel, None), ("timeout", Timeout, None),
        ("no_cache", NoCache, False))
]


def with_model_options(command: Callable[..., None]) -> Callable[..., None]:
    """Give a command the model options (--backend, --base-url, --model, --critic-*, --timeout,
    --no-cache) and pass it the resulting ``settings`` instead."""
    sig = inspect.signature(command)
    hints = typing.get_type_hints(command, include_extras=True)
    params = [p.replace(annotation=hints.get(p.name, p.annotation))
              for p in sig.parameters.values() if p.name != "settings"]

    @functools.wraps(command)
    def wrapper(*args: object, **kwargs: object) -> None:
        options = {p.name: kwargs.pop(p.name) for p in _MODEL_OPTIONS}
        command(*args, settings=_settings(**options), **kwargs)  # type: ignore[arg-type]

    wrapper.__signature__ = sig.replace(parameters=params + _MODEL_OPTIONS)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {**{p.name: p.annotation for p in params},
                               **{p.name: p.annotation for p in _MODEL_OPTIONS}}
    return wrapper


def _text_arg(text: str | None) -> str:
    """The text argument, or standard input when it is '-' or missing and stdin is piped."""
    if text is None or text == "-":
        if sys.stdin is None or sys.stdin.isatty():
            raise InputError("no text: give it as an argument or pipe it on standard input")
        return check_text(decode(read_bytes_limited(sys.stdin.buffer, "stdin"), "stdin"), "stdin")
    return check_text(text, "argument")


def _print_json(obj: object) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=2) + "\n")


def _log_run(kind: str, inputs: dict[str, typing.Any], result: typing.Any, seconds: float = 0.0) -> None:
    """Record a command's run in the run log (``emoethics runs``); ``EMOETHICS_NO_LOG=1`` turns it
    off. A log that cannot be written is a warning, never a failed command."""
    if os.environ.get("EMOETHICS_NO_LOG"):
        return
    from sqlalchemy.exc import SQLAlchemyError

    from .store.records import Records

    usage = getattr(result, "usage", None)
    if isinstance(usage, dict):  # per role
        usage = {k: v.model_dump() if hasattr(v, "model_dump") else v for k, v in usage.items()}
    models = getattr(result, "models", None) or {k: getattr(result, k) for k in ("generator", "critic", "analyzer")
                                                 if isinstance(getattr(result, k, None), str)}
    try:
        Records().record_run(kind, inputs, result, models=models, usage=usage, seconds=seconds, source="cli")
    except (EmoethicsError, SQLAlchemyError, OSError) as e:
        err.print(f"[yellow]warning:[/] the run was not logged ({type(e).__name__}: {str(e)[:120]})",
                  highlight=False)


def _emit(result: typing.Any, json_out: bool, panel: Callable[[typing.Any], typing.Any]) -> None:
    """Print a result as JSON with ``--json``, else as the rich renderable ``panel(result)``."""
    if json_out:
        _print_json(result.model_dump(mode="json"))
    else:
        out.print(panel(result))


def _report(report: dict, output: Path | None, json_out: bool) -> bool:
    """Write an evaluation report to ``output`` if given; print it as JSON with ``--json``
    (and say so: True means nothing else should be printed)."""
    if output is not None:
        try:
            output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        except OSError as e:
            raise InputError(f"{output}: cannot write ({e.strerror})") from None
    if json_out:
        _print_json(report)
    return json_out


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeRemainingColumn(), console=err, transient=True,
                    disable=not err.is_terminal)


@app.command()
@with_model_options
def analyze(
    text: Annotated[str | None, typer.Argument(help="Text to analyse; '-' or omit for stdin.")] = None,
    input: Annotated[Path | None, typer.Option("--input", "-i",
                                               help="A .txt, .jsonl or .csv file of texts.")] = None,
    text_field: Annotated[str, typer.Option(help="Text field of .jsonl/.csv input.")] = "text",
    lines: Annotated[bool, typer.Option("--lines", help="One text per line (.txt and stdin).")] = False,
    output: Annotated[Path | None, typer.Option("--output", "-o",
                                                help="Write results to .jsonl or .csv.")] = None,
    plot: Annotated[Path | None, typer.Option(help="Draw the profile to a .png/.svg/.pdf.")] = None,
    emotion_model: EmotionModelOpt = DEFAULT_MODEL,
    concurrency: Annotated[int, typer.Option(help="Texts analysed at once (servers).")] = 1,
    calibration: Calibration = None,
    json_out: JsonOpt = False,
    settings: Settings = None,  # type: ignore[assignment]  # filled by @with_model_options
) -> None:
    """Read the emotions a text expresses: intensity, level, cues and confidence per spectrum."""
    em = load_model(emotion_model)
    if input is not None:
        items = read_items(input, text_field=text_field, lines=lines)
    elif lines and (text is None or text == "-"):
        items = read_items(None, data=read_bytes_limited(sys.stdin.buffer, "stdin"), lines=True)
    else:
        items = [Item("1", _text_arg(text))]
    analyzer = api.make_analyzer(em, settings=settings, calibration=calibration)
    with _progress() as bar:
        task = bar.add_task("analysing", total=len(items))
        profiles = api.analyze_many([i.text for i in items], analyzer=analyzer,
                                    concurrency=concurrency,
                                    on_done=lambda _i: bar.advance(task))
    records = [{"id": it.id, "text": it.text, **p.model_dump()} for it, p in zip(items, profiles,
                                                                                 strict=True)]
    if len(items) == 1:
        _log_run("analyze", {"text": items[0].text, "model": em.id}, profiles[0])
    if output is not None:
        _write_records(output, records)
    if plot is not None:
        from .plots import plot_profile

        plot_profile(profiles[0], plot, title=items[0].text[:80])
    if json_out:
        if len(records) == 1:
            _print_json(records[0])
        else:
            for r in records:
                sys.stdout.write(json.dumps(r, ensure_ascii=False) + "\n")
        return
    from .render import profile_table

    for it, p in zip(items, profiles, strict=True):
        out.print(profile_table(p, title=it.text if len(it.text) < 100 else it.text[:97] + "..."))


def _write_records(path: Path, records: list[dict]) -> None:
    try:
        if path.suffix.lower() == ".csv":
            with path.open("w", newline="", encoding="utf-8") as f:
                w = csv.writer(f)
                spectra = [r["spectrum"] for r in records[0]["readings"]]
                w.writerow(["id", "text", "analyzer"] + [f"{s}:{k}" for s in spectra
                                                        for k in ("intensity", "level", "cues")])
                for r in records:
                    w.writerow([r["id"], r["text"], r["analyzer"]] + [
                        v for x in r["readings"]
                        for v in (x["intensity"], x["level"], "; ".join(x["cues"]))])
        else:
            with path.open("w", encoding="utf-8") as f:
                for r in records:
                    f.write(json.dumps(r, ensure_ascii=False) + "\n")
    except OSError as e:
        raise InputError(f"{path}: cannot write ({e.strerror})") from None


@app.command()
@with_model_options
def rewrite(
    text: Annotated[str | None, typer.Argument(help="Text to rewrite; '-' or omit for stdin.")] = None,
    emotion: Annotated[str | None, typer.Option(
        help="Target pole (joy, anger, ...) or spectrum id (sadness-joy).")] = None,
    intensity: Annotated[float | None, typer.Option(
        help="0..1 toward a pole, or -1..1 on a spectrum.")] = None,
    level: Annotated[str | None, typer.Option(help="Target level word, e.g. ecstasy.")] = None,
    rounds: Annotated[int, typer.Option(min=1, max=10, help="Most generator attempts.")] = 3,
    tolerance: Annotated[int, typer.Option(min=0, help="Levels of error accepted.")] = 1,
    explain: Annotated[bool, typer.Option(help="Ask the generator which features changed.")] = True,
    emotion_model: EmotionModelOpt = DEFAULT_MODEL,
    json_out: JsonOpt = False,
    settings: Settings = None,  # type: ignore[assignment]  # filled by @with_model_options
) -> None:
    """Re-express a text at a target emotion and intensity; a critic checks what it expresses."""
    source = _text_arg(text)
    with err.status("rewriting…", spinner="dots") if err.is_terminal else nullcontext():
        r = api.rewrite(source, emotion, intensity, level=level, model=emotion_model,
                        rounds=rounds, tolerance=tolerance, explain=explain, settings=settings)
    _log_run("rewrite", {"text": source, "emotion": emotion, "intensity": intensity, "level": level,
                         "model": emotion_model, "rounds": rounds}, r)
    if json_out:
        _print_json(r.model_dump())
        return
    from .render import rewrite_panel

    out.print(rewrite_panel(r))


@app.command()
@with_model_options
def sweep(
    text: Annotated[str | None, typer.Argument(help="Text to render; '-' or omit for stdin.")] = None,
    spectrum: Annotated[str, typer.Option("--spectrum", "-s",
                                          help="Spectrum id or one of its poles.")] = "sadness-joy",
    rounds: Annotated[int, typer.Option(min=1, max=10)] = 2,
    tolerance: Annotated[int, typer.Option(min=0)] = 1,
    explain: Annotated[bool, typer.Option(help="Explain changed features per level.")] = False,
    report: Annotated[Path | None, typer.Option(help="Write a .md or .html report.")] = None,
    plot: Annotated[Path | None, typer.Option(help="Draw target vs measured to .png/.svg.")] = None,
    emotion_model: EmotionModelOpt = DEFAULT_MODEL,
    json_out: JsonOpt = False,
    settings: Settings = None,  # type: ignore[assignment]  # filled by @with_model_options
) -> None:
    """Render a text at every level of a spectrum and measure each rewrite."""
    source = _text_arg(text)
    em = load_model(emotion_model)
    spec = em.spectrum(spectrum)
    with _progress() as bar:
        task = bar.add_task(f"sweeping {spec.id}", total=len(spec.levels))
        s = api.sweep(source, spec.id, model=em, rounds=rounds, tolerance=tolerance,
                      explain=explain, settings=settings,
                      on_level=lambda _i, _r: bar.advance(task))
    _log_run("sweep", {"text": source, "spectrum": spec.id, "model": em.id, "rounds": rounds}, s)
    if report is not None:
        from .plots import plot_sweep
        from .render import sweep_html, sweep_markdown

        body = sweep_html(s, plot_sweep(s)) if report.suffix.lower() in (".html", ".htm") \
            else sweep_markdown(s)
        try:
            report.write_text(body, encoding="utf-8")
        except OSError as e:
            raise InputError(f"{report}: cannot write ({e.strerror})") from None
    if plot is not None:
        from .plots import plot_sweep

        plot_sweep(s, plot)
    if json_out:
        _print_json(s.model_dump())
        return
    from .render import sweep_table

    out.print(sweep_table(s))


@app.command()
@with_model_options
def respond(
    message: Annotated[str | None, typer.Argument(help="The user's message; '-' for stdin.")] = None,
    emotion_model: EmotionModelOpt = DEFAULT_MODEL,
    json_out: JsonOpt = False,
    settings: Settings = None,  # type: ignore[assignment]  # filled by @with_model_options
) -> None:
    """Reply to a message in a tone adapted to the emotions detected in it."""
    msg = _text_arg(message)
    r = api.respond(msg, model=emotion_model, settings=settings)
    if json_out:
        _print_json(r.model_dump())
        return
    from .render import reply_panel

    out.print(reply_panel(r))


@app.command()
@with_model_options
def chat(
    emotion_model: EmotionModelOpt = DEFAULT_MODEL,
    guardrails: Annotated[str | None, typer.Option(
        help="Check every reply against a guideline set (default, or a YAML file): judge, review, rectify.")] = None,
    context: Annotated[str | None, typer.Option(help="Guardrail context, e.g. personal or workplace.")] = None,
    culture: Annotated[str | None, typer.Option(help="Culture variant of the context.")] = None,
    settings: Settings = None,  # type: ignore[assignment]  # filled by @with_model_options
) -> None:
    """An interactive conversation whose replies adapt to your emotional state. /quit to end.
    With --guardrails, each reply is judged and, if needed, reviewed and rectified before it is shown."""
    from .render import reply_panel

    guard = _reply_guard(guardrails, context, culture, emotion_model, settings) if guardrails else None
    history: list[dict[str, str]] = []
    err.print("[dim]Type a message; /quit or Ctrl-D ends the session.[/]")
    while True:
        try:
            line = input("you> ")
        except EOFError:
            break
        if line.strip() in ("/quit", "/exit"):
            break
        if not line.strip():
            continue
        try:
            r = api.respond(line, history=history, model=emotion_model, settings=settings)
        except InputError as e:
            err.print(f"[red]error:[/] {e}")
            continue
        if guard is not None:
            g = guard(r.reply)
            r = r.model_copy(update={"reply": g.text or "(I would rather not send the reply I drafted.)"})
            err.print("[dim]" + " · ".join(g.steps) + "[/]", highlight=False)
        out.print(reply_panel(r))
        history += [{"role": "user", "content": r.message}, {"role": "assistant", "content": r.reply}]


def _reply_guard(guardrails: str, context: str | None, culture: str | None, emotion_model: str,
                 settings: Settings) -> Callable:
    """A function that takes a draft reply through judge, adversary and rectification."""
    from .config import get_backend
    from .ethics.pipeline import guard

    em = load_model(emotion_model)
    judge = api.make_judge(guardrails, settings=settings, model=em)
    judge.guidelines.guardrail(context, culture)  # fail now on an unknown context, not mid-chat
    critic = api.make_analyzer(em, settings=settings, role="critic")
    gen, adv = get_backend("generator", settings), get_backend("adversary", settings)
    return lambda text: guard(text, judge, gen, critic, em, adversary=adv, context=context, culture=culture)


@app.command()
def models(
    name: Annotated[str | None, typer.Argument(help="A built-in name or YAML file to show.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """List the emotion models, or show (and validate) one."""
    names = [name] if name else builtin_models()
    loaded = [load_model(n) for n in names]
    if json_out:
        _print_json([m.model_dump() for m in loaded])
        return
    for m in loaded:
        out.print(f"[bold]{m.id}[/] — {m.name}: {m.description}")
        for s in m.spectra:
            out.print(f"  {s.describe()}")


eval_app = typer.Typer(help="Measure analysers on labelled data.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")


@eval_app.command("emotions")
def eval_emotions(
    data: Annotated[Path, typer.Option("--data", help="The labelled data file.")],
    fmt: Annotated[str, typer.Option("--format", help="xed, goemotions, semeval-ec, semeval-ei, "
                                     "jsonl or csv.")],
    analyzer: Annotated[str, typer.Option(help="sensor, ensemble, local (embedded LLM) or openai "
                                          "(with --base-url/--model).")] = "sensor",
    limit: Annotated[int | None, typer.Option(min=1, help="Evaluate a random sample of N.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the sample.")] = 0,
    columns: Annotated[str, typer.Option(help="Column map for jsonl/csv: text=COL,labels=COL,"
                                         "anger=COL,...")] = "",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the JSON report here.")] = None,
    calibration: Calibration = None,
    json_out: JsonOpt = False,
    base_url: BaseUrl = None, model: Model = None, timeout: Timeout = None,
    no_cache: NoCache = False,
) -> None:
    """Macro/micro-F1, Jaccard and per-label F1 (labels), or Pearson/Spearman (intensities)."""
    from .evals.emotions import evaluate

    examples = _labelled(data, fmt, columns)
    an = _eval_analyzer(analyzer, calibration, base_url, model, timeout, no_cache)
    n = min(limit or len(examples), len(examples))
    with _progress() as bar:
        task = bar.add_task(f"evaluating {an.name}", total=n)
        report = evaluate(an, examples, limit=limit, seed=seed, on_done=lambda: bar.advance(task))
    report = {"data": str(data), "format": fmt, **report}
    if _report(report, output, json_out):
        return
    from .render import eval_tables

    for t in eval_tables(report):
        out.print(t)


def _labelled(data: Path, fmt: str, columns: str) -> list:
    """Labelled examples from ``data`` in ``fmt``; ``columns`` is "text=COL,labels=COL,..."."""
    from .evals.datasets import load_examples

    colmap = dict(kv.split("=", 1) for kv in columns.split(",") if "=" in kv)
    return load_examples(data, fmt, columns=colmap)


def _eval_analyzer(kind: str, calibration: str | None, base_url: str | None, model: str | None,
                   timeout: float | None, no_cache: bool):
    if kind not in ("sensor", "ensemble", "local", "openai"):
        raise InputError(f"unknown analyser '{kind}'; use sensor, ensemble, local or openai")
    settings = _settings(kind, base_url, model, timeout=timeout, no_cache=no_cache)
    return api.make_analyzer("plutchik", settings=settings, calibration=calibration)


@app.command()
def calibrate(
    data: Annotated[Path, typer.Option("--data", help="A small labelled file from your domain.")],
    fmt: Annotated[str, typer.Option("--format", help="xed, goemotions, semeval-ec, semeval-ei, "
                                     "jsonl or csv.")],
    name: Annotated[str, typer.Option(help="Name to save the calibration under.")] = "default",
    columns: Annotated[str, typer.Option(help="Column map for jsonl/csv.")] = "",
    json_out: JsonOpt = False,
) -> None:
    """Fit the sensor's thresholds (and intensity scale) to your domain and save them by name."""
    from .evals.emotions import evaluate
    from .sensors.calibration import fit_calibration, save_calibration
    from .sensors.emotion_sensor import EmotionSensor

    examples = _labelled(data, fmt, columns)
    sensor = EmotionSensor()
    rule = fit_calibration(sensor, examples)
    before = evaluate(sensor, examples)
    after = evaluate(EmotionSensor(rule=rule, calibration_name=name), examples)
    path = save_calibration(name, rule, {"data": str(data), "format": fmt, "n": len(examples)})
    report = {"name": name, "path": str(path), "rule": rule.model_dump(),
              "uncalibrated": before.get("classification", before.get("intensity")),
              "calibrated": after.get("classification", after.get("intensity"))}
    if json_out:
        _print_json(report)
        return
    out.print(f"saved calibration [bold]{name}[/] to {path} (fitted on {len(examples)} examples; "
              "the scores below are on the same file, so they are optimistic)")
    for label, rep in (("uncalibrated", before), ("calibrated", after)):
        c = rep.get("classification")
        if c:
            out.print(f"  {label:>12}: macro-F1 {c['macro_f1']:.3f}  micro-F1 {c['micro_f1']:.3f}  "
                      f"Jaccard {c['jaccard']:.3f}")


# the other command groups register themselves on ``app``
from . import cli_batch, cli_ethics, cli_proxy, cli_service  # noqa: E402,F401


def main() -> None:
    """Entry point: run the app, turning every expected failure into one line and an exit code."""
    try:
        app()
    except EmoethicsError as e:
        err.print(f"[red]error:[/] {e}", highlight=False, soft_wrap=True)
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
    except Exception as e:  # noqa: BLE001 - last resort: never show a traceback by default
        if os.environ.get("EMOETHICS_DEBUG"):
            raise
        err.print(f"[red]internal error:[/] {type(e).__name__}: {e} "
                  "(set EMOETHICS_DEBUG=1 to see the traceback)", highlight=False, soft_wrap=True)
        sys.exit(70)


if __name__ == "__main__":
    # run the imported module's app, the one the ethics commands registered on
    from emoethics.cli import main as _main

    _main()
