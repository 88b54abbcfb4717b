"""Build the graded intensity set: neutral seed sentences rewritten at every level of each
Plutchik spectrum by the embedded generator (the self-supervision of PAPER.md: what ``sweep``
does), for learning and checking that the sensor's intensities grow with strength.

Each seed (our own sentences, ``SEEDS`` below) is rewritten once per level, one round, without
the critic choosing among attempts (so the set does not lean toward the sensor that it checks).
A rewrite may miss its exact level, so the set is meant to be read as order: within one seed and
one pole, level k should read stronger than level k-1 (the seed itself is level 0).

    python training/make_intensity_set.py     # about 25 minutes on 2 CPU cores; resumable

Writes ``training/data/graded_intensity.jsonl`` (one JSON object per line: seed, spectrum,
pole, level, rank 0..3 on that pole, text). The set is ours to publish (CC0); the generator
is Qwen2.5-Coder-1.5B-Instruct (Apache-2.0).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "training" / "data" / "graded_intensity.jsonl"

SEEDS = [
    "The meeting has been moved to Thursday afternoon.",
    "My sister called me about the results of the exam.",
    "The train was twenty minutes late this morning.",
    "Our neighbours are painting their house blue.",
    "The doctor looked at the scan and said a few words.",
    "I found my old letters in a box in the attic.",
    "The manager announced changes to the team today.",
    "We got a reply from the landlord about the rent.",
    "The package arrived while I was out.",
    "He read the message twice before putting the phone down.",
    "The city is closing the park next to our school.",
    "My friend is moving to another country next month.",
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--seeds", type=int, default=len(SEEDS), help="use the first N seeds")
    args = ap.parse_args()

    import emoethics

    model = emoethics.load_model("plutchik")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    done = set()
    if args.out.is_file():
        for line in args.out.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            done.add((row["seed"], row["spectrum"], row["level"]))
    # units of one seed, spectrum and pole (its three levels), spread over seeds and spectra so
    # that a partial run still covers many of them
    units = [
        (seed_id, spec, sign)
        for k in range(len(model.spectra) * 2)
        for seed_id in range(min(args.seeds, len(SEEDS)))
        for spec, sign in [(model.spectra[(k // 2 + seed_id) % len(model.spectra)], 1 if (k + seed_id) % 2 else -1)]
    ]
    with args.out.open("a", encoding="utf-8") as f:
        for seed_id, spec, sign in units:
            seed = SEEDS[seed_id]
            for lv in sorted((a for a in spec.anchors() if a.intensity * sign >= 0), key=lambda a: abs(a.intensity)):
                if (seed_id, spec.id, lv.word) in done:
                    continue
                done.add((seed_id, spec.id, lv.word))
                pole = spec.positive if lv.intensity > 0 else spec.negative if lv.intensity < 0 else ""
                rank = sum(
                    1
                    for a in spec.anchors()
                    if a.intensity * lv.intensity > 0 and abs(a.intensity) <= abs(lv.intensity)
                )
                start = time.perf_counter()
                text = (
                    seed
                    if lv.intensity == 0
                    else emoethics.rewrite(seed, level=lv.word, model=model, rounds=1, explain=False).text
                )
                row = {"seed": seed_id, "spectrum": spec.id, "pole": pole, "level": lv.word, "rank": rank, "text": text}
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
                f.flush()
                print(
                    f"{seed_id} {spec.id} {lv.word}: {time.perf_counter() - start:.1f}s {text}",
                    file=sys.stderr,
                    flush=True,
                )


if __name__ == "__main__":
    main()
