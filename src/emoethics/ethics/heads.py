"""Small trained classifier heads for the ethics benchmarks, on frozen MiniLM sentence embeddings.

One logistic regression per format of :data:`~emoethics.ethics.items.ETHICS_FORMATS`, trained by
``training/train_ethics.py`` and shipped as ``heads/<format>.npz`` (``heads/manifest.json`` says on
what data, with which dev accuracy). Inference is numpy only: features -> standardise -> sigmoid.

Each head names its encoder (``encoder`` in the npz; ``original`` when absent): ``original`` is
all-MiniLM-L6-v2 as published (ONNX int8, :func:`~emoethics.encoders.minilm.get_encoder`),
``moral`` the same model fine-tuned on the moral tasks by ``training/finetune_moral_encoder.py``
(``heads/minilm-moral-int8.onnx``, its sha256 checked against ``heads/moral-encoder-manifest.json``,
:func:`get_moral_encoder`). ``training/train_ethics.py`` chooses it per head with the features.

Features (``kind`` in the npz), from the head's encoder (384-d, unit length):

- ``text``: the embedding ``u`` of ``item.text``;
- ``pair``: ``[u, v, u*v, |u-v|]`` with ``v`` the embedding of ``item.second`` (1,536-d);
- ``joined``: the embedding ``j`` of both texts written as one (:data:`JOIN`);
- ``pair+joined``: ``[j, u, v, u*v, |u-v|]`` (1,920-d).

The commonsense head (``ethics-cm``) also carries the judge's *reading* of a text (``whole``: the
text at once; ``max-sentence``: its most wrong sentence; ``max``: the larger of the two) and a Platt
calibration of that reading (``P = sigmoid(a * logit + b)``), both fitted on the dev split, so that
:meth:`EthicsHead.read` gives a calibrated P(wrong) and the sentence it rests on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..encoders.e5 import MultilingualEncoder, get_multilingual_encoder
from ..encoders.minilm import Encoder, get_encoder, manifest_sha256
from ..errors import ConfigError
from ..sensors.normalise import normalise
from .items import ETHICS_FORMATS, EthicsItem

HEADS_DIR = Path(__file__).resolve().parent / "heads"
FEATURE_KINDS = ("text", "pair", "joined", "pair+joined")
#: The encoders a head can be built on (see the module docstring; ``multilingual``: multilingual-e5-small,
#: for the conduct head of texts in other languages).
ENCODERS = ("original", "moral", "multilingual")
#: The moral encoder's file in :data:`HEADS_DIR` (its sha256 is in ``moral-encoder-manifest.json``).
MORAL_ENCODER_FILE = "minilm-moral-int8.onnx"

#: How a pair item is written as one text for the ``joined`` features.
JOIN = {
    "ethics-deontology": "{text} {second}",
    "ethics-virtue": "{text} [SEP] {second}",
    "moral-stories": "{second} {text}",
}


SENTENCE = re.compile(r"[^.!?。！？।؟\n]+[.!?。！？।؟]*")


def sentences(text: str) -> list[str]:
    """The sentences of ``text`` (split after ., ! and ?, their Chinese, Devanagari and Arabic forms, and
    at line breaks), stripped, non-empty."""
    return [s for m in SENTENCE.finditer(text) if (s := m.group(0).strip()) and any(c.isalnum() for c in s)]


def sigmoid(z):
    """The logistic function of ``z`` (a number or an array), clipped so that it never overflows."""
    return 1.0 / (1.0 + np.exp(-np.clip(z, -50.0, 50.0)))


@dataclass(frozen=True)
class MoralReading:
    """The commonsense head's reading of one text: calibrated P(wrong) and what it rests on."""

    probability: float
    sentence: str
    span: tuple[int, int] | None
    raw: float


@lru_cache(maxsize=1)
def get_moral_encoder() -> Encoder:
    """The encoder fine-tuned on the moral tasks, loaded on first use (sha256 from its manifest)."""
    fix = "rebuild it with make train (training/finetune_moral_encoder.py), or restore it with git checkout"
    digest = manifest_sha256(HEADS_DIR / "moral-encoder-manifest.json", fix)
    return Encoder(HEADS_DIR / MORAL_ENCODER_FILE, digest, fix)


def encoder_named(name: str) -> Encoder | MultilingualEncoder:
    """The encoder ``name`` of :data:`ENCODERS`."""
    if name == "original":
        return get_encoder()
    if name == "moral":
        return get_moral_encoder()
    if name == "multilingual":
        return get_multilingual_encoder()
    raise ConfigError(f"unknown encoder '{name}'; encoders: {', '.join(ENCODERS)}")


