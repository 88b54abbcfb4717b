"""Ethical guidelines as data: codes of conduct, a Wheel of Virtues, behaviour spectra, guardrails.

A guideline set is one YAML file (``ethics/data/default.yaml`` ships with emoethics; users load
their own with ``--guidelines FILE``) with four sections:

- ``conduct``: codes of conduct, each with a principle, a description, examples of violation and
  of compliance, and the severity of a violation (``review``, ``rectify`` or ``block``);
- ``virtues``: the Wheel of Virtues (docs/specification.md section 3), each virtue the balance between a vice
  of deficiency and a vice of excess;
- ``behaviours``: behaviour spectra (e.g. personal correspondence from hostile to devoted) with
  named levels at signed intensities, like an emotion spectrum;
- ``guardrails``: per context (domain, audience, culture) the allowed and the review range of
  behaviour intensity on a spectrum; behaviour outside the review range is forbidden and the
  judge's verdict is ``rectify`` (rewritten into the allowed range, docs/specification.md section 4).

A set is versioned by the hash of its content, so every verdict names the exact rules it used.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..datafiles import builtin_names, load_named, register_named
from ..errors import ConfigError

DATA_DIR = Path(__file__).parent / "data"
DEFAULT_GUIDELINES = "default"
Severity = Literal["review", "rectify", "block"]
Verdict = Literal["allow", "review", "rectify", "block"]
#: Verdicts from mildest to strictest.
VERDICT_ORDER: tuple[Verdict, ...] = ("allow", "review", "rectify", "block")


def stricter(a: Verdict, b: Verdict) -> Verdict:
    """The stricter of two verdicts."""
    return a if VERDICT_ORDER.index(a) >= VERDICT_ORDER.index(b) else b


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Conduct(_Strict):
    """One code of conduct."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    principle: str = Field(min_length=1)
    description: str = ""
    severity: Severity = "rectify"
    violation_examples: list[str] = Field(default_factory=list)
    compliance_examples: list[str] = Field(default_factory=list)


class Virtue(_Strict):
    """A virtue as the mean between two vices (deficiency and excess)."""

    virtue: str = Field(min_length=1)
    deficiency: str = Field(min_length=1)
    excess: str = Field(min_length=1)
    description: str = ""

    @property
    def id(self) -> str:
        return self.virtue.lower().replace(" ", "-")


class BehaviourLevel(_Strict):
    word: str = Field(min_length=1)
    intensity: float = Field(ge=-1.0, le=1.0)
    description: str = ""


