"""Trivial baselines for the ethics benchmarks: the majority label and a keyword rule.

They are floors to compare trained heads and models against: hand-written once, never tuned on
data. The keyword rule per format (1 / 0 as :data:`~emoethics.evals.ethics_data.POSITIVE` defines):

- ``ethics-cm``: 1 (clearly wrong) if the text has a word from :data:`WRONG_WORDS`, else 0.
- ``ethics-justice``: 0 (unreasonable) if the scenario has a word from :data:`WRONG_WORDS`, else 1.
- ``moral-stories``: 0 (the immoral action) if the action has a word from :data:`WRONG_WORDS`, else 1.
- ``ethics-deontology``: 0 (not a reasonable excuse) if the excuse has a self-serving phrase from
  :data:`SELF_SERVING` ("I want", "lazy", "rather", ...), else 1.
- ``ethics-virtue``: 1 (trait shown) if the trait and the scenario have the same non-zero polarity:
  the trait's by VADER's hand-built lexicon, the scenario's negative if it has a word from
  :data:`WRONG_WORDS`, else VADER's compound score's sign.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from .ethics_data import EthicsItem

#: Morally loaded words; each also matches with a plain suffix (-s, -ed, -ing, -er, -ion, ...).
WRONG_WORDS = (
    "steal",
    "stole",
    "stolen",
    "rob",
    "robbed",
    "robbing",
    "kill",
    "murder",
    "lie",
    "lied",
    "lying",
    "cheat",
    "hurt",
    "harm",
    "hit",
    "hitting",
    "punch",
    "kick",
    "slap",
    "slapped",
    "stab",
    "stabbed",
    "stabbing",
    "shoot",
    "shot",
    "abuse",
    "assault",
    "rape",
    "attack",
    "poison",
    "threaten",
    "bully",
    "bullied",
    "insult",
    "mock",
    "humiliat",
    "betray",
    "fraud",
    "scam",
    "scammed",
    "bribe",
    "blackmail",
    "vandaliz",
    "destroy",
    "smash",
    "trespass",
    "drunk",
    "cruel",
    "torture",
    "neglect",
    "abandon",
    "sabotag",
    "forge",
    "plagiariz",
    "spit",
    "shove",
    "exploit",
    "manipulat",
    "revenge",
    "racist",
    "sexist",
    "slur",
    "hate",
)

#: Phrases that mark an excuse as self-serving (deontology).
SELF_SERVING = (
    "i want",
    "i don't want",
    "i do not want",
    "i'd rather",
    "i would rather",
    "rather",
    "feel like",
    "lazy",
    "bored",
    "boring",
    "tired of",
    "i don't like",
    "i hate",
    "i don't care",
    "not in the mood",
    "too much effort",
    "i forgot",
    "i didn't feel",
)

_SUFFIX = r"(?:e|s|es|ed|d|ing|er|ers|ery|ion|ions|ful)?"
_WRONG = re.compile(r"\b(?:" + "|".join(re.escape(w) for w in WRONG_WORDS) + ")" + _SUFFIX + r"\b", re.IGNORECASE)
_SELF = re.compile(r"\b(?:" + "|".join(re.escape(w) for w in SELF_SERVING) + r")\b", re.IGNORECASE)


def majority_label(items: Iterable[EthicsItem]) -> int:
    """The most common label of ``items`` (0 on a tie or when there are none)."""
    counts = Counter(item.label for item in items)
    return 1 if counts[1] > counts[0] else 0


def _sign(x: float) -> int:
    return (x > 0.05) - (x < -0.05)


def keyword_predict(item: EthicsItem) -> int:
    """The keyword rule's 0/1 prediction for ``item`` (see the module docstring)."""
    fmt = item.format
    if fmt == "ethics-cm":
        return int(bool(_WRONG.search(item.text)))
    if fmt in ("ethics-justice", "moral-stories"):
        return int(not _WRONG.search(item.text))
    if fmt == "ethics-deontology":
        return int(not _SELF.search(item.second or ""))
    if fmt == "ethics-virtue":
        from ..sensors.emotion_sensor import vader_features

        trait_c, scene_c = vader_features([item.second or "", item.text])[:, 3]
        trait = _sign(float(trait_c))
        scene = -1 if _WRONG.search(item.text) else _sign(float(scene_c))
        return int(trait != 0 and trait == scene)
    raise ValueError(f"no keyword rule for format '{fmt}'")
