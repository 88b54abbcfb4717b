"""The session: the models, analysers and judges one set of settings describes, made once.

Like an HTTP client object, a :class:`Session` is what every way in holds: the Python API's
functions run on a default session per settings, and the service, batch jobs and the proxy make
their own. It makes each role's backend through one registry of backend factories (name ->
factory; :func:`register_backend` adds one), builds analysers (the emotion sensor, the ensemble or
a language model), judges per guideline set, rulebook and method, and caches all of them, so the
same text, settings and models give the same result whichever way it came in.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Literal

from .config import ANALYSER_ONLY, ROLES, BackendSpec, Role, Settings, cache_dir, load_settings
from .emotions.analysis import Analyzer, LLMAnalyzer
from .emotions.analysis import analyze_many as analyze_texts
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
from .llm.cache import ResponseCache
from .schema.emotion_models import DEFAULT_MODEL, EmotionModel, load_model, resolve_target
from .schema.profile import EmotionProfile
from .store.queue import ReviewStore
from .textio import check_text

ModelArg = str | EmotionModel
BackendFactory = Callable[[BackendSpec, ResponseCache | None], Backend]
AnalyzerFactory = Callable[[EmotionModel, "Session"], Analyzer]


# -- the backend registry ------------------------------------------------------------------------


def _local(spec: BackendSpec, cache: ResponseCache | None) -> Backend:
    from .llm.local import LocalBackend

    return LocalBackend(spec.model, cache=cache)


def _openai(spec: BackendSpec, cache: ResponseCache | None) -> Backend:
    from .llm.openai_backend import OpenAIBackend

    return OpenAIBackend(
        spec.model or "", base_url=spec.base_url, timeout=spec.timeout, max_retries=spec.max_retries, cache=cache
    )


#: Language-model backends by name: the one place a name becomes a backend.
BACKENDS: dict[str, BackendFactory] = {"local": _local, "openai": _openai}
#: Analysers from plugins by name (``analyzer_factory(emotion_model, session)``); the built-in ones
#: (:data:`~emoethics.config.ANALYSER_ONLY`: the sensor, its fast form, the ensemble) are made by
#: :meth:`Session.make_analyzer` itself.
ANALYSERS: dict[str, AnalyzerFactory] = {}


def register_backend(name: str, factory: BackendFactory) -> None:
    """Make ``backend = name`` (settings, ``--backend``) build its backends with ``factory``."""
    if name in ANALYSER_ONLY or name in ANALYSERS:
        raise ConfigError(f"'{name}' is the name of an analyser, not of a language-model backend")
    BACKENDS[name] = factory


def register_analyzer(name: str, factory: AnalyzerFactory) -> None:
    """Make ``backend = name`` for the analyser or critic role (``--backend NAME``) use the
    analyser ``factory(emotion_model, session)`` makes."""
    if name in ANALYSER_ONLY or name in BACKENDS:
        raise ConfigError(f"'{name}' is already the name of a backend or a built-in analyser")
    ANALYSERS[name] = factory


def is_analyzer(name: str | None) -> bool:
    """Whether ``name`` names an analyser only (it reads emotions, it cannot write text)."""
    return name in ANALYSER_ONLY or name in ANALYSERS


def check_backend_names(settings: Settings) -> None:
    """A one-line ConfigError for a role whose backend no registry knows, or a writing role
    (generator, judge, adversary) given an analyser."""
    for role in ROLES:
        name = settings.spec(role).backend
        if name not in BACKENDS and not is_analyzer(name):
            known = sorted(set(BACKENDS) | set(ANALYSER_ONLY) | set(ANALYSERS))
            raise ConfigError(f"{role}: unknown backend '{name}' (known: {', '.join(known)})")
        if name in ANALYSERS and role in ("generator", "judge", "adversary"):
            raise ConfigError(f"{role}: '{name}' reads emotions but cannot write text; give a language model")


_lock = threading.Lock()
_caches: dict[Path, ResponseCache] = {}
_shared: dict[tuple, Backend] = {}


def response_cache() -> ResponseCache:
    """The shared response cache (``<cache dir>/responses.sqlite``), one per cache directory."""
    path = cache_dir() / "responses.sqlite"
    with _lock:
        if path not in _caches:
            _caches[path] = ResponseCache(path)
        return _caches[path]


def make_backend(spec: BackendSpec, *, cache: bool = True) -> Backend:
    """A new backend for ``spec``, from the registry."""
    factory = BACKENDS.get(spec.backend)
    if factory is None:
        raise ConfigError(f"'{spec.backend}' is not a language-model backend (known: {', '.join(sorted(BACKENDS))})")
    return factory(spec, response_cache() if cache else None)


def get_backend(role: Role = "generator", settings: Settings | None = None) -> Backend:
    """The language model playing ``role``: one per role, spec and cache folder in a process, so
    that sessions with the same settings share a loaded model."""
    settings = settings or load_settings()
    spec = settings.llm_spec(role)
    key = (role, spec, str(cache_dir()) if settings.cache else None)
    with _lock:
        found = _shared.get(key)
    if found is not None:
        return found
    backend = make_backend(spec, cache=settings.cache)
    with _lock:
        return _shared.setdefault(key, backend)


# -- the session ---------------------------------------------------------------------------------


class Session:
    """Everything one set of settings describes, made on first use and kept.

    Pass ready objects to replace a role's model (tests, or an application that already holds
    them): ``generator``, ``judge_backend`` and ``adversary`` are language models, ``analyzer``
    and ``critic`` analysers.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        generator: Backend | None = None,
        judge_backend: Backend | None = None,
        adversary: Backend | None = None,
        analyzer: Analyzer | None = None,
        critic: Analyzer | None = None,
    ) -> None:
        self.settings = settings or load_settings()
        check_backend_names(self.settings)
        self._given_backends: dict[str, Backend | None] = {
            "generator": generator,
            "judge": judge_backend,
            "adversary": adversary,
        }
        self._given_analyzers: dict[str, Analyzer | None] = {"analyzer": analyzer, "critic": critic}
        self._made: dict[tuple, Any] = {}
        self._lock = threading.RLock()

    def _once(self, key: tuple, make: Callable[[], Any]) -> Any:
        with self._lock:
            if key not in self._made:
                self._made[key] = make()
            return self._made[key]

    # -- models ------------------------------------------------------------------------------
    def backend(self, role: Role) -> Backend:
        """The language model playing ``role`` (an analyser role's is the model behind it)."""
        given = self._given_backends.get(role)
        if given is not None:
            return given
        if role in ("analyzer", "critic") and isinstance(self._given_analyzers.get(role), LLMAnalyzer):
            return self._given_analyzers[role].backend  # type: ignore[union-attr]
        return self._once(("backend", role), lambda: get_backend(role, self.settings))

    def backends(self) -> dict[str, Backend]:
        """The language models made or given so far, by role."""
        out = {r: b for r, b in self._given_backends.items() if b is not None}
        out.update({k[1]: v for k, v in self._made.items() if k[0] == "backend"})
        return out

    def emotion_model(self, model: ModelArg = DEFAULT_MODEL) -> EmotionModel:
        """An emotion model by name or file (or as given)."""
        return model if isinstance(model, EmotionModel) else load_model(model)

    def make_analyzer(
        self,
        model: ModelArg = DEFAULT_MODEL,
        *,
        role: Literal["analyzer", "critic"] = "analyzer",
        calibration: str | None = None,
    ) -> Analyzer:
        """The analyser a role is configured with: ``sensor``, ``ensemble`` or a language model.

        ``role`` is "analyzer" (what :meth:`analyze` uses; by default the generator's model) or
        "critic" (what measures rewrites; by default the emotion sensor). ``calibration`` names a
        sensor calibration saved by ``emoethics calibrate``.
        """
        em = self.emotion_model(model)
        given = self._given_analyzers.get(role)
        if given is not None:
            if given.emotion_model.id == em.id and not calibration:
                return given
            return self._once(("analyzer", role, em.id, calibration), lambda: _same_kind(given, em, calibration))
        return self._once(("analyzer", role, em.id, calibration), lambda: self._new_analyzer(em, role, calibration))

    def _new_analyzer(self, em: EmotionModel, role: Literal["analyzer", "critic"], calibration: str | None) -> Analyzer:
        kind = self.settings.spec(role).backend
        if kind in ANALYSERS:
            if calibration:
                raise ConfigError("calibrations apply to the sensor and the ensemble, not to a plugin's analyser")
            return ANALYSERS[kind](em, self)
        if kind in ANALYSER_ONLY:
            sensor = _sensor(em, calibration, fast=kind == "sensor-fast")
            if kind in ("sensor", "sensor-fast"):
                return sensor
            from .emotions.ensemble import EnsembleAnalyzer

            return EnsembleAnalyzer(sensor, LLMAnalyzer(self.backend(role), em))
        if calibration:
            raise ConfigError("calibrations apply to the sensor and the ensemble, not to an LLM")
        return LLMAnalyzer(self.backend(role), em)

    def make_judge(
        self,
        guidelines: str | GuidelineSet = DEFAULT_GUIDELINES,
        *,
        model: ModelArg = DEFAULT_MODEL,
        rulebook: str | Rulebook | None = None,
        signatures: dict[str, str] | None = None,
        use_model: bool = True,
        behaviour_method: Literal["emotion", "direct"] = "emotion",
    ) -> Judge:
        """The judge (DIKE) for a guideline set: the ``judge`` role's language model (unless
        ``use_model`` is False), the critic's emotion analyser (the sensor by default), the built-in
        emotion signatures (or ``signatures``: {behaviour spectrum: file}), and optionally a rulebook."""
        g_key = guidelines.version if isinstance(guidelines, GuidelineSet) else _file_key(guidelines)
        r_key = rulebook.id if isinstance(rulebook, Rulebook) else _file_key(rulebook)
        em = self.emotion_model(model)
        key = ("judge", g_key, r_key, tuple(sorted((signatures or {}).items())), use_model, behaviour_method, em.id)

        def make() -> Judge:
            book = load_rulebook(rulebook) if isinstance(rulebook, str) else rulebook
            sigs = {k: load_signatures(v) for k, v in (signatures or {}).items()}
            return Judge(
                load_guidelines(guidelines),
                self.backend("judge") if use_model else None,
                self.make_analyzer(em, role="critic"),
                signatures=sigs,
                rulebook=book,
                behaviour_method=behaviour_method,
            )

        return self._once(key, make)

    # -- emotions ----------------------------------------------------------------------------
    def analyze(self, text: str, model: ModelArg = DEFAULT_MODEL, *, calibration: str | None = None) -> EmotionProfile:
        """Read the emotions of ``text``: per spectrum an intensity, level word, cues, confidence."""
        return self.make_analyzer(model, calibration=calibration).analyze(text)

    def analyze_many(
        self,
        texts: Iterable[str],
        model: ModelArg = DEFAULT_MODEL,
        *,
        calibration: str | None = None,
        concurrency: int = 1,
        on_done: Callable[[int], None] | None = None,
    ) -> list[EmotionProfile]:
        """Profiles of many texts, in order, at most ``concurrency`` at a time."""
        return analyze_texts(
            self.make_analyzer(model, calibration=calibration), texts, concurrency=concurrency, on_done=on_done
        )

    def rewrite(
        self,
        text: str,
        emotion: str | None = None,
        intensity: float | None = None,
        *,
        level: str | None = None,
        model: ModelArg = DEFAULT_MODEL,
        rounds: int = 3,
        tolerance: int = 1,
        explain: bool = True,
    ) -> RewriteResult:
        """Re-express ``text`` at a target emotion and intensity (see :func:`emoethics.rewrite`)."""
        em = self.emotion_model(model)
        target = resolve_target(em, emotion, intensity, level)
        return rewrite_text(
            text,
            target,
            em,
            self.backend("generator"),
            self.make_analyzer(em, role="critic"),
            rounds=rounds,
            tolerance=tolerance,
            explain=explain,
        )

    def sweep(
        self,
        text: str,
        spectrum: str,
        *,
        model: ModelArg = DEFAULT_MODEL,
        rounds: int = 3,
        tolerance: int = 1,
        explain: bool = False,
        on_level: Callable[[int, RewriteResult], None] | None = None,
    ) -> SweepResult:
        """Render ``text`` at every level of ``spectrum`` (an id such as "sadness-joy" or a pole)."""
        em = self.emotion_model(model)
        return sweep_text(
            text,
            spectrum,
            em,
            self.backend("generator"),
            self.make_analyzer(em, role="critic"),
            rounds=rounds,
            tolerance=tolerance,
            explain=explain,
            on_level=on_level,
        )

    def respond(self, message: str, *, history: list[Message] | None = None, model: ModelArg = DEFAULT_MODEL) -> Reply:
        """Reply to ``message`` in a tone adapted to the emotions detected in it."""
        return reply_to(message, self.make_analyzer(model), self.backend("generator"), history)

    # -- ethics ------------------------------------------------------------------------------
    def judge(
        self,
        text: str,
        context: str | None = None,
        *,
        culture: str | None = None,
        history: list[str] | None = None,
        guidelines: str | GuidelineSet = DEFAULT_GUIDELINES,
        rulebook: str | Rulebook | None = None,
        model: ModelArg = DEFAULT_MODEL,
        use_model: bool = True,
        behaviour_method: Literal["emotion", "direct"] = "emotion",
    ) -> Judgement:
        """Assess ``text`` in ``context`` (see :func:`emoethics.judge`)."""
        j = self.make_judge(
            guidelines, model=model, rulebook=rulebook, use_model=use_model, behaviour_method=behaviour_method
        )
        return j.judge(text, context, culture, history=history)

    def review(
        self,
        text: str,
        context: str | None = None,
        judgement: Judgement | None = None,
        *,
        culture: str | None = None,
        rounds: int = 3,
        judge: Judge | None = None,
        store: ReviewStore | None = None,
    ) -> Review:
        """Adversarial review (ERIS) of the judgement of ``text`` (see :func:`emoethics.review`)."""
        j = judge or self.make_judge()
        judgement = judgement or j.judge(text, context, culture)
        if j.backend is None:
            raise ConfigError("the adversarial review needs a judge language model")
        return debate(judgement, self.backend("adversary"), j.backend, rounds=rounds, store=store)

    def rectify(
        self,
        text: str,
        context: str | None = None,
        *,
        culture: str | None = None,
        attempts: int = 2,
        rounds: int = 2,
        model: ModelArg = DEFAULT_MODEL,
        judge: Judge | None = None,
        before: Judgement | None = None,
    ) -> Rectification:
        """Rewrite a violating ``text`` into the allowed range of ``context`` (see :func:`emoethics.rectify`);
        ``before`` is its judgement when the caller has it already."""
        em = self.emotion_model(model)
        j = judge or self.make_judge(model=em)
        return rectify_text(
            text,
            j,
            self.backend("generator"),
            self.make_analyzer(em, role="critic"),
            em,
            context,
            culture,
            attempts=attempts,
            rounds=rounds,
            before=before,
        )

    def compose(
        self,
        prompt: str,
        emotion: str | None = None,
        intensity: float | None = None,
        *,
        level: str | None = None,
        context: str | None = None,
        culture: str | None = None,
        model: ModelArg = DEFAULT_MODEL,
        judge: Judge | None = None,
        store: ReviewStore | None = None,
    ) -> Composition:
        """Write for ``prompt`` at a target emotion, then judge, review and rectify the draft."""
        em = self.emotion_model(model)
        target = resolve_target(em, emotion, intensity, level)
        j = judge or self.make_judge(model=em)
        return compose_text(
            check_text(prompt, "prompt"),
            target,
            em,
            self.backend("generator"),
            self.make_analyzer(em, role="critic"),
            j,
            adversary=self.backend("adversary"),
            context=context,
            culture=culture,
            store=store,
        )


