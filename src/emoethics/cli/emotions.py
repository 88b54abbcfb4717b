"""The emotion commands of the ``emoethics`` command line: analyze, rewrite, sweep, respond, chat,
models, calibrate and ``eval emotions``.

Every command takes its text as an argument, from standard input, or (``analyze``) from a
.txt/.jsonl/.csv file; prints a readable table, or JSON with ``--json``; and chooses models with
``--backend/--base-url/--model`` (generator, and critic unless ``--critic-*`` says otherwise).
Errors are one line on stderr and a non-zero exit code: 2 bad input or settings, 3 model backend.
"""

from __future__ import annotations

import csv
import json
import sys
import time
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated

import typer

from .. import api
from ..config import Settings
from ..errors import InputError
from ..schema.emotion_models import DEFAULT_MODEL, builtin_models, load_model
from ..textio import Item, read_bytes_limited, read_items
from .app import (
    BaseUrl,
    Calibration,
    EmotionModelOpt,
    JsonOpt,
    Model,
    NoCache,
    Timeout,
    app,
    err,
    eval_app,
    log_run,
    out,
    print_json,
    progress,
    settings_from_flags,
    text_arg,
    with_model_options,
    write_report,
)

#: The labelled formats of `eval emotions` and `calibrate`.
DATA_FORMATS = "xed, goemotions, gne (GoodNewsEveryone headlines), semeval-ec, semeval-ei, jsonl or csv."


@app.command()
@with_model_options
def analyze(
    text: Annotated[str | None, typer.Argument(help="Text to analyse; '-' or omit for stdin.")] = None,
    input: Annotated[Path | None, typer.Option("--input", "-i", help="A .txt, .jsonl or .csv file of texts.")] = None,
    text_field: Annotated[str, typer.Option(help="Text field of .jsonl/.csv input.")] = "text",
    lines: Annotated[bool, typer.Option("--lines", help="One text per line (.txt and stdin).")] = False,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write results to .jsonl or .csv.")] = None,
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
        items = [Item("1", text_arg(text))]
    analyzer = api.make_analyzer(em, settings=settings, calibration=calibration)
    start = time.perf_counter()
    with progress() as bar:
        task = bar.add_task("analysing", total=len(items))
        profiles = api.analyze_many(
            [i.text for i in items], analyzer=analyzer, concurrency=concurrency, on_done=lambda _i: bar.advance(task)
        )
    records = [{"id": it.id, "text": it.text, **p.model_dump()} for it, p in zip(items, profiles, strict=True)]
    if len(items) == 1:
        log_run("analyze", {"text": items[0].text, "model": em.id}, profiles[0], seconds=time.perf_counter() - start)
    if output is not None:
        _write_records(output, records)
    if plot is not None:
        from ..plots import plot_profile

        plot_profile(profiles[0], plot, title=items[0].text[:80])
    if json_out:
        if len(records) == 1:
            print_json(records[0])
        else:
            for r in records:
                sys.stdout.write(json.dumps(r, ensure_ascii=False) + "\n")
        return
    if output is not None and len(items) > 1:
        out.print(f"{len(items)} texts analysed by {analyzer.name} -> {output}")
        return
    from ..render import profile_table

    for it, p in zip(items, profiles, strict=True):
        out.print(profile_table(p, title=it.text if len(it.text) < 100 else it.text[:97] + "..."))


def _write_records(path: Path, records: list[dict]) -> None:
    try:
        if path.suffix.lower() == ".csv":
            with path.open("w", newline="", encoding="utf-8") as f:
                w = csv.writer(f)
                spectra = [r["spectrum"] for r in records[0]["readings"]]
                w.writerow(
                    ["id", "text", "analyzer"] + [f"{s}:{k}" for s in spectra for k in ("intensity", "level", "cues")]
                )
                for r in records:
                    w.writerow(
                        [r["id"], r["text"], r["analyzer"]]
                        + [v for x in r["readings"] for v in (x["intensity"], x["level"], "; ".join(x["cues"]))]
                    )
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
    emotion: Annotated[
        str | None, typer.Option(help="Target pole (joy, anger, ...) or spectrum id (sadness-joy).")
    ] = None,
    intensity: Annotated[float | None, typer.Option(help="0..1 toward a pole, or -1..1 on a spectrum.")] = None,
    level: Annotated[str | None, typer.Option(help="Target level word, e.g. ecstasy.")] = None,
    rounds: Annotated[int, typer.Option(min=1, max=10, help="Most generator attempts.")] = 3,
    tolerance: Annotated[int, typer.Option(min=0, help="Levels of error accepted.")] = 1,
    explain: Annotated[bool, typer.Option(help="Ask the generator which features changed.")] = True,
    emotion_model: EmotionModelOpt = DEFAULT_MODEL,
    json_out: JsonOpt = False,
    settings: Settings = None,  # type: ignore[assignment]  # filled by @with_model_options
) -> None:
    """Re-express a text at a target emotion and intensity; a critic checks what it expresses."""
    source = text_arg(text)
    start = time.perf_counter()
    with err.status("rewriting…", spinner="dots") if err.is_terminal else nullcontext():
        r = api.rewrite(
            source,
            emotion,
            intensity,
            level=level,
            model=emotion_model,
            rounds=rounds,
            tolerance=tolerance,
            explain=explain,
            settings=settings,
        )
    log_run(
        "rewrite",
        {
            "text": source,
            "emotion": emotion,
            "intensity": intensity,
            "level": level,
            "model": emotion_model,
            "rounds": rounds,
        },
        r,
        seconds=time.perf_counter() - start,
    )
    if json_out:
        print_json(r.model_dump())
        return
    from ..render import rewrite_panel

    out.print(rewrite_panel(r))


