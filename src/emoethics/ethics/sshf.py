"""SSHF: self-supervised learning with human feedback (docs/specification.md section 3), kept as a rulebook.

For each guideline and context the loop:

1. has the model write contrasting pairs of examples (violating / compliant): no human labels;
2. measures every example's emotions and asks the model for the rule and the linguistic features
   that separate the two sides; the mean emotion vectors of the two sides are the rule's emotion
   signature, with a threshold on the projection between them;
3. self-evaluates: the last pair of each rule is a probe the rule was not fitted on; a rule whose
   signature does not separate its probes is kept for the judge's prompt but not used to flag
   texts on its own (its ``active`` flag is off);
4. queues a sample of examples for people (``emoethics feedback``); their decisions (accept,
   reject, relabel an example; accept, reject, edit a rule) are applied when the next version is
   built from this one (``--from``), and the new version records which feedback items it used.

A :class:`Rulebook` is versioned JSON: rules, signatures, thresholds, self-evaluation, and the
provenance of every example (which model wrote it, from which prompt, or which person changed it).
``emoethics judge --rulebook FILE`` adds its rules to the judge.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field

from ..datafiles import data_dir
from ..emotions.analysis import Analyzer
from ..errors import ConfigError, EmoethicsError, InputError
from ..llm.base import Backend
from ..prompting import render
from ..schema.profile import EmotionProfile
from ..store.queue import Case, Feedback, ReviewStore
from ..store.records import Records
from .calibrate import Calibration
from .guidelines import Conduct, GuidelineSet, Severity
from .judge import GuidelineHit
from .signatures import emotion_vector

#: A rule flags texts on its own only when its signature classifies this share of its probes.
ACTIVE_ACCURACY = 0.75


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class RuleExample(BaseModel):
    """One generated (or human-corrected) example, with its provenance."""

    id: str
    rule: str
    text: str
    side: Literal["violating", "compliant"]
    pair: int
    split: Literal["train", "probe"]
    source: str = Field(description="'model:<backend id>' or 'human:<feedback id>'.")
    prompt_sha256: str
    vector: dict[str, float]


#: Where a rule stands: as learned, or as a person decided.
_RuleStatus = Literal["learned", "accepted", "rejected", "edited"]


class Rule(BaseModel):
    """What the model learned about one guideline in one context."""

    id: str
    guideline: str
    context: str
    statement: str
    features: list[str]
    severity: Severity
    status: _RuleStatus = "learned"
    violating_mean: dict[str, float]
    compliant_mean: dict[str, float]
    threshold: float = Field(description="On the projection onto violating_mean - compliant_mean.")
    train_accuracy: float
    probe_accuracy: float | None
    active: bool = Field(description="Flags texts on its own (self-evaluation passed or a person accepted it).")

    def score(self, vector: dict[str, float]) -> float:
        keys = sorted(self.violating_mean)
        d = np.array([self.violating_mean[k] - self.compliant_mean[k] for k in keys])
        mid = np.array([(self.violating_mean[k] + self.compliant_mean[k]) / 2 for k in keys])
        x = np.array([vector.get(k, 0.0) for k in keys])
        norm = float(np.linalg.norm(d)) or 1.0
        return float((x - mid) @ d / norm)


class Rulebook(BaseModel):
    """A version of the learned rules, with everything needed to audit or rebuild it."""

    version: int
    parent: str | None = Field(description="The id of the rulebook this one was built from.")
    created: str
    guidelines_version: str
    generator: str
    analyzer: str
    contexts: list[str]
    rules: list[Rule]
    examples: list[RuleExample]
    feedback_used: list[str] = Field(default_factory=list)
    evaluation: dict[str, Any] = Field(default_factory=dict)
    calibration: Calibration | None = Field(
        default=None, description="Gate thresholds fitted to reviewers' decisions (``sshf calibrate``)."
    )

    @property
    def id(self) -> str:
        blob = json.dumps(self.model_dump(mode="json", exclude={"created"}), sort_keys=True)
        return f"rulebook-v{self.version}@{hashlib.sha256(blob.encode()).hexdigest()[:12]}"

    # the interface the judge uses
    def rule_ids(self) -> list[str]:
        return [r.id for r in self.rules if r.status != "rejected"]

    def rule(self, rule_id: str) -> Rule:
        for r in self.rules:
            if r.id == rule_id:
                return r
        raise ConfigError(f"rulebook {self.id} has no rule '{rule_id}'")

    def prompt_lines(self) -> str:
        return "\n".join(
            f"- {r.id}: {r.statement}" + (f" Signs: {'; '.join(r.features)}." if r.features else "")
            for r in self.rules
            if r.status != "rejected"
        )

    def matches(self, text: str, profile: EmotionProfile) -> list[GuidelineHit]:
        """Active rules whose emotion signature the text's profile matches."""
        vec = emotion_vector(profile)
        return [
            GuidelineHit(
                guideline=r.id,
                kind="rule",
                principle=r.statement,
                severity="review",
                quote=text[:160],
                span=(0, min(len(text), 160)),
                source=f"rulebook {self.id}",
            )
            for r in self.rules
            if r.active and r.status != "rejected" and r.score(vec) > r.threshold
        ]

    def save(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(self.model_dump_json(indent=1), encoding="utf-8")
        tmp.replace(path)
        return path


def calibrated_rulebook(
    base: Rulebook | None, calibration: Calibration, guidelines: GuidelineSet, feedback_used: list[str]
) -> Rulebook:
    """The next version of ``base`` (or a first rulebook with no learned rules) carrying
    ``calibration``; ``feedback_used`` names the decisions it was fitted to."""
    contexts = sorted(
        {c.context for c in calibration.contexts if c.context != "*"} | set(base.contexts if base else [])
    )
    if base is None:
        return Rulebook(
            version=1,
            parent=None,
            created=_now(),
            guidelines_version=guidelines.version,
            generator="none",
            analyzer="none",
            contexts=contexts,
            rules=[],
            examples=[],
            feedback_used=sorted(feedback_used),
            calibration=calibration,
        )
    return base.model_copy(
        update={
            "version": base.version + 1,
            "parent": base.id,
            "created": _now(),
            "contexts": contexts,
            "feedback_used": sorted(set(base.feedback_used) | set(feedback_used)),
            "calibration": calibration,
        }
    )


def rulebooks_dir() -> Path:
    return data_dir() / "rulebooks"


def load_rulebook(path: Path | str, url: str | None = None) -> Rulebook:
    """A rulebook from a JSON file, or from the database by id (``rulebook-v3@...``), ``latest``
    or ``active`` (the one activated last, :meth:`.Records.activate_rulebook`); ``url`` names the
    database (default: the configured one)."""
    key = str(path)
    if key == "active":
        active = Records(url).active_rulebook()
        if active is None:
            raise ConfigError("no rulebook is active: activate one with 'emoethics sshf activate ID'")
        key = active
    if key == "latest" or (key.startswith("rulebook-v") and not Path(key).exists()):
        try:
            return Rulebook.model_validate(Records(url).rulebook_content(key))
        except InputError as e:
            raise ConfigError(str(e)) from None
    path = Path(path).expanduser()
    if not path.is_file():
        raise ConfigError(f"no rulebook file {path}")
    try:
        return Rulebook.model_validate_json(path.read_bytes())
    except ValueError as e:
        raise ConfigError(f"rulebook {path} is not valid: {str(e).splitlines()[0]}") from None


def _principle(item: Any) -> tuple[str, list[str], list[str], Severity]:
    if isinstance(item, Conduct):
        return (
            f"{item.principle} {item.description}".strip(),
            item.violation_examples,
            item.compliance_examples,
            item.severity,
        )
    return (
        f"the virtue of {item.virtue}: neither {item.deficiency} (too little) nor {item.excess} "
        f"(too much). {item.description}".strip(),
        [],
        [],
        "review",
    )


def _pairs_schema(n: int) -> dict[str, Any]:
    text = {"type": "string", "minLength": 10, "maxLength": 300}
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["pairs"],
        "properties": {
            "pairs": {
                "type": "array",
                "minItems": n,
                "maxItems": n,
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["violating", "compliant"],
                    "properties": {"violating": text, "compliant": text},
                },
            }
        },
    }


