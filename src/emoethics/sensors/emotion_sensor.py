"""The emotion sensor: a fast, non-LLM analyser of Plutchik's eight emotions.

Features are the sentence embedding of all-MiniLM-L6-v2 fine-tuned on emotion data (ONNX int8,
:func:`emoethics.sensors.embedding.get_emotion_encoder`; emoji are read as their names) plus
VADER's four sentiment scores (VADER handles negation: "not happy" scores negative). Small linear
heads trained by ``training/train_sensor.py`` (``make train``) on subtitles, Reddit comments and
news headlines turn them into a probability per emotion, and valence and arousal on EmoBank's
1..5 scale. The heads are a small ``.npz`` file committed with a manifest of the data, date and
dev metrics.

Which emotions are *present* is decided by a rule that does not depend on the training domain's
absolute probabilities: an emotion is present when its logit stands out of the text's own eight
by at least ``spread`` standard deviations (and the strongest probability is at least
``floor``), so a text with one clear emotion gets one label and a text that carries two or three
gets them all. The rule is chosen by leaving one training corpus out at a time
(``benchmarks/sensor.py``); the earlier rule, relative to the strongest emotion, predicted about
one label per text everywhere. A
named calibration fitted on a user's labelled file (``emoethics calibrate``) replaces the rule
with per-emotion thresholds.

How *strongly* each emotion is expressed is a separate reading, its intensity in [0, 1]
(:class:`IntensityModel`): the z-scored logit of the emotion plus the z-scored valence (its sign
flipped for the negative emotions) and arousal, with weights learned as pairwise order on graded
rewrites ("a little annoyed" reads weaker than "furious"). The spectrum reading uses it:
reading = intensity(positive pole) - intensity(negative pole), counting only present poles.
"""

from __future__ import annotations

import json
import re
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from ..encoders.e5 import get_multilingual_encoder
from ..encoders.minilm import Encoder, StaticEncoder
from ..errors import ConfigError, ModelFileError
from ..schema.emotion_models import EmotionModel, load_model
from ..schema.language import LanguageReading
from ..schema.profile import EmotionProfile, SpectrumReading
from ..textio import check_text
from .embedding import get_emotion_encoder, get_static_emotion_encoder
from .emoji_words import spell_out_emoji
from .language import detect_language
from .strength_words import emotion_word_strength

HEADS_DIR = Path(__file__).parent / "heads"
DEFAULT_HEADS = HEADS_DIR / "plutchik-minilm-vader.npz"
MULTILINGUAL_HEADS = HEADS_DIR / "plutchik-e5.npz"
#: The least intensity a present emotion of a text in another language reads at (Plutchik's mild level).
PRESENT_INTENSITY = 0.3
#: The most confidence a reading of a text in a language the sensor was not trained for can have.
UNSUPPORTED_CONFIDENCE = 0.3
EMOTIONS = ("anger", "anticipation", "disgust", "fear", "joy", "sadness", "surprise", "trust")


class DecisionRule(BaseModel):
    """How probabilities become labels: relative to the strongest, by how far an emotion stands
    out of the text's own eight (``spread``), or fixed thresholds."""

    relative: float = Field(0.5, ge=0, le=1, description="Present if p >= relative * max p ...")
    floor: float = Field(0.3, ge=0, le=1, description="... and max p >= floor.")
    spread: float | None = Field(
        None,
        description="Instead of relative: present if the "
        "emotion's logit is at least this many standard deviations "
        "above the mean of the text's eight logits (and max p >= floor).",
    )
    thresholds: dict[str, float] | None = Field(
        None, description="Per-emotion thresholds (a calibration); replaces the relative rule."
    )
    intensity_scale: float = Field(1.0, gt=0, description="Multiplies strengths (a calibration).")

    def labels(self, probs: np.ndarray) -> np.ndarray:
        """Boolean matrix [n, 8] of present emotions."""
        if self.thresholds:
            t = np.array([self.thresholds.get(e, 0.5) for e in EMOTIONS])
            return probs >= t
        top = probs.max(axis=1, keepdims=True)
        if self.spread is not None:
            p = np.clip(probs, 1e-7, 1 - 1e-7)
            z = np.log(p / (1 - p))
            z = (z - z.mean(axis=1, keepdims=True)) / np.clip(z.std(axis=1, keepdims=True), 1e-6, None)
            return (z >= self.spread) & (top >= self.floor)
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


