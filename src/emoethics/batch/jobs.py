"""What a batch job does with one text (or a group of texts): analyse, judge or rewrite it.

A :class:`JobSpec` is a plain, picklable description of the job (it travels to Ray workers); its
:meth:`~JobSpec.build` makes the :class:`Job` that does the work with a
:class:`~emoethics.session.Session`'s models: the same analysers, judge and rewriting loop as the
single-text commands. Analysis sends several texts
per call where it can: an LLM analyser numbers them in one prompt (``prompts/analyze_batch.md``)
and any text whose answer is missing or invalid is analysed on its own; the emotion sensor
encodes a whole group at once, and so does the judge without its language model (its injection
check, sensor and moral head). The judge with a model and the rewriting loop take one text per
call: their answers quote and rewrite the text itself.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from ..config import BackendSpec, Settings, load_settings
from ..emotions.analysis import LLMAnalyzer
from ..llm.base import Backend
from ..schema.emotion_models import load_model, resolve_target
from ..session import Session

Kind = Literal["analyze", "judge", "rewrite"]


def strip_usage(value: Any) -> Any:
    """``value`` without its ``usage`` entries (a row reports the usage of its item once)."""
    if isinstance(value, dict):
        return {k: strip_usage(v) for k, v in value.items() if k != "usage"}
    if isinstance(value, list):
        return [strip_usage(v) for v in value]
    return value


def model_id(spec: BackendSpec) -> str:
    """Which model a spec names, without where it is served (a job may resume on another replica)."""
    return f"{spec.backend}:{spec.model or 'default'}"


def analyser_backends(analyzer: Any) -> list[Backend | None]:
    """The language models an analyser calls (none for the sensor, the LLM half of an ensemble)."""
    return [getattr(analyzer, "backend", None), getattr(getattr(analyzer, "llm", None), "backend", None)]


def without_sdk_retries(settings: Settings) -> Settings:
    """``settings`` with the HTTP client's own retries off: the batch retry policy is the only one."""
    update: dict[str, BackendSpec] = {}
    for role in ("generator", "analyzer", "critic", "judge", "adversary"):
        spec = getattr(settings, role)
        if spec is not None:
            update[role] = spec.model_copy(update={"max_retries": 0})
    return settings.model_copy(update=update)


class JobSpec(BaseModel):
    """A batch job: its kind, its options, and the model settings (``None``: the configured ones)."""

    model_config = ConfigDict(extra="forbid")

    kind: Kind
    settings: Settings | None = None
    emotion_model: str = "plutchik"
    calibration: str | None = None
    # judge
    context: str | None = None
    culture: str | None = None
    guidelines: str = "default"
    rulebook: str | None = None
    shadow: str | None = None
    behaviour_method: Literal["emotion", "direct"] = "emotion"
    use_model: bool = True
    # rewrite
    emotion: str | None = None
    intensity: float | None = None
    level: str | None = None
    rounds: int = 3
    tolerance: int = 1
    explain: bool = False

    def resolved_settings(self) -> Settings:
        """The settings given, or the configured ones."""
        return self.settings or load_settings()

    def identity(self) -> dict[str, Any]:
        """What an output's job must share with this one to be resumed by it."""
        s = self.resolved_settings()
        em = load_model(self.emotion_model)
        ident: dict[str, Any] = {"job": self.kind, "emotion_model": em.id}
        if self.kind == "analyze":
            spec = s.spec("analyzer")
            ident["models"] = {"analyzer": model_id(spec)}
            if spec.backend == "ensemble":
                ident["models"]["analyzer_llm"] = model_id(s.llm_spec("analyzer"))
            ident["options"] = {"calibration": self.calibration}
        elif self.kind == "judge":
            from ..ethics.guidelines import load_guidelines

            ident["models"] = {
                "judge": model_id(s.llm_spec("judge")) if self.use_model else None,
                "critic": model_id(s.spec("critic")),
            }
            ident["options"] = {
                "context": self.context,
                "culture": self.culture,
                "guidelines": load_guidelines(self.guidelines).version,
                "rulebook": self.rulebook,
                "shadow": self.shadow,
                "behaviour_method": self.behaviour_method,
            }
        else:
            ident["models"] = {"generator": model_id(s.llm_spec("generator")), "critic": model_id(s.spec("critic"))}
            ident["options"] = {
                "emotion": self.emotion,
                "intensity": self.intensity,
                "level": self.level,
                "rounds": self.rounds,
                "tolerance": self.tolerance,
                "explain": self.explain,
            }
        return ident

    def build(self) -> Job:
        """The job, with its models loaded lazily; wrong options fail here, before any item."""
        from ..plugins import load_plugins

        load_plugins()  # a Ray worker process loads them too
        settings = without_sdk_retries(self.resolved_settings())
        if self.kind == "analyze":
            return AnalyzeJob(self, settings)
        if self.kind == "judge":
            return JudgeJob(self, settings)
        return RewriteJob(self, settings)


