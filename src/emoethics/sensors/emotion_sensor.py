"""The emotion sensor: a fast, non-LLM analyser of Plutchik's eight emotions.

Features are the sentence embedding of all-MiniLM-L6-v2 fine-tuned on emotion data (ONNX int8,
:func:`emoethics.sensors.embedding.get_emotion_encoder`; emoji are read as their names) plus
VADER's four sentiment scores (VADER handles negation: "not happy" scores negative). Small linear
heads trained by ``training/train_sensor.py`` (``make train``) turn them into a probability per
emotion, and valence and arousal on EmoBank's 1..5 scale. The heads are a small ``.npz`` file
committed with a manifest of the data, date and dev metrics.

Which emotions are *present* is decided by a rule that does not depend on the training domain's
absolute probabilities: an emotion is present when its probability is at least ``relative`` times
the text's strongest emotion, and the strongest is at least ``floor``. A named calibration fitted
on a user's labelled file (``emoethics calibrate``) replaces the rule with per-emotion
thresholds. The probabilities fold onto each spectrum of the emotion model: intensity =
strength(positive pole) - strength(negative pole), where an emotion's strength is its
probability if present and 0 otherwise.
"""

from __future__ import annotations

import json
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from ..emotions.models import EmotionModel, load_model
from ..emotions.profile import EmotionProfile, SpectrumReading
from ..errors import ConfigError, ModelFileError
from ..textio import check_text
from .embedding import Encoder, get_emotion_encoder
from .emoji_words import spell_out_emoji

HEADS_DIR = Path(__file__).parent / "heads"
DEFAULT_HEADS = HEADS_DIR / "plutchik-minilm-vader.npz"
EMOTIONS = ("anger", "anticipation", "disgust", "fear", "joy", "sadness", "surprise", "trust")


class DecisionRule(BaseModel):
    """How probabilities become labels: relative to the strongest, or fixed thresholds."""

    relative: float = Field(0.5, ge=0, le=1, description="Present if p >= relative * max p ...")
    floor: float = Field(0.3, ge=0, le=1, description="... and max p >= floor.")
    thresholds: dict[str, float] | None = Field(None, description="Per-emotion thresholds "
                                                "(a calibration); replaces the relative rule.")
    intensity_scale: float = Field(1.0, gt=0, description="Multiplies strengths (a calibration).")

    def labels(self, probs: np.ndarray) -> np.ndarray:
        """Boolean matrix [n, 8] of present emotions."""
        if self.thresholds:
            t = np.array([self.thresholds.get(e, 0.5) for e in EMOTIONS])
            return probs >= t
        top = probs.max(axis=1, keepdims=True)
        return (probs >= self.relative * top) & (top >= self.floor)


def label_sets(mask: np.ndarray) -> list[frozenset[str]]:
    """Rows of a boolean [n, 8] matrix as sets of emotion names."""
    return [frozenset(e for e, v in zip(EMOTIONS, row, strict=True) if v) for row in mask]


_vader_lock = threading.Lock()


@lru_cache(maxsize=1)
def _vader():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def vader_features(texts: list[str]) -> np.ndarray:
    """VADER's neg, neu, pos and compound scores per text."""
    v = _vader()
    with _vader_lock:
        rows = [v.polarity_scores(t) for t in texts]
    return np.array([[r["neg"], r["neu"], r["pos"], r["compound"]] for r in rows], dtype=np.float32)


def features(texts: list[str], encoder: Encoder | None = None) -> np.ndarray:
    """The sensor's input features: [emotion-tuned MiniLM embedding (384), VADER (4)]
    (``encoder``: another encoder instead, for experiments). The encoder reads emoji as their
    names (:func:`spell_out_emoji`); VADER reads the text as it is (it knows emoji itself)."""
    encoder = encoder or get_emotion_encoder()
    embedded = encoder.encode([spell_out_emoji(t) for t in texts])
    return np.hstack([embedded, vader_features(texts)]).astype(np.float32)


