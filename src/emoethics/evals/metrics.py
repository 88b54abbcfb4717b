"""Metrics for multi-label emotion classification and emotion intensity."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def multilabel_scores(gold: Sequence[frozenset[str]], pred: Sequence[frozenset[str]], labels: Sequence[str]) -> dict:
    """Macro-F1, micro-F1, example-based Jaccard and per-label precision/recall/F1.

    Jaccard of an example with no gold and no predicted labels counts as 1 (both say "none").
    """
    if len(gold) != len(pred):
        raise ValueError("gold and predictions differ in length")
    per = {}
    tp_all = fp_all = fn_all = 0
    for lab in labels:
        tp = sum(lab in g and lab in p for g, p in zip(gold, pred, strict=True))
        fp = sum(lab not in g and lab in p for g, p in zip(gold, pred, strict=True))
        fn = sum(lab in g and lab not in p for g, p in zip(gold, pred, strict=True))
        tp_all, fp_all, fn_all = tp_all + tp, fp_all + fp, fn_all + fn
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        per[lab] = {"precision": round(prec, 4), "recall": round(rec, 4), "f1": round(f1, 4), "support": tp + fn}
    micro_p = tp_all / (tp_all + fp_all) if tp_all + fp_all else 0.0
    micro_r = tp_all / (tp_all + fn_all) if tp_all + fn_all else 0.0
    micro = 2 * micro_p * micro_r / (micro_p + micro_r) if micro_p + micro_r else 0.0
    jacc = [len(g & p) / len(g | p) if g | p else 1.0 for g, p in zip(gold, pred, strict=True)]
    return {
        "n": len(gold),
        "macro_f1": round(float(np.mean([v["f1"] for v in per.values()])), 4),
        "micro_f1": round(micro, 4),
        "jaccard": round(float(np.mean(jacc)) if jacc else 0.0, 4),
        "labels_per_text_gold": round(float(np.mean([len(g) for g in gold])) if gold else 0.0, 3),
        "labels_per_text_pred": round(float(np.mean([len(p) for p in pred])) if pred else 0.0, 3),
        "per_label": per,
    }


def _ranks(x: np.ndarray) -> np.ndarray:
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(len(x), dtype=float)
    ranks[order] = np.arange(len(x), dtype=float)
    # average the ranks of ties
    _, inv, counts = np.unique(x, return_inverse=True, return_counts=True)
    sums = np.bincount(inv, weights=ranks)
    return sums[inv] / counts[inv]


def pearson(x: Sequence[float], y: Sequence[float]) -> float:
    """Pearson correlation; 0.0 when either side is constant."""
    a, b = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(a) < 2 or a.std() == 0 or b.std() == 0:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman rank correlation (Pearson of average ranks)."""
    return pearson(_ranks(np.asarray(x, dtype=float)).tolist(), _ranks(np.asarray(y, dtype=float)).tolist())
