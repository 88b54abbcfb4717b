"""Emotion models as data.

An emotion model is a set of *spectra*. Each spectrum joins two opposing emotions (its poles):
signed intensity runs from the negative pole at -1.0 to the positive pole at +1.0, and a list of
named *levels* anchors points of that scale ("grief" -1.0 ... "ecstasy" +1.0). The level word of
an intensity is the nearest anchor.

Two models ship as YAML files in ``schema/data``: ``plutchik`` (default, four opposing pairs)
and ``beam`` (the 7x7 BEAM table). :func:`load_model` takes either name or the path of a user's
own YAML file with the same fields, and validates it with pydantic.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..datafiles import builtin_names, load_named, register_named
from ..errors import ConfigError

DATA_DIR = Path(__file__).parent / "data"
DEFAULT_MODEL = "plutchik"


class Level(BaseModel):
    """A named point on a spectrum."""

    model_config = ConfigDict(frozen=True)

    word: str
    intensity: float
    index: int = Field(description="Position from the negative end, 0-based.")


@lru_cache(maxsize=256)
def _anchors(levels: tuple[str, ...], scale: tuple[float, ...]) -> tuple[Level, ...]:
    """A spectrum's levels with their intensities (cached: the sensor asks per text)."""
    return tuple(Level(word=w, intensity=x, index=i) for i, (w, x) in enumerate(zip(levels, scale, strict=True)))


class Spectrum(BaseModel):
    """Two opposing emotions and the named levels between them."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, description="Identifier, by convention 'negative-positive'.")
    negative: str = Field(min_length=1, description="Emotion at intensity -1.0.")
    positive: str = Field(min_length=1, description="Emotion at intensity +1.0.")
    levels: list[str] = Field(min_length=3, description="Level words from -1.0 to +1.0.")
    scale: list[float] | None = Field(
        default=None, description="Anchor intensities of the levels; defaults to the model's."
    )
    notes: str = ""

    @model_validator(mode="after")
    def _check(self) -> Spectrum:
        if self.negative.lower() == self.positive.lower():
            raise ValueError("negative and positive poles must differ")
        words = [w.lower() for w in self.levels]
        if any(not w.strip() for w in words):
            raise ValueError("level words must not be empty")
        dup = {w for w in words if words.count(w) > 1}
        if dup:
            raise ValueError(f"level words repeat within the spectrum: {sorted(dup)}")
        if self.scale is not None:
            _check_scale(self.scale, len(self.levels))
        return self

    def anchors(self) -> list[Level]:
        """The levels with their intensities, from the negative end to the positive end."""
        assert self.scale is not None  # filled in by EmotionModel
        return list(_anchors(tuple(self.levels), tuple(self.scale)))

    def nearest(self, intensity: float) -> Level:
        """The level whose anchor is nearest to ``intensity`` (ties go toward neutral)."""
        assert self.scale is not None
        return min(
            _anchors(tuple(self.levels), tuple(self.scale)),
            key=lambda lv: (abs(lv.intensity - intensity), abs(lv.intensity)),
        )

    def level(self, word: str) -> Level:
        """The level named ``word`` (case-insensitive)."""
        for lv in self.anchors():
            if lv.word.lower() == word.lower():
                return lv
        raise ConfigError(f"'{word}' is not a level of spectrum {self.id}; levels: {', '.join(self.levels)}")

    def neutral(self) -> Level:
        """The level nearest to zero intensity."""
        return self.nearest(0.0)

    def sign_of(self, emotion: str) -> int:
        """+1 if ``emotion`` is the positive pole, -1 if negative, 0 otherwise."""
        e = emotion.lower()
        return 1 if e == self.positive.lower() else -1 if e == self.negative.lower() else 0

    def describe(self) -> str:
        """One line naming the levels in order, for prompts."""
        return f"{self.id}: " + " < ".join(self.levels)


class EmotionModel(BaseModel):
    """A named set of spectra, loaded from a YAML file."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    name: str = ""
    description: str = ""
    source: str = ""
    scale: list[float] | None = Field(default=None, description="Default anchor intensities.")
    spectra: list[Spectrum] = Field(min_length=1)

    @model_validator(mode="after")
    def _fill_scales(self) -> EmotionModel:
        ids = [s.id for s in self.spectra]
        dup = {i for i in ids if ids.count(i) > 1}
        if dup:
            raise ValueError(f"spectrum ids repeat: {sorted(dup)}")
        for i, s in enumerate(self.spectra):
            if s.scale is None:
                if self.scale is None:
                    raise ValueError(f"spectra[{i}] ({s.id}) has no scale and the model has none")
                try:
                    _check_scale(self.scale, len(s.levels))
                except ValueError as e:
                    raise ValueError(f"spectra[{i}] ({s.id}): {e}") from None
                s.scale = list(self.scale)
        return self

    def spectrum(self, key: str) -> Spectrum:
        """The spectrum with id ``key``, or the one that has ``key`` as a pole."""
        k = key.lower().strip()
        for s in self.spectra:
            if s.id.lower() == k:
                return s
        for s in self.spectra:
            if s.sign_of(k):
                return s
        raise ConfigError(
            f"emotion model '{self.id}' has no spectrum or pole named '{key}'; "
            f"spectra: {', '.join(s.id for s in self.spectra)}; "
            f"poles: {', '.join(self.poles())}"
        )

    def poles(self) -> list[str]:
        """Every pole emotion of the model."""
        return [p for s in self.spectra for p in (s.negative, s.positive)]

    def find_level(self, word: str, spectrum: str | None = None) -> tuple[Spectrum, Level]:
        """The spectrum and level named ``word``; ``spectrum`` disambiguates shared words."""
        if spectrum:
            s = self.spectrum(spectrum)
            return s, s.level(word)
        hits = [(s, lv) for s in self.spectra for lv in s.anchors() if lv.word.lower() == word.lower()]
        if not hits:
            known = sorted({w for s in self.spectra for w in s.levels})
            raise ConfigError(f"no level named '{word}' in emotion model '{self.id}'; known levels: {', '.join(known)}")
        if len(hits) > 1:
            raise ConfigError(
                f"level '{word}' occurs in several spectra ({', '.join(s.id for s, _ in hits)}); name the spectrum too"
            )
        return hits[0]