def features(texts: list[str], encoder: Encoder | StaticEncoder | None = None) -> np.ndarray:
    """The sensor's input features: [emotion-tuned MiniLM embedding (384), VADER (4)]
    (``encoder``: another encoder instead, for experiments). The encoder reads emoji as their
    names (:func:`spell_out_emoji`); VADER reads the text as it is (it knows emoji itself)."""
    encoder = encoder or get_emotion_encoder()
    embedded = encoder.encode([spell_out_emoji(t) for t in texts])
    return np.hstack([embedded, vader_features(texts)]).astype(np.float32)


#: Which way valence moves with each emotion's strength (the intensity model's valence term).
VALENCE_SIGN = {
    "anger": -1.0,
    "anticipation": 0.0,
    "disgust": -1.0,
    "fear": -1.0,
    "joy": 1.0,
    "sadness": -1.0,
    "surprise": 0.0,
    "trust": 1.0,
}


#: The intensities the knots of :class:`IntensityModel` stand for: neutral and Plutchik's three levels.
KNOT_INTENSITIES = (0.0, 0.3, 0.6, 1.0)


class IntensityModel(BaseModel):
    """Per-emotion intensity in [0, 1] from the heads' outputs and the text's emotion words: a
    score ``s = weights . inputs`` (:meth:`inputs`, z-scored with the training texts' means and
    deviations) mapped onto [0, 1] piecewise linearly through ``knots``. The weights are learned
    as pairwise order on the graded set (level k of a seed reads stronger than level k-1; a text
    written at a pole reads stronger on it than on the other emotions); the knots are the median
    scores of the graded set's neutral, mild, clear and extreme texts, mapped to 0, 0.3, 0.6 and
    1.0, so that each level reads near its strength (``training/train_sensor.py``)."""

    logit_mean: list[float]
    logit_std: list[float]
    va_mean: list[float]
    va_std: list[float]
    compound_mean: float
    compound_std: float
    weights: list[float] = Field(
        description="for z(logit), sign * z(valence), z(arousal), sign * z(VADER compound), emotion-word strength"
    )
    knots: list[float] = Field(description="scores read as intensity 0, 0.3, 0.6 and 1.0 (increasing)")

    def inputs(self, logits: np.ndarray, va: np.ndarray, compound: np.ndarray, strength: np.ndarray) -> np.ndarray:
        """[n, 8, 5]: per text and emotion, the emotion's z-scored logit, the z-scored valence
        with the emotion's sign (:data:`VALENCE_SIGN`), the z-scored arousal, VADER's z-scored
        compound with the same sign (VADER grades words: "a little annoyed" is milder than
        "absolutely furious"), and the strength of the text's words for the emotion
        (:func:`~emoethics.sensors.strength_words.emotion_word_strength`, 0..1)."""
        z = (logits - np.array(self.logit_mean)) / np.array(self.logit_std)
        zva = (va - np.array(self.va_mean)) / np.array(self.va_std)
        zc = (compound - self.compound_mean) / self.compound_std
        sign = np.array([VALENCE_SIGN[e] for e in EMOTIONS])[None, :]
        ones = np.ones_like(z)
        return np.stack([z, sign * zva[:, :1], zva[:, 1:2] * ones, sign * zc[:, None], strength], axis=-1)

    def score(self, logits: np.ndarray, va: np.ndarray, compound: np.ndarray, strength: np.ndarray) -> np.ndarray:
        """The unmapped score per text and emotion [n, 8]."""
        return self.inputs(logits, va, compound, strength) @ np.array(self.weights)

    def intensity(self, logits: np.ndarray, va: np.ndarray, compound: np.ndarray, strength: np.ndarray) -> np.ndarray:
        """Intensity in [0, 1] per text and emotion [n, 8]."""
        return np.interp(self.score(logits, va, compound, strength), self.knots, KNOT_INTENSITIES)


