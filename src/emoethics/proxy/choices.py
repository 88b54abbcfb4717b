"""The decisions on one choice of a reply, and what they do to it.

Every text of a choice (see :mod:`.fields`) gets its own :class:`~.guard.Decision`; the strictest
acts for the choice (its verdict, action and headers). A blocked text blocks the whole choice:
its message becomes the refusal, with no reasoning, refusal or tool calls left. Rectified texts
replace their originals. The ``logprobs`` of a choice that was changed describe tokens the
client never gets (the original text), so they are taken out, and the ``emoethics`` object says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..ethics.guidelines import VERDICT_ORDER
from . import fields
from .guard import Decision, UserState

NOTHING = {"verdict": "allow", "action": "passed", "reasons": ["no text to judge"]}
LOGPROBS_REMOVED = "removed: they describe the original reply, which was changed"
#: What a run log keeps of a decision when texts are not stored.
VERDICT_KEYS = (
    "verdict",
    "action",
    "judged_verdict",
    "path",
    "context",
    "behaviour",
    "confidence",
    "wrong_probability",
    "case_id",
    "judged",
)


@dataclass
class Judged:
    """The decisions on the texts of one choice, by field name (``content`` first)."""

    fields: dict[str, Decision]
    logprobs_removed: bool = False

    @property
    def main(self) -> Decision:
        """The decision that acts for the choice: the strictest (the first of equals)."""
        return max(self.fields.values(), key=lambda d: VERDICT_ORDER.index(d.verdict))

    @property
    def verdict(self) -> str:
        return self.main.verdict

    @property
    def blocked(self) -> bool:
        return any(d.action == "blocked" for d in self.fields.values())

    @property
    def changed(self) -> bool:
        """Whether the client gets something other than the upstream's texts."""
        return any(d.action in ("rectified", "blocked") for d in self.fields.values())

    @property
    def windows(self) -> int:
        return max(d.windows for d in self.fields.values())

    def summary(self, user: UserState | None = None) -> dict[str, Any]:
        """The choice's part of the ``emoethics`` object."""
        out = self.main.summary(user)
        if list(self.fields) != ["content"]:
            out["fields"] = {name: {"verdict": d.verdict, "action": d.action} for name, d in self.fields.items()}
        if self.logprobs_removed:
            out["logprobs"] = LOGPROBS_REMOVED
        return out

    def log(self, user: UserState | None, content: bool) -> dict[str, Any]:
        """The choice's part of the run log: with the texts when ``content``, else verdicts only."""
        s = self.summary(user)
        if content:
            s["original"] = {n: d.original for n, d in self.fields.items()}
            s["delivered"] = {n: d.text for n, d in self.fields.items()}
            if list(self.fields) == ["content"]:
                s["original"], s["delivered"] = self.main.original, self.main.text
            return s
        out = {k: s[k] for k in VERDICT_KEYS}
        out["violations"] = [h.guideline for h in self.main.judgement.violations]
        if "fields" in s:
            out["fields"] = s["fields"]
        return out


def judged_fields(message: dict[str, Any]) -> list[fields.Field]:
    """The texts of ``message`` to judge, ``content`` first."""
    found = fields.texts_of(message)
    return sorted(found, key=lambda f: f.name != "content")


def apply(choice: dict[str, Any], judged: Judged, refusal: str) -> None:
    """Put what the decisions deliver into ``choice`` (its message, finish reason, logprobs)."""
    message = choice.setdefault("message", {})
    if judged.blocked:
        choice["message"] = {"role": message.get("role", "assistant"), "content": refusal}
        choice["finish_reason"] = "content_filter"
    else:
        for name, d in judged.fields.items():
            if d.action == "rectified":
                fields.put(message, name, d.text)
    if judged.changed and choice.get("logprobs") is not None:
        choice["logprobs"] = None
        judged.logprobs_removed = True


def strictest(judged: list[Judged | None]) -> str:
    verdicts = [j.verdict for j in judged if j is not None] or ["allow"]
    return max(verdicts, key=VERDICT_ORDER.index)


def main_index(judged: list[Judged | None]) -> int:
    """The index of the first choice with the strictest verdict (it speaks for the answer)."""
    top = strictest(judged)
    return next((i for i, j in enumerate(judged) if j is not None and j.verdict == top), 0)


def summary_of(judged: Judged | None, user: UserState | None) -> dict[str, Any]:
    return judged.summary(user) if judged is not None else dict(NOTHING)
