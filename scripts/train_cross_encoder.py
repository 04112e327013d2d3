"""Train the judge's cross-encoder (``qa/cross_encoder.py``) from the shipped MiniLM weights.

The training pairs are the judge's own candidate sentences (what ``qa.ask`` retrieves for each
question): a sentence holding an evidence phrase is a positive, the first ``--negatives`` of the
others (retrieval's hardest) are negatives; an unanswerable question gives negatives only. Questions:
the PolicyQA dev sample and the development sets of ``scripts/fit_judge.py``'s cache. The embeddings
and first ``--freeze`` layers stay as shipped; the rest and a linear head over the mean-pooled tokens
learn (binary cross-entropy, positives weighted 3).

``--folds K`` first trains K models, each without one fold of the companies, and writes each
question's cross-encoder feature ("ce") from the model that never saw its company into the cache:
``scripts/fit_judge.py`` fits the judge's weights and silence threshold on those, as it would meet
an unseen policy. Then one model on everything is written to ``--write``.

    .venv/bin/python scripts/fit_judge.py                      # builds build/judge-features.json
    .venv/bin/python scripts/train_cross_encoder.py --folds 3 --write qa/data/cross_encoder.safetensors
    .venv/bin/python scripts/fit_judge.py --write qa/data/judge.json

The shipped weights (round 46) learnt from sets 13-100, and the judge's weights stay those fitted on 13-37's
(docs/quality.md, round 46); the silence threshold is checked on the sets 101-148 they never met::

    .venv/bin/python scripts/fit_judge.py --fresh --sets 13-100 --cache build/ce-13-100.json
    .venv/bin/python scripts/train_cross_encoder.py --cache build/ce-13-100.json --by-length \
        --write qa/data/cross_encoder.safetensors              # about 20 minutes on 2 CPUs
    .venv/bin/python scripts/fit_silence.py --write qa/data/judge.json

``--relabel eval/relabelled-negatives.jsonl`` makes positives of the training negatives a reader found to
answer the question. Tried on sets 13-132 (docs/quality.md, after round 47): no gain beyond what a change of
the training order alone moves, so the shipped weights do not use it.

About 10 minutes a model on 2 CPUs (about 45 in all with 3 folds); deterministic on one machine.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))


def company(question: dict) -> str:
    """The company a cached question is about (PolicyQA's and the development sets' apart)."""
    import fit_judge

    if question.get("set", "").startswith("questions"):
        return f"policyqa:{(question['company'] or question['id']).lower()}"
    return fit_judge.company_of(question)


def relabel(questions: list[dict], path: Path) -> int:
    """Make positives of the negatives that ``path`` labels "yes": sentences the blind sets' writers did not
    quote but that answer the question (``eval/relabelled-negatives.jsonl``: the 1,713 negatives of sets
    13-132 that round 46's cross-encoder rated above 0.5, each read by a helper that saw only the question
    and the sentence; "partial" and "no" stay negatives). Returns how many labels changed."""
    answers = {(r["set"], r["id"], r["sentence"]) for r in map(json.loads, path.read_text().splitlines())
               if r["label"] == "yes"}
    changed = 0
    for q in questions:
        for i, text in enumerate(q["texts"]):
            if not q["labels"][i] and (q.get("set"), q["id"], text) in answers:
                q["labels"][i] = True
                changed += 1
    return changed


def pairs_of(questions: list[dict], negatives: int) -> list[tuple[str, str, float]]:
    out = []
    for q in questions:
        out += [(q["question"], t, 1.0) for t, label in zip(q["texts"], q["labels"]) if label]
        out += [(q["question"], t, 0.0) for t, label in zip(q["texts"], q["labels"]) if not label][:negatives]
    return out


def batches(pairs: list, size: int, epoch: int, by_length: bool = False) -> list[list]:
    """The epoch's batches in a seeded random order. ``by_length``: each of pairs of about one length (the
    pairs shuffled, then sorted by length within blocks of 50 batches, so a batch pads little: round 41's
    weights, about 55 pairs a second on 2 CPUs); otherwise consecutive pairs of ``pairs`` shuffled in place, epoch
    after epoch, as the shipped weights learnt."""
    if not by_length:
        random.Random(epoch).shuffle(pairs)
        return [pairs[i:i + size] for i in range(0, len(pairs), size)]
    pairs = list(pairs)
    rng = random.Random(epoch)
    rng.shuffle(pairs)
    out = []
    for i in range(0, len(pairs), size * 50):
        block = sorted(pairs[i:i + size * 50], key=lambda p: len(p[0]) + len(p[1]))
        out += [block[j:j + size] for j in range(0, len(block), size)]
    rng.shuffle(out)
    return out


def train(pairs: list[tuple[str, str, float]], args):
    """A cross-encoder (encoder, head) trained on ``pairs``; the same seed gives the same model."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    from qa.cross_encoder import base_model_dir, keep_first_layers

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(str(base_model_dir()))
    encoder = AutoModel.from_pretrained(str(base_model_dir()))
    if getattr(args, "layers", None):  # a shallower reader (scripts/train_polarity.py --layers)
        keep_first_layers(encoder, args.layers)
    head = torch.nn.Linear(encoder.config.hidden_size, 1)
    for p in encoder.embeddings.parameters():
        p.requires_grad = False
    for layer in encoder.encoder.layer[:args.freeze]:
        for p in layer.parameters():
            p.requires_grad = False
    trained = [p for p in encoder.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW([{"params": trained, "lr": args.lr}, {"params": head.parameters(), "lr": 1e-3}])
    pairs = list(pairs)
    started = time.time()
    for epoch in range(args.epochs):
        for n, chunk in enumerate(batches(pairs, 32, epoch, args.by_length)):
            if n % 200 == 0:
                print(f"  epoch {epoch + 1}, batch {n}: {time.time() - started:.0f} s", file=sys.stderr, flush=True)
            logits = score(tokenizer, encoder, head, [p[0] for p in chunk], [p[1] for p in chunk], args.max_length)
            loss = torch.nn.functional.binary_cross_entropy_with_logits(
                logits, torch.tensor([p[2] for p in chunk]), pos_weight=torch.tensor(3.0))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        print(f"  epoch {epoch + 1}: {len(pairs)} pairs, {time.time() - started:.0f} s", file=sys.stderr, flush=True)
    encoder.eval()
    return tokenizer, encoder, head


def score(tokenizer, encoder, head, questions: list[str], sentences: list[str], max_length: int):
    batch = tokenizer(questions, sentences, truncation=True, max_length=max_length, padding=True, return_tensors="pt")
    hidden, mask = encoder(**batch).last_hidden_state, batch["attention_mask"].unsqueeze(-1).float()
    return head((hidden * mask).sum(1) / mask.sum(1)).squeeze(-1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=ROOT / "build" / "judge-features.json")
    parser.add_argument("--folds", type=int, default=0, help="cross-fit the cache's 'ce' feature first")
    parser.add_argument("--write", type=Path, help="the weights file (qa/data/cross_encoder.safetensors)")
    parser.add_argument("--freeze", type=int, default=3)
    parser.add_argument("--negatives", type=int, default=6)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--max-length", type=int, default=96)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--relabel", type=Path, help="negatives relabelled by a reader "
                        "(eval/relabelled-negatives.jsonl): those labelled yes become positives")
    parser.add_argument("--by-length", action="store_true", help="batch pairs of about one length (faster)")
    args = parser.parse_args()
    import torch

    from qa.cross_encoder import MAX_LENGTH, SCALE

    if args.max_length != MAX_LENGTH:
        print(f"note: qa.cross_encoder reads {MAX_LENGTH} word pieces, not {args.max_length}", file=sys.stderr)
    cached = json.loads(args.cache.read_text())
    questions = cached["policyqa"] + cached["seed"] + cached["unseen"]
    if args.relabel:
        print(f"relabelled: {relabel(questions, args.relabel)} negatives are positives", file=sys.stderr)
    if args.folds:
        companies = sorted({company(q) for q in questions})
        random.Random(14).shuffle(companies)
        fold = {c: i % args.folds for i, c in enumerate(companies)}
        for k in range(args.folds):
            train_on = [q for q in questions if fold[company(q)] != k]
            print(f"fold {k + 1}/{args.folds}: training on {len(train_on)} questions", file=sys.stderr, flush=True)
            tokenizer, encoder, head = train(pairs_of(train_on, args.negatives), args)
            with torch.no_grad():
                for q in questions:
                    if fold[company(q)] == k and q["texts"]:
                        values = score(tokenizer, encoder, head, [q["question"]] * len(q["texts"]), q["texts"],
                                       args.max_length)
                        for row, value in zip(q["rows"], values.tolist()):
                            row["ce"] = round(value / SCALE, 5)
        args.cache.write_text(json.dumps(cached))
        print(f"wrote each question's out-of-fold 'ce' feature into {args.cache}", file=sys.stderr)
    if args.write:
        pairs = pairs_of(questions, args.negatives)
        print(f"final model: {len(pairs)} pairs of {len(questions)} questions", file=sys.stderr, flush=True)
        _, encoder, head = train(pairs, args)
        save(encoder, head, args.write, args)


def save(encoder, head, path: Path, args) -> None:
    """Write what training changed (the layers above ``args.freeze`` and the head, fp16) to ``path``."""
    from safetensors.torch import save_file

    trained = tuple(f"encoder.layer.{i}." for i in range(args.freeze, encoder.config.num_hidden_layers))
    state = {k: v.detach().half().contiguous() for k, v in encoder.state_dict().items() if k.startswith(trained)}
    state["head.weight"] = head.weight.detach().half().contiguous()
    state["head.bias"] = head.bias.detach().float().contiguous()
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(state, str(path), metadata={"base": "all-MiniLM-L6-v2", "pooling": "mean",
                                          "max_length": str(args.max_length),
                                          "layers": str(encoder.config.num_hidden_layers)})
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)", file=sys.stderr)


if __name__ == "__main__":
    main()
