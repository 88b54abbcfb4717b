"""Emotion profiles as bar charts: geometry for the SVG the templates draw (no script needed)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

WIDTH, ROW, LABEL, PAD = 360, 26, 130, 6


class Bar(BaseModel):
    label: str
    level: str
    intensity: float
    x: float
    y: float
    width: float
    negative: bool


class Chart(BaseModel):
    """A signed bar per spectrum: left of the middle line for the negative pole, right for the
    positive one, with the level word; ``summary`` is the same as text (for screen readers)."""

    width: int
    height: int
    middle: float
    bars: list[Bar]
    summary: str


def profile_chart(profile: dict[str, Any] | None) -> Chart | None:
    """A chart of an emotion profile (as JSON: ``EmotionProfile.model_dump()``), or None."""
    if not profile or not profile.get("readings"):
        return None
    half = (WIDTH - LABEL - 2 * PAD) / 2
    middle = LABEL + PAD + half
    bars = []
    for i, r in enumerate(profile["readings"]):
        v = max(-1.0, min(1.0, float(r.get("intensity", 0.0))))
        w = abs(v) * half
        bars.append(
            Bar(
                label=f"{r.get('negative', '?')} / {r.get('positive', '?')}",
                level=str(r.get("level", "")),
                intensity=round(v, 2),
                x=middle - w if v < 0 else middle,
                y=PAD + i * ROW,
                width=max(w, 1.0),
                negative=v < 0,
            )
        )
    summary = "; ".join(f"{b.label}: {b.level} ({b.intensity:+.2f})" for b in bars)
    return Chart(width=WIDTH, height=2 * PAD + ROW * len(bars), middle=middle, bars=bars, summary=summary)
