"""Showing results to people: terminal tables, and Markdown/HTML reports of sweeps."""

from __future__ import annotations

import html

from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from .emotions.respond import Reply
from .emotions.rewriting import RewriteResult, SweepResult
from .schema.profile import EmotionProfile

BAR_HALF = 10


def bar(intensity: float) -> Text:
    """A bar centred on zero: filled left of the centre for negative, right for positive."""
    n = round(abs(intensity) * BAR_HALF)
    left = " " * (BAR_HALF - n) + ("█" * n if intensity < 0 else "")
    right = ("█" * n if intensity > 0 else "") + " " * (BAR_HALF - (n if intensity > 0 else 0))
    t = Text()
    t.append(left.rjust(BAR_HALF), style="red")
    t.append("│", style="dim")
    t.append(right.ljust(BAR_HALF), style="green")
    return t


def profile_table(profile: EmotionProfile, title: str | None = None) -> Table:
    """One row per spectrum: poles, bar, intensity, level word, cues, confidence."""
    caption = f"analyser: {profile.analyzer}"
    if (lang := profile.language) is not None:
        caption += f"; language {lang.code} ({lang.support}"
        caption += ": readings not trusted, confidence capped)" if lang.support == "unsupported" else ")"
    t = Table(title=title, caption=caption, show_lines=False)
    t.add_column("negative", justify="right", style="red")
    t.add_column("intensity", justify="center", no_wrap=True)
    t.add_column("positive", style="green")
    t.add_column("value", justify="right")
    t.add_column("level", style="bold")
    t.add_column("cues")
    t.add_column("conf", justify="right")
    for r in profile.readings:
        t.add_row(
            r.negative,
            bar(r.intensity),
            r.positive,
            f"{r.intensity:+.1f}",
            r.level,
            "; ".join(r.cues),
            f"{r.confidence:.2f}",
        )
    return t


def rewrite_panel(r: RewriteResult) -> Group:
    """The rewrite, its target and measurement, features and round trace."""
    head = Table.grid(padding=(0, 2))
    head.add_row("target", f"{r.target.level} ({r.target.intensity:+.1f}) on {r.target.spectrum}")
    head.add_row(
        "measured",
        f"{r.measured_level} ({r.measured_intensity:+.1f}) "
        f"{'[green]hit[/]' if r.hit else '[red]miss[/]'} (off by {r.level_distance} levels)",
    )
    head.add_row("similarity", f"{r.similarity:.2f} ({r.similarity_method})")
    head.add_row("models", f"generator {r.generator}; critic {r.critic}")
    feats = Table(title="what changed", show_header=True)
    feats.add_column("feature")
    feats.add_column("before → after / explanation")
    m = r.features.measured
    for k in ("words", "sentences", "mean_sentence_words", "exclamations", "intensifiers"):
        feats.add_row(k.replace("_", " "), f"{m[k][0]} → {m[k][1]}")
    feats.add_row("words added", ", ".join(m["added_words"]))
    feats.add_row("words removed", ", ".join(m["removed_words"]))
    for k, v in (r.features.explained or {}).items():
        feats.add_row(k.replace("_", " "), v)
    trace = Table(title="rounds", show_header=True)
    for c in ("#", "measured", "off", "text", "feedback"):
        trace.add_column(c)
    for x in r.rounds:
        trace.add_row(
            str(x.round),
            f"{x.measured_level} ({x.measured_intensity:+.1f})",
            str(x.level_distance),
            x.text,
            x.feedback or "",
        )
    return Group(Panel(r.text, title="rewrite", border_style="cyan"), head, feats, trace)


def sweep_table(s: SweepResult) -> Table:
    """One row per level of the sweep."""
    t = Table(title=f"sweep over {s.spectrum}", show_lines=True)
    for c in ("level", "target", "measured", "hit", "sim", "text"):
        t.add_column(c)
    for row in s.table():
        t.add_row(
            row["level"],
            f"{row['target']:+.1f}",
            f"{row['measured_level']} ({row['measured']:+.1f})",
            "✓" if row["hit"] else "✗",
            f"{row['similarity']:.2f}",
            row["text"],
        )
    return t