def _parse_pairs(data: Any) -> list[tuple[str, str]]:
    if not isinstance(data, dict) or not isinstance(data.get("pairs"), list) or not data["pairs"]:
        raise ValueError('expected {"pairs": [{"violating": ..., "compliant": ...}]}')
    out = []
    for p in data["pairs"]:
        if not isinstance(p, dict) or not all(
            isinstance(p.get(k), str) and p[k].strip() for k in ("violating", "compliant")
        ):
            raise ValueError("each pair needs a non-empty 'violating' and 'compliant' text")
        if p["violating"].strip() == p["compliant"].strip():
            raise ValueError("the two texts of a pair must differ")
        out.append((p["violating"].strip(), p["compliant"].strip()))
    return out


def _parse_rule(data: Any) -> tuple[str, list[str]]:
    if not isinstance(data, dict) or not isinstance(data.get("rule"), str) or not data["rule"].strip():
        raise ValueError('expected {"rule": "...", "features": [...]}')
    feats = [f.strip() for f in data.get("features", []) if isinstance(f, str) and f.strip()][:4]
    return data["rule"].strip(), feats


def _rule_schema() -> dict[str, Any]:
    """The answer the generator gives for a rule: its statement and up to four linguistic features."""
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["rule", "features"],
        "properties": {
            "rule": {"type": "string", "minLength": 5, "maxLength": 300},
            "features": {"type": "array", "maxItems": 4, "items": {"type": "string", "maxLength": 120}},
        },
    }