class Target(BaseModel):
    """Where a rewrite should land: a spectrum, a signed intensity and its level word."""

    spectrum: str
    intensity: float = Field(ge=-1.0, le=1.0)
    level: str


def resolve_target(
    model: EmotionModel,
    emotion: str | None = None,
    intensity: float | None = None,
    level: str | None = None,
) -> Target:
    """Turn the user's words into a :class:`Target`.

    - ``level="ecstasy"``: the level's spectrum and anchor (``emotion`` may name the spectrum).
    - ``emotion="joy", intensity=0.6``: a pole and a strength in [0, 1] toward it.
    - ``emotion="sadness-joy", intensity=-0.6``: a spectrum id and a signed intensity.
    """
    if level:
        spec, lv = model.find_level(level, emotion)
        if intensity is not None and abs(intensity - lv.intensity) > 1e-9:
            raise ConfigError(
                f"level '{lv.word}' is intensity {lv.intensity:+.1f}; give either a level or an intensity, not both"
            )
        return Target(spectrum=spec.id, intensity=lv.intensity, level=lv.word)
    if not emotion:
        raise ConfigError("name a target: an emotion with an intensity, or a level word")
    if intensity is None:
        raise ConfigError(f"give an intensity for '{emotion}' (0..1 toward a pole, or a level)")
    spec = model.spectrum(emotion)
    sign = spec.sign_of(emotion)
    if sign:  # a pole: intensity is a strength toward it
        if not 0.0 <= intensity <= 1.0:
            raise ConfigError(f"intensity toward '{emotion}' must be in [0, 1], got {intensity}")
        value = sign * intensity
    else:
        if not -1.0 <= intensity <= 1.0:
            raise ConfigError(f"intensity on '{spec.id}' must be in [-1, 1], got {intensity}")
        value = intensity
    return Target(spectrum=spec.id, intensity=value, level=spec.nearest(value).word)


def register_emotion_model(name: str, path: str | Path) -> None:
    """Make the emotion model in ``path`` loadable by ``name`` (``--emotion-model NAME``; plugins)."""
    register_named(DATA_DIR, name, Path(path))


def builtin_models() -> list[str]:
    """Names of the emotion models shipped with emoethics."""
    return builtin_names(DATA_DIR)


def load_model(name_or_path: str | Path | EmotionModel = DEFAULT_MODEL) -> EmotionModel:
    """Load a built-in emotion model by name, or a user's YAML file by path."""
    if isinstance(name_or_path, EmotionModel):
        return name_or_path
    return load_named(str(name_or_path), DATA_DIR, EmotionModel, "emotion model")


def _check_scale(scale: list[float], n_levels: int) -> None:
    if len(scale) != n_levels:
        raise ValueError(f"scale has {len(scale)} points but there are {n_levels} level words")
    if any(not -1.0 <= x <= 1.0 for x in scale):
        raise ValueError("scale points must lie in [-1, 1]")
    if any(b <= a for a, b in zip(scale, scale[1:], strict=False)):
        raise ValueError("scale points must increase strictly from the negative end")
