"""Emoji spelled out as words, so that the sentence encoder can read them.

all-MiniLM-L6-v2's vocabulary has no emoji: every one becomes the same unknown token, so before
this step "this weather 😡" and "this weather 😂" embedded alike. Social-media text says much of
its emotion with emoji, so the sensor's encoder reads their CLDR short names instead ("enraged
face", "face with tears of joy"), from the ``emoji`` package. Skin tones are dropped: they say
nothing about emotion.
"""

from __future__ import annotations

import re

import emoji

#: Part of the feature cache key of the training scripts: change it when this step changes.
VERSION = "emoji-cldr-names-1"

_SKIN_TONE = re.compile(r"_(?:light|medium-light|medium|medium-dark|dark)_skin_tone")


def _name(chars: str, data: dict) -> str:
    return " " + _SKIN_TONE.sub("", data["en"].strip(":")).replace("_", " ") + " "


def spell_out_emoji(text: str) -> str:
    """``text`` with each emoji replaced by its name between spaces (other text unchanged)."""
    if text.isascii():
        return text
    return emoji.replace_emoji(text, replace=_name)