def reply_panel(r: Reply) -> Group:
    return Group(
        Panel(r.reply, title="reply", border_style="cyan"),
        Text(f"detected: {r.state}", style="dim"),
        Text(f"why this tone: {r.reason}", style="dim"),
    )


def sweep_markdown(s: SweepResult) -> str:
    """A Markdown report of a sweep."""
    hits = sum(r.hit for r in s.results)
    lines = [
        f"# Sweep over {s.spectrum}",
        "",
        f"Source: {s.source}",
        "",
        f"Emotion model: {s.emotion_model}. Generator: {s.results[0].generator}. "
        f"Critic: {s.results[0].critic}. Hits: {hits}/{len(s.results)}.",
        "",
        "| level | target | measured | hit | similarity | rewrite |",
        "|---|---|---|---|---|---|",
    ]
    for row in s.table():
        text = row["text"].replace("|", "\\|").replace("\n", " ")
        lines.append(
            f"| {row['level']} | {row['target']:+.1f} | {row['measured_level']} "
            f"({row['measured']:+.1f}) | {'yes' if row['hit'] else 'no'} | "
            f"{row['similarity']:.2f} | {text} |"
        )
    return "\n".join(lines) + "\n"


def sweep_html(s: SweepResult, plot_svg: str = "") -> str:
    """A self-contained HTML report of a sweep (all text escaped)."""
    e = html.escape
    rows = "".join(
        f"<tr><td>{e(r['level'])}</td><td>{r['target']:+.1f}</td>"
        f"<td>{e(r['measured_level'])} ({r['measured']:+.1f})</td>"
        f"<td>{'yes' if r['hit'] else 'no'}</td><td>{r['similarity']:.2f}</td>"
        f"<td>{e(r['text'])}</td></tr>"
        for r in s.table()
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>Sweep {e(s.spectrum)}</title>"
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}"
        "td,th{border-bottom:1px solid #ddd;padding:.4em;vertical-align:top}"
        "table{border-collapse:collapse}</style></head><body>"
        f"<h1>Sweep over {e(s.spectrum)}</h1><p>Source: {e(s.source)}</p>"
        f"<p>Generator: {e(s.results[0].generator)}; critic: {e(s.results[0].critic)}</p>"
        f"{plot_svg}<table><tr><th>level</th><th>target</th><th>measured</th><th>hit</th>"
        f"<th>similarity</th><th>rewrite</th></tr>{rows}</table></body></html>\n"
    )


def eval_tables(report: dict) -> list[Table]:
    """Tables of an evaluation report: summary, per label, per emotion intensity."""
    tables = []
    head = Table(title=f"{report['analyzer']} on {report['data']} ({report['format']})")
    for c in ("n", "failed", "seconds", "texts/s"):
        head.add_column(c, justify="right")
    head.add_row(str(report["n"]), str(report["failed"]), str(report["seconds"]), str(report["texts_per_second"]))
    tables.append(head)
    if "classification" in report:
        c = report["classification"]
        t = Table(
            title=f"macro-F1 {c['macro_f1']:.3f}   micro-F1 {c['micro_f1']:.3f}   "
            f"Jaccard {c['jaccard']:.3f}   labels/text gold {c['labels_per_text_gold']} "
            f"pred {c['labels_per_text_pred']}"
        )
        for col in ("label", "precision", "recall", "F1", "support"):
            t.add_column(col, justify="right")
        for lab, v in c["per_label"].items():
            t.add_row(lab, f"{v['precision']:.3f}", f"{v['recall']:.3f}", f"{v['f1']:.3f}", str(v["support"]))
        tables.append(t)
    if report.get("intensity"):
        t = Table(title=f"intensity: mean Pearson {report.get('pearson_mean', 0):.3f}")
        for col in ("emotion", "n", "Pearson", "Spearman"):
            t.add_column(col, justify="right")
        for emo, v in report["intensity"].items():
            t.add_row(emo, str(v["n"]), f"{v['pearson']:.3f}", f"{v['spearman']:.3f}")
        tables.append(t)
    return tables
