"""Emotion signatures of behaviour levels: the emotion-mediated half of the judge (DIKE).

docs/specification.md section 4: the model rewrites seed texts at every level of a behaviour spectrum (e.g.
correspondence from hostile to devoted), the emotions of every rewrite are measured, and the
mean emotion vector of each level is its *signature*. A new text's behaviour is then read through
its emotion profile ("emotion-mediated"), which the paper compares with asking the model for the
behaviour directly.

:func:`learn_signatures` runs that study and returns a :class:`Signatures` file (JSON): per level
its signature (fitted on the training seeds), and every rewrite with its seed and measured vector
(provenance). Every fifth seed is held
out; :func:`compare_methods` scores both methods on the held-out rewrites. A new text is read as
the level whose signature is nearest to its emotions (standardised distance).

A level may have more than one signature: :func:`add_examples` adds texts written for the purpose
as a *variant* of a level (the built-in files have a ``distress`` variant of ``neutral``: sad,
worried or frightened texts that treat nobody badly, ``ethics/seeds/distress-*.txt``), so that a
negative emotion profile is not by itself a negative behaviour. A text is then read as the level
of its nearest signature, whichever variant that is.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field

from ..emotions.analysis import Analyzer, analyze_many
from ..errors import ConfigError, EmoethicsError, MalformedOutputError
from ..llm.base import Backend
from ..llm.structured import parse_text, text_schema
from ..prompting import render
from ..schema.profile import EmotionProfile
from .guidelines import BehaviourSpectrum

BUILTIN_DIR = Path(__file__).parent / "signatures"
HOLDOUT_EVERY = 5


def emotion_vector(profile: EmotionProfile) -> dict[str, float]:
    """The numbers a profile gives: signed intensity per spectrum, each emotion's probability,
    valence and arousal (rescaled to -1..1) when the analyser reports them."""
    v = {f"spectrum:{r.spectrum}": r.intensity for r in profile.readings}
    for e, p in (profile.emotions or {}).items():
        v[f"emotion:{e}"] = p
    if profile.valence is not None:
        v["valence"] = (profile.valence - 3.0) / 2.0
    if profile.arousal is not None:
        v["arousal"] = (profile.arousal - 3.0) / 2.0
    return v


class BehaviourReading(BaseModel):
    """A text's place on a behaviour spectrum, and how it was found."""

    spectrum: str
    level: str
    intensity: float
    method: Literal["emotion-mediated", "direct"]
    confidence: float = Field(ge=0.0, le=1.0)


class SignatureExample(BaseModel):
    seed: int
    level: str
    intensity: float
    text: str
    split: Literal["train", "heldout"]
    vector: dict[str, float]
    variant: str | None = Field(
        default=None,
        description=(
            "Set for texts written for the purpose rather than rewrites (e.g. 'distress': sad or "
            "frightened texts of neutral behaviour); they get a signature of their own."
        ),
    )


class LevelSignature(BaseModel):
    level: str
    intensity: float
    n: int
    mean: dict[str, float]
    variant: str | None = None


