"""Run any analyser over a labelled data set and score it.

Label data (XED, GoEmotions, SemEval E-c, generic) is scored as multi-label classification over
Plutchik's eight emotions; intensity data (SemEval EI-reg, or generic with emotion columns) by
Pearson and Spearman correlation per emotion. An analyser's profile says an emotion is present
when it lists it as present (the sensor), else when the spectrum that has it as a pole leans
toward it (intensity on its side of zero). For
intensity, an analyser that scores every emotion on its own (the sensor's ``intensities``, else
its ``emotions`` probabilities) is scored on that; a profile without them, on the spectrum's
reading. The spectrum reading is the emotion's strength minus its opposite's, and zero unless
the emotion is present, so it throws away the graded signal that intensity data asks about: a
text rated for its anger also carries fear, or has anger below the presence rule's bar.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from ..emotions.analysis import Analyzer
from ..errors import EmoethicsError, InputError
from ..schema.profile import EmotionProfile
from ..textio import check_text
from .datasets import PLUTCHIK8, Example
from .metrics import multilabel_scores, pearson, spearman


def profile_labels(profile: EmotionProfile) -> frozenset[str]:
    """The Plutchik emotions a profile says are present: its own list where the analyser
    decides each emotion on its own (the sensor; both poles of a spectrum can be present),
    else the poles its readings lean toward."""
    if profile.present is not None:
        return frozenset(e for e in profile.present if e in PLUTCHIK8)
    return frozenset(r.emotion for r in profile.readings if r.intensity != 0 and r.emotion in PLUTCHIK8)


def profile_intensity(profile: EmotionProfile, emotion: str) -> float:
    """How strongly the profile expresses ``emotion``, in [0, 1]: its intensity where the
    analyser gives one per emotion (the sensor), else its probability, else the leaning of the
    spectrum that has it as a pole."""
    if profile.intensities and emotion in profile.intensities:
        return float(profile.intensities[emotion])
    if profile.emotions and emotion in profile.emotions:
        return float(profile.emotions[emotion])
    for r in profile.readings:
        if emotion == r.positive:
            return max(0.0, r.intensity)
        if emotion == r.negative:
            return max(0.0, -r.intensity)
    raise InputError(f"the analyser's emotion model has no pole '{emotion}'; use the plutchik model")


def sample(examples: list[Example], limit: int | None, seed: int) -> list[Example]:
    """A fixed-seed random sample of ``limit`` examples, kept in file order."""
    if limit is None or limit >= len(examples):
        return examples
    idx = sorted(random.Random(seed).sample(range(len(examples)), limit))
    return [examples[i] for i in idx]


def evaluate(
    analyzer: Analyzer,
    examples: list[Example],
    *,
    limit: int | None = None,
    seed: int = 0,
    on_done: Callable[[], None] | None = None,
) -> dict:
    """Scores of ``analyzer`` on ``examples`` (sampled to ``limit`` with ``seed``)."""
    chosen = sample(examples, limit, seed)
    if not chosen:
        raise InputError("no examples to evaluate")
    pairs: list[tuple[Example, EmotionProfile]] = []
    failures: list[str] = []
    start = time.perf_counter()
    batch = getattr(analyzer, "analyze_batch", None)
    if batch is not None:  # fast analysers: check texts first, then score in batches
        valid = []
        for ex in chosen:
            try:
                valid.append(Example(check_text(ex.text), ex.labels, ex.intensity))
            except InputError as e:
                failures.append(str(e))
        for i in range(0, len(valid), 1024):  # large batches: the encoder sorts them by length
            part = valid[i : i + 1024]
            pairs += zip(part, batch([ex.text for ex in part]), strict=True)
            if on_done:
                for _ in part:
                    on_done()
    else:
        for ex in chosen:
            try:
                pairs.append((ex, analyzer.analyze(check_text(ex.text))))
            except EmoethicsError as e:  # empty or over-long texts, model failures: counted
                failures.append(str(e))
            if on_done:
                on_done()
    seconds = time.perf_counter() - start
    if not pairs:
        raise InputError(f"every example failed; first problem: {failures[0]}")
    report: dict = {
        "analyzer": analyzer.name,
        "n": len(pairs),
        "failed": len(failures),
        "seed": seed,
        "seconds": round(seconds, 2),
        "texts_per_second": round(len(pairs) / seconds, 2) if seconds else None,
    }
    if any(ex.intensity for ex, _ in pairs):
        per = {}
        for emo in PLUTCHIK8:
            xs = [(ex.intensity[emo], profile_intensity(p, emo)) for ex, p in pairs if emo in ex.intensity]
            if len(xs) >= 2:
                gold, pred = zip(*xs, strict=True)
                per[emo] = {
                    "n": len(xs),
                    "pearson": round(pearson(gold, pred), 4),
                    "spearman": round(spearman(gold, pred), 4),
                }
        report["intensity"] = per
        if per:
            report["pearson_mean"] = round(sum(v["pearson"] for v in per.values()) / len(per), 4)
    if any(ex.labels for ex, _ in pairs) or not any(ex.intensity for ex, _ in pairs):
        report["classification"] = multilabel_scores(
            [ex.labels for ex, _ in pairs], [profile_labels(p) for _, p in pairs], PLUTCHIK8
        )
    if failures:
        report["first_failure"] = failures[0]
    return report
