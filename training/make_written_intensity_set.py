"""Build the written half of the graded intensity set: our own sentences that say one feeling at
three strengths on every pole of Plutchik's four spectra ("a little annoyed" < "angry" <
"absolutely furious"), in everyday frames, with the frame's neutral sentence as level 0.

The generated half (``training/make_intensity_set.py``: rewrites by the embedded generator)
costs minutes per seed on 2 cores, so it stays small; this half is cheap and covers every pole
with several wordings per level. It is read, like the generated half, as order within one seed
and one pole (level k reads stronger than level k-1), and it trains a model of four weights
(:class:`emoethics.sensors.emotion_sensor.IntensityModel`), which cannot learn these templates
word by word. ``benchmarks/sensor.py`` reports the pairwise order on each half separately;
only the generated half's dev seeds are text the weights never saw in any form.

    python training/make_written_intensity_set.py   # instant, deterministic

Writes ``training/data/graded_written.jsonl`` (the same fields as the generated half, plus
``"source": "written"``; seeds 1000 and up). The sentences are ours to publish (CC0).
"""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "training" / "data" / "graded_written.jsonl"

#: (neutral sentence, the same sentence saying a feeling in the slot {x})
FRAMES = [
    ("The train was late again this morning.", "The train was late again this morning, and I am {x}."),
    ("My manager moved my review to Friday.", "My manager moved my review to Friday and I feel {x}."),
    ("The letter from the bank arrived today.", "The letter from the bank arrived today. Honestly, I'm {x}."),
    ("We talked about the new plan at dinner.", "We talked about the new plan at dinner, and I was {x}."),
    ("They repainted the office over the weekend.", "They repainted the office over the weekend; I'm {x}."),
    ("The results of the vote came out tonight.", "The results of the vote came out tonight and I am {x}."),
    ("My brother called about the house.", "My brother called about the house, and now I feel {x}."),
    ("The clinic sent the test results by email.", "The clinic sent the test results by email. I'm {x}."),
]

#: Per pole: three wordings at each of its three levels (mild, clear, extreme).
LADDERS: dict[str, tuple[str, list[list[str]]]] = {
    "anger": (
        "fear-anger",
        [
            ["a little annoyed", "slightly irritated", "a bit cross"],
            ["angry", "really mad", "quite angry"],
            ["absolutely furious", "livid with rage", "so enraged I am shaking"],
        ],
    ),
    "fear": (
        "fear-anger",
        [
            ["a little uneasy", "slightly nervous", "a bit worried"],
            ["scared", "really afraid", "frightened"],
            ["absolutely terrified", "petrified", "paralysed with terror"],
        ],
    ),
    "sadness": (
        "sadness-joy",
        [
            ["a little down", "slightly disappointed", "a bit blue"],
            ["sad", "really unhappy", "sorrowful"],
            ["utterly heartbroken", "devastated", "crushed with grief"],
        ],
    ),
    "joy": (
        "sadness-joy",
        [
            ["quietly content", "mildly pleased", "a little glad"],
            ["happy", "really glad", "joyful"],
            ["absolutely overjoyed", "ecstatic", "thrilled beyond words"],
        ],
    ),
    "disgust": (
        "disgust-trust",
        [
            ["a little bored by it", "slightly put off", "mildly uninterested"],
            ["disgusted", "really grossed out", "repulsed"],
            ["utterly revolted", "sickened to my core", "filled with loathing"],
        ],
    ),
    "trust": (
        "disgust-trust",
        [
            ["willing to accept it", "okay with it", "mildly reassured"],
            ["trusting of them", "confident in them", "sure I can rely on them"],
            ["full of admiration for them", "deeply devoted to them", "in awe of them"],
        ],
    ),
    "surprise": (
        "surprise-anticipation",
        [
            ["a little distracted", "slightly taken aback", "mildly puzzled"],
            ["surprised", "really startled", "caught off guard"],
            ["absolutely astonished", "completely stunned", "utterly amazed"],
        ],
    ),
    "anticipation": (
        "surprise-anticipation",
        [
            ["a little curious", "mildly interested", "somewhat intrigued"],
            ["looking forward to what comes next", "eager", "expectant"],
            ["on high alert, watching every detail", "counting every minute", "unable to wait a second longer"],
        ],
    ),
}

#: Level names per pole, mild to extreme (the emotion model's anchors).
LEVELS = {
    "anger": ["annoyance", "anger", "rage"],
    "fear": ["apprehension", "fear", "terror"],
    "sadness": ["pensiveness", "sadness", "grief"],
    "joy": ["serenity", "joy", "ecstasy"],
    "disgust": ["boredom", "disgust", "loathing"],
    "trust": ["acceptance", "trust", "admiration"],
    "surprise": ["distraction", "surprise", "amazement"],
    "anticipation": ["interest", "anticipation", "vigilance"],
}


def rows() -> list[dict]:
    """Every row: per frame and wording (a seed), the neutral sentence once per spectrum and
    each pole at its three levels."""
    out = []
    spectra = sorted({spectrum for spectrum, _ in LADDERS.values()})
    for f, (neutral, template) in enumerate(FRAMES):
        for v in range(3):
            seed = 1000 + f * 3 + v
            for spectrum in spectra:
                out.append(
                    {"seed": seed, "spectrum": spectrum, "pole": "", "level": "neutral", "rank": 0, "text": neutral}
                )
            for pole, (spectrum, ladder) in LADDERS.items():
                for rank, wordings in enumerate(ladder, start=1):
                    # the wording rotates with the frame, so each seed mixes mild and strong phrasings
                    x = wordings[(v + f) % 3]
                    out.append(
                        {
                            "seed": seed,
                            "spectrum": spectrum,
                            "pole": pole,
                            "level": LEVELS[pole][rank - 1],
                            "rank": rank,
                            "text": template.format(x=x),
                        }
                    )
    return [{**r, "source": "written"} for r in out]


def main() -> None:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    data = rows()
    OUT.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in data), encoding="utf-8")
    print(f"{len(data)} rows -> {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