class Signatures(BaseModel):
    """Learned emotion signatures of one behaviour spectrum, with their provenance."""

    spectrum: BehaviourSpectrum
    generator: str
    analyzer: str
    created: str
    seeds_sha256: str
    features: list[str]
    levels: list[LevelSignature]
    examples: list[SignatureExample]
    skipped: list[dict[str, Any]] = Field(default_factory=list, description="Rewrites the model failed to produce.")
    center: list[float] = Field(description="Feature means of the training rewrites (for standardising).")
    scale: list[float] = Field(description="Feature standard deviations of the training rewrites.")

    @property
    def id(self) -> str:
        blob = json.dumps([self.features, self.center, [s.mean for s in self.levels]], sort_keys=True)
        return f"{self.spectrum.id}@{hashlib.sha256(blob.encode()).hexdigest()[:12]}"

    @cached_property
    def _centroids(self) -> np.ndarray:
        """The level signatures, standardised once (rows in level order)."""
        return np.array([self._x(s.mean) for s in self.levels])

    def _x(self, vector: dict[str, float]) -> np.ndarray:
        x = np.array([vector.get(f, 0.0) for f in self.features])
        return (x - np.array(self.center)) / np.array(self.scale)

    def classify(self, profile: EmotionProfile | dict[str, float]) -> BehaviourReading:
        """The behaviour level whose signature is nearest to the profile's emotions (standardised
        Euclidean distance); the confidence is that level's share of a softmax over the distances,
        with the neighbouring levels counting half (the levels are ordered)."""
        vec = emotion_vector(profile) if isinstance(profile, EmotionProfile) else profile
        x = self._x(vec)
        by_centroid = np.sum((self._centroids - x) ** 2, axis=1) / max(len(x), 1)
        # a level's distance is that of its nearest signature (variants included), in spectrum order
        order = [lv.word for lv in self.spectrum.levels if any(s.level == lv.word for s in self.levels)]
        d = np.array([min(by_centroid[k] for k, s in enumerate(self.levels) if s.level == w) for w in order])
        p = np.exp(-(d - d.min()) * 4.0)
        p /= p.sum()
        i = int(np.argmin(d))
        best = self.spectrum.level(order[i])
        near = sum(p[j] for j in (i - 1, i + 1) if 0 <= j < len(p))
        return BehaviourReading(
            spectrum=self.spectrum.id,
            level=best.word,
            intensity=best.intensity,
            method="emotion-mediated",
            confidence=round(float(min(1.0, p[i] + 0.5 * near)), 3),
        )

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(self.model_dump_json(indent=1), encoding="utf-8")
        tmp.replace(path)


def load_signatures(name_or_path: str | Path) -> Signatures:
    """Signatures by behaviour-spectrum name (the built-in ones) or by file path."""
    key = str(name_or_path)
    path = BUILTIN_DIR / f"{key}.json"
    if not path.is_file():
        path = Path(key).expanduser()
    if not path.is_file():
        have = ", ".join(sorted(p.stem for p in BUILTIN_DIR.glob("*.json"))) or "none"
        raise ConfigError(
            f"no emotion signatures '{key}': not a built-in ({have}) and no such file; "
            "learn them with: emoethics dike learn --seeds FILE --spectrum S"
        )
    try:
        return Signatures.model_validate_json(path.read_bytes())
    except ValueError as e:
        raise ConfigError(f"signature file {path} is not valid: {str(e).splitlines()[0]}") from None


def builtin_signatures(spectrum: str) -> Signatures | None:
    path = BUILTIN_DIR / f"{spectrum}.json"
    return load_signatures(path) if path.is_file() else None


def _provenance(generator: str, analyzer: str, skipped: list[dict[str, Any]], seeds_sha256: str) -> dict[str, Any]:
    """The models, skipped rewrites, seeds and time a signature file records."""
    return dict(
        generator=generator,
        analyzer=analyzer,
        skipped=skipped,
        seeds_sha256=seeds_sha256,
        created=datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )


def _fit(spectrum: BehaviourSpectrum, examples: list[SignatureExample], meta: dict[str, Any]) -> Signatures:
    train = [e for e in examples if e.split == "train"]
    if len({e.level for e in train}) < 2:
        raise EmoethicsError("too few rewrites to learn signatures: need training seeds at two levels at least")
    features = sorted({k for e in train for k in e.vector})
    X = np.array([[e.vector.get(f, 0.0) for f in features] for e in train])
    center, scale = X.mean(0), X.std(0) + 1e-6
    levels = []
    variants = [None] + sorted({e.variant for e in train if e.variant is not None})
    for variant in variants:
        for lv in spectrum.levels:
            rows = [e for e in train if e.level == lv.word and e.variant == variant]
            if rows:
                mean = {f: round(float(np.mean([e.vector.get(f, 0.0) for e in rows])), 4) for f in features}
                levels.append(
                    LevelSignature(level=lv.word, intensity=lv.intensity, n=len(rows), mean=mean, variant=variant)
                )
    return Signatures(
        spectrum=spectrum,
        features=features,
        levels=levels,
        examples=examples,
        center=center.round(6).tolist(),
        scale=scale.round(6).tolist(),
        **meta,
    )


def _levels_text(spectrum: BehaviourSpectrum) -> str:
    return "\n".join(f"- {lv.word}: {lv.description}" for lv in spectrum.levels)