def _sha(messages: list[dict[str, str]]) -> str:
    return hashlib.sha256(json.dumps(messages, sort_keys=True).encode()).hexdigest()


def _fit_rule(base: dict[str, Any], examples: list[RuleExample]) -> Rule:
    train = [e for e in examples if e.split == "train"]
    probe = [e for e in examples if e.split == "probe"]
    keys = sorted({k for e in examples for k in e.vector})

    def mean(side: str, rows: list[RuleExample]) -> dict[str, float]:
        xs = [e for e in rows if e.side == side] or [e for e in examples if e.side == side]
        return {k: round(float(np.mean([e.vector.get(k, 0.0) for e in xs])), 4) if xs else 0.0 for k in keys}

    rule = Rule(
        violating_mean=mean("violating", train),
        compliant_mean=mean("compliant", train),
        threshold=0.0,
        train_accuracy=0.0,
        probe_accuracy=None,
        active=False,
        **base,
    )

    def acc(rows: list[RuleExample], t: float) -> float:
        return float(np.mean([(rule.score(e.vector) > t) == (e.side == "violating") for e in rows]))

    scores = sorted(rule.score(e.vector) for e in train)
    cuts = [0.0] + [(a + b) / 2 for a, b in zip(scores, scores[1:], strict=False)]
    best = max(cuts, key=lambda t: (acc(train, t), -abs(t))) if train else 0.0
    rule.threshold = round(best, 4)
    rule.train_accuracy = round(acc(train, best), 4) if train else 0.0
    rule.probe_accuracy = round(acc(probe, best), 4) if probe else None
    rule.active = rule.status == "accepted" or (
        rule.status != "rejected" and rule.probe_accuracy is not None and rule.probe_accuracy >= ACTIVE_ACCURACY
    )
    return rule


