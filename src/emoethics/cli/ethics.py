"""The ethics commands of the ``emoethics`` command line: judge, review, rectify, compose,
feedback, guidelines, ``sshf learn``, ``dike learn|remeasure|compare`` and ``eval ethics``."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Annotated

import typer

from .. import api
from ..config import Settings
from ..errors import ConfigError, InputError
from ..ethics.guidelines import DEFAULT_GUIDELINES, builtin_guidelines, load_guidelines
from ..render_ethics import composition_panel, judgement_panel, rectification_panel, review_panel
from ..session import get_backend
from ..textio import decode
from .app import (
    JsonOpt,
    app,
    eval_app,
    out,
    print_json,
    progress,
    run_text_command,
    with_model_options,
    write_report,
)

GuidelinesOpt = Annotated[
    str, typer.Option("--guidelines", "-G", help=f"Guideline set: {', '.join(builtin_guidelines())} or a YAML file.")
]
ContextOpt = Annotated[
    str | None,
    typer.Option("--context", "-c", help="Context of the guardrails (e.g. personal, workplace); default: the first."),
]
CultureOpt = Annotated[str | None, typer.Option("--culture", help="Culture variant of the context.")]
RulebookOpt = Annotated[Path | None, typer.Option("--rulebook", help="An SSHF rulebook to apply.")]
TextArg = Annotated[str | None, typer.Argument(help="Text to judge; '-' or omit for stdin.")]


def _history(path: Path | None) -> list[str] | None:
    """Earlier turns of a conversation: a .txt file (one turn per line) or .jsonl ({"text": ...})."""
    if path is None:
        return None
    try:
        raw = decode(path.read_bytes(), str(path))
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror})") from None
    if path.suffix.lower() == ".jsonl":
        turns = []
        for n, line in enumerate(raw.splitlines(), 1):
            if line.strip():
                try:
                    turns.append(str(json.loads(line)["text"]))
                except (ValueError, KeyError, TypeError):
                    raise InputError(f"{path}:{n}: expected a JSON object with a 'text' field") from None
        return turns
    return [t for t in raw.splitlines() if t.strip()]


def _judge(guidelines: str, settings: Settings, rulebook: Path | None, no_model: bool = False, method: str = "emotion"):
    if method not in ("emotion", "direct"):
        raise ConfigError("--behaviour-method is emotion or direct")
    return api.make_judge(
        guidelines,
        settings=settings,
        rulebook=str(rulebook) if rulebook else None,
        use_model=not no_model,
        behaviour_method=method,  # type: ignore[arg-type]  # checked above
    )


@app.command()
@with_model_options
def judge(
    text: TextArg = None,
    context: ContextOpt = None,
    culture: CultureOpt = None,
    guidelines: GuidelinesOpt = DEFAULT_GUIDELINES,
    rulebook: RulebookOpt = None,
    history: Annotated[
        Path | None,
        typer.Option(help="Earlier turns of the conversation (.txt one per line, or .jsonl), for the trajectory."),
    ] = None,
    behaviour_method: Annotated[
        str, typer.Option(help="What decides the behaviour level: emotion (through emotions) or direct (the model).")
    ] = "emotion",
    no_model: Annotated[bool, typer.Option("--no-model", help="Emotion-mediated only: no language model.")] = False,
    json_out: JsonOpt = False,
    settings: Settings = None,  # type: ignore[assignment]  # filled by @with_model_options
) -> None:
    """Judge a text (DIKE): verdict, behaviour through emotions, guidelines violated, rationale."""
    j = _judge(guidelines, settings, rulebook, no_model, behaviour_method)
    turns = _history(history)
    run_text_command(
        "judge",
        text,
        lambda source: j.judge(source, context, culture, history=turns),
        inputs={"context": context, "culture": culture, "guidelines": guidelines, "rulebook": rulebook},
        json_out=json_out,
        panel=judgement_panel,
    )


@app.command()
@with_model_options
def review(
    text: TextArg = None,
    context: ContextOpt = None,
    culture: CultureOpt = None,
    guidelines: GuidelinesOpt = DEFAULT_GUIDELINES,
    rulebook: RulebookOpt = None,
    rounds: Annotated[int, typer.Option(min=1, max=8, help="Debate rounds at most.")] = 3,
    json_out: JsonOpt = False,
    settings: Settings = None,  # type: ignore[assignment]
) -> None:
    """Adversarial review (ERIS): argue the opposite reading of the verdict, debate, escalate."""
    j = _judge(guidelines, settings, rulebook)
    run_text_command(
        "review",
        text,
        lambda source: api.review(source, context, culture=culture, rounds=rounds, judge=j, settings=settings),
        inputs={
            "context": context,
            "culture": culture,
            "rounds": rounds,
            "guidelines": guidelines,
            "rulebook": rulebook,
        },
        json_out=json_out,
        panel=review_panel,
    )


@app.command()
@with_model_options
def rectify(
    text: TextArg = None,
    context: ContextOpt = None,
    culture: CultureOpt = None,
    guidelines: GuidelinesOpt = DEFAULT_GUIDELINES,
    rulebook: RulebookOpt = None,
    attempts: Annotated[int, typer.Option(min=1, max=5, help="Rewrite-and-judge attempts.")] = 2,
    json_out: JsonOpt = False,
    settings: Settings = None,  # type: ignore[assignment]
) -> None:
    """Rewrite a violating text into the allowed range, keeping its content; judge it again."""
    j = _judge(guidelines, settings, rulebook)
    run_text_command(
        "rectify",
        text,
        lambda source: api.rectify(source, context, culture=culture, attempts=attempts, judge=j, settings=settings),
        inputs={
            "context": context,
            "culture": culture,
            "attempts": attempts,
            "guidelines": guidelines,
            "rulebook": rulebook,
        },
        json_out=json_out,
        panel=rectification_panel,
    )


@app.command()
@with_model_options
def compose(
    prompt: Annotated[str | None, typer.Argument(help="What to write; '-' or omit for stdin.")] = None,
    emotion: Annotated[str | None, typer.Option("--emotion", "-e", help="A pole or a spectrum id.")] = None,
    intensity: Annotated[float | None, typer.Option("--intensity", help="0..1 toward a pole.")] = None,
    level: Annotated[str | None, typer.Option(help="A level word instead of emotion and intensity.")] = None,
    context: ContextOpt = None,
    culture: CultureOpt = None,
    guidelines: GuidelinesOpt = DEFAULT_GUIDELINES,
    rulebook: RulebookOpt = None,
    json_out: JsonOpt = False,
    settings: Settings = None,  # type: ignore[assignment]
) -> None:
    """Write at a target emotion, then judge, review and rectify: the whole pipeline."""
    j = _judge(guidelines, settings, rulebook)
    run_text_command(
        "compose",
        prompt,
        lambda source: api.compose(
            source, emotion, intensity, level=level, context=context, culture=culture, judge=j, settings=settings
        ),
        inputs={
            "emotion": emotion,
            "intensity": intensity,
            "level": level,
            "context": context,
            "culture": culture,
            "guidelines": guidelines,
            "rulebook": rulebook,
        },
        json_out=json_out,
        panel=composition_panel,
    )


@app.command()
def guidelines(
    name: Annotated[str, typer.Argument(help="A built-in name or a YAML file to show.")] = DEFAULT_GUIDELINES,
    json_out: JsonOpt = False,
) -> None:
    """Show (and validate) a guideline set: conduct, virtues, behaviours, guardrails, version."""
    g = load_guidelines(name)
    if json_out:
        print_json({"version": g.version, **g.model_dump(mode="json")})
        return
    out.print(f"[bold]{g.id}[/] version {g.version}: {g.description}")
    out.print(g.describe(), highlight=False)
    for b in g.behaviours:
        out.print(f"behaviour [bold]{b.id}[/]: " + " | ".join(lv.word for lv in b.levels))
    for r in g.guardrails:
        out.print(
            f"context [bold]{r.context}[/] (culture {r.culture}, {r.behaviour}): allowed "
            f"{list(r.allowed)}, review {list(r.review)}"
        )


@app.command()
def feedback(
    case: Annotated[str | None, typer.Argument(help="A case id from the queue; omit to list pending cases.")] = None,
    decision: Annotated[str | None, typer.Option(help="accept, reject, relabel or edit-rule.")] = None,
    label: Annotated[str | None, typer.Option(help="relabel: the right verdict, or violating/compliant.")] = None,
    rule: Annotated[str | None, typer.Option(help="The rulebook rule id (edit-rule, or feedback on a rule).")] = None,
    rule_text: Annotated[str | None, typer.Option(help="edit-rule: the corrected rule.")] = None,
    reviewer: Annotated[str, typer.Option(help="Who decides.")] = "anonymous",
    note: Annotated[str, typer.Option(help="Why.")] = "",
    json_out: JsonOpt = False,
) -> None:
    """The human review queue: list pending cases, or record a decision on a case or a rule."""
    from ..store.queue import Feedback, ReviewStore

    store = ReviewStore()
    if case is None and rule is None:
        pending = store.pending()
        if json_out:
            print_json([c.model_dump(mode="json") for c in pending])
            return
        if not pending:
            out.print(f"no pending cases ({store.where})")
        for c in pending:
            out.print(
                f"[bold]{c.id}[/] {c.kind} · {c.context} · {c.verdict} ({c.confidence:.2f}) · {c.text[:80]!r}",
                highlight=False,
            )
        return
    if decision not in ("accept", "reject", "relabel", "edit-rule"):
        raise InputError("give --decision accept, reject, relabel or edit-rule")
    fb = store.add_feedback(
        Feedback(
            case_id=case,
            rule_id=rule,
            decision=decision,
            label=label,
            rule_text=rule_text,
            reviewer=reviewer,
            note=note,
        )
    )
    if json_out:
        print_json(fb.model_dump(mode="json"))
        return
    out.print(f"recorded feedback {fb.id} ({fb.decision}) in {store.where}")


sshf_app = typer.Typer(help="Self-supervised learning with human feedback: the rulebook.", no_args_is_help=True)
app.add_typer(sshf_app, name="sshf")


@sshf_app.command("learn")
@with_model_options
def sshf_learn(
    guidelines: GuidelinesOpt = DEFAULT_GUIDELINES,
    contexts: Annotated[str, typer.Option(help="Comma-separated contexts.")] = "personal",
    only: Annotated[str, typer.Option(help="Comma-separated guideline ids (default: all).")] = "",
    pairs: Annotated[int, typer.Option(min=2, max=12, help="Contrasting pairs per guideline and context.")] = 4,
    previous: Annotated[
        str | None,
        typer.Option(
            "--from",
            help="Build the next version of this rulebook (a file, a stored rulebook id, or 'latest'), "
            "applying the feedback given since.",
        ),
    ] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Where to write the rulebook.")] = None,
    sample: Annotated[int, typer.Option(min=0, help="Examples per rule queued for human review.")] = 1,
    json_out: JsonOpt = False,
    settings: Settings = None,  # type: ignore[assignment]
) -> None:
    """Generate contrasting examples, learn rules and signatures, self-evaluate, apply feedback."""
    from ..ethics.sshf import learn_rulebook, load_rulebook, rulebooks_dir

    g = load_guidelines(guidelines)
    prev = load_rulebook(previous) if previous else None
    ids = [s.strip() for s in only.split(",") if s.strip()] or None
    with progress() as bar:
        task = bar.add_task("learning", total=None)
        ctx = [c.strip() for c in contexts.split(",") if c.strip()]
        book = learn_rulebook(
            g,
            ctx,
            get_backend("generator", settings),
            api.make_analyzer(settings=settings, role="critic"),
            only=ids,
            pairs=pairs,
            previous=prev,
            sample=sample,
            on_step=lambda s: bar.update(task, description=s),
        )
    path = book.save(output or rulebooks_dir() / f"{g.id}-v{book.version}.json")
    if json_out:
        print_json({"path": str(path), "id": book.id, **book.model_dump(mode="json", exclude={"examples"})})
        return
    out.print(
        f"wrote [bold]{book.id}[/] to {path}: {len(book.rules)} rules, "
        f"{book.evaluation['active_rules']} active, probe accuracy {book.evaluation['probe_accuracy_mean']}, "
        f"{len(book.feedback_used)} feedback items used"
    )
    for r in book.rules:
        out.print(
            f"  {r.id} [{r.status}{', active' if r.active else ''}] probe {r.probe_accuracy}: {r.statement}",
            highlight=False,
        )


dike_app = typer.Typer(help="Emotion signatures of behaviour levels (DIKE).", no_args_is_help=True)
app.add_typer(dike_app, name="dike")


@dike_app.command("learn")
@with_model_options
def dike_learn(
    seeds: Annotated[Path, typer.Option(help="Seed texts, one per line.")],
    spectrum: Annotated[str, typer.Option(help="Behaviour spectrum id of the guideline set.")],
    guidelines: GuidelinesOpt = DEFAULT_GUIDELINES,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Signature file to write.")] = None,
    limit: Annotated[int | None, typer.Option(min=2, help="Use the first N seeds.")] = None,
    json_out: JsonOpt = False,
    settings: Settings = None,  # type: ignore[assignment]
) -> None:
    """Rewrite seeds at every behaviour level, measure their emotions, learn the signatures.
    Resumable: rewrites are checkpointed next to the output file."""
    from ..datafiles import data_dir
    from ..ethics.signatures import learn_signatures

    g = load_guidelines(guidelines)
    spec = g.behaviour(spectrum)
    try:
        lines = [t.strip() for t in decode(seeds.read_bytes(), str(seeds)).splitlines() if t.strip()]
    except OSError as e:
        raise InputError(f"{seeds}: cannot read ({e.strerror})") from None
    lines = lines[:limit] if limit else lines
    if len(lines) < 2:
        raise InputError(f"{seeds}: need at least 2 seed texts")
    path = output or data_dir() / "signatures" / f"{spectrum}.json"
    with progress() as bar:
        task = bar.add_task("rewriting seeds", total=len(lines) * len(spec.levels))
        sig = learn_signatures(
            lines,
            spec,
            get_backend("generator", settings),
            api.make_analyzer(settings=settings, role="critic"),
            checkpoint=path.with_suffix(".partial.jsonl"),
            on_step=lambda i, n: bar.update(task, completed=i),
        )
    sig.save(path)
    path.with_suffix(".partial.jsonl").unlink(missing_ok=True)
    if json_out:
        print_json({"path": str(path), "id": sig.id, "levels": [s.model_dump() for s in sig.levels]})
        return
    out.print(f"wrote signatures [bold]{sig.id}[/] to {path} ({len(sig.examples)} rewrites)")


@dike_app.command("remeasure")
@with_model_options
def dike_remeasure(
    signatures: Annotated[str, typer.Option(help="A signature file, or a built-in spectrum name.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Signature file to write.")],
    json_out: JsonOpt = False,
    settings: Settings = None,  # type: ignore[assignment]
) -> None:
    """Measure the stored rewrites again with the critic analyser (the sensor by default) and
    refit the signatures: for a retrained sensor, without rewriting anything."""
    from ..ethics.signatures import load_signatures, remeasure_signatures

    sig = remeasure_signatures(load_signatures(signatures), api.make_analyzer(settings=settings, role="critic"))
    sig.save(output)
    if json_out:
        print_json({"path": str(output), "id": sig.id, "analyzer": sig.analyzer})
        return
    out.print(
        f"wrote signatures [bold]{sig.id}[/] to {output} ({len(sig.examples)} rewrites measured by {sig.analyzer})"
    )


@dike_app.command("compare")
@with_model_options
def dike_compare(
    signatures: Annotated[str, typer.Option(help="A signature file, or a built-in spectrum name.")],
    no_direct: Annotated[bool, typer.Option("--no-direct", help="Skip the language model's direct reading.")] = False,
    json_out: JsonOpt = False,
    settings: Settings = None,  # type: ignore[assignment]
) -> None:
    """Emotion-mediated versus direct behaviour classification on the held-out seeds."""
    from ..ethics.signatures import compare_methods, load_signatures

    sig = load_signatures(signatures)
    with progress() as bar:
        task = bar.add_task("classifying held-out rewrites", total=None)
        cmp = compare_methods(
            sig,
            None if no_direct else get_backend("judge", settings),
            on_step=lambda i, n: bar.update(task, completed=i, total=n),
        )
    if json_out:
        print_json(cmp.model_dump(mode="json"))
        return
    out.print(f"[bold]{cmp.spectrum}[/] ({cmp.signatures}), {cmp.heldout_seeds} held-out seeds:")
    for s in cmp.scores:
        out.print(
            f"  {s.method:>16}: accuracy {s.accuracy:.3f}  within one level {s.within_one:.3f}  "
            f"mean level error {s.mean_level_error:.2f}  (n={s.n})"
        )


@eval_app.command("ethics")
@with_model_options
def eval_ethics(
    data: Annotated[Path, typer.Option("--data", help="The labelled data file.")],
    fmt: Annotated[
        str,
        typer.Option("--format", help="ethics-cm, ethics-deontology, ethics-justice, ethics-virtue or moral-stories."),
    ],
    predictor: Annotated[
        str,
        typer.Option(
            help="head (trained head, no LLM; the default), llm (the judge model, few-shot), cascade "
            "(head where sure, LLM elsewhere), keyword or majority."
        ),
    ] = "head",
    examples: Annotated[
        Path | None,
        typer.Option(help="A labelled file in the same format: few-shot examples are chosen from it by similarity."),
    ] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Evaluate a random sample of N.")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the sample.")] = 0,
    rectify_n: Annotated[
        int,
        typer.Option(
            "--rectify", min=0, help="moral-stories: also rectify N immoral actions and report the success rate."
        ),
    ] = 0,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the JSON report here.")] = None,
    json_out: JsonOpt = False,
    settings: Settings = None,  # type: ignore[assignment]
) -> None:
    """Accuracy on an ethics benchmark; for moral stories also the rectification success rate."""
    from ..evals import ethics as ev
    from ..evals.ethics_baselines import majority_label
    from ..evals.ethics_data import load_ethics

    items = load_ethics(data, fmt, limit=limit, seed=seed)
    pool = load_ethics(examples, fmt) if examples else None
    backend = None
    pred: ev.Predictor
    if predictor in ("llm", "cascade"):
        backend = get_backend("judge", settings)
        llm = ev.LLM(backend, fmt, pool)
        pred = llm if predictor == "llm" else ev.Cascade(ev.Head(fmt), llm)
    elif predictor == "head":
        pred = ev.Head(fmt)
    elif predictor == "keyword":
        pred = ev.Keyword()
    elif predictor == "majority":
        pred = ev.Majority(majority_label(pool or items))
    else:
        raise InputError(f"unknown predictor '{predictor}'; use cascade, llm, head, keyword or majority")
    with progress() as bar:
        task = bar.add_task(f"evaluating {pred.name}", total=len(items))
        report = ev.evaluate_ethics(items, pred, backend=backend, on_done=lambda: bar.advance(task))
    report = {"data": str(data), **report}
    if rectify_n:
        if fmt != "moral-stories":
            raise InputError("--rectify applies to moral-stories")
        immoral = [it for it in items if it.label == 0]
        random.Random(seed).shuffle(immoral)
        report["rectification"] = ev.rectification_rate(
            immoral[:rectify_n], api.make_judge(settings=settings), settings
        )
    if write_report(report, output, json_out):
        return
    out.print(
        f"[bold]{fmt}[/] {report['predictor']}: accuracy [bold]{report['accuracy']:.3f}[/] on {report['n']} "
        f"items; {report['seconds_per_item']:.2f} s and {report['llm_calls_per_item']:.2f} LLM calls per item; "
        f"decided by {report['decided_by']}",
        highlight=False,
    )
    if "rectification" in report:
        r = report["rectification"]
        out.print(
            f"rectification: success rate {r['success_rate']} on {r['n']} immoral actions (allowed after, "
            f"changed, similarity >= {r['min_similarity']}); {r['success_rate_flagged']} of the "
            f"{r['flagged']} the judge flagged; mean similarity {r['similarity_mean']}; "
            f"{r['llm_calls_per_item']} LLM calls and {r['seconds_per_item']} s per item",
            highlight=False,
        )
