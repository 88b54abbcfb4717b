"""Train the ethics heads from the shared data sets (``make train``).

Data (all read from ``../shared/data/``; nothing is copied into the repository):

- ``ethics-cm``: ETHICS ``ethics/cm_test.csv`` (there is no commonsense training file here): split by
  ``emoethics.evals.ethics_data.split_of`` of the text, about 1 in 5 to dev; train on the rest,
  report accuracy on that dev part. The Moral Stories training actions (``moral_stories/train.jsonl``,
  the immoral action of a story as "wrong", the moral one as "not wrong") are offered as extra training
  items; whether to use them (``mix``) is chosen with the feature kind and C on the selection split.
  ``make train`` passes ``--no-extra``: a commonsense head that learns from them reads many
  distressed-but-harmless texts as wrong (``docs/ethics.md``, "The moral encoder and the heads").
  On the dev part the head also gets its *reading* (the whole text, the most wrong sentence, or the
  larger of the two) and a Platt calibration of that reading, so the judge's P(wrong) means what it
  says; the calibration's own error is reported cross-fitted (fit on one half of dev, scored on the other);
- ``ethics-deontology``, ``ethics-justice``, ``ethics-virtue``: train on ``ethics/<task>_train.csv``,
  report accuracy on the held-out ``ethics/<task>_test.csv``;
- ``moral-stories``: train on ``moral_stories/train.jsonl`` (10,000 stories, both actions), report on all
  of ``moral_stories/dev.jsonl`` (1,000 stories, none in train) and, to compare with heads trained on
  dev.jsonl itself, on its ``split_of`` dev part (by story id).

Features: embeddings by one of two encoders (``emoethics.ethics.heads.ENCODERS``): all-MiniLM-L6-v2
as published (``original``) or the same model fine-tuned on the moral tasks by
``training/finetune_moral_encoder.py`` (``moral``, which never saw the selection split below nor
the commonsense dev part); for pair formats several kinds are tried. Head: standardisation +
logistic regression (scikit-learn, training only). The encoder, the feature kind and C are chosen
on a selection split *inside the training items* (``split_of("select:" + key)``), never on the items
whose accuracy is reported; the chosen head is then refitted on all training items. The majority
label (of the training items) and the keyword rule (``emoethics.evals.ethics_baselines``) are scored
on the same reported items.

Writes ``src/emoethics/ethics/heads/<format>.npz`` (byte-for-byte reproducible on one machine) and
``manifest.json`` beside them (``--out`` elsewhere, for a probe that must not replace the shipped
heads). Embeddings are cached per encoder in ``training/.cache`` (not committed). ``--max-train`` and
``--max-dev`` subsample the training items (extra items too) and the reported items (whole stories
and groups kept together), for runs that must fit a small machine; the manifest says so.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import io
import json
import platform
import sys
import time
import zipfile
from pathlib import Path

import numpy as np

from emoethics.ethics.heads import ENCODERS, MORAL_ENCODER_FILE

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
HEADS = ROOT / "src" / "emoethics" / "ethics" / "heads"
CACHE = ROOT / "training" / ".cache"
C_GRID = (0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0)

#: format -> (training file, reported file or None for a hash split of the training file, kinds to try)
PLAN = {
    "ethics-cm": ("ethics/cm_test.csv", None, ("text",)),
    "ethics-deontology": (
        "ethics/deontology_train.csv",
        "ethics/deontology_test.csv",
        ("pair", "joined", "pair+joined"),
    ),
    "ethics-justice": ("ethics/justice_train.csv", "ethics/justice_test.csv", ("text",)),
    "ethics-virtue": ("ethics/virtue_train.csv", "ethics/virtue_test.csv", ("pair", "joined", "pair+joined")),
    # actions alone: with 20,000 training actions the norm adds 30,000 more texts to embed, and the
    # earlier heads on action and norm scored under 0.01 above the action alone on their selection split
    "moral-stories": ("moral_stories/train.jsonl", "moral_stories/dev.jsonl", ("text",)),
}
#: Extra training items offered to a head (chosen or not on the selection split): format -> files.
EXTRA = {"ethics-cm": ("moral_stories/train.jsonl",)}
READINGS = ("whole", "max-sentence", "max")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def cache_prefix(encoder: str) -> str:
    """Cache file prefix of ``encoder``'s embeddings; the moral encoder's names its sha256, so a
    retrained encoder never reads the vectors of an earlier one."""
    if encoder == "original":
        return "ethics-texts"
    return f"ethics-{encoder}-{sha256(HEADS / MORAL_ENCODER_FILE)[:12]}-texts"


def embed_cached(name: str, texts: list[str], encoder: str = "original") -> dict[str, np.ndarray]:
    """Embeddings of the distinct ``texts`` by ``encoder``; every text embedded once is kept in
    ``training/.cache/<prefix>-*`` (chunks of texts with their vectors), so heads that share
    texts embed them once, and two runs at a time do not overwrite each other's work."""
    from emoethics.ethics.heads import encoder_named

    prefix = cache_prefix(encoder)
    known: dict[str, np.ndarray] = {}
    for key_path in sorted(CACHE.glob(f"{prefix}-*.json")):
        vec_path = key_path.with_suffix(".npy")
        if vec_path.is_file():
            known.update(zip(json.loads(key_path.read_text(encoding="utf-8")), np.load(vec_path), strict=True))
    missing = sorted(set(texts) - set(known))
    if missing:
        start = time.perf_counter()
        enc, step = encoder_named(encoder), 1024
        CACHE.mkdir(parents=True, exist_ok=True)
        for i in range(0, len(missing), step):
            chunk = missing[i : i + step]
            vecs = enc.encode(chunk)
            known.update(zip(chunk, vecs, strict=True))
            stem = hashlib.sha256("\n\x00".join(chunk).encode("utf-8")).hexdigest()[:16]
            np.save(CACHE / f"{prefix}-{stem}.npy", vecs)
            (CACHE / f"{prefix}-{stem}.json").write_text(json.dumps(chunk), encoding="utf-8")
            log(f"  {name} ({encoder}): {min(i + step, len(missing))}/{len(missing)} new texts embedded")
        log(f"  {name} ({encoder}): {len(missing)} texts in {time.perf_counter() - start:.0f}s")
    return {t: known[t] for t in set(texts)}