def joined_text(item: EthicsItem) -> str:
    """``item``'s two texts written as one (for ``joined`` features)."""
    return JOIN.get(item.format, "{text} {second}").format(text=item.text, second=item.second or "")


def texts_needed(kind: str, items: list[EthicsItem]) -> dict[str, list[str]]:
    """The texts to embed for features of ``kind``: ``u`` (text), ``v`` (second), ``j`` (joined)."""
    if kind not in FEATURE_KINDS:
        raise ConfigError(f"unknown feature kind '{kind}'; kinds: {', '.join(FEATURE_KINDS)}")
    out: dict[str, list[str]] = {}
    if kind != "joined":
        out["u"] = [it.text for it in items]
    if kind.startswith("pair"):
        if any(it.second is None for it in items):
            raise ConfigError(f"'{kind}' features need items with a second text")
        out["v"] = [it.second or "" for it in items]
    if "joined" in kind:
        out["j"] = [joined_text(it) for it in items]
    return out


def combine(kind: str, emb: dict[str, np.ndarray]) -> np.ndarray:
    """Feature matrix of ``kind`` from the embeddings of :func:`texts_needed`'s texts."""
    parts = []
    if "joined" in kind:
        parts.append(emb["j"])
    if kind == "text":
        parts.append(emb["u"])
    elif kind.startswith("pair"):
        u, v = emb["u"], emb["v"]
        parts += [u, v, u * v, np.abs(u - v)]
    return np.hstack(parts).astype(np.float32)


def embed(texts: list[str], encoder: str = "original") -> np.ndarray:
    """Embeddings of ``texts`` by the encoder named ``encoder``, each distinct text encoded once."""
    unique = list(dict.fromkeys(texts))
    vecs = encoder_named(encoder).encode(unique) if unique else np.zeros((0, 384), dtype=np.float32)
    index = {t: i for i, t in enumerate(unique)}
    return vecs[[index[t] for t in texts]] if texts else np.zeros((0, 384), dtype=np.float32)


def features(kind: str, items: list[EthicsItem], encoder: str = "original") -> np.ndarray:
    """Feature matrix of ``kind`` for ``items``, embedded by the encoder named ``encoder``."""
    needed = texts_needed(kind, items)
    return combine(kind, {k: embed(v, encoder) for k, v in needed.items()})


@dataclass(frozen=True)
class TextEmbeddings:
    """One encoder's vectors of texts, whole and sentence by sentence, each read after
    :func:`~emoethics.sensors.normalise.normalise`: what the moral and the conduct heads both read, so that a text
    is encoded once for both."""

    texts: list[str]
    parts: list[list[str]]
    whole: np.ndarray
    by_sentence: list[np.ndarray]
    normalised: list[list[str]]


def embed_texts(texts: list[str], encoder: str = "moral") -> TextEmbeddings:
    """:class:`TextEmbeddings` of ``texts`` by the encoder named ``encoder``, in one batch."""
    parts = [sentences(text) or [text] for text in texts]
    norm = [normalise(t) for t in texts]
    flat = [normalise(p)[0] for ps in parts for p in ps]
    vecs = embed([n for n, _ in norm] + flat, encoder)
    by_sentence, pos = [], len(texts)
    for ps in parts:
        by_sentence.append(vecs[pos : pos + len(ps)])
        pos += len(ps)
    return TextEmbeddings(list(texts), parts, vecs[: len(texts)], by_sentence, [c for _, c in norm])


