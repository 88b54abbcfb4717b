"""Everything the proxy takes from the rest of emoethics, behind one class.

The proxy needs a few library operations: the fast CPU judgement (emotion sensor, emotion
signatures, moral head and guardrail, no language-model call), the full judgement with the judge
model, rectification, reading the user's emotions, making a case for the review page and
recording a run (with its cases, in one transaction). :class:`ProxyWorkspace`, a
:class:`~emoethics.workspace.Workspace` like the service's, holds the session that makes the models
for them once (the language models only when first needed) and is the only place in the proxy that
knows how; the rest of the proxy calls its methods.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..config import Settings
from ..emotions.analysis import Analyzer
from ..ethics.guidelines import DEFAULT_GUIDELINES, Guardrail, GuidelineSet, load_guidelines
from ..ethics.judge import Judge, Judgement
from ..ethics.rectify import Rectification
from ..llm.base import Backend
from ..schema.profile import EmotionProfile
from ..store.queue import Case, dump
from ..store.verdicts import VerdictRecord
from ..workspace import Workspace
from .batcher import JudgeBatcher


class ProxyWorkspace(Workspace):
    """The proxy's workspace: the judges, the rectifier, the emotion reader and the store it uses.

    Models come from ``settings`` by role, as in ``emoethics serve``: the ``judge`` role's language
    model for the full judgement, the ``generator`` role's for rectification, the ``critic`` (the
    emotion sensor by default) for emotions. Ready objects replace a role (tests, applications
    that hold them already); ``judge_model=False`` means there is no judge model at all.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        url: str | None = None,
        guidelines: str | GuidelineSet = DEFAULT_GUIDELINES,
        rulebook: str | None = None,
        shadow: str | None = None,
        judge_backend: Backend | None = None,
        rectifier: Backend | None = None,
        analyzer: Analyzer | None = None,
        judge_model: bool = True,
    ) -> None:
        super().__init__(settings, url=url, judge_backend=judge_backend, generator=rectifier, critic=analyzer)
        self.guidelines = load_guidelines(guidelines)
        #: the rulebook in force and a candidate judged beside it (for the verdict log only), read
        #: once from this proxy's database (an id, 'latest', 'active') or a file
        self.rulebook_in_force = self.rulebook(rulebook)
        self.shadow = self.rulebook(shadow)
        self.judge_model_enabled = judge_model
        #: the fast judgements of concurrent requests, made in batches on one thread
        self.batcher = JudgeBatcher(
            lambda texts, context, culture: self.fast_judge().judge_many(texts, context, culture),
            read_many=self.read_emotions_many,
        )
        self.save_guidelines(self.guidelines)

    # -- the guideline set ---------------------------------------------------------------------
    def guardrail(self, context: str | None, culture: str | None = None) -> Guardrail:
        """The guardrail of ``context`` (raises ConfigError for one the guideline set lacks)."""
        return self.guidelines.guardrail(context, culture)

    def contexts(self) -> list[str]:
        return self.guidelines.contexts()

    def cultures(self) -> list[str]:
        """Every culture a guardrail of the guideline set names ("any" among them)."""
        return sorted({g.culture for g in self.guidelines.guardrails})

    # -- models, made once by the session -----------------------------------------------------
    def analyzer(self) -> Analyzer:
        return self.session.make_analyzer(role="critic")

    def fast_judge(self) -> Judge:
        """The CPU judge: sensor, signatures, moral head and guardrail (and a rulebook's signatures)."""
        return self.session.make_judge(self.guidelines, rulebook=self.rulebook_in_force, use_model=False)

    def shadow_judge(self) -> Judge | None:
        """The fast judge with the shadow rulebook (``--shadow``), or None."""
        if self.shadow is None:
            return None
        return self.session.make_judge(self.guidelines, rulebook=self.shadow, use_model=False)

    def verdict_records(self, decisions: list[Any], mode: str) -> list[VerdictRecord]:
        """What the verdict log keeps of the decisions on one exchange, with the shadow rulebook's
        verdicts on the same texts when there is one."""
        records = [
            d.judgement.record(
                "proxy",
                verdict=d.verdict,
                action=d.action,
                mode=mode,
                case_id=d.case.id if d.case is not None else None,
            )
            for d in decisions
        ]
        shadow = self.shadow_judge()
        if shadow is not None and decisions:
            judged = shadow.judge_in_contexts([(d.judgement.text, d.judgement.context) for d in decisions])
            for record, j in zip(records, judged, strict=True):
                record.shadow_rulebook = j.rulebook_version
                record.shadow_verdict = j.verdict
        return records

    @property
    def has_judge_model(self) -> bool:
        return self.judge_model_enabled

    def full_judge(self) -> Judge:
        """The judge with its language model (made on first use)."""
        return self.session.make_judge(self.guidelines, rulebook=self.rulebook_in_force)

    def rectifier(self) -> Backend:
        return self.session.backend("generator")

    # -- the operations ------------------------------------------------------------------------
    def read_emotions(self, text: str) -> EmotionProfile:
        """The emotion profile of ``text``, read with those of other requests waiting at the same time."""
        return self.batcher.read(text)

    def read_emotions_many(self, texts: list[str]) -> list[EmotionProfile]:
        """The emotion profiles of ``texts``, in one batch where the analyser reads batches."""
        analyzer = self.analyzer()
        batch = getattr(analyzer, "analyze_batch", None)
        return batch(texts) if batch is not None else [analyzer.analyze(t) for t in texts]

    def judge_fast(self, text: str, context: str, culture: str | None = None) -> Judgement:
        """The fast judgement of ``text``, made with those of other requests waiting at the same
        time (:class:`~.batcher.JudgeBatcher`)."""
        return self.batcher.judge(text, context, culture)

    def close(self) -> None:
        """Stop the batcher's thread (the proxy's shutdown)."""
        self.batcher.close()

    def judge_with_model(self, fast: Judgement) -> Judgement:
        """The judge model's judgement of a text the fast judge has judged, reusing what its
        instruments read (:meth:`~emoethics.ethics.judge.Judge.judge_again`)."""
        judge = self.full_judge()
        with self.model_slot:
            return judge.judge_again(fast)

    def rectify(self, judgement: Judgement) -> Rectification:
        """Rewrite a judged text into the allowed range of its context (judged again after)."""
        judge = self.full_judge() if self.judge_model_enabled else self.fast_judge()
        with self.model_slot:
            return self.session.rectify(
                judgement.text,
                judgement.context,
                culture=judgement.culture,
                attempts=2,
                rounds=1,
                judge=judge,
                before=judgement,
            )

    def review_case(self, judgement: Judgement, *, run_id: str, original: str | None = None, note: str = "") -> Case:
        """A review-page case for a judged reply, to be written with its run (:meth:`record_run`).
        A decision on it names the rulebook rule of its first violated guideline
        (``<guideline>@<context>``), which ``sshf learn --from`` applies."""
        ids = [h.guideline for h in judgement.violations]
        detail: dict[str, Any] = {"judgement": dump(judgement), "source": "proxy", "run_id": run_id}
        if ids:
            detail["rule_id"] = f"{ids[0]}@{judgement.context}"
        if original is not None and original != judgement.text:
            detail["original"] = original
        if note:
            detail["note"] = note
        return Case(
            kind="proxy-review",
            text=judgement.text,
            context=judgement.context,
            culture=judgement.culture,
            verdict=judgement.verdict,
            confidence=judgement.confidence,
            rationale=judgement.rationale,
            guidelines=ids,
            rulebook_version=judgement.rulebook_version,
            detail=detail,
        )

    def record_run(
        self,
        inputs: dict[str, Any],
        output: Any = None,
        *,
        error: str | None = None,
        seconds: float = 0.0,
        usage: Any = None,
        models: dict[str, Any] | None = None,
        run_id: str | None = None,
        cases: Sequence[Case] = (),
        verdicts: Sequence[VerdictRecord] = (),
    ) -> str:
        """Record one exchange in the run log (``emoethics runs --kind proxy``), with the review
        cases that name it and its verdicts, in one transaction."""
        return self.records.record_run(
            "proxy",
            inputs,
            output,
            error=error,
            models=models or {},
            usage=usage,
            seconds=seconds,
            source="proxy",
            run_id=run_id,
            cases=cases,
            verdicts=verdicts,
        )

    @staticmethod
    def new_run_id() -> str:
        """An id for a run not recorded yet (answers carry it before the run is written)."""
        from ..store.models import new_id

        return new_id()
