"""The conduct head: what a text does to people, read from the moral encoder's embeddings.

A one-hidden-layer network trained by ``training/train_conduct.py`` (``heads/conduct.npz``, with
``heads/conduct-manifest.json`` saying on what data and with which dev and test metrics) gives one
probability per category of :data:`CATEGORIES`, and three thresholds chosen on dev texts: at
``threshold`` the judge acts on the finding, from ``review_threshold`` a person reviews it, and
below ``clear_threshold`` the head is confident that the text harms nobody. It reads each text after
:func:`~emoethics.sensors.normalise.normalise` (leet, spaced letters, homoglyphs, invisible characters), as a whole and
sentence by sentence, from the same vectors the moral head reads (:class:`.heads.TextEmbeddings`), so
it costs no encoder pass of its own. The guideline file maps each category to a guideline and a
severity (``conduct_head`` in ``ethics/data/default.yaml``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import ConfigError
from .heads import HEADS_DIR, TextEmbeddings, embed_texts, sigmoid

#: What the head reads a text as doing, one output each.
CATEGORIES = ("insult", "threat", "identity_attack", "harassment", "sexual_harassment", "self_harm")


@dataclass(frozen=True)
class ConductReading:
    """The conduct head's reading of one text."""

    probabilities: dict[str, float]
    category: str = field(metadata={"doc": "the most likely category"})
    probability: float = 0.0
    sentence: str = ""
    span: tuple[int, int] | None = None
    normalised: tuple[str, ...] = ()
    threshold: float = 0.5
    review_threshold: float = 0.5
    clear_threshold: float = 0.0
    head_id: str = field(default="", metadata={"doc": "the head that read it"})

    @property
    def harmful(self) -> bool:
        """Whether the most likely category reaches the head's threshold (act on it)."""
        return self.probability >= self.threshold

    @property
    def doubtful(self) -> bool:
        """Whether it reaches the review threshold but not the head's threshold (a person should look)."""
        return self.review_threshold <= self.probability < self.threshold

    @property
    def clear(self) -> bool:
        """Whether the head is confident that the text harms nobody (below its clear threshold)."""
        return self.probability < self.clear_threshold

    @property
    def band(self) -> str:
        """``harmful``, ``doubtful``, ``unsure`` or ``clear``."""
        return "harmful" if self.harmful else "doubtful" if self.doubtful else "clear" if self.clear else "unsure"


class ConductHead:
    """The trained conduct head (module docstring); ``encoder`` names the embeddings it reads
    (:data:`.heads.ENCODERS`): the moral encoder's for English, multilingual-e5-small's for the head
    that reads other languages (``heads/conduct-e5.npz``)."""

    def __init__(
        self,
        w1: np.ndarray,
        b1: np.ndarray,
        w2: np.ndarray,
        b2: np.ndarray,
        threshold: float,
        review_threshold: float | None = None,
        clear_threshold: float = 0.0,
        encoder: str = "moral",
    ) -> None:
        if w1.shape[1] != b1.shape[0] or w2.shape != (b1.shape[0], len(CATEGORIES)) or b2.shape[0] != len(CATEGORIES):
            raise ConfigError("the conduct head's weights have the wrong shapes; rebuild it with make train")
        self.w1, self.b1, self.w2, self.b2 = w1, b1, w2, b2
        self.threshold = float(threshold)
        self.review_threshold = float(threshold if review_threshold is None else review_threshold)
        self.clear_threshold = float(clear_threshold)
        self.encoder = encoder
        self.id = "head:conduct-minilm-moral" if encoder == "moral" else f"head:conduct-{encoder}"

    @classmethod
    def from_file(cls, path: Path) -> ConductHead:
        """The head in ``path`` (written by ``training/train_conduct.py``)."""
        fix = "rebuild it with 'python training/train_conduct.py' (make train), or restore it with git checkout"
        if not path.is_file():
            raise ConfigError(f"{path} is missing; {fix}")
        try:
            with np.load(path, allow_pickle=False) as z:
                if tuple(str(c) for c in z["categories"]) != CATEGORIES:
                    raise ValueError("its categories differ from this version's")
                review = float(z["review_threshold"]) if "review_threshold" in z.files else None
                clear = float(z["clear_threshold"]) if "clear_threshold" in z.files else 0.0
                encoder = str(z["encoder"]) if "encoder" in z.files else "moral"
                return cls(z["w1"], z["b1"], z["w2"], z["b2"], float(z["threshold"]), review, clear, encoder)
        except (KeyError, ValueError, OSError) as e:
            raise ConfigError(f"{path} is not a valid conduct head ({e}); {fix}") from None

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """P(category) per row of embeddings ``x``, shape ``(len(x), len(CATEGORIES))``."""
        h = np.maximum(x @ self.w1 + self.b1, 0.0)
        return sigmoid(h @ self.w2 + self.b2)

    def read_many(self, texts: list[str]) -> list[ConductReading]:
        """The reading of each of ``texts``."""
        return self.read_embedded(embed_texts(texts, self.encoder))

    def read(self, text: str) -> ConductReading:
        """The reading of ``text``."""
        return self.read_many([text])[0]

    def read_embedded(self, emb: TextEmbeddings) -> list[ConductReading]:
        """The readings from embeddings already computed for the moral head: each text's largest
        category probability over the whole text and each of its sentences, and the sentence it
        comes from (the whole text when that scores highest)."""
        out = []
        for n, text in enumerate(emb.texts):
            whole = self.probabilities(emb.whole[n : n + 1])[0]
            parts = emb.parts[n]
            by_sentence = self.probabilities(emb.by_sentence[n]) if len(parts) > 1 else whole[None, :]
            best_s = int(np.argmax(by_sentence.max(axis=1)))
            probs = np.maximum(whole, by_sentence.max(axis=0))
            k = int(np.argmax(probs))
            if len(parts) > 1 and by_sentence[best_s].max() > whole.max():
                sentence = parts[best_s]
            else:
                sentence = text.strip()
            start = text.find(sentence)
            out.append(
                ConductReading(
                    probabilities={c: round(float(p), 4) for c, p in zip(CATEGORIES, probs, strict=True)},
                    category=CATEGORIES[k],
                    probability=round(float(probs[k]), 4),
                    sentence=sentence,
                    span=(start, start + len(sentence)) if start >= 0 else None,
                    normalised=tuple(emb.normalised[n]),
                    threshold=self.threshold,
                    review_threshold=self.review_threshold,
                    clear_threshold=self.clear_threshold,
                    head_id=self.id,
                )
            )
        return out


@lru_cache(maxsize=1)
def load_conduct_head() -> ConductHead:
    """The shipped conduct head (``heads/conduct.npz``), loaded once."""
    return ConductHead.from_file(HEADS_DIR / "conduct.npz")


@lru_cache(maxsize=1)
def load_multilingual_conduct_head() -> ConductHead:
    """The shipped conduct head for texts in other languages (``heads/conduct-e5.npz``, on
    multilingual-e5-small's embeddings), loaded once."""
    return ConductHead.from_file(HEADS_DIR / "conduct-e5.npz")
