"""How strongly a text words each emotion, from the emotion words it uses: our own short lists
of plain emotion words at Plutchik's three levels of each emotion ("annoyed" < "angry" <
"furious"), read with the modifiers before them ("a little", "absolutely") and negation
("not happy").

The sentence encoder tells which emotion a text carries far better than how strongly: its
embedding of "I am absolutely furious" is no angrier than that of "I'm a little annoyed". This
reading is one input of the sensor's intensity model (:class:`~emoethics.sensors.emotion_sensor.
IntensityModel`), whose weights are learned on the graded set (``training/train_sensor.py``).
The lists were written for emoethics (CC0), like the written half of the graded set, so that
half's order partly follows from them by construction; ``benchmarks/sensor.py`` reports the
generated half and EmoBank apart.
"""

from __future__ import annotations

import re

import numpy as np

#: Per emotion, its words at the mild, clear and extreme level (the levels' strengths below).
WORDS: dict[str, tuple[str, str, str]] = {
    "anger": (
        "annoyed annoying irritated irritating bothered grumpy peeved miffed frustrated frustrating",
        "angry anger mad resentful hostile indignant bitter",
        "furious fury livid enraged rage raging fuming seething infuriated infuriating incensed outraged",
    ),
    "fear": (
        "uneasy nervous worried concerned anxious apprehensive wary tense jittery",
        "scared afraid frightened fearful alarmed panicky frightening scary",
        "terrified petrified horrified panic panicking terror dread terrifying paralysed paralyzed",
    ),
    "sadness": (
        "disappointed blue glum gloomy wistful melancholy",
        "sad unhappy sorrowful miserable depressed hurt lonely sorrow",
        "heartbroken devastated grief grieving despair hopeless crushed inconsolable anguish desolate",
    ),
    "joy": (
        "pleased glad serene relieved",
        "happy joyful cheerful delighted joy",
        "overjoyed ecstatic thrilled elated euphoric blissful jubilant ecstasy",
    ),
    "disgust": (
        "bored boring uninterested dull tedious",
        "disgusted disgusting grossed gross repulsed repulsive nasty",
        "revolted revolting sickened sickening loathe loathing abhor vile despise",
    ),
    "trust": (
        "accept accepting reassured",
        "trust trusting confident rely reliable faith",
        "admire admiration devoted awe adore revere",
    ),
    "surprise": (
        "distracted puzzled",
        "surprised startled shocked surprise",
        "astonished stunned amazed astounded flabbergasted dumbfounded",
    ),
    "anticipation": (
        "curious interested intrigued",
        "eager expectant hopeful",
        "vigilant watchful impatient",
    ),
}
LEVEL_STRENGTH = (0.3, 0.6, 1.0)
#: Words that make the next emotion word stronger or weaker, and that negate it (within three
#: words before it).
BOOSTERS = frozenset("absolutely utterly completely totally extremely incredibly so really very deeply truly".split())
DAMPENERS = frozenset("little bit slightly somewhat mildly kinda kind sort rather".split())
NEGATIONS = frozenset("not no never without hardly n't isn't wasn't aren't don't didn't cannot".split())
BOOST, DAMP = 1.5, 0.5

_LEVEL = {w: (e, LEVEL_STRENGTH[k]) for e, levels in WORDS.items() for k, ws in enumerate(levels) for w in ws.split()}
_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)?|n't")


def emotion_word_strength(texts: list[str], emotions: tuple[str, ...]) -> np.ndarray:
    """[n, len(emotions)]: per text and emotion, the strongest of its words for that emotion
    (0.3, 0.6 or 1.0 by level; x1.5 after a booster, x0.5 after a dampener, capped at 1; 0 when
    negated), 0 where the text has none."""
    col = {e: j for j, e in enumerate(emotions)}
    out = np.zeros((len(texts), len(emotions)), dtype=np.float32)
    for i, text in enumerate(texts):
        tokens = _TOKEN.findall(text.lower())
        for k, tok in enumerate(tokens):
            hit = _LEVEL.get(tok)
            if hit is None or hit[0] not in col:
                continue
            before = tokens[max(0, k - 3) : k]
            if NEGATIONS.intersection(before):
                continue
            value = hit[1]
            if before and before[-1] in BOOSTERS:
                value *= BOOST
            elif DAMPENERS.intersection(before[-2:]):
                value *= DAMP
            j = col[hit[0]]
            out[i, j] = max(out[i, j], min(value, 1.0))
    return out
