"""What the service runs: the library's operations on models made once and shared by requests.

Models are created on first use and kept. Language-model work is limited to ``concurrency``
operations at a time (one for the embedded model, which is not thread-safe). Every operation is
recorded as a run (inputs, output or error, model ids, token usage, seconds).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

from .. import api
from ..config import Settings, get_backend, load_settings
from ..emotions.analysis import Analyzer
from ..emotions.models import load_model
from ..errors import EmoethicsError
from ..ethics.judge import Judge
from ..llm.base import Backend
from ..llm.usage import Usage
from ..store.queue import ReviewStore
from ..store.records import Records


class Worker:
    """The service's models and the operations it offers. Pass ready objects to replace a role's
    model (tests, or an application that already holds them)."""

    def __init__(self, settings: Settings | None = None, *, url: str | None = None, concurrency: int = 1,
                 generator: Backend | None = None, judge_backend: Backend | None = None,
                 adversary: Backend | None = None, analyzer: Analyzer | None = None,
                 critic: Analyzer | None = None) -> None:
        self.settings = settings or load_settings()
        self.records = Records(url)
        self.store = ReviewStore(url=self.records.url)
        self._given = {"generator": generator, "judge": judge_backend, "adversary": adversary,
                       "analyzer": analyzer, "critic": critic}
        self._made: dict[str, Any] = {}
        self._judges: dict[tuple[str, str | None], Judge] = {}
        self._make_lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(max(1, concurrency))

    # -- models, made once --------------------------------------------------------------------
    def _get(self, role: str, make: Callable[[], Any]) -> Any:
        if self._given.get(role) is not None:
            return self._given[role]
        with self._make_lock:
            if role not in self._made:
                self._made[role] = make()
            return self._made[role]

    def backend(self, role: str) -> Backend:
        return self._get(role, lambda: get_backend(role, self.settings))  # type: ignore[arg-type]

    def analyzer(self) -> Analyzer:
        return self._get("analyzer", lambda: api.make_analyzer(settings=self.settings))

    def critic(self) -> Analyzer:
        return self._get("critic", lambda: api.make_analyzer(settings=self.settings, role="critic"))

    def judge(self, guidelines: str, rulebook: str | None = None) -> Judge:
        key = (guidelines, rulebook)
        if key not in self._judges:
            from ..ethics.guidelines import load_guidelines
            from ..ethics.sshf import load_rulebook

            g = load_guidelines(guidelines)
            book = load_rulebook(rulebook) if rulebook else None
            j = Judge(g, self.backend("judge"), self.critic(), rulebook=book)
            self.records.save_guidelines(g)
            self._judges[key] = j
        return self._judges[key]

    def model_ids(self) -> dict[str, str]:
        out = {}
        for role in ("generator", "judge", "adversary", "analyzer", "critic"):
            obj = self._given.get(role) or self._made.get(role)
            if obj is not None:
                out[role] = getattr(obj, "id", None) or getattr(obj, "name", type(obj).__name__)
        return out

    # -- running ------------------------------------------------------------------------------
    def run(self, kind: str, inputs: dict[str, Any], fn: Callable[[], Any], source: str = "service") -> Any:
        """Run ``fn`` in a model slot, metering usage and recording the run (also when it fails)."""
        start = time.perf_counter()
        backends = {id(b): b for b in (self._given.get(r) or self._made.get(r)
                                       for r in ("generator", "judge", "adversary")) if b is not None}
        with self._slots, ExitStack() as stack:
            meters = [stack.enter_context(b.metered()) for b in backends.values()]
            try:
                result = fn()
            except EmoethicsError as e:
                self.records.record_run(kind, inputs, error=str(e), models=self.model_ids(),
                                        usage=_total(meters), seconds=time.perf_counter() - start, source=source)
                raise
        self.records.record_run(kind, inputs, result, models=self.model_ids(), usage=_usage_of(result, meters),
                                seconds=time.perf_counter() - start, source=source)
        return result

    # -- the operations -----------------------------------------------------------------------
    def analyzer_for(self, model: str, role: str = "analyzer") -> Analyzer:
        """The analyser (or the critic) for an emotion model other than the default one."""
        default = self.analyzer() if role == "analyzer" else self.critic()
        em = load_model(model)
        if default.emotion_model.id == em.id:
            return default
        return self._get(f"{role}:{em.id}", lambda: _same_kind(default, em) or api.make_analyzer(
            em, settings=self.settings, role=role))  # type: ignore[arg-type]

    def analyze(self, text: str, model: str) -> Any:
        return self.analyzer_for(model).analyze(text)

    def rewrite(self, text: str, emotion: str | None, intensity: float | None, level: str | None, model: str,
                rounds: int, tolerance: int) -> Any:
        return api.rewrite(text, emotion, intensity, level=level, model=model, rounds=rounds, tolerance=tolerance,
                           generator=self.backend("generator"), critic=self.analyzer_for(model, "critic"))

    def sweep(self, text: str, spectrum: str, model: str, rounds: int) -> Any:
        return api.sweep(text, spectrum, model=model, rounds=rounds, generator=self.backend("generator"),
                         critic=self.analyzer_for(model, "critic"))

    def judge_text(self, text: str, context: str | None, culture: str | None, history: list[str] | None,
                   guidelines: str, rulebook: str | None) -> Any:
        return self.judge(guidelines, rulebook).judge(text, context, culture, history=history)

    def review(self, text: str, context: str | None, culture: str | None, rounds: int, guidelines: str) -> Any:
        from ..ethics.adversary import debate

        j = self.judge(guidelines)
        return debate(j.judge(text, context, culture), self.backend("adversary"), j.backend, rounds=rounds,
                      store=self.store)

    def rectify(self, text: str, context: str | None, culture: str | None, attempts: int, rounds: int,
                guidelines: str) -> Any:
        from ..ethics.rectify import rectify_text

        j = self.judge(guidelines)
        return rectify_text(text, j, self.backend("generator"), self.critic(), load_model(), context, culture,
                            attempts=attempts, rounds=rounds)


def _same_kind(analyzer: Analyzer, em: Any) -> Analyzer | None:
    """An analyser like ``analyzer`` (sensor or language model) for emotion model ``em``."""
    from ..emotions.analysis import LLMAnalyzer
    from ..sensors.emotion_sensor import EmotionSensor

    if isinstance(analyzer, EmotionSensor):
        return EmotionSensor(em)
    if isinstance(analyzer, LLMAnalyzer):
        return LLMAnalyzer(analyzer.backend, em)
    return None


def _usage_of(result: Any, meters: list[Usage]) -> dict[str, Any]:
    """The usage a result reports (one record, or one per role, added up), else what was metered
    (models made during the call are not metered: the result's own account is the reliable one)."""
    usage = getattr(result, "usage", None)
    if isinstance(usage, Usage):
        return usage.model_dump()
    if isinstance(usage, dict) and all(isinstance(u, Usage) for u in usage.values()):
        return _total(list(usage.values()))
    return _total(meters)


def _total(meters: list[Usage]) -> dict[str, Any]:
    total = Usage()
    for m in meters:
        total.add(m)
    return total.model_dump()