def learn_rulebook(
    guidelines: GuidelineSet,
    contexts: list[str],
    generator: Backend,
    analyzer: Analyzer,
    *,
    only: list[str] | None = None,
    pairs: int = 4,
    previous: Rulebook | None = None,
    store: ReviewStore | None = None,
    sample: int = 1,
    on_step: Callable[[str], None] | None = None,
) -> Rulebook:
    """One turn of the SSHF loop; see the module docstring. With ``previous``, its examples are
    reused (no new generation for rules it has) and the feedback given since is applied."""
    if pairs < 2:
        raise EmoethicsError("SSHF needs at least 2 pairs per rule (one is kept as a probe)")
    ids = only or guidelines.guideline_ids()
    for c in contexts:
        guidelines.guardrail(c)  # unknown contexts fail early
    store = store or ReviewStore()
    feedback = [f for f in store.feedback() if previous is None or f.id not in previous.feedback_used]
    examples: list[RuleExample] = [e.model_copy() for e in previous.examples] if previous else []
    turn = _Turn(
        generator=generator,
        analyzer=analyzer,
        pairs=pairs,
        on_step=on_step,
        feedback=feedback,
        old_rules={r.id: r for r in previous.rules} if previous else {},
        examples=examples,
        used=_apply_example_feedback(examples, feedback, store),
    )
    for gid in ids:
        principle = _principle(guidelines.conduct_item(gid))
        for context in contexts:
            turn.learn(gid, principle, context)
    book = turn.rulebook(guidelines, contexts, previous)
    _queue_sample(book, store, sample)
    records = Records(store.url)
    records.save_guidelines(guidelines)
    records.save_rulebook(book)
    return book


@dataclass
class _Turn:
    """The state of one turn of the SSHF loop: the examples (reused and new), the rules learned so
    far, the feedback not yet in the previous version and the ids of the items applied."""

    generator: Backend
    analyzer: Analyzer
    pairs: int
    on_step: Callable[[str], None] | None
    feedback: list[Feedback]
    old_rules: dict[str, Rule]
    examples: list[RuleExample]
    used: list[str]
    rules: list[Rule] = field(default_factory=list)

    def learn(self, gid: str, principle: tuple[str, list[str], list[str], Severity], context: str) -> None:
        """Learn (or carry over) the rule of guideline ``gid`` in ``context``, apply people's
        decisions on it, and fit its emotion signature to its examples."""
        text, viol, comp, severity = principle
        rid = f"{gid}@{context}"
        mine = [e for e in self.examples if e.rule == rid]
        if not mine:
            mine = self.generate_examples(rid, f"{gid}: {text}", context, viol, comp)
            self.examples += mine
        old = self.old_rules.get(rid)
        if old is not None:
            statement, features, status = old.statement, old.features, old.status
        else:
            statement, features = self.extract_rule(rid, f"{gid}: {text}", context, mine)
            status = "learned"
        statement, status = self.apply_rule_feedback(rid, statement, status)
        base = dict(
            id=rid,
            guideline=gid,
            context=context,
            statement=statement,
            features=features,
            severity=severity,
            status=status,
        )
        self.rules.append(_fit_rule(base, [e for e in self.examples if e.rule == rid]))

    def step(self, message: str) -> None:
        """Report progress, if asked to."""
        if self.on_step:
            self.on_step(message)

    def generate_examples(
        self, rid: str, guideline: str, context: str, violations: list[str], compliances: list[str]
    ) -> list[RuleExample]:
        """Have the generator write contrasting pairs for rule ``rid`` and measure their emotions;
        the last pair is the probe."""
        self.step(f"generating examples for {rid}")
        msgs = render(
            "sshf_generate",
            guideline=guideline,
            context=context,
            violations="; ".join(violations) or "(none given)",
            compliances="; ".join(compliances) or "(none given)",
            n=self.pairs,
        )
        got = self.generator.chat_json(msgs, _pairs_schema(self.pairs), _parse_pairs, max_tokens=180 * self.pairs)
        texts = [(i, side, t) for i, (v, c) in enumerate(got) for side, t in (("violating", v), ("compliant", c))]
        profiles = _profiles(self.analyzer, [t for _, _, t in texts])
        return [
            RuleExample(
                id=f"{rid}#{i}{side[0]}",
                rule=rid,
                text=t,
                side=side,
                pair=i,
                split="probe" if i == len(got) - 1 else "train",
                source=f"model:{self.generator.id}",
                prompt_sha256=_sha(msgs),
                vector=_rounded(emotion_vector(p)),
            )
            for (i, side, t), p in zip(texts, profiles, strict=True)
        ]

    def extract_rule(self, rid: str, guideline: str, context: str, mine: list[RuleExample]) -> tuple[str, list[str]]:
        """Ask the generator for the rule and the linguistic features that separate the two sides."""
        self.step(f"extracting the rule of {rid}")
        return self.generator.chat_json(
            render(
                "sshf_features",
                guideline=guideline,
                context=context,
                violating="\n".join(f"- {e.text}" for e in mine if e.side == "violating"),
                compliant="\n".join(f"- {e.text}" for e in mine if e.side == "compliant"),
            ),
            _rule_schema(),
            _parse_rule,
            max_tokens=220,
        )

    def apply_rule_feedback(self, rid: str, statement: str, status: _RuleStatus) -> tuple[str, _RuleStatus]:
        """People's decisions on rule ``rid`` (accept, reject, edit), in the order given; each is
        recorded as used."""
        for f in self.feedback:
            if f.rule_id == rid:
                self.used.append(f.id)
                if f.decision == "accept":
                    status = "accepted"
                elif f.decision == "reject":
                    status = "rejected"
                elif f.decision == "edit-rule" and f.rule_text:
                    statement, status = f.rule_text, "edited"
        return statement, status

    def rulebook(self, guidelines: GuidelineSet, contexts: list[str], previous: Rulebook | None) -> Rulebook:
        """The version after ``previous`` (or the first), with the rules learned, their examples,
        the feedback used and the self-evaluation."""
        rules, used = self.rules, self.used
        probes = [r.probe_accuracy for r in rules if r.probe_accuracy is not None]
        return Rulebook(
            version=(previous.version + 1) if previous else 1,
            parent=previous.id if previous else None,
            created=_now(),
            guidelines_version=guidelines.version,
            generator=self.generator.id,
            analyzer=self.analyzer.name,
            contexts=contexts,
            rules=rules,
            examples=[e for e in self.examples if any(e.rule == r.id for r in rules)],
            feedback_used=sorted(set((previous.feedback_used if previous else []) + used)),
            evaluation={
                "probe_accuracy_mean": round(float(np.mean(probes)), 4) if probes else None,
                "rules": len(rules),
                "active_rules": sum(r.active for r in rules),
                "examples": len(self.examples),
                "feedback_applied": len(set(used)),
            },
        )


