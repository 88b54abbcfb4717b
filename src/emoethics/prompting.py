"""Prompts live in ``emoethics/prompts/*.md``, not in code.

A prompt file has sections headed ``### system``, ``### user`` and ``### assistant``; each becomes
one chat message. ``$name`` placeholders are filled with :class:`string.Template`, so braces in
JSON examples need no escaping.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from string import Template

import yaml

PROMPT_DIR = Path(__file__).parent / "prompts"
_HEAD = re.compile(r"^### (system|user|assistant)\s*$", re.MULTILINE)


@cache
def _sections(name: str) -> tuple[tuple[str, str], ...]:
    raw = (PROMPT_DIR / f"{name}.md").read_text(encoding="utf-8")
    parts = _HEAD.split(raw)
    return tuple((role, body.strip()) for role, body in zip(parts[1::2], parts[2::2], strict=True))


def render(name: str, **values: object) -> list[dict[str, str]]:
    """The messages of prompt ``name`` with ``values`` filled in."""
    return [{"role": role, "content": Template(body).substitute(values)} for role, body in _sections(name)]


@cache
def examples(name: str) -> dict:
    """Few-shot examples stored as ``prompts/<name>.yaml``."""
    path = PROMPT_DIR / f"{name}.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else {}