class EthicsHead:
    """A trained head: P(label == 1) for items of one format."""

    def __init__(
        self,
        fmt: str,
        kind: str,
        coef: np.ndarray,
        intercept: float,
        mean: np.ndarray,
        scale: np.ndarray,
        *,
        reading: str = "whole",
        calibration: tuple[float, float] = (1.0, 0.0),
        encoder: str = "original",
    ) -> None:
        if encoder not in ENCODERS:
            raise ConfigError(f"unknown encoder '{encoder}'; encoders: {', '.join(ENCODERS)}")
        self.format, self.kind, self.encoder = fmt, kind, encoder
        self.coef, self.intercept = coef.astype(np.float32), float(intercept)
        self.mean, self.scale = mean.astype(np.float32), scale.astype(np.float32)
        self.reading, self.calibration = reading, (float(calibration[0]), float(calibration[1]))

    @property
    def id(self) -> str:
        return f"head:{self.format}-minilm" + ("-moral" if self.encoder == "moral" else "")

    @classmethod
    def load(cls, fmt: str) -> EthicsHead:
        """The shipped head for ``fmt`` (``heads/<fmt>.npz``)."""
        if fmt not in ETHICS_FORMATS:
            raise ConfigError(f"no ethics head for format '{fmt}'; formats: {', '.join(ETHICS_FORMATS)}")
        return cls.from_file(HEADS_DIR / f"{fmt}.npz", fmt)

    @classmethod
    def from_file(cls, path: Path, fmt: str) -> EthicsHead:
        """A head for ``fmt`` from an npz file written by ``training/train_ethics.py``."""
        if not path.is_file():
            raise ConfigError(
                f"{path} is missing; rebuild the ethics heads with 'python training/train_ethics.py' (make train)"
            )
        try:
            with np.load(path, allow_pickle=False) as z:
                a, b = z["calibration"].tolist() if "calibration" in z else (1.0, 0.0)
                head = cls(
                    fmt,
                    str(z["kind"]),
                    z["coef"],
                    float(z["intercept"]),
                    z["mean"],
                    z["scale"],
                    reading=str(z["reading"]) if "reading" in z else "whole",
                    calibration=(float(a), float(b)),
                    encoder=str(z["encoder"]) if "encoder" in z else "original",
                )
        except (KeyError, ValueError, OSError) as e:
            raise ConfigError(
                f"{path} is not a valid ethics head ({e}); rebuild it with 'python training/train_ethics.py'"
            ) from None
        if head.kind not in FEATURE_KINDS or not (head.coef.shape == head.mean.shape == head.scale.shape):
            raise ConfigError(f"{path} is not a valid ethics head (kind '{head.kind}', shapes differ)")
        return head

    def logit_from_features(self, x: np.ndarray) -> np.ndarray:
        """The head's log-odds of label 1 from an already computed feature matrix."""
        return ((x - self.mean) / self.scale) @ self.coef + self.intercept

    def proba_from_features(self, x: np.ndarray) -> np.ndarray:
        """P(label == 1) from an already computed feature matrix."""
        return sigmoid(self.logit_from_features(x))

    def read(self, text: str) -> MoralReading:
        """Calibrated P(label 1) of ``text`` by the head's reading, and the sentence it rests on
        (the most wrong sentence; the whole text when the reading is ``whole`` or it has one)."""
        return self.read_many([text])[0]

    def read_many(self, texts: list[str]) -> list[MoralReading]:
        """:meth:`read` for each of ``texts``, every text and sentence of them embedded in one batch."""
        return self.read_embedded(embed_texts(texts, self.encoder))

    def read_embedded(self, emb: TextEmbeddings) -> list[MoralReading]:
        """:meth:`read` from embeddings already computed (:func:`embed_texts` with this head's encoder)."""
        if self.kind != "text":
            raise ConfigError(f"{self.id} reads pairs; read() needs a head on single texts")
        a, b = self.calibration
        out = []
        for n, (text, ps) in enumerate(zip(emb.texts, emb.parts, strict=True)):
            whole = float(self.logit_from_features(emb.whole[n : n + 1])[0])
            by_sentence = self.logit_from_features(emb.by_sentence[n])
            i = int(np.argmax(by_sentence))
            z = {"whole": whole, "max-sentence": float(by_sentence[i]), "max": max(whole, float(by_sentence[i]))}[
                self.reading
            ]
            sentence = ps[i] if len(ps) > 1 else text.strip()
            start = text.find(sentence)
            out.append(
                MoralReading(
                    probability=float(sigmoid(a * z + b)),
                    sentence=sentence,
                    span=(start, start + len(sentence)) if start >= 0 else None,
                    raw=float(sigmoid(z)),
                )
            )
        return out

    def predict_proba(self, items: list[EthicsItem]) -> np.ndarray:
        """P(label == 1) per item, shape ``(len(items),)``; what 1 means is in ``POSITIVE[format]``."""
        if not items:
            return np.zeros(0, dtype=np.float32)
        wrong = {it.format for it in items} - {self.format}
        if wrong:
            raise ConfigError(f"{self.id} scores {self.format} items, got {', '.join(sorted(wrong))}")
        return self.proba_from_features(features(self.kind, items, self.encoder)).astype(np.float32)