class CueWords:
    """Which words of a text carry each emotion: a word-level linear model (one weight per word
    or pair of neighbouring words and emotion, ``weights`` [words, 8]) fitted by
    ``training/train_sensor.py`` to the sensor's own logits on its training texts, so that its
    words explain the sensor's reading. A word is a cue for an emotion when its weight is at
    least ``threshold``; the strongest ``top`` are kept, in the text's order. One dictionary
    lookup per word, where re-encoding the text once per left-out word cost 8-15 encodings per
    text."""

    WORD = re.compile(r"\w[\w']*")

    def __init__(self, vocab: list[str], weights: np.ndarray, threshold: float) -> None:
        self.index = {w: i for i, w in enumerate(vocab)}
        self.weights, self.threshold = np.asarray(weights, dtype=np.float32), threshold

    def cues(self, texts: list[str], top: int = 3) -> list[list[list[str]]]:
        """Per text, per emotion (in :data:`EMOTIONS` order), its cue words as written (a cue may
        be two words: "not happy")."""
        out: list[list[list[str]]] = []
        for text in texts:
            words = list(self.WORD.finditer(text))
            # vocabulary row -> (position, words as written); single words and pairs of neighbours
            found: dict[int, tuple[int, str]] = {}
            for pos, m in enumerate(words):
                grams = [(m.group().lower(), m.group())]
                if pos + 1 < len(words):
                    nxt = words[pos + 1]
                    grams.append((f"{grams[0][0]} {nxt.group().lower()}", text[m.start() : nxt.end()]))
                for key, written in grams:
                    row = self.index.get(key)
                    if row is not None and row not in found:
                        found[row] = (pos, written)
            if not found:
                out.append([[] for _ in EMOTIONS])
                continue
            rows = list(found)
            w = self.weights[rows]
            per = []
            for j in range(len(EMOTIONS)):
                chosen: list[tuple[int, str]] = []
                for k in np.argsort(-w[:, j]):
                    if w[k, j] < self.threshold or len(chosen) == top:
                        break
                    pos, written = found[rows[k]]
                    if not any(written in c or c in written for _, c in chosen):  # no word twice
                        chosen.append((pos, written))
                per.append([c for _, c in sorted(chosen)])
            out.append(per)
        return out


class Scores:
    """What the heads say about a batch of texts: probabilities and logits [n, 8],
    valence/arousal [n, 2] on 1..5, VADER's compound [n], the emotion-word strengths [n, 8] and
    intensities [n, 8] (None without an intensity model)."""

    def __init__(
        self,
        logits: np.ndarray,
        va: np.ndarray,
        compound: np.ndarray,
        strength: np.ndarray,
        intensity: np.ndarray | None,
    ) -> None:
        self.logits, self.va, self.compound, self.intensity = logits, va, compound, intensity
        self.strength = strength
        self.probs = 1.0 / (1.0 + np.exp(-logits))


