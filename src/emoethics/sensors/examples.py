"""A labelled text: what calibration fits thresholds to and evaluation scores (loaded by
:mod:`emoethics.evals.datasets`)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Example:
    """One labelled text. ``labels`` are Plutchik emotion names; ``intensity`` maps some
    emotions to a gold intensity in [0, 1] (intensity data sets only)."""

    text: str
    labels: frozenset[str] = frozenset()
    intensity: dict[str, float] = field(default_factory=dict)
