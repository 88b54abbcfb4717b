"""The public functions: analyze, analyze_many, rewrite, sweep, respond.

Each takes plain values and returns a pydantic result. Models are chosen by role (see
:mod:`emoethics.config`): pass ``settings`` to choose them, or pass ready ``generator`` /
``critic`` objects. Defaults run the embedded local model, offline.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from .config import Role, Settings, get_backend, load_settings
from .emotions.analysis import Analyzer, LLMAnalyzer
from .emotions.analysis import analyze_many as _analyze_many
from .emotions.models import DEFAULT_MODEL, EmotionModel, load_model, resolve_target
from .emotions.profile import EmotionProfile
from .emotions.respond import Reply, reply_to
from .emotions.rewriting import RewriteResult, SweepResult, rewrite_text, sweep_text
from .errors import ConfigError
from .llm.base import Backend, Message

ModelArg = str | EmotionModel


def make_analyzer(model: ModelArg = DEFAULT_MODEL, *, settings: Settings | None = None,
                  role: Role = "analyzer", calibration: str | None = None) -> Analyzer:
    """The analyser a role is configured with: ``sensor``, ``ensemble`` or a language model.

    ``role`` is "analyzer" (what :func:`analyze` uses; by default the generator's model) or
    "critic" (what measures rewrites; by default the emotion sensor). ``calibration`` names a
    sensor calibration saved by ``emoethics calibrate``.
    """
    settings = settings or load_settings()
    kind = settings.spec(role).backend
    if kind in ("sensor", "ensemble"):
        from .sensors.calibration import load_calibration
        from .sensors.emotion_sensor import EmotionSensor

        rule = load_calibration(calibration) if calibration else None
        sensor = EmotionSensor(model, rule=rule, calibration_name=calibration)
        if kind == "sensor":
            return sensor
        from .emotions.ensemble import EnsembleAnalyzer

        return EnsembleAnalyzer(sensor, LLMAnalyzer(get_backend(role, settings), model))
    if calibration:
        raise ConfigError("calibrations apply to the sensor and the ensemble, not to an LLM")
    return LLMAnalyzer(get_backend(role, settings), model)


def analyze(text: str, model: ModelArg = DEFAULT_MODEL, *, analyzer: Analyzer | None = None,
            settings: Settings | None = None) -> EmotionProfile:
    """Read the emotions of ``text``: per spectrum an intensity, level word, cues, confidence.

    >>> analyze("I can't believe they cancelled my flight again").dominant().level  # doctest: +SKIP
    'anger'
    """
    return (analyzer or make_analyzer(model, settings=settings)).analyze(text)


def analyze_many(texts: Iterable[str], model: ModelArg = DEFAULT_MODEL, *,
                 analyzer: Analyzer | None = None, settings: Settings | None = None,
                 concurrency: int = 1,
                 on_done: Callable[[int], None] | None = None) -> list[EmotionProfile]:
    """Profiles of many texts, in order, at most ``concurrency`` at a time."""
    return _analyze_many(analyzer or make_analyzer(model, settings=settings), texts,
                         concurrency=concurrency, on_done=on_done)


def rewrite(text: str, emotion: str | None = None, intensity: float | None = None, *,
            level: str | None = None, model: ModelArg = DEFAULT_MODEL, rounds: int = 3,
            tolerance: int = 1, explain: bool = True, generator: Backend | None = None,
            critic: Analyzer | None = None, settings: Settings | None = None) -> RewriteResult:
    """Re-express ``text`` at a target emotion and intensity.

    Name the target as ``emotion="joy", intensity=0.6`` (a pole and a strength in [0, 1]),
    ``emotion="sadness-joy", intensity=-0.3`` (a spectrum and a signed intensity) or
    ``level="ecstasy"``. The generator rewrites; the critic measures; the loop retries with
    feedback until the measured level is within ``tolerance`` levels or ``rounds`` run out.
    """
    em = load_model(model)
    target = resolve_target(em, emotion, intensity, level)
    return rewrite_text(text, target, em, generator or get_backend("generator", settings),
                        critic or make_analyzer(em, settings=settings, role="critic"),
                        rounds=rounds, tolerance=tolerance, explain=explain)


def sweep(text: str, spectrum: str, *, model: ModelArg = DEFAULT_MODEL, rounds: int = 3,
          tolerance: int = 1, explain: bool = False, generator: Backend | None = None,
          critic: Analyzer | None = None, settings: Settings | None = None,
          on_level: Callable[[int, RewriteResult], None] | None = None) -> SweepResult:
    """Render ``text`` at every level of ``spectrum`` (an id such as "sadness-joy" or a pole)."""
    em = load_model(model)
    return sweep_text(text, spectrum, em, generator or get_backend("generator", settings),
                      critic or make_analyzer(em, settings=settings, role="critic"),
                      rounds=rounds, tolerance=tolerance, explain=explain, on_level=on_level)


def respond(message: str, *, history: list[Message] | None = None, model: ModelArg = DEFAULT_MODEL,
            generator: Backend | None = None, analyzer: Analyzer | None = None,
            settings: Settings | None = None) -> Reply:
    """Reply to ``message`` in a tone adapted to the emotions detected in it."""
    return reply_to(message, analyzer or make_analyzer(model, settings=settings),
                    generator or get_backend("generator", settings), history)