def build(kind: str, items: list, vecs: dict[str, np.ndarray]) -> np.ndarray:
    from emoethics.ethics.heads import combine, texts_needed

    needed = texts_needed(kind, items)
    return combine(kind, {k: np.stack([vecs[t] for t in ts]) for k, ts in needed.items()})


def fit(x: np.ndarray, y: np.ndarray, C: float):
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(x)
    clf = LogisticRegression(C=C, max_iter=3000).fit(scaler.transform(x), y)
    return scaler, clf


def save_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Like ``np.savez_compressed`` but with fixed zip timestamps, so equal arrays give equal bytes."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, arr in arrays.items():
            data = io.BytesIO()
            np.lib.format.write_array(data, np.asarray(arr), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data.getvalue())
    path.write_bytes(buf.getvalue())


def accuracy(pred: np.ndarray, y: np.ndarray) -> float:
    return round(float(np.mean(pred == y)), 4)


def both_right(items: list, pred: np.ndarray) -> float | None:
    """Share of stories (items sharing a group) with every action right; None without groups."""
    groups: dict[str, list[bool]] = {}
    for it, y in zip(items, pred, strict=True):
        if it.group is not None:
            groups.setdefault(it.group, []).append(bool(y == it.label))
    pairs = [v for v in groups.values() if len(v) == 2]
    return round(float(np.mean([all(v) for v in pairs])), 4) if pairs else None


def extra_items(fmt: str) -> list:
    """Items of other data sets offered to ``fmt``'s head (:data:`EXTRA`), relabelled to its question."""
    from emoethics.evals.ethics_data import EthicsItem, load_ethics

    out = []
    for f in EXTRA.get(fmt, ()):
        for it in load_ethics(DATA / f, "moral-stories"):  # the only extra source: actions as cm items
            out.append(EthicsItem(id=f"ms:{it.id}", format=fmt, text=it.text, label=1 - it.label))
    return out


