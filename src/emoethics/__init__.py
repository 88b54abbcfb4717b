"""emoethics: emotions and ethics for LLM applications.

The public API::

    import emoethics
    profile = emoethics.analyze("I can't believe they cancelled my flight again")
    result = emoethics.rewrite("The meeting moved to Friday.", emotion="anger", intensity=0.9)
    report = emoethics.sweep("The meeting moved to Friday.", "sadness-joy")
    reply = emoethics.respond("I failed my exam and I feel awful.")
"""

from .api import analyze, analyze_many, make_analyzer, respond, rewrite, sweep
from .config import BackendSpec, Settings, get_backend, load_settings
from .emotions.models import EmotionModel, Target, builtin_models, load_model
from .emotions.profile import EmotionProfile, SpectrumReading
from .emotions.respond import Reply
from .emotions.rewriting import RewriteResult, SweepResult
from .errors import BackendError, ConfigError, EmoethicsError, InputError, MalformedOutputError

__version__ = "0.1.0"
__all__ = [
    "analyze", "analyze_many", "rewrite", "sweep", "respond", "make_analyzer",
    "load_model", "builtin_models", "EmotionModel", "Target",
    "EmotionProfile", "SpectrumReading", "RewriteResult", "SweepResult", "Reply",
    "Settings", "BackendSpec", "load_settings", "get_backend",
    "EmoethicsError", "InputError", "ConfigError", "BackendError", "MalformedOutputError",
]
