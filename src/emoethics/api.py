"""The public functions: analyze, analyze_many, rewrite, sweep, respond; judge, review, rectify,
compose.

Each takes plain values and returns a pydantic result. Models are chosen by role (see
:mod:`emoethics.config`): pass ``settings`` to choose them, or pass ready ``generator`` /
``critic`` objects. Defaults run the embedded local model, offline. Every function is a thin
wrapper over a :class:`~emoethics.session.Session`: the default one for ``settings``, or one that
holds the objects given.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Literal

from .config import Settings, load_settings
from .emotions.analysis import Analyzer
from .emotions.respond import Reply
from .emotions.rewriting import RewriteResult, SweepResult
from .ethics.adversary import Review
from .ethics.guidelines import DEFAULT_GUIDELINES, GuidelineSet
from .ethics.judge import Judge, Judgement
from .ethics.pipeline import Composition
from .ethics.rectify import Rectification
from .ethics.sshf import Rulebook
from .llm.base import Backend, Message
from .schema.emotion_models import DEFAULT_MODEL, EmotionModel
from .schema.profile import EmotionProfile
from .session import Session, default_session
from .store.queue import ReviewStore

ModelArg = str | EmotionModel

__all__ = [
    "analyze",
    "analyze_many",
    "rewrite",
    "sweep",
    "respond",
    "make_analyzer",
    "make_judge",
    "judge",
    "review",
    "rectify",
    "compose",
    "load_settings",
    "Settings",
]


def _session(
    settings: Settings | None,
    *,
    generator: Backend | None = None,
    analyzer: Analyzer | None = None,
    critic: Analyzer | None = None,
) -> Session:
    if generator is None and analyzer is None and critic is None:
        return default_session(settings)
    return Session(default_session(settings).settings, generator=generator, analyzer=analyzer, critic=critic)


def make_analyzer(
    model: ModelArg = DEFAULT_MODEL,
    *,
    settings: Settings | None = None,
    role: Literal["analyzer", "critic"] = "analyzer",
    calibration: str | None = None,
) -> Analyzer:
    """The analyser a role is configured with: ``sensor``, ``ensemble`` or a language model.

    ``role`` is "analyzer" (what :func:`analyze` uses; by default the generator's model) or
    "critic" (what measures rewrites; by default the emotion sensor). ``calibration`` names a
    sensor calibration saved by ``emoethics calibrate``.
    """
    return default_session(settings).make_analyzer(model, role=role, calibration=calibration)


def analyze(
    text: str, model: ModelArg = DEFAULT_MODEL, *, analyzer: Analyzer | None = None, settings: Settings | None = None
) -> EmotionProfile:
    """Read the emotions of ``text``: per spectrum an intensity, level word, cues, confidence.

    >>> analyze("I can't believe they cancelled my flight again").dominant().level  # doctest: +SKIP
    'anger'
    """
    return _session(settings, analyzer=analyzer).analyze(text, model)


def analyze_many(
    texts: Iterable[str],
    model: ModelArg = DEFAULT_MODEL,
    *,
    analyzer: Analyzer | None = None,
    settings: Settings | None = None,
    concurrency: int = 1,
    on_done: Callable[[int], None] | None = None,
) -> list[EmotionProfile]:
    """Profiles of many texts, in order, at most ``concurrency`` at a time."""
    return _session(settings, analyzer=analyzer).analyze_many(texts, model, concurrency=concurrency, on_done=on_done)


def rewrite(
    text: str,
    emotion: str | None = None,
    intensity: float | None = None,
    *,
    level: str | None = None,
    model: ModelArg = DEFAULT_MODEL,
    rounds: int = 3,
    tolerance: int = 1,
    explain: bool = True,
    generator: Backend | None = None,
    critic: Analyzer | None = None,
    settings: Settings | None = None,
) -> RewriteResult:
    """Re-express ``text`` at a target emotion and intensity.

    Name the target as ``emotion="joy", intensity=0.6`` (a pole and a strength in [0, 1]),
    ``emotion="sadness-joy", intensity=-0.3`` (a spectrum and a signed intensity) or
    ``level="ecstasy"``. The generator rewrites; the critic measures; the loop retries with
    feedback until the measured level is within ``tolerance`` levels or ``rounds`` run out.
    """
    return _session(settings, generator=generator, critic=critic).rewrite(
        text, emotion, intensity, level=level, model=model, rounds=rounds, tolerance=tolerance, explain=explain
    )


def sweep(
    text: str,
    spectrum: str,
    *,
    model: ModelArg = DEFAULT_MODEL,
    rounds: int = 3,
    tolerance: int = 1,
    explain: bool = False,
    generator: Backend | None = None,
    critic: Analyzer | None = None,
    settings: Settings | None = None,
    on_level: Callable[[int, RewriteResult], None] | None = None,
) -> SweepResult:
    """Render ``text`` at every level of ``spectrum`` (an id such as "sadness-joy" or a pole)."""
    return _session(settings, generator=generator, critic=critic).sweep(
        text, spectrum, model=model, rounds=rounds, tolerance=tolerance, explain=explain, on_level=on_level
    )


def respond(
    message: str,
    *,
    history: list[Message] | None = None,
    model: ModelArg = DEFAULT_MODEL,
    generator: Backend | None = None,
    analyzer: Analyzer | None = None,
    settings: Settings | None = None,
) -> Reply:
    """Reply to ``message`` in a tone adapted to the emotions detected in it."""
    return _session(settings, generator=generator, analyzer=analyzer).respond(message, history=history, model=model)


# -- ethics ---------------------------------------------------------------------------------------


def make_judge(
    guidelines: str | GuidelineSet = DEFAULT_GUIDELINES,
    *,
    model: ModelArg = DEFAULT_MODEL,
    settings: Settings | None = None,
    rulebook: str | Rulebook | None = None,
    signatures: dict[str, str] | None = None,
    use_model: bool = True,
    behaviour_method: Literal["emotion", "direct"] = "emotion",
) -> Judge:
    """The judge (DIKE) for a guideline set: the ``judge`` role's language model (unless
    ``use_model`` is False), the critic's emotion analyser (the sensor by default), the built-in
    emotion signatures (or ``signatures``: {behaviour spectrum: file}), and optionally a rulebook."""
    return default_session(settings).make_judge(
        guidelines,
        model=model,
        rulebook=rulebook,
        signatures=signatures,
        use_model=use_model,
        behaviour_method=behaviour_method,
    )


def judge(
    text: str,
    context: str | None = None,
    *,
    culture: str | None = None,
    history: list[str] | None = None,
    judge: Judge | None = None,
    guidelines: str | GuidelineSet = DEFAULT_GUIDELINES,
    rulebook: str | Rulebook | None = None,
    settings: Settings | None = None,
) -> Judgement:
    """Assess ``text`` in ``context`` (and ``culture``): a verdict (allow, review, rectify, block),
    the behaviour level read through emotions and directly, the guidelines violated with the words
    that do, a rationale, a confidence, the emotion profile, and the versions of everything used.
    ``history`` holds the earlier turns of a conversation, for the trajectory.

    >>> judge("I found a wallet with 200 dollars and kept it.").verdict  # doctest: +SKIP
    'rectify'
    """
    if judge is not None:
        return judge.judge(text, context, culture, history=history)
    return default_session(settings).judge(
        text, context, culture=culture, history=history, guidelines=guidelines, rulebook=rulebook
    )


def review(
    text: str,
    context: str | None = None,
    judgement: Judgement | None = None,
    *,
    culture: str | None = None,
    rounds: int = 3,
    judge: Judge | None = None,
    settings: Settings | None = None,
    store: ReviewStore | None = None,
) -> Review:
    """Adversarial review (ERIS): the ``adversary`` role argues the opposite reading of the
    judgement, the judge answers, from contentious to conciliatory rounds until they agree or
    ``rounds`` run out; an unsettled case goes to the human review queue."""
    return default_session(settings).review(
        text, context, judgement, culture=culture, rounds=rounds, judge=judge, store=store
    )


def rectify(
    text: str,
    context: str | None = None,
    *,
    culture: str | None = None,
    attempts: int = 2,
    rounds: int = 2,
    model: ModelArg = DEFAULT_MODEL,
    judge: Judge | None = None,
    settings: Settings | None = None,
) -> Rectification:
    """Rewrite a violating ``text`` into the allowed range of ``context``, keeping its content;
    the result is judged again and both verdicts, profiles and the similarity are reported."""
    return default_session(settings).rectify(
        text, context, culture=culture, attempts=attempts, rounds=rounds, model=model, judge=judge
    )


def compose(
    prompt: str,
    emotion: str | None = None,
    intensity: float | None = None,
    *,
    level: str | None = None,
    context: str | None = None,
    culture: str | None = None,
    model: ModelArg = DEFAULT_MODEL,
    judge: Judge | None = None,
    settings: Settings | None = None,
    store: ReviewStore | None = None,
) -> Composition:
    """Write for ``prompt`` at a target emotion, then judge, review and rectify the draft: text that
    is emotionally resonant and inside the guardrails of ``context``, with the whole trace."""
    return default_session(settings).compose(
        prompt, emotion, intensity, level=level, context=context, culture=culture, model=model, judge=judge, store=store
    )