@app.command()
@with_model_options
def sweep(
    text: Annotated[str | None, typer.Argument(help="Text to render; '-' or omit for stdin.")] = None,
    spectrum: Annotated[str, typer.Option("--spectrum", "-s", help="Spectrum id or one of its poles.")] = "sadness-joy",
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
    source = text_arg(text)
    em = load_model(emotion_model)
    spec = em.spectrum(spectrum)
    start = time.perf_counter()
    with progress() as bar:
        task = bar.add_task(f"sweeping {spec.id}", total=len(spec.levels))
        s = api.sweep(
            source,
            spec.id,
            model=em,
            rounds=rounds,
            tolerance=tolerance,
            explain=explain,
            settings=settings,
            on_level=lambda _i, _r: bar.advance(task),
        )
    log_run(
        "sweep",
        {"text": source, "spectrum": spec.id, "model": em.id, "rounds": rounds},
        s,
        seconds=time.perf_counter() - start,
    )
    if report is not None:
        from ..plots import plot_sweep
        from ..render import sweep_html, sweep_markdown

        body = sweep_html(s, plot_sweep(s)) if report.suffix.lower() in (".html", ".htm") else sweep_markdown(s)
        try:
            report.write_text(body, encoding="utf-8")
        except OSError as e:
            raise InputError(f"{report}: cannot write ({e.strerror})") from None
    if plot is not None:
        from ..plots import plot_sweep

        plot_sweep(s, plot)
    if json_out:
        print_json(s.model_dump())
        return
    from ..render import sweep_table

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
    msg = text_arg(message)
    r = api.respond(msg, model=emotion_model, settings=settings)
    if json_out:
        print_json(r.model_dump())
        return
    from ..render import reply_panel

    out.print(reply_panel(r))


@app.command()
@with_model_options
def chat(
    emotion_model: EmotionModelOpt = DEFAULT_MODEL,
    guardrails: Annotated[
        str | None,
        typer.Option(
            help="Check every reply against a guideline set (default, or a YAML file): judge, review, rectify."
        ),
    ] = None,
    context: Annotated[str | None, typer.Option(help="Guardrail context, e.g. personal or workplace.")] = None,
    culture: Annotated[str | None, typer.Option(help="Culture variant of the context.")] = None,
    settings: Settings = None,  # type: ignore[assignment]  # filled by @with_model_options
) -> None:
    """An interactive conversation whose replies adapt to your emotional state. /quit to end.
    With --guardrails, each reply is judged and, if needed, reviewed and rectified before it is shown."""
    from ..render import reply_panel

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


def _reply_guard(
    guardrails: str, context: str | None, culture: str | None, emotion_model: str, settings: Settings
) -> Callable:
    """A function that takes a draft reply through judge, adversary and rectification."""
    from ..ethics.pipeline import guard
    from ..session import get_backend

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
        print_json([m.model_dump() for m in loaded])
        return
    for m in loaded:
        out.print(f"[bold]{m.id}[/] — {m.name}: {m.description}")
        for s in m.spectra:
            out.print(f"  {s.describe()}")


@eval_app.command("emotions")
def eval_emotions(
    data: Annotated[Path, typer.Option("--data", help="The labelled data file.")],
    fmt: Annotated[str, typer.Option("--format", help=DATA_FORMATS)],
    analyzer: Annotated[
        str,
        typer.Option(
            help="sensor, sensor-fast (static encoder), ensemble, local (embedded LLM) "
            "or openai (with --base-url/--model)."
        ),
    ] = "sensor",
    limit: Annotated[int | None, typer.Option(min=1, help="Evaluate a random sample of N.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the sample.")] = 0,
    columns: Annotated[str, typer.Option(help="Column map for jsonl/csv: text=COL,labels=COL,anger=COL,...")] = "",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the JSON report here.")] = None,
    calibration: Calibration = None,
    json_out: JsonOpt = False,
    base_url: BaseUrl = None,
    model: Model = None,
    timeout: Timeout = None,
    no_cache: NoCache = False,
) -> None:
    """Macro/micro-F1, Jaccard and per-label F1 (labels), or Pearson/Spearman (intensities)."""
    from ..evals.emotions import evaluate

    examples = _labelled(data, fmt, columns)
    an = _eval_analyzer(analyzer, calibration, base_url, model, timeout, no_cache)
    n = min(limit or len(examples), len(examples))
    with progress() as bar:
        task = bar.add_task(f"evaluating {an.name}", total=n)
        report = evaluate(an, examples, limit=limit, seed=seed, on_done=lambda: bar.advance(task))
    report = {"data": str(data), "format": fmt, **report}
    if write_report(report, output, json_out):
        return
    from ..render import eval_tables

    for t in eval_tables(report):
        out.print(t)


def _labelled(data: Path, fmt: str, columns: str) -> list:
    """Labelled examples from ``data`` in ``fmt``; ``columns`` is "text=COL,labels=COL,..."."""
    from ..evals.datasets import load_examples

    colmap = dict(kv.split("=", 1) for kv in columns.split(",") if "=" in kv)
    return load_examples(data, fmt, columns=colmap)


def _eval_analyzer(
    kind: str, calibration: str | None, base_url: str | None, model: str | None, timeout: float | None, no_cache: bool
):
    if kind not in ("sensor", "sensor-fast", "ensemble", "local", "openai"):
        raise InputError(f"unknown analyser '{kind}'; use sensor, sensor-fast, ensemble, local or openai")
    settings = settings_from_flags(kind, base_url, model, timeout=timeout, no_cache=no_cache)
    return api.make_analyzer("plutchik", settings=settings, calibration=calibration)


@app.command()
def calibrate(
    data: Annotated[Path, typer.Option("--data", help="A small labelled file from your domain.")],
    fmt: Annotated[str, typer.Option("--format", help=DATA_FORMATS)],
    name: Annotated[str, typer.Option(help="Name to save the calibration under.")] = "default",
    columns: Annotated[str, typer.Option(help="Column map for jsonl/csv.")] = "",
    json_out: JsonOpt = False,
) -> None:
    """Fit the sensor's thresholds (and intensity scale) to your domain and save them by name."""
    from ..evals.emotions import evaluate
    from ..sensors.calibration import fit_calibration, save_calibration
    from ..sensors.emotion_sensor import EmotionSensor

    examples = _labelled(data, fmt, columns)
    sensor = EmotionSensor()
    rule = fit_calibration(sensor, examples)
    before = evaluate(sensor, examples)
    after = evaluate(EmotionSensor(rule=rule, calibration_name=name), examples)
    path = save_calibration(name, rule, {"data": str(data), "format": fmt, "n": len(examples)})
    report = {
        "name": name,
        "path": str(path),
        "rule": rule.model_dump(),
        "uncalibrated": before.get("classification", before.get("intensity")),
        "calibrated": after.get("classification", after.get("intensity")),
    }
    if json_out:
        print_json(report)
        return
    out.print(
        f"saved calibration [bold]{name}[/] to {path} (fitted on {len(examples)} examples; "
        "the scores below are on the same file, so they are optimistic)"
    )
    for label, rep in (("uncalibrated", before), ("calibrated", after)):
        c = rep.get("classification")
        if c:
            out.print(
                f"  {label:>12}: macro-F1 {c['macro_f1']:.3f}  micro-F1 {c['micro_f1']:.3f}  Jaccard {c['jaccard']:.3f}"
            )