class MultilingualHeads:
    """The sensor's heads for texts in other languages, on multilingual-e5-small's embeddings
    (``training/train_multilingual.py``, ``heads/plutchik-e5.npz``): a logistic regression per
    emotion, thresholds per emotion (and per language where the training data had enough of it),
    ridge regressions for intensity (BRIGHTER's six emotions: one on every rated text, the intensity
    reported, and one where the emotion is present, how strongly a present emotion reads on its
    spectrum; anticipation and trust read their probability) and for valence and arousal."""

    name = "sensor:multilingual-e5"

    def __init__(self, path: Path = MULTILINGUAL_HEADS) -> None:
        fix = (
            "rebuild them with 'python training/train_multilingual.py' (make train), or restore them with git checkout"
        )
        if not path.is_file():
            raise ModelFileError(f"the multilingual sensor heads {path} are missing; {fix}")
        try:
            with np.load(path) as z:
                if tuple(str(e) for e in z["emotions"]) != EMOTIONS:
                    raise ValueError("its emotions differ from this version's")
                self.W, self.b = z["emotion_W"], z["emotion_b"]
                self.va_W, self.va_b = z["va_W"], z["va_b"]
                self.i_W, self.i_b = z["intensity_W"], z["intensity_b"]
                self.p_W, self.p_b = z["present_intensity_W"], z["present_intensity_b"]
                self.thresholds = np.asarray(z["thresholds"], dtype=np.float32)
                self.by_language = {k: np.array(v) for k, v in json.loads(str(z["language_thresholds"])).items()}
        except (KeyError, ValueError, OSError) as e:
            raise ModelFileError(f"{path} is not valid multilingual sensor heads ({e}); {fix}") from None
        self.rated = np.abs(self.i_W).sum(axis=0) > 0  # emotions with an intensity regression

    def scores(self, texts: list[str]) -> tuple[Scores, np.ndarray]:
        """The heads' outputs for ``texts`` (no VADER and no English emotion words: zeros), and each
        emotion's intensity if present [n, 8]."""
        x = get_multilingual_encoder().encode([spell_out_emoji(t) for t in texts])
        logits = x @ self.W + self.b
        va = np.clip(x @ self.va_W + self.va_b, 1.0, 5.0)
        probs = 1.0 / (1.0 + np.exp(-logits))
        intensity = np.where(self.rated, np.clip(x @ self.i_W + self.i_b, 0.0, 1.0), probs)
        if_present = np.where(self.rated, np.clip(x @ self.p_W + self.p_b, 0.0, 1.0), probs)
        zeros = np.zeros_like(logits)
        return Scores(logits, va, zeros[:, 0], zeros, intensity), if_present

    def labels(self, probs: np.ndarray, languages: list[LanguageReading]) -> np.ndarray:
        """Boolean [n, 8] of present emotions: the language's thresholds where it has its own."""
        t = np.stack([self.by_language.get(lang.code, self.thresholds) for lang in languages])
        return probs >= t


@lru_cache(maxsize=1)
def load_multilingual_heads() -> MultilingualHeads:
    """The shipped multilingual heads, loaded once."""
    return MultilingualHeads()


