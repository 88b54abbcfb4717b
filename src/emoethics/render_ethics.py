"""Showing ethics results in the terminal: judgements, debates, rectifications, compositions."""

from __future__ import annotations

from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from .ethics.adversary import Review
from .ethics.judge import Judgement
from .ethics.pipeline import Composition
from .ethics.rectify import Rectification
from .render import profile_table

STYLE = {"allow": "green", "review": "yellow", "rectify": "magenta", "block": "red"}


def verdict_text(verdict: str) -> Text:
    return Text(verdict.upper(), style=f"bold {STYLE.get(verdict, 'white')}")


def judgement_panel(j: Judgement) -> Group:
    """Verdict, behaviour (both readings), violations, reasons, rationale and the profile."""
    g = Table.grid(padding=(0, 2))
    g.add_row("verdict", verdict_text(j.verdict) + Text(f"  confidence {j.confidence:.2f}"))
    g.add_row(
        "context",
        f"{j.context} (culture {j.culture}); allowed {list(j.guardrail.allowed)}, review {list(j.guardrail.review)}",
    )
    for b in (j.behaviour_emotion, j.behaviour_direct):
        if b is not None:
            g.add_row(f"behaviour ({b.method})", f"{b.level} ({b.intensity:+.2f}, confidence {b.confidence:.2f})")
    for h in j.violations:
        g.add_row("violates", Text(f'{h.guideline} [{h.severity}]: "{h.quote}" — {h.principle}'))
    if j.wrong_probability is not None:
        on = f', on "{j.wrong_sentence}"' if j.wrong_sentence else ""
        g.add_row("moral head", Text(f"P(wrong) = {j.wrong_probability:.2f}{on}"))
    if j.trajectory is not None:
        turns = " → ".join(f"{t.behaviour.level}" for t in j.trajectory.turns if t.behaviour)
        trend = f"{j.trajectory.change:+.2f}" + (", escalating" if j.trajectory.escalating else "")
        g.add_row("trajectory", f"{turns} ({trend})")
    for i in j.injections:
        by = ", ".join(i.by) or "addressed to the judge"
        g.add_row("set aside", Text(f'"{i.text}" ({by})'))
    if len(j.readings) > 1:
        g.add_row("readings", ", ".join(f"{k}: {v}" for k, v in j.readings.items()) + f"; decided by '{j.reading}'")
    g.add_row("rationale", Text(j.rationale))
    for r in j.reasons:
        g.add_row("", Text(f"· {r}", style="dim"))
    g.add_row(
        "versions",
        Text(
            f"{j.guidelines_version}; signatures {j.signatures}; " + ", ".join(f"{k} {v}" for k, v in j.models.items()),
            style="dim",
        ),
    )
    return Group(Panel(Text(j.text), title="judged text"), g, profile_table(j.profile))


def review_panel(r: Review) -> Group:
    rows: list = [Text("initial verdict: ") + verdict_text(r.initial.verdict)]
    for d in r.rounds:
        rows.append(
            Panel(
                Text(
                    f"adversary (contentiousness {d.contentiousness:.2f}) proposes {d.proposed}: "
                    f"{d.argument}\n"
                    + (f"judge → {d.verdict}: {d.response}" if d.response else "the adversary concedes")
                ),
                title=f"round {d.round}",
                border_style="cyan",
            )
        )
    end = "agreed" if r.resolved else "no agreement"
    rows.append(
        Text(f"{end}; final verdict: ")
        + verdict_text(r.verdict)
        + Text(f"  (queued for a person as case {r.case_id})" if r.case_id else "")
    )
    return Group(*rows)


def rectification_panel(r: Rectification) -> Group:
    g = Table.grid(padding=(0, 2))
    g.add_row(
        "before", verdict_text(r.before.verdict) + Text(f"  {r.before.behaviour.level}; {r.before.profile.summary()}")
    )
    g.add_row(
        "after", verdict_text(r.after.verdict) + Text(f"  {r.after.behaviour.level}; {r.after.profile.summary()}")
    )
    g.add_row("similarity", f"{r.similarity:.2f}")
    for a in r.attempts:
        target = f"target {a.target.level} on {a.target.spectrum}" if a.target else "content only"
        g.add_row(f"attempt {a.attempt}", Text(f"{target} → {a.verdict}", style="dim"))
    title = "rectified" if r.success else "best attempt (still not allowed)"
    return Group(
        Panel(Text(r.source), title="source"),
        Panel(Text(r.text), title=title, border_style="green" if r.success else "red"),
        g,
    )


def composition_panel(c: Composition) -> Group:
    body = c.text if c.text is not None else "(withheld: nothing acceptable was found)"
    rows: list = [
        Panel(
            Text(body),
            title=f"{c.target.level} on {c.target.spectrum} · verdict {c.verdict}",
            border_style=STYLE.get(c.verdict, "white"),
        )
    ]
    if c.text != c.draft:
        rows.append(Panel(Text(c.draft), title="first draft", border_style="dim"))
    rows += [Text(f"· {s}", style="dim") for s in c.steps]
    return Group(*rows)