def ece(p: np.ndarray, y: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error: |mean P - share positive| per probability bin, weighted by size."""
    idx = np.minimum((p * bins).astype(int), bins - 1)
    return round(
        float(
            sum(
                abs(p[idx == b].mean() - y[idx == b].mean()) * np.sum(idx == b) for b in range(bins) if np.any(idx == b)
            )
            / len(p)
        ),
        4,
    )


def platt(z: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(a, b) of P = sigmoid(a * z + b) fitted to labels ``y`` by maximum likelihood."""
    from sklearn.linear_model import LogisticRegression

    clf = LogisticRegression(C=1e6, max_iter=1000).fit(z.reshape(-1, 1), y)
    return float(clf.coef_[0][0]), float(clf.intercept_[0])


def fit_reading(head, held: list, y: np.ndarray) -> dict:
    """The judge's reading of ``held`` (whole text, most wrong sentence, or the larger) and its
    calibration, both chosen on ``held``; the calibration's quality cross-fitted on two halves."""
    from sklearn.metrics import roc_auc_score

    from emoethics.ethics.heads import sentences

    sents = [sentences(it.text) for it in held]
    vecs = embed_cached("sentences", [it.text for it in held] + [t for ss in sents for t in ss], head.encoder)
    whole = head.logit_from_features(np.stack([vecs[it.text] for it in held]))
    by_sent = np.array(
        [
            float(np.max(head.logit_from_features(np.stack([vecs[t] for t in ss])))) if ss else w
            for ss, w in zip(sents, whole, strict=True)
        ]
    )
    logits = {"whole": whole, "max-sentence": by_sent, "max": np.maximum(whole, by_sent)}
    auc = {r: round(float(roc_auc_score(y, logits[r])), 4) for r in READINGS}
    reading = max(READINGS, key=lambda r: auc[r])
    z = logits[reading]
    half = np.array([split_of_half(it.text) for it in held])
    p_cross = np.zeros(len(held))
    for h in (0, 1):
        a, b = platt(z[half != h], y[half != h])
        p_cross[half == h] = 1.0 / (1.0 + np.exp(-(a * z[half == h] + b)))
    a, b = platt(z, y)
    raw = 1.0 / (1.0 + np.exp(-z))
    return {
        "reading": reading,
        "reading_roc_auc": auc,
        "calib_a": round(a, 6),
        "calib_b": round(b, 6),
        "ece_raw": ece(raw, y),
        "ece_calibrated_crossfit": ece(p_cross, y),
        "accuracy_raw": accuracy((raw >= 0.5).astype(int), y),
        "accuracy_calibrated_crossfit": accuracy((p_cross >= 0.5).astype(int), y),
    }


def split_of_half(text: str) -> int:
    return int(hashlib.sha256(("calibrate:" + text).encode("utf-8")).hexdigest(), 16) % 2


def subsample(items: list, n: int) -> list:
    """At most ``n`` of ``items`` (0: all), seeded, in file order; a story's or group's items together."""
    if not n or len(items) <= n:
        return items
    from emoethics.evals.ethics_data import split_key

    keys = list(dict.fromkeys(split_key(it) if it.group is not None else it.id for it in items))
    per_key = len(items) / len(keys)
    keep = set(np.random.default_rng(0).permutation(keys)[: max(1, int(n / per_key))].tolist())
    return [it for it in items if (split_key(it) if it.group is not None else it.id) in keep]


def train_one(
    fmt: str, max_train: int, encoders: tuple[str, ...], out_dir: Path, max_dev: int = 0, use_extra: bool = True
) -> dict:
    from sklearn.metrics import roc_auc_score

    from emoethics.ethics.heads import EthicsHead, texts_needed
    from emoethics.evals.ethics_baselines import keyword_predict, majority_label
    from emoethics.evals.ethics_data import load_ethics, split_key, split_of

    train_file, test_file, kinds = PLAN[fmt]
    items = load_ethics(DATA / train_file, fmt)
    if test_file is None:
        pool = [it for it in items if split_of(split_key(it)) == "train"]
        held = [it for it in items if split_of(split_key(it)) == "dev"]
        reported = f"{train_file} (split_of dev part)"
    else:
        pool, held = items, load_ethics(DATA / test_file, fmt)
        reported = test_file
    if max_train and len(pool) > max_train:  # deterministic subsample, in file order
        keep = sorted(np.random.default_rng(0).choice(len(pool), max_train, replace=False))
        pool = [pool[i] for i in keep]
    dev_total, held = len(held), subsample(held, max_dev)
    extra = subsample(extra_items(fmt), max_train) if use_extra else []
    mixes = ("own", "own+extra") if extra else ("own",)
    sel = np.array([split_of("select:" + split_key(it)) == "dev" for it in pool])
    texts = [t for kind in kinds for ts in texts_needed(kind, pool + held + extra).values() for t in ts]
    vecs_by = {e: embed_cached(fmt, texts, e) for e in encoders}
    y_pool = np.array([it.label for it in pool])
    y_held = np.array([it.label for it in held])
    y_extra = np.array([it.label for it in extra], dtype=int)

    start = time.perf_counter()
    table: dict[str, dict[str, float]] = {}
    best = (-1.0, "", 0.0, "", "")
    for encoder, kind in [(e, k) for e in encoders for k in kinds]:
        vecs = vecs_by[encoder]
        x = build(kind, pool, vecs)
        x_extra = build(kind, extra, vecs) if extra else None
        for mix in mixes:
            name = kind if mix == "own" else f"{kind}, {mix}"
            name = name if encoder == "original" else f"{encoder}: {name}"
            table[name] = {}
            xt, yt = x[~sel], y_pool[~sel]
            if mix == "own+extra":
                xt, yt = np.vstack([xt, x_extra]), np.concatenate([yt, y_extra])
            for C in C_GRID:
                scaler, clf = fit(xt, yt, C)
                acc = accuracy(clf.predict(scaler.transform(x[sel])), y_pool[sel])
                table[name][str(C)] = acc
                if acc > best[0]:
                    best = (acc, kind, C, mix, encoder)
            log(f"  {fmt} {name}: selection accuracy by C {table[name]}")
    _, kind, C, mix, encoder = best
    vecs = vecs_by[encoder]
    x_all, y_all = build(kind, pool, vecs), y_pool
    if mix == "own+extra":
        x_all, y_all = np.vstack([x_all, build(kind, extra, vecs)]), np.concatenate([y_all, y_extra])
    scaler, clf = fit(x_all, y_all, C)
    fit_s = time.perf_counter() - start

    head = EthicsHead(fmt, kind, clf.coef_[0], float(clf.intercept_[0]), scaler.mean_, scaler.scale_, encoder=encoder)
    p = head.proba_from_features(build(kind, held, vecs))
    arrays = {
        "kind": np.array(kind),
        "encoder": np.array(encoder),
        "coef": head.coef,
        "intercept": np.float32(head.intercept),
        "mean": head.mean,
        "scale": head.scale,
        "C": np.float32(C),
    }
    reading = None
    if fmt == "ethics-cm":
        reading = fit_reading(head, held, y_held)
        arrays |= {
            "reading": np.array(reading["reading"]),
            "calibration": np.array([reading["calib_a"], reading["calib_b"]], dtype=np.float32),
        }
    majority = majority_label(pool)
    keyword = np.array([keyword_predict(it) for it in held])
    out = out_dir / f"{fmt}.npz"
    save_npz(out, arrays)
    files = sorted({train_file} | ({test_file} if test_file else set()) | set(EXTRA.get(fmt, ())))
    if encoder == "moral":  # the data the encoder itself was tuned on
        moral = json.loads((HEADS / "moral-encoder-manifest.json").read_text())
        files = sorted(set(files) | set(moral["data"]))
    pred = (p >= 0.5).astype(int)
    result = {
        "file": out.name,
        "sha256": sha256(out),
        "bytes": out.stat().st_size,
        "id": head.id,
        "encoder": encoder,
        "features": kind,
        "dim": int(head.coef.shape[0]),
        "C": C,
        "training_items": "own training items" + (" + " + ", ".join(EXTRA[fmt]) if mix == "own+extra" else ""),
        "data": {f: sha256(DATA / f) for f in files},
        "train_size": len(y_all),
        "selection_size": int(sel.sum()),
        "reported_on": reported,
        "dev_size": len(held),
        **({"dev_subsample_of": dev_total} if len(held) < dev_total else {}),
        "dev_positive_rate": round(float(y_held.mean()), 4),
        "dev_accuracy": accuracy(pred, y_held),
        "dev_roc_auc": round(float(roc_auc_score(y_held, p)), 4),
        "majority_label": majority,
        "majority_accuracy": accuracy(np.full(len(held), majority), y_held),
        "keyword_accuracy": accuracy(keyword, y_held),
        "selection_accuracy": table,
    }
    if (both := both_right(held, pred)) is not None:
        result["dev_both_actions_right"] = both
    if fmt == "moral-stories":  # the part of dev.jsonl earlier heads were scored on
        part = np.array([split_of(split_key(it)) == "dev" for it in held])
        result["dev_split_part"] = {
            "size": int(part.sum()),
            "accuracy": accuracy(pred[part], y_held[part]),
            "both_actions_right": both_right([h for h, k in zip(held, part, strict=True) if k], pred[part]),
        }
    if reading is not None:
        result["judge_reading"] = reading
    log(
        f"{fmt}: {encoder} {kind} ({mix}) C={C} dev accuracy {result['dev_accuracy']} (majority "
        f"{result['majority_accuracy']}, keyword {result['keyword_accuracy']}) on {len(held)} items; "
        f"fitting took {fit_s:.0f}s"
    )
    return result


def command_of(args: argparse.Namespace, fmt: str, encoders: tuple[str, ...]) -> str:
    """The command that rebuilds ``fmt``'s head as this run did."""
    command = f"python training/train_ethics.py --formats {fmt} --encoders {' '.join(encoders)}"
    if args.max_train:
        command += f" --max-train {args.max_train}"
    if args.max_dev:
        command += f" --max-dev {args.max_dev}"
    if args.no_extra:
        command += " --no-extra"
    return command


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--formats", nargs="+", default=list(PLAN), choices=list(PLAN), help="heads to (re)build")
    ap.add_argument(
        "--max-train", type=int, default=0, help="subsample each training set to at most this many items (0: all)"
    )
    ap.add_argument(
        "--max-dev", type=int, default=0, help="report on a seeded subsample of about this many items (0: all)"
    )
    ap.add_argument(
        "--encoders",
        nargs="+",
        choices=ENCODERS,
        default=None,
        help="encoders to choose from (default: both, the moral one where it has been built)",
    )
    ap.add_argument("--out", type=Path, default=HEADS, help="folder for the heads and manifest.json")
    ap.add_argument("--no-extra", action="store_true", help="do not offer the extra training items (EXTRA) to any head")
    args = ap.parse_args()

    import sklearn

    encoders = tuple(
        args.encoders or [e for e in ENCODERS if e == "original" or (HEADS / MORAL_ENCODER_FILE).is_file()]
    )
    start = time.perf_counter()
    args.out.mkdir(parents=True, exist_ok=True)
    manifest_path = args.out / "manifest.json"
    heads = {}
    if manifest_path.is_file() and set(args.formats) != set(PLAN):
        heads = json.loads(manifest_path.read_text()).get("heads", {})
    for fmt in args.formats:
        heads[fmt] = train_one(fmt, args.max_train, encoders, args.out, args.max_dev, not args.no_extra)
        heads[fmt]["command"] = command_of(args, fmt, encoders)
    command = "python training/train_ethics.py"
    if set(args.formats) != set(PLAN):
        command += " --formats " + " ".join(args.formats)
    if args.max_train:
        command += f" --max-train {args.max_train}"
    if args.max_dev:
        command += f" --max-dev {args.max_dev}"
    if args.encoders:
        command += " --encoders " + " ".join(encoders)
    if args.no_extra:
        command += " --no-extra"
    manifest = {
        "trained": datetime.date.today().isoformat(),
        "command": command,
        "data_root": "../shared/data (relative to the project root)",
        "encoder": "per head ('encoder'): 'original' all-MiniLM-L6-v2 ONNX int8, or 'moral' the same model "
        "fine-tuned on the moral tasks (minilm-moral-int8.onnx, moral-encoder-manifest.json); mean-pooled, "
        "L2-normalised (384)",
        "head": "standardise (mean, scale) + logistic regression; P(label 1) = sigmoid(((x-mean)/scale)·coef + b)",
        "selection": "encoder, features, C and extra training items by accuracy on split_of('select:' + key) == 'dev' "
        "inside the training items; then refitted on all training items",
        "c_grid": list(C_GRID),
        "heads": {f: heads[f] for f in PLAN if f in heads},
        "versions": {"python": platform.python_version(), "numpy": np.__version__, "scikit-learn": sklearn.__version__},
    }
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    summary = {
        f: {
            k: h[k]
            for k in (
                "features",
                "C",
                "dev_size",
                "dev_accuracy",
                "dev_roc_auc",
                "majority_accuracy",
                "keyword_accuracy",
            )
        }
        for f, h in manifest["heads"].items()
    }
    print(json.dumps(summary, indent=2))
    log(f"done in {time.perf_counter() - start:.0f}s")


if __name__ == "__main__":
    main()
