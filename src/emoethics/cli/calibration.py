"""The review loop's commands: ``sshf calibrate`` (thresholds from reviewers' decisions),
``sshf rulebooks``, ``sshf activate`` and ``sshf shadow`` (a candidate against the rulebook in force)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..config import Settings
from ..errors import InputError
from ..ethics.guidelines import DEFAULT_GUIDELINES
from .app import JsonOpt, out, print_json, progress, with_model_options
from .ethics import GuidelinesOpt, sshf_app


def _rate(r: dict) -> str:
    return f"{100 * r['value']:.1f}% ({100 * r['low']:.1f}-{100 * r['high']:.1f}, n={r['n']})"


@sshf_app.command("calibrate")
@with_model_options
def sshf_calibrate(
    max_fpr: Annotated[
        float, typer.Option("--max-fpr", min=0.0, max=0.5, help="The largest share of harmless cases to flag.")
    ] = 0.02,
    labelled: Annotated[
        Path | None,
        typer.Option(help="Also a labelled file (JSONL or CSV: text, label, optional context), judged now."),
    ] = None,
    previous: Annotated[
        str | None, typer.Option("--from", help="Build on this rulebook (file, stored id, 'latest', 'active').")
    ] = None,
    cross_validate: Annotated[
        bool,
        typer.Option(
            help="With few harmless reviewed cases, aim lower until cross-validation keeps the rate on unseen "
            "cases within --max-fpr (off: fit the reviewed cases themselves: more recall, a higher rate)."
        ),
    ] = True,
    guidelines: GuidelinesOpt = DEFAULT_GUIDELINES,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Also write the rulebook here.")] = None,
    json_out: JsonOpt = False,
    settings: Settings = None,  # type: ignore[assignment]
) -> None:
    """Fit the judge's thresholds, per guideline and context, to the reviewed cases (and a labelled
    file) at --max-fpr; store the result as the next rulebook version. Nothing is activated."""
    from ..ethics.review_loop import calibrate_rulebook
    from ..ethics.sshf import load_rulebook
    from ..session import Session
    from ..store.queue import ReviewStore
    from ..store.records import Records

    judge = Session(settings).make_judge(guidelines, use_model=False)
    base = load_rulebook(previous) if previous else None
    store = ReviewStore()
    with progress() as bar:
        bar.add_task("calibrating", total=None)
        book = calibrate_rulebook(judge, store, Records(store.url), max_fpr, labelled, base, cross_validate)
    if output:
        book.save(output)
    cal = book.calibration
    assert cal is not None
    if json_out:
        print_json({"id": book.id, "calibration": cal.model_dump(mode="json")})
        return
    out.print(
        f"stored [bold]{book.id}[/] ({cal.cases} cases, {len(cal.disputed)} disputed, max false-positive rate "
        f"{cal.max_fpr}); activate it with: emoethics sshf activate {book.id}",
        highlight=False,
    )
    for c in cal.contexts:
        d = c.model_dump(mode="json")
        out.print(
            f"  {'all contexts' if c.context == '*' else c.context} ({c.cases} cases, {c.harmful} harmful): "
            f"false positives {_rate(d['before']['false_positive_rate'])} -> {_rate(d['false_positive_rate'])}; "
            f"false negatives {_rate(d['before']['false_negative_rate'])} -> {_rate(d['false_negative_rate'])}",
            highlight=False,
        )
        if c.cross_validated_fpr is not None:
            out.print(
                f"    on reviewed cases each fit did not see: false positives {_rate(d['cross_validated_fpr'])} "
                f"(aimed at {c.aimed_fpr:g} on the reviewed)",
                highlight=False,
            )
        out.print("    " + ", ".join(f"{g} {t:g}" for g, t in c.thresholds.items()), highlight=False)


@sshf_app.command("rulebooks")
def sshf_rulebooks(json_out: JsonOpt = False) -> None:
    """The stored rulebook versions, the one in force, and who activated what."""
    from ..store.records import Records

    rec = Records()
    books, active, log = rec.rulebooks(), rec.active_rulebook(), rec.activations()
    if json_out:
        print_json({"active": active, "rulebooks": books, "activations": log})
        return
    if not books:
        out.print("no rulebooks stored: 'emoethics sshf calibrate' or 'emoethics sshf learn' makes one")
    for b in books:
        mark = " [bold](in force)[/]" if b["id"] == active else ""
        out.print(f"{b['id']}{mark} v{b['version']} from {b['parent'] or '-'} · {b['created'][:19]}", highlight=False)
    for a in log[:10]:
        out.print(f"  {a['created'][:19]} {a['actor']}: {a['previous'] or 'none'} -> {a['rulebook'] or 'none'}")


@sshf_app.command("activate")
def sshf_activate(
    rulebook: Annotated[str, typer.Argument(help="A stored rulebook id, 'latest', or 'none' for none.")],
    actor: Annotated[str, typer.Option(help="Who activates it (recorded).")] = "anonymous",
    note: Annotated[str, typer.Option(help="Why (recorded).")] = "",
    json_out: JsonOpt = False,
) -> None:
    """Put a rulebook in force for judges given '--rulebook active' (the proxy, the service, batch
    jobs). Recorded with who and what it replaced; undo by activating the previous one."""
    from ..store.records import Records

    rec = Records()
    target = (
        None
        if rulebook == "none"
        else rec.rulebooks()[-1]["id"]
        if rulebook == "latest" and rec.rulebooks()
        else rulebook
    )
    if rulebook == "latest" and target == "latest":
        raise InputError("no rulebooks stored")
    done = rec.activate_rulebook(target, actor=actor, note=note)
    if json_out:
        print_json(done)
        return
    out.print(f"in force: {done['rulebook'] or 'none'} (was {done['previous'] or 'none'})", highlight=False)


@sshf_app.command("shadow")
@with_model_options
def sshf_shadow(
    candidate: Annotated[str, typer.Argument(help="The candidate rulebook (file, stored id, 'latest').")],
    texts: Annotated[
        Path, typer.Option("--input", "-i", help="Texts: JSONL/CSV with text (and context), .txt, or '-'.")
    ],
    context: Annotated[str | None, typer.Option("--context", "-c", help="Context of rows that name none.")] = None,
    guidelines: GuidelinesOpt = DEFAULT_GUIDELINES,
    record: Annotated[bool, typer.Option(help="Record the verdicts for the dashboard.")] = True,
    json_out: JsonOpt = False,
    settings: Settings = None,  # type: ignore[assignment]
) -> None:
    """Judge texts with the rulebook in force and with a candidate (fast judges): where they differ."""
    from ..ethics.review_loop import read_texts, shadow_compare
    from ..session import Session
    from ..store.records import Records

    session = Session(settings)
    rec = Records()
    active_id = rec.active_rulebook()
    active = session.make_judge(guidelines, rulebook=active_id, use_model=False)
    cand = session.make_judge(guidelines, rulebook=candidate, use_model=False)
    items = read_texts(texts, context or active.guidelines.contexts()[0])
    with progress() as bar:
        bar.add_task(f"judging {len(items)} texts twice", total=None)
        rows = shadow_compare(active, cand, items)
    if record:
        rec.record_verdicts(rows)
    changed = [(t, r) for (t, _), r in zip(items, rows, strict=True) if r.verdict != r.shadow_verdict]
    if json_out:
        print_json(
            {
                "active": active_id,
                "candidate": cand.rulebook.id if cand.rulebook else candidate,
                "texts": len(rows),
                "changed": len(changed),
                "rows": [{"text": t, **r.model_dump(mode="json")} for (t, _), r in zip(items, rows, strict=True)],
            }
        )
        return
    out.print(
        f"{len(changed)} of {len(rows)} texts would get another verdict ({active_id or 'no rulebook'} -> "
        f"{cand.rulebook.id if cand.rulebook else candidate})",
        highlight=False,
    )
    for t, r in changed[:50]:
        out.print(f"  {r.verdict} -> {r.shadow_verdict} [{r.context}] {t[:80]!r}", highlight=False)
