"""The emotion sensor's own encoders, trained here and committed in ``sensors/heads/`` (each
with its sha256 in a manifest beside it):

- :func:`get_emotion_encoder`: all-MiniLM-L6-v2 fine-tuned on emotion data by
  ``training/finetune_encoder.py`` (``encoder-manifest.json``);
- :func:`get_static_emotion_encoder`: that encoder distilled into one vector per word piece by
  ``training/train_static_encoder.py`` (``static-encoder-manifest.json``), for the fast sensor.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from ..encoders.minilm import Encoder, StaticEncoder, manifest_sha256

EMOTION_ENCODER = Path(__file__).parent / "heads" / "minilm-emotions-int8.onnx"
STATIC_ENCODER = Path(__file__).parent / "heads" / "static-emotions.npz"
FIX = "rebuild it with make train, or restore it with git checkout"


@lru_cache(maxsize=1)
def get_emotion_encoder() -> Encoder:
    """The emotion-tuned encoder of the sensor, loaded on first use."""
    return Encoder(EMOTION_ENCODER, manifest_sha256(EMOTION_ENCODER.parent / "encoder-manifest.json", FIX), FIX)


@lru_cache(maxsize=1)
def get_static_emotion_encoder() -> StaticEncoder:
    """The distilled static encoder of the fast sensor, loaded on first use."""
    digest = manifest_sha256(STATIC_ENCODER.parent / "static-encoder-manifest.json", FIX)
    return StaticEncoder(STATIC_ENCODER, digest, FIX)