def rewrite_at_behaviour(text: str, spectrum: BehaviourSpectrum, level: str, generator: Backend) -> str:
    """One rewrite of ``text`` showing behaviour ``level`` of ``spectrum``."""
    lv = spectrum.level(level)
    messages = render(
        "behaviour_rewrite",
        spectrum=spectrum.id,
        levels=_levels_text(spectrum),
        text=text,
        level=lv.word,
        description=lv.description or lv.word,
    )
    # a rewrite is about as long as its seed: the length cap ends degenerate repetition, and the
    # token budget leaves room for the cap (at worst about 2 characters a token) and the JSON
    max_chars = min(1600, 2 * len(text) + 80)
    schema = text_schema(max_chars)
    return generator.chat_json(messages, schema, _text_of, max_tokens=max_chars // 2 + 40)


def classify_directly(text: str, spectrum: BehaviourSpectrum, backend: Backend) -> BehaviourReading:
    """The baseline the paper compares with: ask the model for the behaviour level itself."""
    words = [lv.word for lv in spectrum.levels]
    messages = render("behaviour_classify", spectrum=spectrum.id, levels=_levels_text(spectrum), text=text)
    schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["level"],
        "properties": {"level": {"type": "string", "enum": words}},
    }

    def parse(data: Any) -> str:
        if not isinstance(data, dict) or data.get("level") not in words:
            raise ValueError(f"level must be one of {words}")
        return data["level"]

    word = backend.chat_json(messages, schema, parse, max_tokens=24)
    lv = spectrum.level(word)
    return BehaviourReading(spectrum=spectrum.id, level=word, intensity=lv.intensity, method="direct", confidence=0.5)


def _text_of(data: Any) -> str:
    """A graded rewrite: the answer's text without echoed prompt markers and repeated lines."""
    lines: list[str] = []
    for line in parse_text(data).replace("<<<", "").replace(">>>", "").splitlines():
        if line.strip() and line.strip() not in lines:  # drop echoed markers and repeated lines
            lines.append(line.strip())
    if not lines:
        raise ValueError('expected {"text": "<non-empty rewrite>"}')
    return " ".join(lines)


def learn_signatures(
    seeds: list[str],
    spectrum: BehaviourSpectrum,
    generator: Backend,
    analyzer: Analyzer,
    *,
    checkpoint: Path | None = None,
    on_step: Callable[[int, int], None] | None = None,
) -> Signatures:
    """Rewrite every seed at every level, measure each rewrite's emotions, fit the signatures.

    With ``checkpoint`` (a JSONL file), finished rewrites are appended as they are made and
    skipped on a re-run, so a long job that is stopped resumes where it was.
    """
    if not seeds:
        raise EmoethicsError("no seed texts given")
    done: dict[tuple[int, str], SignatureExample] = {}
    if checkpoint and checkpoint.is_file():
        for line in checkpoint.read_text(encoding="utf-8").splitlines():
            try:
                ex = SignatureExample.model_validate_json(line)
            except ValueError:
                continue  # a line cut off by a kill
            if ex.seed < len(seeds):
                done[(ex.seed, ex.level)] = ex
    total = len(seeds) * len(spectrum.levels)
    step = 0
    skipped: list[dict[str, Any]] = []
    sink = checkpoint.open("a", encoding="utf-8") if checkpoint else None
    try:
        for i, seed in enumerate(seeds):
            split = "heldout" if i % HOLDOUT_EVERY == HOLDOUT_EVERY - 1 else "train"
            for lv in spectrum.levels:
                step += 1
                if (i, lv.word) not in done:
                    try:
                        text = rewrite_at_behaviour(seed, spectrum, lv.word, generator)
                    except MalformedOutputError as e:  # one bad rewrite does not end a long job
                        skipped.append({"seed": i, "level": lv.word, "error": str(e)})
                        continue
                    vec = emotion_vector(analyzer.analyze(text))
                    ex = SignatureExample(
                        seed=i,
                        level=lv.word,
                        intensity=lv.intensity,
                        text=text,
                        split=split,
                        vector={k: round(v, 4) for k, v in vec.items()},
                    )
                    done[(i, lv.word)] = ex
                    if sink:
                        sink.write(ex.model_dump_json() + "\n")
                        sink.flush()
                if on_step:
                    on_step(step, total)
    finally:
        if sink:
            sink.close()
    examples = [done[(i, lv.word)] for i in range(len(seeds)) for lv in spectrum.levels if (i, lv.word) in done]
    return _fit(
        spectrum,
        examples,
        _provenance(generator.id, analyzer.name, skipped, hashlib.sha256("\n".join(seeds).encode()).hexdigest()),
    )


