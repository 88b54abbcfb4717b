"""Give the built-in behaviour signatures a ``distress`` variant of their neutral level.

Behaviour is what a text does to its addressee, not how its author feels, but a signature learned
only from rewrites of neutral seeds places every sad or frightened text near the hostile end. This
adds the texts of ``src/emoethics/ethics/seeds/distress-<spectrum>.txt`` (sad, worried and frightened
letters and workplace messages that treat nobody badly, written for emoethics) to
``src/emoethics/ethics/signatures/<spectrum>.json`` as examples of level ``neutral``, variant
``distress``, measured by the emotion sensor, and refits the signatures
(:func:`emoethics.ethics.signatures.add_examples`; every fifth text is held out, as seeds are).

Run it again after changing those texts; ``emoethics dike remeasure`` (``make train``) measures
these examples again together with the rewrites, so it need not run after a retrained sensor.

    python training/distress_signatures.py
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ETHICS = ROOT / "src" / "emoethics" / "ethics"
SPECTRA = ("correspondence", "workplace")


def main() -> None:
    from emoethics.api import make_analyzer
    from emoethics.ethics.signatures import add_examples, load_signatures

    analyzer = make_analyzer(role="critic")  # the emotion sensor by default
    for spectrum in SPECTRA:
        texts = [
            t.strip()
            for t in (ETHICS / "seeds" / f"distress-{spectrum}.txt").read_text(encoding="utf-8").splitlines()
            if t.strip()
        ]
        path = ETHICS / "signatures" / f"{spectrum}.json"
        sig = add_examples(load_signatures(path), texts, "neutral", "distress", analyzer)
        sig.save(path)
        print(f"{spectrum}: {len(texts)} distress examples added, signatures {sig.id}")


if __name__ == "__main__":
    main()