def _rounded(v: dict[str, float]) -> dict[str, float]:
    return {k: round(x, 4) for k, x in v.items()}


def _profiles(analyzer: Analyzer, texts: list[str]) -> list[EmotionProfile]:
    batch = getattr(analyzer, "analyze_batch", None)
    return batch(texts) if batch else [analyzer.analyze(t) for t in texts]


def _apply_example_feedback(examples: list[RuleExample], feedback: list[Feedback], store: ReviewStore) -> list[str]:
    """Relabel or drop examples that people corrected through their review cases."""
    used = []
    by_id = {e.id: e for e in examples}
    cases = {c.id: c for c in store.cases() if c.kind == "sshf-sample"}
    for f in feedback:
        case = cases.get(f.case_id or "")
        ex = by_id.get(case.detail.get("example_id", "")) if case else None
        if ex is None:
            continue
        used.append(f.id)
        if f.decision == "reject":
            examples.remove(ex)
        elif f.decision == "relabel" and f.label in ("violating", "compliant") and f.label != ex.side:
            ex.side = f.label  # type: ignore[assignment]
            ex.source = f"human:{f.id}"
    return used


def _queue_sample(book: Rulebook, store: ReviewStore, per_rule: int) -> None:
    """Queue ``per_rule`` examples of each new rule for a person to check."""
    if per_rule <= 0:
        return
    asked = {c.detail.get("example_id") for c in store.cases() if c.kind == "sshf-sample"}
    for r in book.rules:
        mine = [e for e in book.examples if e.rule == r.id and e.id not in asked][:per_rule]
        for e in mine:
            store.enqueue(
                Case(
                    kind="sshf-sample",
                    text=e.text,
                    context=r.context,
                    verdict=e.side,
                    confidence=r.probe_accuracy or 0.0,
                    rationale=r.statement,
                    guidelines=[r.guideline],
                    rulebook_version=book.id,
                    detail={"example_id": e.id, "rule_id": r.id, "side": e.side, "features": r.features},
                )
            )