class Job:
    """Turns texts into JSON-able results. Subclasses set the attributes and ``run_one``."""

    kind: str = ""
    #: job-specific flat columns (CSV, Parquet): (name, "str" | "float" | "int" | "bool")
    columns: list[tuple[str, str]] = []
    #: language-model backends the job calls (their usage is the job's)
    backends: list[Backend] = []
    #: default number of texts per call for :meth:`run_group`
    group_size: int = 1
    #: True if a model runs in this process (llama.cpp): one call at a time
    in_process: bool = False

    def run_one(self, text: str) -> dict[str, Any]:
        """The result of one text, as JSON-able data."""
        raise NotImplementedError

    def run_group(self, texts: list[str]) -> list[dict[str, Any] | None] | None:
        """Results of several texts at once (``None`` per text to do on its own), or ``None`` if
        this job has no group call."""
        return None

    def flatten(self, result: dict[str, Any]) -> dict[str, Any]:
        """The job's flat columns of one result (CSV, Parquet)."""
        return {}

    def _track(self, *backends: Backend | None) -> None:
        seen: list[Backend] = []
        for b in backends:
            if b is not None and all(b is not s for s in seen):
                b.cache_sampled = True  # a re-run replays seeded samples as well
                seen.append(b)
        self.backends = seen
        self.in_process = any(b.kind == "local" for b in seen)


class AnalyzeJob(Job):
    """Emotion analysis with the configured analyser (``analyze``'s)."""

    kind = "analyze"

    def __init__(self, spec: JobSpec, settings: Settings) -> None:
        self.model = load_model(spec.emotion_model)
        self.analyzer = Session(settings).make_analyzer(self.model, calibration=spec.calibration)
        self._track(*analyser_backends(self.analyzer))
        self.columns = [("analyzer", "str"), ("dominant", "str")] + [
            (f"{s.id}:{k}", t) for s in self.model.spectra for k, t in (("intensity", "float"), ("level", "str"))
        ]
        kind = settings.spec("analyzer").backend
        if kind in ("sensor", "sensor-fast"):
            self.group_size = 64
        elif isinstance(self.analyzer, LLMAnalyzer):
            self.group_size = 1 if self.in_process else 8

    def run_one(self, text: str) -> dict[str, Any]:
        if not isinstance(self.analyzer, LLMAnalyzer) and hasattr(self.analyzer, "analyze_batch"):
            profile = self.analyzer.analyze_batch([text])[0]  # as in a group: the same reading either way
        else:
            profile = self.analyzer.analyze(text)
        return strip_usage(profile.model_dump(mode="json"))

    def run_group(self, texts: list[str]) -> list[dict[str, Any] | None] | None:
        if isinstance(self.analyzer, LLMAnalyzer):
            profiles = self.analyzer.analyze_several(texts)
        elif hasattr(self.analyzer, "analyze_batch"):
            profiles = self.analyzer.analyze_batch(texts)
        else:
            return None
        return [strip_usage(p.model_dump(mode="json")) if p is not None else None for p in profiles]

    def flatten(self, result: dict[str, Any]) -> dict[str, Any]:
        readings = result.get("readings", [])
        out: dict[str, Any] = {"analyzer": result.get("analyzer")}
        if readings:
            out["dominant"] = max(readings, key=lambda r: abs(r["intensity"]))["level"]
        for r in readings:
            out[f"{r['spectrum']}:intensity"] = r["intensity"]
            out[f"{r['spectrum']}:level"] = r["level"]
        return out


