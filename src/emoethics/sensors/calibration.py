"""Calibrating the sensor for a new domain from a small labelled file.

``fit_calibration`` chooses, per emotion, the probability threshold that maximises that emotion's
F1 on the user's examples (emotions with fewer than ``min_support`` positives get the threshold
that is best over all emotions together), and, for intensity data, a scale that maps
probabilities to gold intensities by least squares. The result is a :class:`DecisionRule` saved
as JSON under a name in ``<user data dir>/emoethics/calibrations`` (``EMOETHICS_DATA_DIR``).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np

from ..datafiles import data_dir
from ..errors import ConfigError
from .emotion_sensor import EMOTIONS, DecisionRule, EmotionSensor
from .examples import Example

GRID = np.round(np.arange(0.02, 0.96, 0.02), 2)


def calibrations_dir() -> Path:
    return data_dir() / "calibrations"


def _f1(gold: np.ndarray, pred: np.ndarray) -> float:
    tp = float((gold & pred).sum())
    fp, fn = float((~gold & pred).sum()), float((gold & ~pred).sum())
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def fit_thresholds(probs: np.ndarray, gold: np.ndarray, min_support: int = 3) -> dict[str, float]:
    """Per-emotion thresholds maximising each emotion's F1 (``gold`` is a boolean [n, 8])."""
    pooled = max(GRID, key=lambda t: _f1(gold.ravel(), (probs >= t).ravel()))
    thresholds = {}
    for j, emo in enumerate(EMOTIONS):
        col_gold, col_p = gold[:, j], probs[:, j]
        if col_gold.sum() >= min_support:
            thresholds[emo] = float(max(GRID, key=lambda t: _f1(col_gold, col_p >= t)))
        else:
            thresholds[emo] = float(pooled)
    return thresholds


def macro_f1(gold: np.ndarray, pred: np.ndarray) -> float:
    """Macro-F1 over the emotions of boolean [n, 8] matrices, as
    :func:`emoethics.evals.metrics.multilabel_scores` computes it (fast, for tuning)."""
    tp = (gold & pred).sum(0).astype(float)
    fp, fn = (~gold & pred).sum(0), (gold & ~pred).sum(0)
    denom = 2 * tp + fp + fn
    return float(np.mean(np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 0.0)))


#: The decision rules that ``tune_rule`` chooses among, by family.
RULE_GRIDS: dict[str, list[DecisionRule]] = {
    "relative": [
        DecisionRule(relative=round(float(a), 2), floor=round(float(f), 2))
        for a in np.arange(0.3, 0.95, 0.05)
        for f in np.arange(0.0, 0.6, 0.05)
    ],
    "spread": [
        DecisionRule(spread=round(float(a), 2), floor=round(float(f), 2))
        for a in np.arange(0.5, 2.6, 0.1)
        for f in np.arange(0.0, 0.35, 0.05)
    ],
}
#: What ``tune_rule`` maximises: the mean macro-F1 over the sets whole and over their emotional
#: texts alone, or over their emotional texts only.
OBJECTIVES = ("whole and emotional", "emotional")


def tune_rule(
    sets: list[tuple[np.ndarray, list[frozenset[str]]]], family: str = "spread", objective: str = "emotional"
) -> DecisionRule:
    """The rule of ``family`` (:data:`RULE_GRIDS`) with the best mean macro-F1 over ``sets`` of
    (probabilities, gold label sets): on each set's emotional texts (those with at least one
    gold label), and with ``objective`` "whole and emotional" on each set whole as well. The
    whole set rewards a floor that keeps neutral texts empty; the emotional texts, how many
    emotions an emotional text carries, which is what counts where nearly every text expresses
    some (data collected for emotion: the headlines, and most public emotion sets)."""
    if objective not in OBJECTIVES:
        raise ValueError(f"objective: one of {OBJECTIVES}")
    views = []
    for p, g in sets:
        gold = np.array([[e in x for e in EMOTIONS] for x in g], dtype=bool)
        emotional = gold.any(axis=1)
        views += [(p[emotional], gold[emotional])]
        if objective == "whole and emotional":
            views += [(p, gold)]
    return max(RULE_GRIDS[family], key=lambda rule: np.mean([macro_f1(g, rule.labels(p)) for p, g in views]))


def tune_relative_rule(sets: list[tuple[np.ndarray, list[frozenset[str]]]]) -> DecisionRule:
    """The relative rule (relative, floor) chosen by :func:`tune_rule` on whole sets and their
    emotional texts (the sensor's rule before ``spread``)."""
    return tune_rule(sets, "relative", "whole and emotional")


def fit_calibration(sensor: EmotionSensor, examples: list[Example], min_support: int = 3) -> DecisionRule:
    """Per-emotion thresholds (and an intensity scale) fitted on ``examples``."""
    probs, _ = sensor.probabilities([e.text for e in examples])
    gold = np.array([[emo in e.labels for emo in EMOTIONS] for e in examples], dtype=bool)
    scale = 1.0
    pairs = [
        (probs[i, EMOTIONS.index(emo)], v)
        for i, e in enumerate(examples)
        for emo, v in e.intensity.items()
        if emo in EMOTIONS
    ]
    if pairs:
        p, g = np.array(pairs).T
        scale = float(np.clip((p * g).sum() / max((p * p).sum(), 1e-9), 0.5, 3.0))
    return DecisionRule(thresholds=fit_thresholds(probs, gold, min_support), intensity_scale=round(scale, 3))


def save_calibration(name: str, rule: DecisionRule, meta: dict) -> Path:
    """Store ``rule`` under ``name``; returns the file written."""
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", name):
        raise ConfigError(f"calibration name '{name}': use letters, digits, '-', '_', '.'")
    d = calibrations_dir()
    d.mkdir(parents=True, exist_ok=True)
    path = d / f"{name}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"rule": rule.model_dump(), **meta}, indent=2) + "\n")
    os.replace(tmp, path)
    return path


def load_calibration(name: str) -> DecisionRule:
    """The rule saved under ``name`` (or in the JSON file at path ``name``)."""
    path = Path(name) if name.endswith(".json") else calibrations_dir() / f"{name}.json"
    if not path.is_file():
        known = sorted(p.stem for p in calibrations_dir().glob("*.json"))
        raise ConfigError(
            f"no calibration '{name}'; saved: {', '.join(known) or 'none'} (create one with emoethics calibrate)"
        )
    try:
        return DecisionRule.model_validate(json.loads(path.read_text(encoding="utf-8"))["rule"])
    except (ValueError, KeyError) as e:
        raise ConfigError(f"calibration file {path} is damaged: {e}") from None