class EmotionSensor:
    """Non-LLM analyser: MiniLM + VADER features, linear heads, a transferable decision rule;
    ``fast``: the static encoder distilled from MiniLM instead (:class:`StaticEncoder`, thousands
    of texts per second, at the cost in quality that ``benchmarks/sensor.py`` reports)."""

    def __init__(
        self,
        model: str | EmotionModel = "plutchik",
        heads: Path | None = None,
        rule: DecisionRule | None = None,
        calibration_name: str | None = None,
        fast: bool = False,
    ) -> None:
        self.emotion_model = load_model(model)
        # fast: the static encoder distilled from the emotion encoder, with the same heads
        self.encoder: Encoder | StaticEncoder | None = get_static_emotion_encoder() if fast else None
        path = heads or DEFAULT_HEADS
        if not path.is_file():
            raise ModelFileError(f"sensor heads {path} are missing; rebuild them with make train")
        with np.load(path) as z:
            self.W, self.b = z["emotion_W"], z["emotion_b"]
            self.va_W, self.va_b = z["va_W"], z["va_b"]
            default_rule = json.loads(str(z["rule"])) if "rule" in z else {}
            self.intensity_model = IntensityModel.model_validate_json(str(z["intensity"])) if "intensity" in z else None
            self.cue_words = (
                CueWords([str(w) for w in z["cue_vocab"]], z["cue_W"], float(z["cue_threshold"]))
                if "cue_W" in z
                else None
            )
        self.rule = rule or DecisionRule(**default_rule)
        self.name = ("sensor-fast:static-minilm-vader" if fast else "sensor:minilm-vader") + (
            f"+{calibration_name}" if calibration_name else ""
        )
        for s in self.emotion_model.spectra:
            if s.negative not in EMOTIONS and s.positive not in EMOTIONS:
                raise ConfigError(
                    f"the sensor reads Plutchik's eight emotions; spectrum {s.id} of "
                    f"'{self.emotion_model.id}' has neither pole among them"
                )

    def scores(self, texts: list[str]) -> Scores:
        """The heads' outputs for ``texts``."""
        x = features(texts, self.encoder)
        logits = x @ self.W + self.b
        va = np.clip(x @ self.va_W + self.va_b, 1.0, 5.0)
        compound = x[:, -1]
        strength = emotion_word_strength(texts, EMOTIONS)
        intensity = self.intensity_model.intensity(logits, va, compound, strength) if self.intensity_model else None
        return Scores(logits, va, compound, strength, intensity)

    def probabilities(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(emotion probabilities [n, 8], valence/arousal [n, 2] on 1..5) for ``texts``."""
        s = self.scores(texts)
        return s.probs, s.va

    def analyze(self, text: str, cues: bool = True) -> EmotionProfile:
        """The emotion profile of one text, with cues unless ``cues`` is False."""
        return self.analyze_batch([text], cues=cues)[0]

    def cues(self, texts: list[str], top: int = 3) -> list[list[list[str]]]:
        """Per text and emotion, up to ``top`` words of the text that carry the emotion
        (:class:`CueWords`)."""
        if self.cue_words is None:
            raise ModelFileError("the sensor heads have no cue words; rebuild them with make train")
        return self.cue_words.cues(texts, top)

    def analyze_batch(self, texts: list[str], cues: bool = False) -> list[EmotionProfile]:
        """Profiles of many texts, computed in batches; ``cues``: the words behind each reading
        (:class:`CueWords`, a lookup per word: they cost little, but leave them off where they
        are not shown)."""
        texts = [check_text(t) for t in texts]
        languages = [detect_language(t) for t in texts]
        other = [n for n, lang in enumerate(languages) if lang.reader == "multilingual"]
        english = [n for n, lang in enumerate(languages) if lang.reader == "english"]
        sc = self.scores([texts[n] for n in english]) if english else None
        probs = np.zeros((len(texts), len(EMOTIONS)))
        va = np.zeros((len(texts), 2))
        strength = np.zeros((len(texts), len(EMOTIONS)))
        present = np.zeros((len(texts), len(EMOTIONS)), dtype=bool)
        intensities: np.ndarray | None = np.zeros((len(texts), len(EMOTIONS)))
        if sc is not None:
            probs[english], va[english] = sc.probs, sc.va
            present[english] = self.rule.labels(sc.probs)
            graded = sc.intensity if sc.intensity is not None else sc.probs
            strength[english] = np.clip(graded * present[english] * self.rule.intensity_scale, 0.0, 1.0)
            if sc.intensity is None:
                intensities = None
            elif intensities is not None:
                intensities[english] = sc.intensity
        if other:  # texts in other languages: the multilingual heads
            heads = load_multilingual_heads()
            ml, if_present = heads.scores([texts[n] for n in other])
            probs[other], va[other] = ml.probs, ml.va
            present[other] = heads.labels(ml.probs, [languages[n] for n in other])
            strength[other] = np.clip(np.maximum(if_present, PRESENT_INTENSITY) * present[other], 0.0, 1.0)
            if intensities is not None and ml.intensity is not None:
                intensities[other] = ml.intensity
        idx = {e: i for i, e in enumerate(EMOTIONS)}
        out = []
        cue_words_all = self.cues(texts) if cues else None
        for n in range(len(texts)):
            cue_words = cue_words_all[n] if cue_words_all else [[] for _ in EMOTIONS]
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
                if languages[n].support == "unsupported":  # a language no head was trained for
                    conf = min(conf, UNSUPPORTED_CONFIDENCE)
                lean = s.positive if value > 0 else s.negative
                readings.append(
                    SpectrumReading(
                        spectrum=s.id,
                        negative=s.negative,
                        positive=s.positive,
                        intensity=round(value, 3),
                        level=lv.word,
                        cues=cue_words[idx[lean]] if lv.intensity != 0 and lean in idx else [],
                        confidence=round(float(conf), 3),
                    )
                )
            out.append(
                EmotionProfile(
                    emotion_model=self.emotion_model.id,
                    analyzer=self.name if languages[n].reader == "english" else MultilingualHeads.name,
                    readings=readings,
                    emotions={e: round(float(probs[n, i]), 4) for i, e in enumerate(EMOTIONS)},
                    intensities=None
                    if intensities is None
                    else {e: round(float(intensities[n, i]), 4) for i, e in enumerate(EMOTIONS)},
                    present=[e for i, e in enumerate(EMOTIONS) if present[n, i]],
                    valence=round(float(va[n, 0]), 3),
                    arousal=round(float(va[n, 1]), 3),
                    language=languages[n],
                )
            )
        return out