class JudgeJob(Job):
    """The judge (``judge``'s): verdict, behaviour, violations, rationale per text; with a shadow
    rulebook also the verdict its fast judge would give (``shadow_verdict``), to compare before
    activating it."""

    kind = "judge"
    columns = [
        ("verdict", "str"),
        ("behaviour", "str"),
        ("behaviour_intensity", "float"),
        ("violations", "str"),
        ("wrong", "bool"),
        ("wrong_probability", "float"),
        ("wrong_sentence", "str"),
        ("confidence", "float"),
        ("injections", "int"),
        ("rationale", "str"),
    ]

    def __init__(self, spec: JobSpec, settings: Settings) -> None:
        self.spec = spec
        self.shadow = None
        if spec.shadow:
            self.columns = [*JudgeJob.columns, ("shadow_verdict", "str"), ("shadow_rulebook", "str")]
            self.shadow = Session(settings).make_judge(
                spec.guidelines, model=spec.emotion_model, rulebook=spec.shadow, use_model=False
            )
        self.judge = Session(settings).make_judge(
            spec.guidelines,
            model=spec.emotion_model,
            rulebook=spec.rulebook,
            use_model=spec.use_model,
            behaviour_method=spec.behaviour_method,
        )
        self.judge.guidelines.guardrail(spec.context, spec.culture)  # an unknown context fails now
        self._track(self.judge.backend, *analyser_backends(self.judge.analyzer))
        if self.judge.backend is None:  # encoders only: a group is embedded in one batch
            self.group_size = 64

    def run_one(self, text: str) -> dict[str, Any]:
        j = self.judge.judge(text, self.spec.context, self.spec.culture)
        return self._with_shadow([text], [strip_usage(j.model_dump(mode="json"))])[0]

    def run_group(self, texts: list[str]) -> list[dict[str, Any] | None] | None:
        if self.judge.backend is not None:  # one model call per text, each retried on its own
            return None
        judged = self.judge.judge_many(texts, self.spec.context, self.spec.culture)
        return list(self._with_shadow(texts, [strip_usage(j.model_dump(mode="json")) for j in judged]))

    def _with_shadow(self, texts: list[str], results: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if self.shadow is None:
            return results
        for r, j in zip(results, self.shadow.judge_many(texts, self.spec.context, self.spec.culture), strict=True):
            r["shadow"] = {"verdict": j.verdict, "rulebook": j.rulebook_version}
        return results

    def flatten(self, result: dict[str, Any]) -> dict[str, Any]:
        b = result.get("behaviour") or {}
        shadow = result.get("shadow") or {}
        more = (
            {"shadow_verdict": shadow.get("verdict"), "shadow_rulebook": shadow.get("rulebook")} if self.shadow else {}
        )
        return {
            "verdict": result.get("verdict"),
            "behaviour": b.get("level"),
            "behaviour_intensity": b.get("intensity"),
            "violations": ";".join(v["guideline"] for v in result.get("violations", [])),
            "wrong": result.get("wrong"),
            "wrong_probability": result.get("wrong_probability"),
            "wrong_sentence": result.get("wrong_sentence"),
            "confidence": result.get("confidence"),
            "injections": len(result.get("injections", [])),
            "rationale": result.get("rationale"),
        } | more


class RewriteJob(Job):
    """The rewriting loop (``rewrite``'s) toward one target for every text."""

    kind = "rewrite"
    columns = [
        ("text", "str"),
        ("measured_level", "str"),
        ("measured_intensity", "float"),
        ("hit", "bool"),
        ("similarity", "float"),
        ("best_round", "int"),
    ]

    def __init__(self, spec: JobSpec, settings: Settings) -> None:
        self.spec = spec
        self.model = load_model(spec.emotion_model)
        resolve_target(self.model, spec.emotion, spec.intensity, spec.level)  # a bad target fails now
        self.session = Session(settings)
        self.generator = self.session.backend("generator")
        self.critic = self.session.make_analyzer(self.model, role="critic")
        self._track(self.generator, *analyser_backends(self.critic))

    def run_one(self, text: str) -> dict[str, Any]:
        s = self.spec
        r = self.session.rewrite(
            text,
            s.emotion,
            s.intensity,
            level=s.level,
            model=self.model,
            rounds=s.rounds,
            tolerance=s.tolerance,
            explain=s.explain,
        )
        return strip_usage(r.model_dump(mode="json"))

    def flatten(self, result: dict[str, Any]) -> dict[str, Any]:
        return {k: result.get(k) for k, _ in self.columns}
