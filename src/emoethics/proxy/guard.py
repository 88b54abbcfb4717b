"""What the proxy does with a reply: judge it, then pass, queue, rectify or block it.

The fast path first: the CPU judge (emotion sensor, emotion signatures, moral head, guardrail; no
language-model call) decides a reply it allows with enough confidence. Anything else (a verdict
other than allow, a low confidence), or a context that always asks for it, goes to the judge
model; when that fails, the fast judgement stands and says so.

The user's side (``empathy``): the last user message is read (its last ``USER_CHARS``
characters, as the answer states under ``user.read``); sadness or fear at the high levels
(sadness, grief, fear, terror) is distress. The upstream then gets a short system note about the
user's state; a reply whose tone is harsh (anger or disgust at the high levels) is flagged for
review; and distress never turns into a refusal: a reply to a distressed user is rectified or
blocked only for a guideline it violates, not for the emotions it shares with the user (a
compassionate reply reads as sad), which pass with a review flag instead.

Long replies: the judge reads at most ``MAX_CHARS`` characters at a time, so a longer reply is cut
into windows (at sentence ends or white space where it can) and every window is judged; the
strictest verdict decides for the whole reply. An allowed reply is delivered whole; a reply to
rectify has each window that needs it rewritten and the rest kept; a blocked one is refused
whole. The number of windows and their size are stated in the decision.

Streaming (``sentence``): :meth:`ReplyGuard.releasable` says whether a part of a reply may go out
before the whole is judged: only what the fast judge allows so surely that its judgement is final
(the judge model would not be asked about it).

Abandoned work: :meth:`ReplyGuard.decide` takes a ``stop`` function (true once the client has gone)
and checks it before every window, judge-model call and rectification, raising :class:`Abandoned`
instead of starting them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field

from ..errors import EmoethicsError, InputError
from ..ethics.guidelines import VERDICT_ORDER, Verdict
from ..ethics.judge import Judgement
from ..ethics.policy import EmpathyRules, VerdictPolicy, action_for, care, distress_of
from ..ethics.rectify import Rectification
from ..prompting import render
from ..schema.profile import EmotionProfile
from ..store.queue import Case
from ..textio import MAX_CHARS
from .workspace import ProxyWorkspace

#: The most characters of the last user message read for distress (its end; stated in the answer).
USER_CHARS = 4000
REFUSAL = (
    "I can't pass on the reply that was written for this request: it falls outside the guidelines of this conversation."
)

JudgeModel = Literal["unsure", "always", "never"]
Action = Literal["passed", "queued", "rectified", "blocked", "observed"]
#: True once the work on a request should stop (its client has gone).
Stop = Callable[[], bool]


class Policy(VerdictPolicy):
    """How the proxy treats replies (the ``[proxy]`` section of the config file and the flags): the
    verdict policy every way in shares (:mod:`emoethics.ethics.policy`: mode, review queue, empathy
    rules) and when the proxy asks its judge model."""

    context: str | None = Field(default=None, description="Default guardrail context (the guideline set's first).")
    culture: str | None = None
    judge_model: JudgeModel = Field(default="unsure", description="When to call the judge model.")
    model_contexts: list[str] = Field(default_factory=list, description="Contexts that always use the judge model.")
    min_confidence: float = Field(
        default=0.6, ge=0.0, le=1.0, description="Fast-path allows below this confidence go to the judge model."
    )
    empathy: bool = Field(default=False, description="Read the user's distress and apply the empathy rules.")
    refusal: str = REFUSAL


class UserState(BaseModel):
    """What the last user message shows."""

    text: str
    profile: EmotionProfile
    distressed: bool
    state: str = Field(description="The distress readings, e.g. 'grief (sadness, -0.9)'.")
    read_chars: int = Field(default=0, description="How many characters of the message were read (its end).")


class Decision(BaseModel):
    """What happened to one reply."""

    verdict: Verdict = Field(description="The verdict acted on.")
    action: Action
    text: str = Field(description="What the client receives.")
    original: str
    path: Literal["fast", "model"] = Field(description="Which judgement decided.")
    reasons: list[str]
    judgement: Judgement
    rectification: Rectification | None = None
    finish_reason: str | None = Field(default=None, description="content_filter when blocked.")
    case_id: str | None = None
    case: Case | None = Field(default=None, exclude=True, description="The review case, written with the run.")
    windows: int = Field(default=1, description="How many windows the reply was judged in.")
    window_chars: int = Field(default=MAX_CHARS, description="The most characters the judge reads at once.")

    def summary(self, user: UserState | None = None) -> dict[str, Any]:
        """The ``emoethics`` object of an answer: verdict, reasons, spans, profile."""
        j = self.judgement
        out: dict[str, Any] = {
            "verdict": self.verdict,
            "action": self.action,
            "judged_verdict": j.verdict,
            "path": self.path,
            "context": j.context,
            "culture": j.culture,
            "behaviour": {
                "level": j.behaviour.level,
                "intensity": j.behaviour.intensity,
                "method": j.behaviour.method,
                "spectrum": j.behaviour.spectrum,
            },
            "confidence": j.confidence,
            "reasons": self.reasons,
            "rationale": j.rationale,
            "violations": [
                {"guideline": h.guideline, "severity": h.severity, "quote": h.quote, "span": h.span}
                for h in j.violations
            ],
            "wrong_probability": j.wrong_probability,
            "profile": {r.spectrum: {"level": r.level, "intensity": r.intensity} for r in j.profile.readings},
            "case_id": self.case_id,
            "models": j.models,
            "judged": {"chars": len(self.original), "windows": self.windows, "window_chars": self.window_chars},
            "language": j.language.model_dump() if j.language is not None else None,
        }
        if self.rectification is not None:
            out["rectified"] = {
                "success": self.rectification.success,
                "similarity": self.rectification.similarity,
                "verdict_after": self.rectification.after.verdict,
            }
        if user is not None:
            out["user"] = {
                "distressed": user.distressed,
                "state": user.state,
                "read": {"chars": user.read_chars, "of": len(user.text)},
            }
        return out


class Abandoned(Exception):
    """The client of a request went away: the work on it stopped before its next step."""


def carry_on(stop: Stop | None) -> None:
    """Raise :class:`Abandoned` when ``stop`` says the work should end."""
    if stop is not None and stop():
        raise Abandoned("the client closed the connection before the answer")


def last_user_text(messages: list[dict[str, Any]]) -> str | None:
    """The text of the last user message (text parts of a multi-part one)."""
    for m in reversed(messages):
        if m.get("role") == "user":
            c = m.get("content")
            if isinstance(c, str):
                return c
            if isinstance(c, list):
                return " ".join(p.get("text", "") for p in c if isinstance(p, dict) and isinstance(p.get("text"), str))
    return None


def read_user(
    workspace: ProxyWorkspace, messages: list[dict[str, Any]], rules: EmpathyRules | None = None
) -> UserState | None:
    """What the last user message shows: its emotions and whether they are distress."""
    text = last_user_text(messages)
    if not text or not text.strip():
        return None
    read = text[-USER_CHARS:]  # the end of a long message: what the user says last
    try:
        profile = workspace.read_emotions(read)
    except InputError:  # nothing readable in it: no state to report
        return None
    state = distress_of(profile, rules or EmpathyRules())
    return UserState(text=text, profile=profile, distressed=bool(state), state=state, read_chars=len(read))


def empathy_note(user: UserState) -> dict[str, str]:
    """The system message that tells the upstream about a distressed user."""
    return render("proxy_empathy", state=user.state)[0]


_BREAK = re.compile(r"[.!?\u2026]+[\"'\u201d\u2019)\]]*\s+|\n+")
_SPACE = re.compile(r"\s+")


def windows(text: str, size: int = MAX_CHARS) -> list[str]:
    """``text`` cut into windows that join back to ``text``, each with at most ``size`` characters
    besides white space at its ends. A window ends after a sentence end, else after white space,
    in its second half where there is one; the white space after a cut stays with the window."""
    out, start = [], 0
    pos = len(text) - len(text.lstrip())  # leading white space goes with the first window
    while len(text) - pos > size:
        piece = text[pos : pos + size]
        cut = pos + (_last_end(_BREAK, piece, size // 2) or _last_end(_SPACE, piece, size // 2) or size)
        rest = text[cut:]
        cut += len(rest) - len(rest.lstrip())
        out.append(text[start:cut])
        start = pos = cut
    if start < len(text) or not out:
        out.append(text[start:])
    return out


def _last_end(pattern: re.Pattern[str], piece: str, least: int) -> int:
    """Where the last match of ``pattern`` in ``piece`` ends, if that is past ``least``; else 0."""
    ends = [m.end() for m in pattern.finditer(piece, least)]
    return ends[-1] if ends else 0


@dataclass
class Window:
    """One judged window of a reply: its text, judgement, path, reasons and verdict."""

    text: str
    judgement: Judgement
    path: Literal["fast", "model"]
    reasons: list[str]
    verdict: Verdict


class ReplyGuard:
    """Judges replies and acts on the verdict, per a :class:`Policy`."""

    def __init__(self, workspace: ProxyWorkspace, policy: Policy, window_chars: int = MAX_CHARS) -> None:
        self.workspace = workspace
        self.policy = policy
        self.window_chars = window_chars

    def wants_model(self, fast: Judgement, context: str) -> bool:
        p = self.policy
        if p.judge_model == "never" or not self.workspace.has_judge_model:
            return False
        if p.judge_model == "always" or context in p.model_contexts:
            return True
        return fast.verdict != "allow" or fast.confidence < p.min_confidence

    def judge(
        self, text: str, context: str, culture: str | None, stop: Stop | None = None
    ) -> tuple[Judgement, Literal["fast", "model"], list[str]]:
        """(judgement, path, reasons): the fast judgement, or the model's when it is needed."""
        fast = self.workspace.judge_fast(text, context, culture)
        if not self.wants_model(fast, context):
            return fast, "fast", list(fast.reasons)
        carry_on(stop)
        try:
            full = self.workspace.judge_with_model(fast)
        except EmoethicsError as e:
            return fast, "fast", [*fast.reasons, f"the judge model failed ({e}); the fast judgement stands"]
        return full, "model", list(full.reasons)

    def care(self, verdict: Verdict, judgement: Judgement, user: UserState | None, reasons: list[str]) -> Verdict:
        """The empathy rules (:func:`~emoethics.ethics.policy.care`) for a reply to a distressed user."""
        if not (self.policy.empathy and user is not None and user.distressed):
            return verdict
        return care(verdict, judgement, user.state, self.policy.empathy_rules, reasons)

    def decide(
        self,
        text: str,
        context: str,
        culture: str | None = None,
        user: UserState | None = None,
        *,
        run_id: str = "",
        rewrite: bool = True,
        stop: Stop | None = None,
    ) -> Decision:
        """Judge ``text`` (in windows when it is long) and act on the strictest verdict.
        ``rewrite=False`` (tool-call arguments) blocks what would be rectified; ``stop`` ends
        the work (:class:`Abandoned`) before its next step once it is true."""
        parts = [self.judge_window(w, context, culture, user, stop) for w in windows(text, self.window_chars)]
        main = max(parts, key=lambda w: VERDICT_ORDER.index(w.verdict))
        reasons = list(main.reasons)
        if len(parts) > 1:
            reasons.append(
                f"judged in {len(parts)} windows of at most {self.window_chars:,} characters (the most the "
                f"judge reads at once); window {parts.index(main) + 1} gave the strictest verdict"
            )
        base: dict[str, Any] = dict(
            original=text,
            path=main.path,
            reasons=reasons,
            judgement=main.judgement,
            windows=len(parts),
            window_chars=self.window_chars,
        )
        verdict = main.verdict
        action = action_for(verdict, self.policy, rewrite=rewrite)
        if action == "observe":
            return Decision(verdict=verdict, action="observed", text=text, **base)
        if action == "pass":
            return Decision(verdict=verdict, action="passed", text=text, **base)
        if action == "queue":
            case = self.workspace.review_case(main.judgement, run_id=run_id, note="; ".join(main.reasons[1:]))
            return Decision(verdict=verdict, action="queued", text=text, case_id=case.id, case=case, **base)
        rect: Rectification | None = None
        if verdict == "rectify" and not rewrite:
            reasons.append("tool-call arguments are never rewritten, so the reply is blocked")
        elif action == "rectify":
            rewritten, rect = self.rectify_windows(parts, main, reasons, stop)
            if rewritten is not None:
                return Decision(verdict="rectify", action="rectified", text=rewritten, rectification=rect, **base)
        return Decision(
            verdict="block",
            action="blocked",
            text=self.policy.refusal,
            rectification=rect,
            finish_reason="content_filter",
            **base,
        )

    def judge_window(
        self, text: str, context: str, culture: str | None, user: UserState | None, stop: Stop | None = None
    ) -> Window:
        """One window judged, with the empathy rules applied to its verdict."""
        carry_on(stop)
        judgement, path, reasons = self.judge(text, context, culture, stop)
        verdict = self.care(judgement.verdict, judgement, user, reasons)
        return Window(text=text, judgement=judgement, path=path, reasons=reasons, verdict=verdict)

    def rectify_windows(
        self, parts: list[Window], main: Window, reasons: list[str], stop: Stop | None = None
    ) -> tuple[str | None, Rectification | None]:
        """(the reply with every window to rectify rewritten, the main window's rectification);
        the text is None when a window could not be brought into the allowed range."""
        out, main_rect = [], None
        for w in parts:
            if w.verdict not in ("rectify", "block"):  # a block window too, when the policy rewrites those
                out.append(w.text)
                continue
            carry_on(stop)
            rect = self.rectify_one(w.judgement, reasons)
            if w is main:
                main_rect = rect
            if rect is None or not rect.success:
                if rect is not None:
                    reasons.append("no rewrite reached the allowed range, so the reply is blocked")
                return None, main_rect if w is main else rect
            reasons.append(
                f"rectified: the rewrite is judged '{rect.after.verdict}' (similarity {rect.similarity:.2f})"
            )
            out.append(rect.text + w.text[len(w.text.rstrip()) :])
        return "".join(out), main_rect

    def rectify_one(self, judgement: Judgement, reasons: list[str]) -> Rectification | None:
        """The rectification of one judged window, or None (with the reason) when it failed."""
        try:
            return self.workspace.rectify(judgement)
        except EmoethicsError as e:
            reasons.append(f"rectification failed ({e})")
            return None

    def releasable(self, text: str, context: str, culture: str | None = None, user: UserState | None = None) -> bool:
        """Whether ``text`` (a window of a stream with the text before it) may go out before the
        whole reply is judged: the fast judge allows it, so surely that the judge model would not
        be asked, and the empathy rules leave it allowed. In observe mode everything may."""
        if self.policy.mode == "observe":
            return True
        try:
            fast = self.workspace.judge_fast(text, context, culture)
        except EmoethicsError:
            return False
        if fast.verdict != "allow" or self.wants_model(fast, context):
            return False
        return self.care(fast.verdict, fast, user, []) == "allow"
