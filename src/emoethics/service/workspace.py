"""What the service runs: the library's operations on a workspace whose models requests share.

Models are created by the workspace's :class:`~emoethics.session.Session` on first use and kept
(:class:`~emoethics.workspace.Workspace`). Language-model work is limited to ``concurrency``
operations at a time (one for the embedded model, which is not thread-safe). Every operation is
recorded as a run (inputs, output or error, model ids, token usage, seconds).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any, Literal

from ..config import Role
from ..emotions.analysis import Analyzer
from ..errors import EmoethicsError
from ..ethics.judge import Judge
from ..llm.base import Backend
from ..schema.usage import Usage, usage_record
from ..workspace import Workspace


class ServiceWorkspace(Workspace):
    """The service's workspace (session, store, model slots) and the operations its routes run.
    Pass ready objects to replace a role's model (tests, or an application that already holds them)."""

    # -- models, made once by the session --------------------------------------------------------
    def backend(self, role: Role) -> Backend:
        return self.session.backend(role)

    def analyzer(self) -> Analyzer:
        return self.session.make_analyzer()

    def critic(self) -> Analyzer:
        return self.session.make_analyzer(role="critic")

    def judge(self, guidelines: str, rulebook: str | None = None) -> Judge:
        """The judge of a guideline set, with ``rulebook`` or else the one in force (``sshf activate``)."""
        j = self.session.make_judge(guidelines, rulebook=self.rulebook(rulebook or self.records.active_rulebook()))
        self.save_guidelines(j.guidelines)
        return j

    def fast_judge(self, rulebook: str | None = None, guidelines: str = "default") -> Judge:
        """The judge without a language model (what calibration and shadow comparison use)."""
        return self.session.make_judge(guidelines, rulebook=self.rulebook(rulebook), use_model=False)

    def model_ids(self) -> dict[str, str]:
        out: dict[str, str] = {role: b.id for role, b in self.session.backends().items()}
        for role, analyzer in (("analyzer", self.analyzer()), ("critic", self.critic())):
            out[role] = getattr(analyzer, "name", type(analyzer).__name__)
        return out

    # -- running ------------------------------------------------------------------------------
    def run(self, kind: str, inputs: dict[str, Any], fn: Callable[[], Any], source: str = "service") -> Any:
        """Run ``fn`` in a model slot, metering usage and recording the run (also when it fails)."""
        start = time.perf_counter()
        backends = {id(b): b for b in self.session.backends().values()}
        with self.model_slot, ExitStack() as stack:
            meters = [stack.enter_context(b.metered()) for b in backends.values()]
            try:
                result = fn()
            except EmoethicsError as e:
                self.records.record_run(
                    kind,
                    inputs,
                    error=str(e),
                    models=self.model_ids(),
                    usage=_total(meters),
                    seconds=time.perf_counter() - start,
                    source=source,
                )
                raise
        self.records.record_run(
            kind,
            inputs,
            result,
            models=self.model_ids(),
            usage=_usage_of(result, meters),
            seconds=time.perf_counter() - start,
            source=source,
        )
        return result

    # -- the operations -----------------------------------------------------------------------
    def analyzer_for(self, model: str, role: Literal["analyzer", "critic"] = "analyzer") -> Analyzer:
        """The analyser (or the critic) for an emotion model."""
        return self.session.make_analyzer(model, role=role)

    def analyze(self, text: str, model: str) -> Any:
        return self.session.analyze(text, model)

    def rewrite(
        self,
        text: str,
        emotion: str | None,
        intensity: float | None,
        level: str | None,
        model: str,
        rounds: int,
        tolerance: int,
    ) -> Any:
        return self.session.rewrite(
            text, emotion, intensity, level=level, model=model, rounds=rounds, tolerance=tolerance
        )

    def sweep(self, text: str, spectrum: str, model: str, rounds: int) -> Any:
        return self.session.sweep(text, spectrum, model=model, rounds=rounds)

    def judge_text(
        self,
        text: str,
        context: str | None,
        culture: str | None,
        history: list[str] | None,
        guidelines: str,
        rulebook: str | None,
    ) -> Any:
        judgement = self.judge(guidelines, rulebook).judge(text, context, culture, history=history)
        self.records.record_verdicts([judgement.record("service")])
        return judgement

    def review(self, text: str, context: str | None, culture: str | None, rounds: int, guidelines: str) -> Any:
        return self.session.review(
            text, context, culture=culture, rounds=rounds, judge=self.judge(guidelines), store=self.store
        )

    def rectify(
        self,
        text: str,
        context: str | None,
        culture: str | None,
        attempts: int,
        rounds: int,
        guidelines: str,
        model: str = "plutchik",
    ) -> Any:
        em = self.session.emotion_model(model)
        j = self.session.make_judge(guidelines, model=em)
        self.judge(guidelines)  # keeps the guideline file
        return self.session.rectify(text, context, culture=culture, attempts=attempts, rounds=rounds, model=em, judge=j)


def _usage_of(result: Any, meters: list[Usage]) -> dict[str, Any]:
    """The usage a result reports (one record, or one per role, added up), else what was metered
    (models made during the call are not metered: the result's own account is the reliable one)."""
    usage = getattr(result, "usage", None)
    if isinstance(usage, Usage) or (isinstance(usage, dict) and all(isinstance(u, Usage) for u in usage.values())):
        return usage_record(usage)
    return _total(meters)


def _total(meters: list[Usage]) -> dict[str, Any]:
    total = Usage()
    for m in meters:
        total.add(m)
    return usage_record(total)