def remeasure_signatures(sig: Signatures, analyzer: Analyzer) -> Signatures:
    """The same rewrites measured again by ``analyzer`` and the signatures refitted: what to do
    when the measuring analyser changes (a retrained sensor), without rewriting anything."""
    profiles = analyze_many(analyzer, [e.text for e in sig.examples])
    examples = [
        e.model_copy(update={"vector": {k: round(v, 4) for k, v in emotion_vector(p).items()}})
        for e, p in zip(sig.examples, profiles, strict=True)
    ]
    return _fit(sig.spectrum, examples, _provenance(sig.generator, analyzer.name, sig.skipped, sig.seeds_sha256))


def add_examples(sig: Signatures, texts: list[str], level: str, variant: str, analyzer: Analyzer) -> Signatures:
    """``sig`` with ``texts`` (written for the purpose, not rewrites) as examples of ``level``
    under ``variant`` (replacing earlier examples of that variant), measured by ``analyzer`` and
    refitted; every fifth text is held out, as seeds are."""
    lv = sig.spectrum.level(level)
    first = 1 + max((e.seed for e in sig.examples if e.variant is None), default=-1)
    profiles = analyze_many(analyzer, texts)
    extra = [
        SignatureExample(
            seed=first + i,
            level=lv.word,
            intensity=lv.intensity,
            text=t,
            variant=variant,
            split="heldout" if i % HOLDOUT_EVERY == HOLDOUT_EVERY - 1 else "train",
            vector={k: round(v, 4) for k, v in emotion_vector(p).items()},
        )
        for i, (t, p) in enumerate(zip(texts, profiles, strict=True))
    ]
    examples = [e for e in sig.examples if e.variant != variant] + extra
    return _fit(sig.spectrum, examples, _provenance(sig.generator, analyzer.name, sig.skipped, sig.seeds_sha256))


class MethodScore(BaseModel):
    method: str
    accuracy: float = Field(description="Share of held-out rewrites classified at their level.")
    within_one: float = Field(description="Share within one level.")
    mean_level_error: float
    n: int


class Comparison(BaseModel):
    """Emotion-mediated versus direct behaviour classification on held-out seeds."""

    spectrum: str
    signatures: str
    heldout_seeds: int
    scores: list[MethodScore]
    rows: list[dict[str, Any]]


def compare_methods(
    sig: Signatures, backend: Backend | None, *, on_step: Callable[[int, int], None] | None = None
) -> Comparison:
    """Score both methods on the held-out rewrites (their target level is the label)."""
    held = [e for e in sig.examples if e.split == "heldout"]
    if not held:
        raise EmoethicsError("these signatures have no held-out rewrites to compare on")
    words = [lv.word for lv in sig.spectrum.levels]
    rows = []
    for n, ex in enumerate(held, 1):
        row = {"seed": ex.seed, "level": ex.level, "emotion-mediated": sig.classify(ex.vector).level}
        if backend is not None:
            row["direct"] = classify_directly(ex.text, sig.spectrum, backend).level
        rows.append(row)
        if on_step:
            on_step(n, len(held))
    scores = []
    for method in ("emotion-mediated", "direct"):
        if method not in rows[0]:
            continue
        err = [abs(words.index(str(r[method])) - words.index(str(r["level"]))) for r in rows]
        scores.append(
            MethodScore(
                method=method,
                n=len(err),
                accuracy=round(sum(e == 0 for e in err) / len(err), 4),
                within_one=round(sum(e <= 1 for e in err) / len(err), 4),
                mean_level_error=round(float(np.mean(err)), 4),
            )
        )
    return Comparison(
        spectrum=sig.spectrum.id, signatures=sig.id, heldout_seeds=len({e.seed for e in held}), scores=scores, rows=rows
    )