class EmotionSensor:
    """Non-LLM analyser: MiniLM + VADER features, linear heads, a transferable decision rule."""

    def __init__(self, model: str | EmotionModel = "plutchik", heads: Path | None = None,
                 rule: DecisionRule | None = None, calibration_name: str | None = None) -> None:
        self.emotion_model = load_model(model)
        path = heads or DEFAULT_HEADS
        if not path.is_file():
            raise ModelFileError(f"sensor heads {path} are missing; rebuild them with make train")
        with np.load(path) as z:
            self.W, self.b = z["emotion_W"], z["emotion_b"]
            self.va_W, self.va_b = z["va_W"], z["va_b"]
            default_rule = json.loads(str(z["rule"])) if "rule" in z else {}
        self.rule = rule or DecisionRule(**default_rule)
        self.name = "sensor:minilm-vader" + (f"+{calibration_name}" if calibration_name else "")
        for s in self.emotion_model.spectra:
            if s.negative not in EMOTIONS and s.positive not in EMOTIONS:
                raise ConfigError(f"the sensor reads Plutchik's eight emotions; spectrum {s.id} of "
                                  f"'{self.emotion_model.id}' has neither pole among them")

    def probabilities(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(emotion probabilities [n, 8], valence/arousal [n, 2] on 1..5) for ``texts``."""
        x = features(texts)
        probs = 1.0 / (1.0 + np.exp(-(x @ self.W + self.b)))
        va = np.clip(x @ self.va_W + self.va_b, 1.0, 5.0)
        return probs, va

    def analyze(self, text: str) -> EmotionProfile:
        """The emotion profile of one text, with cues (the words whose removal lowers the
        leaning emotion's probability most)."""
        return self.analyze_batch([text], cues=True)[0]

    def cues(self, text: str, base: np.ndarray, top: int = 3, min_drop: float = 0.02) -> list[list[str]]:
        """Per emotion, up to ``top`` words of ``text`` that carry it (occlusion: drop each word,
        see how far the emotion's probability falls)."""
        words = text.split()
        if not 2 <= len(words) <= 80:
            return [[] for _ in EMOTIONS]
        variants = [" ".join(words[:i] + words[i + 1:]) for i in range(len(words))]
        drops = base[None, :] - self.probabilities(variants)[0]
        out = []
        for j in range(len(EMOTIONS)):
            order = np.argsort(-drops[:, j])[:top]
            out.append([words[i].strip(".,!?;:\"'()") or words[i] for i in sorted(order)
                        if drops[i, j] >= min_drop])
        return out

    def analyze_batch(self, texts: list[str], cues: bool = False) -> list[EmotionProfile]:
        """Profiles of many texts, computed in batches (hundreds per second); ``cues`` costs one
        more encoding per word of each text."""
        texts = [check_text(t) for t in texts]
        probs, va = self.probabilities(texts)
        present = self.rule.labels(probs)
        strength = np.clip(probs * present * self.rule.intensity_scale, 0.0, 1.0)
        idx = {e: i for i, e in enumerate(EMOTIONS)}
        out = []
        for n in range(len(texts)):
            cue_words = self.cues(texts[n], probs[n]) if cues else [[] for _ in EMOTIONS]
            readings = []
            for s in self.emotion_model.spectra:
                pos = strength[n, idx[s.positive]] if s.positive in idx else 0.0
                neg = strength[n, idx[s.negative]] if s.negative in idx else 0.0
                value = float(np.clip(pos - neg, -1.0, 1.0))
                lv = s.nearest(value)
                # confidence: how sure the heads are of the leaning pole (or of neither)
                p_pos = probs[n, idx[s.positive]] if s.positive in idx else 0.0
                p_neg = probs[n, idx[s.negative]] if s.negative in idx else 0.0
                conf = max(p_pos, p_neg) if lv.intensity != 0 else 1.0 - max(p_pos, p_neg)
                lean = s.positive if value > 0 else s.negative
                readings.append(SpectrumReading(
                    spectrum=s.id, negative=s.negative, positive=s.positive,
                    intensity=round(value, 3), level=lv.word,
                    cues=cue_words[idx[lean]] if lv.intensity != 0 and lean in idx else [],
                    confidence=round(float(conf), 3)))
            out.append(EmotionProfile(
                emotion_model=self.emotion_model.id, analyzer=self.name, readings=readings,
                emotions={e: round(float(probs[n, i]), 4) for i, e in enumerate(EMOTIONS)},
                valence=round(float(va[n, 0]), 3), arousal=round(float(va[n, 1]), 3)))
        return out
