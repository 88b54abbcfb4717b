"""emoethics: emotions and ethics for LLM applications.

The public API::

    import emoethics
    profile = emoethics.analyze("I can't believe they cancelled my flight again")
    result = emoethics.rewrite("The meeting moved to Friday.", emotion="anger", intensity=0.9)
    report = emoethics.sweep("The meeting moved to Friday.", "sadness-joy")
    reply = emoethics.respond("I failed my exam and I feel awful.")
    verdict = emoethics.judge("I found a wallet with 200 dollars and kept it.", "personal")
    debate = emoethics.review("I told my aunt her cake was dry.", "personal")
    fixed = emoethics.rectify("You ruined everything, you fool.", "personal")
    text = emoethics.compose("A note to my neighbour", emotion="anger", intensity=0.9, context="personal")
"""

from importlib import metadata as _metadata

from .api import (
    analyze,
    analyze_many,
    compose,
    judge,
    make_analyzer,
    make_judge,
    rectify,
    respond,
    review,
    rewrite,
    sweep,
)
from .config import BackendSpec, Settings, load_settings
from .emotions.respond import Reply
from .emotions.rewriting import RewriteResult, SweepResult
from .errors import BackendError, ConfigError, EmoethicsError, InputError, MalformedOutputError
from .ethics.adversary import Review
from .ethics.guidelines import GuidelineSet, load_guidelines
from .ethics.judge import Judgement
from .ethics.pipeline import Composition
from .ethics.rectify import Rectification
from .schema.emotion_models import EmotionModel, Target, builtin_models, load_model
from .schema.profile import EmotionProfile, SpectrumReading
from .session import Session, get_backend, register_backend

try:  # the one place the version is written is pyproject.toml
    __version__ = _metadata.version("emoethics")
except _metadata.PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"
__all__ = [
    "analyze",
    "analyze_many",
    "rewrite",
    "sweep",
    "respond",
    "make_analyzer",
    "judge",
    "review",
    "rectify",
    "compose",
    "make_judge",
    "load_guidelines",
    "GuidelineSet",
    "Judgement",
    "Review",
    "Rectification",
    "Composition",
    "load_model",
    "builtin_models",
    "EmotionModel",
    "Target",
    "EmotionProfile",
    "SpectrumReading",
    "RewriteResult",
    "SweepResult",
    "Reply",
    "Session",
    "Settings",
    "BackendSpec",
    "load_settings",
    "get_backend",
    "register_backend",
    "EmoethicsError",
    "InputError",
    "ConfigError",
    "BackendError",
    "MalformedOutputError",
]
