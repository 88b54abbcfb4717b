"""The public functions: analyze, analyze_many, rewrite, sweep, respond; judge, review, rectify,
compose.

Each takes plain values and returns a pydantic result. Models are chosen by role (see
:mod:`emoethics.config`): pass ``settings`` to choose them, or pass ready ``generator`` /
``critic`` objects. Defaults run the embedded local model, offline.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Literal

from .config import Role, Settings, get_backend, load_settings
from .emotions.analysis import Analyzer, LLMAnalyzer
from .emotions.analysis import analyze_many as _analyze_many
from .emotions.models import DEFAULT_MODEL, EmotionModel, load_model, resolve_target
from .emotions.profile import EmotionProfile
from .emotions.respond import Reply, reply_to
from .emotions.rewriting import RewriteResult, SweepResult, rewrite_text, sweep_text
from .errors import ConfigError
from .ethics.adversary import Review, debate
from .ethics.guidelines import DEFAULT_GUIDELINES, GuidelineSet, load_guidelines
from .ethics.judge import Judge, Judgement
from .ethics.pipeline import Composition, compose_text
from .ethics.rectify import Rectification, rectify_text
from .ethics.signatures import load_signatures
from .ethics.sshf import Rulebook, load_rulebook
from .llm.base import Backend, Message
from .store.queue import ReviewStore
from .textio import check_text

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


# -- ethics ---------------------------------------------------------------------------------------

def make_judge(guidelines: str | GuidelineSet = DEFAULT_GUIDELINES, *, model: ModelArg = DEFAULT_MODEL,
               settings: Settings | None = None, rulebook: str | Rulebook | None = None,
               signatures: dict[str, str] | None = None, use_model: bool = True,
               behaviour_method: Literal["emotion", "direct"] = "emotion") -> Judge:
    """The judge (DIKE) for a guideline set: the ``judge`` role's language model (unless
    ``use_model`` is False), the critic's emotion analyser (the sensor by default), the built-in
    emotion signatures (or ``signatures``: {behaviour spectrum: file}), and optionally a rulebook."""
    settings = settings or load_settings()
    book = load_rulebook(rulebook) if isinstance(rulebook, str) else rulebook
    sigs = {k: load_signatures(v) for k, v in (signatures or {}).items()}
    return Judge(load_guidelines(guidelines), get_backend("judge", settings) if use_model else None,
                 make_analyzer(model, settings=settings, role="critic"), signatures=sigs, rulebook=book,
                 behaviour_method=behaviour_method)


def judge(text: str, context: str | None = None, *, culture: str | None = None,
          history: list[str] | None = None, judge: Judge | None = None,
          guidelines: str | GuidelineSet = DEFAULT_GUIDELINES, rulebook: str | Rulebook | None = None,
          settings: Settings | None = None) -> Judgement:
    """Assess ``text`` in ``context`` (and ``culture``): a verdict (allow, review, rectify, block),
    the behaviour level read through emotions and directly, the guidelines violated with the words
    that do, a rationale, a confidence, the emotion profile, and the versions of everything used.
    ``history`` holds the earlier turns of a conversation, for the trajectory.

    >>> judge("I found a wallet with 200 dollars and kept it.").verdict  # doctest: +SKIP
    'rectify'
    """
    j = judge or make_judge(guidelines, settings=settings, rulebook=rulebook)
    return j.judge(text, context, culture, history=history)


def review(text: str, context: str | None = None, judgement: Judgement | None = None, *,
           culture: str | None = None, rounds: int = 3, judge: Judge | None = None,
           settings: Settings | None = None, store: ReviewStore | None = None) -> Review:
    """Adversarial review (ERIS): the ``adversary`` role argues the opposite reading of the
    judgement, the judge answers, from contentious to conciliatory rounds until they agree or
    ``rounds`` run out; an unsettled case goes to the human review queue."""
    settings = settings or load_settings()
    j = judge or make_judge(settings=settings)
    judgement = judgement or j.judge(text, context, culture)
    if j.backend is None:
        raise ConfigError("the adversarial review needs a judge language model")
    return debate(judgement, get_backend("adversary", settings), j.backend, rounds=rounds, store=store)


def rectify(text: str, context: str | None = None, *, culture: str | None = None, attempts: int = 2,
            rounds: int = 2, model: ModelArg = DEFAULT_MODEL, judge: Judge | None = None,
            settings: Settings | None = None) -> Rectification:
    """Rewrite a violating ``text`` into the allowed range of ``context``, keeping its content;
    the result is judged again and both verdicts, profiles and the similarity are reported."""
    settings = settings or load_settings()
    em = load_model(model)
    j = judge or make_judge(settings=settings, model=em)
    return rectify_text(text, j, get_backend("generator", settings),
                        make_analyzer(em, settings=settings, role="critic"), em, context, culture,
                        attempts=attempts, rounds=rounds)


def compose(prompt: str, emotion: str | None = None, intensity: float | None = None, *,
            level: str | None = None, context: str | None = None, culture: str | None = None,
            model: ModelArg = DEFAULT_MODEL, judge: Judge | None = None, settings: Settings | None = None,
            store: ReviewStore | None = None) -> Composition:
    """Write for ``prompt`` at a target emotion, then judge, review and rectify the draft: text that
    is emotionally resonant and inside the guardrails of ``context``, with the whole trace."""
    settings = settings or load_settings()
    em = load_model(model)
    target = resolve_target(em, emotion, intensity, level)
    j = judge or make_judge(settings=settings, model=em)
    return compose_text(check_text(prompt, "prompt"), target, em, get_backend("generator", settings),
                        make_analyzer(em, settings=settings, role="critic"), j,
                        adversary=get_backend("adversary", settings), context=context, culture=culture,
                        store=store)