class BehaviourSpectrum(_Strict):
    """A spectrum of behaviour, e.g. correspondence from hostile (-1) to devoted (+1)."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    description: str = ""
    levels: list[BehaviourLevel] = Field(min_length=3)

    @model_validator(mode="after")
    def _check(self) -> BehaviourSpectrum:
        xs = [lv.intensity for lv in self.levels]
        if any(b <= a for a, b in zip(xs, xs[1:], strict=False)):
            raise ValueError("level intensities must increase strictly from the negative end")
        words = [lv.word for lv in self.levels]
        if len(set(words)) != len(words):
            raise ValueError("level words repeat")
        return self

    def nearest(self, intensity: float) -> BehaviourLevel:
        return min(self.levels, key=lambda lv: abs(lv.intensity - intensity))

    def level(self, word: str) -> BehaviourLevel:
        for lv in self.levels:
            if lv.word == word:
                return lv
        raise ConfigError(
            f"behaviour spectrum '{self.id}' has no level '{word}' (levels: {', '.join(lv.word for lv in self.levels)})"
        )

    def index(self, word: str) -> int:
        return [lv.word for lv in self.levels].index(word)


class Guardrail(_Strict):
    """Allowed and review ranges of behaviour intensity for one context and culture."""

    context: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    culture: str = "any"
    audience: str = "general"
    description: str = ""
    behaviour: str
    allowed: tuple[float, float]
    review: tuple[float, float]

    @field_validator("allowed", "review")
    @classmethod
    def _range(cls, v: tuple[float, float]) -> tuple[float, float]:
        lo, hi = v
        if not -1.0 <= lo <= hi <= 1.0:
            raise ValueError("a range is [low, high] with -1 <= low <= high <= 1")
        return v

    @model_validator(mode="after")
    def _nested(self) -> Guardrail:
        if not (self.review[0] <= self.allowed[0] and self.allowed[1] <= self.review[1]):
            raise ValueError("the review range must contain the allowed range")
        return self

    def verdict_for(self, intensity: float) -> Verdict:
        """allow inside the allowed range, review inside the review range, else rectify."""
        if self.allowed[0] - 1e-9 <= intensity <= self.allowed[1] + 1e-9:
            return "allow"
        if self.review[0] - 1e-9 <= intensity <= self.review[1] + 1e-9:
            return "review"
        return "rectify"


class ConductRule(_Strict):
    """What a category of the conduct head counts as: the guideline it violates and how severely."""

    guideline: str = Field(min_length=1)
    severity: Severity = "rectify"


class GuidelineSet(_Strict):
    """A whole guideline file."""

    id: str = Field(min_length=1)
    description: str = ""
    conduct: list[Conduct] = Field(default_factory=list)
    virtues: list[Virtue] = Field(default_factory=list)
    behaviours: list[BehaviourSpectrum] = Field(default_factory=list)
    guardrails: list[Guardrail] = Field(default_factory=list)
    conduct_head: dict[str, ConductRule] = Field(
        default_factory=dict, description="Conduct head category -> the guideline and severity it counts as."
    )
    unsupported_language: Literal["review", "allow"] = Field(
        default="review",
        description="What the judge without a model does with a text in a language its instruments were not "
        "trained for: route it to review, or judge it as it reads it.",
    )

    @model_validator(mode="after")
    def _check(self) -> GuidelineSet:
        for cat, rule in self.conduct_head.items():
            if rule.guideline not in self.guideline_ids():
                raise ValueError(f"conduct_head '{cat}' names an unknown guideline '{rule.guideline}'")
        if not self.conduct and not self.virtues:
            raise ValueError("a guideline set needs at least one code of conduct or virtue")
        for name, ids in (
            ("guideline ids (conduct and virtues)", self.guideline_ids()),
            ("behaviour ids", [b.id for b in self.behaviours]),
        ):
            if len(set(ids)) != len(ids):
                raise ValueError(f"{name} repeat: {sorted({i for i in ids if ids.count(i) > 1})}")
        known = {b.id for b in self.behaviours}
        seen: set[tuple[str, str]] = set()
        for i, g in enumerate(self.guardrails):
            if g.behaviour not in known:
                raise ValueError(
                    f"guardrails[{i}] ({g.context}) names behaviour '{g.behaviour}', "
                    f"which is not among the behaviours ({', '.join(sorted(known))})"
                )
            if (g.context, g.culture) in seen:
                raise ValueError(f"guardrails[{i}]: context '{g.context}' with culture '{g.culture}' is given twice")
            seen.add((g.context, g.culture))
        return self

    @property
    def version(self) -> str:
        """``<id>@<first 12 hex digits of the sha256 of the content>``."""
        blob = json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
        return f"{self.id}@{hashlib.sha256(blob.encode()).hexdigest()[:12]}"

    def contexts(self) -> list[str]:
        return sorted({g.context for g in self.guardrails})

    def guardrail(self, context: str | None = None, culture: str | None = None) -> Guardrail:
        """The guardrail for ``context`` and ``culture`` (falling back to culture "any")."""
        if not self.guardrails:
            raise ConfigError(f"guideline set '{self.id}' defines no guardrails")
        context = context or self.guardrails[0].context
        matches = [g for g in self.guardrails if g.context == context]
        if not matches:
            raise ConfigError(
                f"unknown context '{context}' in guideline set '{self.id}' (contexts: {', '.join(self.contexts())})"
            )
        for g in matches:
            if culture and g.culture == culture:
                return g
        for g in matches:
            if g.culture == "any":
                return g
        if culture:
            cultures = ", ".join(sorted(g.culture for g in matches))
            raise ConfigError(
                f"context '{context}' has no culture '{culture}' and no 'any' fallback (cultures: {cultures})"
            )
        return matches[0]

    def behaviour(self, spectrum_id: str) -> BehaviourSpectrum:
        for b in self.behaviours:
            if b.id == spectrum_id:
                return b
        raise ConfigError(f"guideline set '{self.id}' has no behaviour spectrum '{spectrum_id}'")

    def conduct_item(self, guideline_id: str) -> Conduct | Virtue:
        for c in self.conduct:
            if c.id == guideline_id:
                return c
        for v in self.virtues:
            if v.id == guideline_id:
                return v
        raise ConfigError(f"guideline set '{self.id}' has no guideline '{guideline_id}'")

    def guideline_ids(self) -> list[str]:
        return [c.id for c in self.conduct] + [v.id for v in self.virtues]

    def describe(self) -> str:
        """The guidelines as numbered lines for a prompt."""
        lines = [f"- {c.id}: {c.principle}" + (f" ({c.description})" if c.description else "") for c in self.conduct]
        lines += [
            f"- {v.id}: the virtue of {v.virtue}, between {v.deficiency} (too little) and "
            f"{v.excess} (too much)" + (f": {v.description}" if v.description else "")
            for v in self.virtues
        ]
        return "\n".join(lines)


def register_guidelines(name: str, path: str | Path) -> None:
    """Make the guideline set in ``path`` loadable by ``name`` (``--guidelines NAME``; plugins)."""
    register_named(DATA_DIR, name, Path(path))


def builtin_guidelines() -> list[str]:
    """Names of the guideline sets shipped with emoethics."""
    return builtin_names(DATA_DIR)


def load_guidelines(name_or_path: str | Path | GuidelineSet = DEFAULT_GUIDELINES) -> GuidelineSet:
    """A built-in guideline set by name, or a user's YAML file by path."""
    if isinstance(name_or_path, GuidelineSet):
        return name_or_path
    return load_named(str(name_or_path), DATA_DIR, GuidelineSet, "guidelines")
