"""An analyser that combines the emotion sensor with a language model.

The sensor (fast, calibrated probabilities) and the LLM (reads context, quotes cues) each give a
profile; the ensemble averages their signed intensities per spectrum with weight ``sensor_weight``,
takes the level nearest the average, the LLM's cues and the sensor's probabilities. With
``prefilter`` on, texts the sensor reads as clearly neutral skip the LLM call entirely, which makes
large batches much cheaper.
"""

from __future__ import annotations

from ..schema.profile import EmotionProfile, SpectrumReading
from ..schema.usage import Usage
from .analysis import Analyzer


class EnsembleAnalyzer:
    """Sensor + LLM; see the module docstring."""

    def __init__(
        self,
        sensor: Analyzer,
        llm: Analyzer,
        *,
        sensor_weight: float = 0.5,
        prefilter: bool = False,
        neutral_below: float = 0.15,
    ) -> None:
        if sensor.emotion_model.id != llm.emotion_model.id:
            raise ValueError("sensor and LLM analysers must use the same emotion model")
        self.sensor, self.llm = sensor, llm
        self.emotion_model = sensor.emotion_model
        self.sensor_weight = sensor_weight
        self.prefilter = prefilter
        self.neutral_below = neutral_below
        self.name = f"ensemble({sensor.name}, {llm.name})"

    def analyze(self, text: str) -> EmotionProfile:
        s = self.sensor.analyze(text)
        if self.prefilter and s.emotions and max(s.emotions.values()) < self.neutral_below:
            return s.model_copy(update={"analyzer": f"{self.name} [sensor only: neutral]"})
        m = self.llm.analyze(text)
        w = self.sensor_weight
        readings = []
        for rs, rm in zip(s.readings, m.readings, strict=True):
            spec = self.emotion_model.spectrum(rs.spectrum)
            value = round(w * rs.intensity + (1 - w) * rm.intensity, 3)
            lv = spec.nearest(value)
            readings.append(
                SpectrumReading(
                    spectrum=rs.spectrum,
                    negative=rs.negative,
                    positive=rs.positive,
                    intensity=value,
                    level=lv.word,
                    cues=rm.cues if lv.intensity else [],
                    confidence=round(w * rs.confidence + (1 - w) * rm.confidence, 3),
                )
            )
        usage = Usage()
        usage.add(m.usage)
        return EmotionProfile(
            emotion_model=self.emotion_model.id,
            analyzer=self.name,
            readings=readings,
            emotions=s.emotions,
            valence=s.valence,
            arousal=s.arousal,
            usage=usage,
        )