def _file_key(name: str | None) -> tuple[str | None, int]:
    """A name, with the modification time when it names a file (an edited file is read again)."""
    try:
        return name, Path(name).expanduser().stat().st_mtime_ns if name else 0
    except OSError:
        return name, 0


def _sensor(em: EmotionModel, calibration: str | None, fast: bool = False) -> Analyzer:
    from .sensors.calibration import load_calibration
    from .sensors.emotion_sensor import EmotionSensor

    rule = load_calibration(calibration) if calibration else None
    return EmotionSensor(em, rule=rule, calibration_name=calibration, fast=fast)


def _same_kind(analyzer: Analyzer, em: EmotionModel, calibration: str | None) -> Analyzer:
    """An analyser like ``analyzer`` (sensor or language model) for emotion model ``em``."""
    from .encoders.minilm import StaticEncoder
    from .sensors.emotion_sensor import EmotionSensor

    if isinstance(analyzer, EmotionSensor):
        return _sensor(em, calibration, fast=isinstance(analyzer.encoder, StaticEncoder))
    if isinstance(analyzer, LLMAnalyzer):
        return LLMAnalyzer(analyzer.backend, em)
    raise ConfigError(
        f"the given analyser {getattr(analyzer, 'name', analyzer)!r} reads only the "
        f"{analyzer.emotion_model.id} emotion model, not {em.id}"
    )


_defaults: dict[str, Session] = {}


def default_session(settings: Settings | None = None) -> Session:
    """The session the module-level API functions use for ``settings`` (one per distinct settings)."""
    settings = settings or load_settings()
    key = settings.model_dump_json()
    with _lock:
        if key not in _defaults:
            _defaults[key] = Session(settings)
        return _defaults[key]
