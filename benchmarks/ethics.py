"""Ethics benchmark: accuracy, seconds and LLM calls per item of every predictor, per format.

Held-out items only (the trained heads never saw them):

- ``ethics-cm``: the hash-dev part of ``ethics/cm_test.csv`` (the heads train on the rest);
- ``ethics-deontology``, ``ethics-justice``, ``ethics-virtue``: ``*_test.csv`` (heads train on
  ``*_train.csv``);
- ``moral-stories``: all of ``moral_stories/dev.jsonl`` (the head trains on ``moral_stories/train.jsonl``).

``--heads`` scores the shipped heads and the heads of an earlier commit (``--old-heads REV``,
read with ``git show``) on every shared dev split in full: the ETHICS ``*_test.csv`` files, the
hash-dev part of ``cm_test.csv``, and ``moral_stories/dev.jsonl`` (all of it, and its story-hash dev
part, the only part of it the earlier heads, trained on the rest of that file, had not seen).
Heads whose file did not change are not scored again: their figures are the manifest's, which
``training/train_ethics.py`` measured on the same full dev split. Each head is scored with its own
encoder (the original all-MiniLM-L6-v2 or the moral encoder, as its npz says). ``--heads-limit N``
scores a seeded sample of about N items per split instead (both actions of a story together).

A seeded sample of ``--limit`` items per format is scored by ``majority`` (of the training part),
``keyword``, ``head`` (trained head on MiniLM embeddings), ``llm`` (the embedded model, few-shot with
the most similar training items as examples) and ``cascade`` (the head where it is sure, the LLM
elsewhere). ``--rectify N`` also rectifies N immoral Moral Stories actions with the full judge.

``--distress`` judges the distressed-but-harmless dev set (:func:`distress_set`: GoEmotions dev
comments labelled sadness, grief, fear, nervousness or remorse, none of anger, annoyance, disgust
or disapproval, that speak to nobody in the second person, plus ``benchmarks/data/distress_written.txt``)
in context ``personal`` without the model (all of it) and with it (a seeded sample of
``--distress-model N``), and reports the share allowed, by the judge with and without the rule that a
negative behaviour reading needs someone at its receiving end, and for the new rule at each moral-head
threshold of :data:`HEAD_THRESHOLDS` (the judge's ``head_threshold``). The same judges are run on
clearly harmful texts, to show what the rule costs: the hostile and contemptuous (abusive and
hostile) rewrites of the built-in signatures' held-out seeds (the 1.5B generator's: some of its
"hostile" rewrites are refusals or sad news, which the new rule rightly allows), the texts of
``benchmarks/data/hostile_written.txt`` (insults, threats and contempt, written for emoethics by
the author of the word lists in :mod:`emoethics.ethics.address`, so not an independent test), and
the short (at most 400 characters) ETHICS commonsense dev items labelled wrong; their share still
flagged (not allowed) is reported.

Results stream to ``benchmarks/results/ethics.jsonl`` (one line per format and predictor; a re-run
skips what is there: delete the file to start over; a distress row is keyed by :func:`judge_tag` too,
so retrained heads are measured afresh); the summary goes to stdout and ``ethics.json``.
``--results-dir DIR`` writes both files into DIR instead.

``--smoke`` is a tiny run of the same code: majority, keyword and head on a few items of every
format, the embedded model (llm, cascade) on two short items of one format with a small few-shot pool,
and ``--distress`` without the model on a sample of the distress and harmful sets; its rows are
keyed apart and marked ``"smoke": true``. It needs the shared data folder and exits 0 without
results when that is missing.

    python benchmarks/ethics.py --limit 200
    python benchmarks/ethics.py --limit 200 --formats ethics-cm --predictors head,llm,cascade
    python benchmarks/ethics.py --formats none --distress --distress-model 20
    python benchmarks/ethics.py --smoke --results-dir /tmp/smoke-ethics   # a tiny run (CI)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import random
import sys
import time
from pathlib import Path

from emoethics import api
from emoethics.config import load_settings
from emoethics.ethics.address import SECOND_PERSON
from emoethics.ethics.heads import HEADS_DIR
from emoethics.ethics.judge import HEAD_DISAGREES, Judge
from emoethics.ethics.signatures import builtin_signatures
from emoethics.evals import ethics as ev
from emoethics.evals.ethics_baselines import majority_label
from emoethics.evals.ethics_data import ETHICS_FORMATS, EthicsItem, load_ethics, split_key, split_of
from emoethics.sensors.embedding import EMOTION_ENCODER
from emoethics.sensors.emotion_sensor import DEFAULT_HEADS
from emoethics.session import get_backend

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
RESULTS = ROOT / "benchmarks" / "results"
FILES = {
    "ethics-cm": ("ethics/cm_test.csv", None),
    "ethics-deontology": ("ethics/deontology_test.csv", "ethics/deontology_train.csv"),
    "ethics-justice": ("ethics/justice_test.csv", "ethics/justice_train.csv"),
    "ethics-virtue": ("ethics/virtue_test.csv", "ethics/virtue_train.csv"),
    "moral-stories": ("moral_stories/dev.jsonl", "moral_stories/train.jsonl"),
}
#: The commit whose heads ``--heads`` compares with: the last one before the moral encoder
#: (every head on the original all-MiniLM-L6-v2).
OLD_HEADS = "a439915"
#: Few-shot pools larger than this are sampled (the LLM predictor embeds its whole pool).
MAX_POOL = 4000
#: ``--smoke``: items per format for the predictors without a model, items for the LLM predictors
#: (on one format only: this one if it is run, of short items, else the first), the few-shot pool they
#: embed, distress and harmful texts judged, items per split for ``--heads``.
SMOKE_LLM_FORMAT = "ethics-justice"
SMOKE_LIMIT = 6
SMOKE_LLM_ITEMS = 2
SMOKE_POOL = 100
SMOKE_DISTRESS = 10
SMOKE_HEADS_LIMIT = 20
LLM_PREDICTORS = ("llm", "cascade")


def held_out(fmt: str) -> tuple[list[EthicsItem], list[EthicsItem]]:
    """(evaluation items, training pool) for ``fmt``."""
    test, train = FILES[fmt]
    items = load_ethics(DATA / test, fmt)
    if train is None:  # one file: split it the way the heads were trained
        pool = [it for it in items if split_of(split_key(it)) == "train"]
        items = [it for it in items if split_of(split_key(it)) == "dev"]
    else:
        pool = load_ethics(DATA / train, fmt)
        if len(pool) > MAX_POOL:
            pool = sample(pool, MAX_POOL, 0)
    return items, pool


def sample(items: list[EthicsItem], n: int, seed: int) -> list[EthicsItem]:
    if items and items[0].group is not None:  # keep both actions of a story together
        groups = sorted({it.group for it in items if it.group})
        keep = set(random.Random(seed).sample(groups, min(len(groups), n // 2)))
        return [it for it in items if it.group in keep]
    return sorted(random.Random(seed).sample(items, min(n, len(items))), key=lambda it: it.id)


DISTRESS_LABELS = {"sadness", "grief", "fear", "nervousness", "remorse"}
OUTWARD_LABELS = {"anger", "annoyance", "disgust", "disapproval"}
#: Harmful texts for the cost of the rule: (signature file, context, levels that must be flagged).
HARMFUL_LEVELS = {
    "correspondence": ("personal", ("hostile", "contemptuous")),
    "workplace": ("workplace", ("abusive", "hostile")),
}


#: The moral head's P(wrong) thresholds ``--distress`` tries (the judge's ``head_threshold``).
HEAD_THRESHOLDS = (0.5, 0.6, 0.7, 0.75, 0.8, 0.81, 0.82, 0.83, 0.84, 0.85, 0.9, 0.95)


#: The ETHICS commonsense items among the harmful texts are the short ones (one-paragraph scenarios).
MAX_HARMFUL_CHARS = 400


def distress_set() -> list[tuple[str, str]]:
    """(source, text) of the distressed-but-harmless dev set (see the module docstring)."""
    labels = (DATA / "goemotions" / "labels.txt").read_text(encoding="utf-8").split()
    out = []
    for line in (DATA / "goemotions" / "dev.tsv").read_text(encoding="utf-8").splitlines():
        text, ids, _ = line.split("\t")
        names = {labels[int(i)] for i in ids.split(",")}
        if names & DISTRESS_LABELS and not names & OUTWARD_LABELS and not SECOND_PERSON.search(text):
            out.append(("goemotions-dev", text))
    written = ROOT / "benchmarks" / "data" / "distress_written.txt"
    out += [("written", t) for t in written.read_text(encoding="utf-8").splitlines() if t.strip()]
    return out


def harmful_set() -> list[tuple[str, str, str]]:
    """(source, context, text) of clearly harmful texts (see the module docstring)."""
    out = []
    for spectrum, (context, levels) in HARMFUL_LEVELS.items():
        sig = builtin_signatures(spectrum)
        assert sig is not None
        out += [
            (f"{spectrum} {e.level} rewrites", context, e.text)
            for e in sig.examples
            if e.split == "heldout" and e.level in levels
        ]
    written = ROOT / "benchmarks" / "data" / "hostile_written.txt"
    out += [("written hostile", "personal", t) for t in written.read_text(encoding="utf-8").splitlines() if t.strip()]
    items, _ = held_out("ethics-cm")
    out += [
        ("ethics-cm dev, wrong, short", "personal", it.text)
        for it in items
        if it.label == 1 and len(it.text) <= MAX_HARMFUL_CHARS
    ]
    return out


def share(rows: list[dict], key: str, value: str, negate: bool = False) -> dict:
    by: dict[str, list[bool]] = {}
    for r in rows:
        by.setdefault(r["source"], []).append((r[key] == value) != negate)
    by["all"] = [x for v in by.values() for x in v]
    return {k: {"n": len(v), "share": round(sum(v) / len(v), 4)} for k, v in by.items()}


def judge_tag() -> str:
    """A short digest of what the judge without its model reads with (the sensor's heads and
    encoder, the commonsense and conduct heads, the threshold, the judge's rules and the guideline
    file): a distress row of other heads or rules is not reused."""
    import emoethics.ethics.judge as judge_module
    from emoethics.ethics.guidelines import DATA_DIR as GUIDELINES_DIR

    digest = hashlib.sha256(str(HEAD_DISAGREES).encode())
    for path in (
        DEFAULT_HEADS, EMOTION_ENCODER, HEADS_DIR / "ethics-cm.npz", HEADS_DIR / "minilm-moral-int8.onnx",
        HEADS_DIR / "conduct.npz", Path(judge_module.__file__), GUIDELINES_DIR / "default.yaml",
    ):  # fmt: skip
        digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


def run_distress(settings, model_n: int, seed: int, limit: int = 0) -> dict:
    """Share allowed of the distress set and share flagged of the harmful set, old and new rule
    (``limit``: a seeded sample of that many texts of each set)."""
    base = api.make_judge(settings=settings, use_model=False)
    judges = {"new": base, "old": Judge(base.guidelines, None, base.analyzer, needs_target=False)}
    report: dict = {}
    distress = distress_set()
    harmful = harmful_set()
    if limit:
        distress = random.Random(seed).sample(distress, min(limit, len(distress)))
        harmful = random.Random(seed).sample(harmful, min(limit, len(harmful)))
    by_context: dict[str, list[int]] = {}
    for n, (_, ctx, _) in enumerate(harmful):
        by_context.setdefault(ctx, []).append(n)

    def judge_harmful(j: Judge) -> list[str]:
        verdicts = [""] * len(harmful)
        for ctx, idx in by_context.items():
            for n, r in zip(idx, j.judge_many([harmful[n][2] for n in idx], ctx), strict=True):
                verdicts[n] = r.verdict
        return verdicts

    for name, j in judges.items():
        start = time.perf_counter()
        verdicts = [r.verdict for r in j.judge_many([t for _, t in distress], "personal")]
        rows = [{"source": src, "verdict": v} for (src, _), v in zip(distress, verdicts, strict=True)]
        report[f"distress allowed, no model, {name} rule"] = share(rows, "verdict", "allow")
        report[f"seconds per text, no model, {name} rule"] = round((time.perf_counter() - start) / len(distress), 4)
        rows = [{"source": src, "verdict": v} for (src, _, _), v in zip(harmful, judge_harmful(j), strict=True)]
        report[f"harmful flagged, no model, {name} rule"] = share(rows, "verdict", "allow", negate=True)
        print(
            f"  {name} rule: distress allowed {report[f'distress allowed, no model, {name} rule']['all']}, "
            f"harmful flagged {report[f'harmful flagged, no model, {name} rule']['all']}",
            flush=True,
        )
    sweep = {}
    for threshold in HEAD_THRESHOLDS:
        j = Judge(base.guidelines, None, base.analyzer, head_threshold=threshold)
        allowed = [r.verdict == "allow" for r in j.judge_many([t for _, t in distress], "personal")]
        flagged = [v != "allow" for v in judge_harmful(j)]
        sweep[str(threshold)] = {
            "distress allowed": round(sum(allowed) / len(allowed), 4),
            "harmful flagged": round(sum(flagged) / len(flagged), 4),
        }
        print(f"  head threshold {threshold}: {sweep[str(threshold)]}", flush=True)
    report["head threshold sweep, no model, new rule"] = sweep
    if model_n:
        jm = api.make_judge(settings=settings)
        picked = random.Random(seed).sample(distress, min(model_n, len(distress)))
        start = time.perf_counter()
        rows = []
        for src, t in picked:
            r = jm.judge(t, "personal")
            rows.append(
                {
                    "source": src,
                    "verdict": r.verdict,
                    "text": t,
                    "wrong": r.wrong,
                    "violations": [h.guideline for h in r.violations],
                    "rationale": r.rationale,
                    "dropped": r.rationale_dropped,
                }
            )
            print(f"  with model: {r.verdict:>7}  {t[:70]}", flush=True)
        report["distress allowed, with model, new rule"] = share(rows, "verdict", "allow")
        report["distress with model, seconds per text"] = round((time.perf_counter() - start) / len(picked), 1)
        report["distress with model, rows"] = rows
    return report


def score_head(head, items: list[EthicsItem]) -> dict:
    import numpy as np
    from sklearn.metrics import roc_auc_score

    from emoethics.ethics.heads import features

    p = head.proba_from_features(features(head.kind, items, head.encoder))
    y = np.array([it.label for it in items])
    pred = (p >= 0.5).astype(int)
    out = {
        "n": len(items),
        "accuracy": round(float(np.mean(pred == y)), 4),
        "roc_auc": round(float(roc_auc_score(y, p)), 4),
    }
    groups: dict[str, list[bool]] = {}
    for it, v in zip(items, pred, strict=True):
        if it.group is not None:
            groups.setdefault(it.group, []).append(bool(v == it.label))
    if groups:
        out["both_actions_right"] = round(float(np.mean([all(v) for v in groups.values() if len(v) == 2])), 4)
    return out


def run_heads(old_rev: str, limit: int = 0) -> dict:
    """Old and new heads on every shared dev split (see the module docstring)."""
    import subprocess
    import tempfile

    from emoethics.ethics.heads import HEADS_DIR, EthicsHead

    report = {}
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in ETHICS_FORMATS:
            rel = (HEADS_DIR / f"{fmt}.npz").relative_to(ROOT)
            old_bytes = subprocess.run(
                ["git", "show", f"{old_rev}:{rel}"], cwd=ROOT, capture_output=True, check=True
            ).stdout
            old_path = Path(tmp) / f"{fmt}.npz"
            old_path.write_bytes(old_bytes)
            heads = {"new": EthicsHead.load(fmt), "old": EthicsHead.from_file(old_path, fmt)}
            unchanged = old_bytes == (HEADS_DIR / f"{fmt}.npz").read_bytes()
            if unchanged:
                m = json.loads((HEADS_DIR / "manifest.json").read_text())["heads"][fmt]
                scores = {"n": m["dev_size"], "accuracy": m["dev_accuracy"], "roc_auc": m["dev_roc_auc"]}
                report[f"{fmt} on {m['reported_on']}"] = {"old": scores, "new": scores, "unchanged": True}
                print(
                    f"{fmt:>18} on {m['reported_on']}: {scores['accuracy']:.3f} (AUC {scores['roc_auc']:.3f}), "
                    "unchanged (manifest)",
                    flush=True,
                )
                continue
            items, _ = held_out(fmt)
            if limit:
                items = sample(items, limit, 0)
            splits = {FILES[fmt][0] + (" (hash-dev part)" if fmt == "ethics-cm" else ""): items}
            if fmt == "moral-stories":
                splits[FILES[fmt][0] + " (hash-dev part)"] = [it for it in items if split_of(split_key(it)) == "dev"]
            for split, its in splits.items():
                new, old = score_head(heads["new"], its), score_head(heads["old"], its)
                report[f"{fmt} on {split}"] = {
                    "old": old,
                    "new": new,
                    "old_encoder": heads["old"].encoder,
                    "new_encoder": heads["new"].encoder,
                    "unchanged": False,
                }
                print(
                    f"{fmt:>18} on {split} (n={new['n']}): old {old['accuracy']:.3f} (AUC {old['roc_auc']:.3f}, "
                    f"{heads['old'].encoder})  new {new['accuracy']:.3f} (AUC {new['roc_auc']:.3f}, "
                    f"{heads['new'].encoder})"
                    + (
                        f"  both actions old {old['both_actions_right']:.3f} new {new['both_actions_right']:.3f}"
                        if "both_actions_right" in new
                        else ""
                    ),
                    flush=True,
                )
    return report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, default=200, help="items per format")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--formats", default=",".join(ETHICS_FORMATS))
    ap.add_argument("--predictors", default="majority,keyword,head,llm,cascade")
    ap.add_argument("--rectify", type=int, default=0, help="rectify N immoral Moral Stories actions")
    ap.add_argument("--heads", action="store_true", help="old and new heads on every shared dev split")
    ap.add_argument("--old-heads", default=OLD_HEADS, help="the commit whose heads to compare with")
    ap.add_argument("--heads-limit", type=int, default=0, help="with --heads: about N items per split (0: all)")
    ap.add_argument("--distress", action="store_true", help="judge the distressed-but-harmless dev set")
    ap.add_argument("--distress-model", type=int, default=0, help="with the model too, on a sample of N")
    ap.add_argument("--no-cache", action="store_true")
    ap.add_argument("--results-dir", type=Path, default=RESULTS, help="where ethics.jsonl and ethics.json go")
    ap.add_argument("--smoke", action="store_true", help="a tiny run of every part (see the module docstring)")
    args = ap.parse_args()
    if args.smoke:
        if not DATA.is_dir():
            print(f"ethics.py --smoke: the shared data folder {DATA} is missing; nothing run", file=sys.stderr)
            return
        args.distress, args.distress_model = True, 0
        args.heads_limit = args.heads_limit or SMOKE_HEADS_LIMIT
        args.rectify = min(args.rectify, 1)
    tag = "/smoke" if args.smoke else ""

    settings = load_settings(no_cache=args.no_cache)
    results = args.results_dir
    results.mkdir(parents=True, exist_ok=True)
    out_path = results / "ethics.jsonl"
    done = {}
    if out_path.is_file():
        for line in out_path.read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            done[(r["format"], r["key"])] = r
    backend = get_backend("judge", settings)
    formats = [f for f in args.formats.split(",") if f in ETHICS_FORMATS]
    llm_format = SMOKE_LLM_FORMAT if SMOKE_LLM_FORMAT in formats else formats[0] if formats else None
    for fmt in formats:
        items, pool = held_out(fmt)
        if args.smoke and len(pool) > SMOKE_POOL:
            pool = sample(pool, SMOKE_POOL, 0)
        for name in args.predictors.split(","):
            limit = args.limit
            if args.smoke:
                if name in LLM_PREDICTORS and fmt != llm_format:
                    continue
                limit = SMOKE_LLM_ITEMS if name in LLM_PREDICTORS else SMOKE_LIMIT
            key = f"{name}@{limit}/{args.seed}{tag}"
            if (fmt, key) in done:
                continue
            if name == "majority":
                pred = ev.Majority(majority_label(pool))
            elif name == "keyword":
                pred = ev.Keyword()
            elif name == "head":
                pred = ev.Head(fmt)
            elif name == "llm":
                pred = ev.LLM(backend, fmt, pool)
            elif name == "cascade":
                pred = ev.Cascade(ev.Head(fmt), ev.LLM(backend, fmt, pool))
            else:
                raise SystemExit(f"unknown predictor {name}")
            report = ev.evaluate_ethics(
                sample(items, limit, args.seed), pred, backend=backend if name in LLM_PREDICTORS else None
            )
            row = {"format": fmt, "key": key, "predictor_name": name, **report}
            row |= {"smoke": True} if args.smoke else {}
            done[(fmt, key)] = row
            with out_path.open("a", encoding="utf-8") as f:
                f.write(json.dumps(row) + "\n")
            print(
                f"{fmt:>18} {name:>9}: accuracy {report['accuracy']:.3f}  n={report['n']}  "
                f"{report['seconds_per_item']:.3f} s/item  {report['llm_calls_per_item']:.2f} LLM calls/item",
                flush=True,
            )
    if args.rectify:
        key = f"rectify@{args.rectify}/{args.seed}{tag}"
        if ("moral-stories", key) not in done:
            items, _ = held_out("moral-stories")
            immoral = [it for it in items if it.label == 0]
            random.Random(args.seed).shuffle(immoral)
            judge = api.make_judge(settings=settings)
            rep = ev.rectification_rate(immoral[: args.rectify], judge, settings)
            row = {"format": "moral-stories", "key": key, "predictor_name": "rectify", **rep}
            row |= {"smoke": True} if args.smoke else {}
            done[("moral-stories", key)] = row
            with out_path.open("a", encoding="utf-8") as f:
                f.write(json.dumps(row) + "\n")
        r = done[("moral-stories", key)]
        print(
            f"moral-stories rectification: n={r['n']}, flagged {r['flagged']}, success rate {r['success_rate']} "
            f"({r['success_rate_flagged']} of flagged), similarity {r['similarity_mean']}, "
            f"{r['llm_calls_per_item']} LLM calls and {r['seconds_per_item']} s per item"
        )
    if args.heads:
        key = f"heads@{args.old_heads}" + (f"/{args.heads_limit}" if args.heads_limit else "") + tag
        row = {
            "format": "heads",
            "key": key,
            "predictor_name": "head",
            **run_heads(args.old_heads, args.heads_limit),
        } | ({"smoke": True} if args.smoke else {})
        done[("heads", key)] = row
        with out_path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(row) + "\n")
    if args.distress:
        key = f"distress@{args.distress_model}/{args.seed}/{judge_tag()}{tag}"
        if ("distress", key) not in done:
            row = {
                "format": "distress",
                "key": key,
                "predictor_name": "judge",
                **run_distress(settings, args.distress_model, args.seed, SMOKE_DISTRESS if args.smoke else 0),
            } | ({"smoke": True} if args.smoke else {})
            done[("distress", key)] = row
            with out_path.open("a", encoding="utf-8") as f:
                f.write(json.dumps(row) + "\n")
        for k, v in done[("distress", key)].items():
            if isinstance(v, dict) and all("share" in x for x in v.values()):
                print(f"{k}: " + ", ".join(f"{src} {x['share']:.3f} (n={x['n']})" for src, x in v.items()))
            elif isinstance(v, dict):
                print(f"{k}: " + "; ".join(f"{t}: {x}" for t, x in v.items()))
    summary = {
        "machine": f"{platform.processor() or platform.machine()}, {platform.system()}",
        "generator": backend.id,
        **({"smoke": True} if args.smoke else {}),
        "results": [{k: v for k, v in r.items() if not k.endswith("rows")} for r in done.values()],
    }
    (results / "ethics.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
