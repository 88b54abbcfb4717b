"""The result of emotion analysis: one reading per spectrum of an emotion model."""

from __future__ import annotations

from pydantic import BaseModel, Field

from .language import LanguageReading
from .usage import Usage


class SpectrumReading(BaseModel):
    """What a text expresses on one spectrum."""

    spectrum: str
    negative: str
    positive: str
    intensity: float = Field(ge=-1.0, le=1.0, description="Signed: negative pole -1, positive +1.")
    level: str = Field(description="The level word nearest to the intensity.")
    cues: list[str] = Field(default_factory=list, description="Words of the text behind the reading.")
    confidence: float = Field(ge=0.0, le=1.0)

    @property
    def emotion(self) -> str:
        """The pole the reading leans toward, or the level word when neutral."""
        if self.intensity > 0:
            return self.positive
        if self.intensity < 0:
            return self.negative
        return self.level


class EmotionProfile(BaseModel):
    """Per-spectrum readings of one text, and which analyser produced them."""

    emotion_model: str
    analyzer: str = Field(description="Which analyser and model produced the readings.")
    readings: list[SpectrumReading]
    emotions: dict[str, float] | None = Field(
        default=None, description="Probability of each basic emotion (analysers that give them)."
    )
    intensities: dict[str, float] | None = Field(
        default=None,
        description="How strongly each basic emotion is expressed, 0..1, whether "
        "or not it counts as present (analysers that give them).",
    )
    present: list[str] | None = Field(
        default=None,
        description="The basic emotions the analyser counts as present, each "
        "decided on its own, so both poles of a spectrum can be (analysers that decide so).",
    )
    valence: float | None = Field(default=None, description="1 (negative) .. 5 (positive).")
    arousal: float | None = Field(default=None, description="1 (calm) .. 5 (excited).")
    usage: Usage = Field(default_factory=Usage)
    language: LanguageReading | None = Field(
        default=None,
        description="The detected language and whether the analyser was trained for it "
        "(analysers that detect it); an unsupported language caps every reading's confidence.",
    )

    def reading(self, spectrum: str) -> SpectrumReading:
        """The reading of spectrum id ``spectrum``."""
        for r in self.readings:
            if r.spectrum == spectrum:
                return r
        raise KeyError(spectrum)

    def dominant(self) -> SpectrumReading:
        """The reading of strongest absolute intensity (first spectrum on ties)."""
        return max(self.readings, key=lambda r: abs(r.intensity))

    def summary(self) -> str:
        """A short phrase such as 'sadness (-0.6), apprehension (-0.3)' of the non-neutral readings."""
        parts = [
            f"{r.level} ({r.intensity:+.1f})"
            for r in sorted(self.readings, key=lambda r: -abs(r.intensity))
            if abs(r.intensity) > 0
        ]
        return ", ".join(parts) or "neutral"
