"""Train the query-side adapter of the embedding model on the tune half of policyqa-dev.

Only the *question* encoder is adapted: policies keep their base all-MiniLM-L6-v2 vectors, so no
index is re-embedded. The adapter is BitFit: a copy of MiniLM whose biases and LayerNorm weights
(about 30k numbers) are trained, everything else frozen. The trained values are written as a
small safetensors file (``index/data/query_adapter.safetensors``) that
``index.query_adapter`` loads over the base model at query time.

Training pairs: each tune-half question (its company's policy given, as in the harness) against
every chunk of that policy; a chunk is a positive when the excerpt grown around it (whole
sentences, up to 1,200 characters, as the answer shows it) contains an evidence phrase. The
loss is the multi-positive softmax over the policy's chunks (the other chunks of the same policy
are the hard negatives), on the fused score ``0.8 * dense + 0.2 * BM25`` the product ranks by.

    # choose epochs / learning rate: train on 8 tune companies, validate on the other 4
    .venv/bin/python scripts/train_query_adapter.py --validate
    # rebuild the shipped file from ../shared (deterministic: seed 0, one torch thread)
    .venv/bin/python scripts/train_query_adapter.py --out index/data/query_adapter.safetensors

Nothing here is imported by the product.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from index.config import DEFAULT_MODEL, quiet_third_parties  # noqa: E402
from index.query_adapter import trainable_names  # noqa: E402

EXCERPT_CHARS = 1200
DENSE_WEIGHT, LEXICAL_WEIGHT = 0.8, 0.2


@dataclass
class Policy:
    company: str
    domain: str | None
    text: str
    chunks: list[tuple[int, int]]
    windows: list[tuple[int, int]]
    vectors: np.ndarray  # base-model chunk vectors (rows, unit length)
    first_row: int  # index of its first chunk in the corpus-wide chunk list


@dataclass
class Example:
    question: str
    policy: int
    positives: list[int]  # chunk numbers inside the policy
    lexical: np.ndarray  # BM25 over the policy's chunks, scaled to max 1
    evidence: tuple[str, ...]
    base: np.ndarray | None = None  # the base model's vector of the question (the anchor)


def grow(sentences: list[tuple[int, int]], a: int, b: int, limit: int = EXCERPT_CHARS) -> tuple[int, int]:
    """The excerpt around [a, b): whole sentences, one after then one before in turn, up to ``limit``."""
    inside = [i for i, (x, y) in enumerate(sentences) if y > a and x < b]
    if not inside:
        return a, b
    lo, hi = inside[0], inside[-1]
    s, e = min(a, sentences[lo][0]), max(b, sentences[hi][1])
    while True:
        grew = False
        if hi + 1 < len(sentences) and sentences[hi + 1][1] - s <= limit:
            hi += 1
            e = sentences[hi][1]
            grew = True
        if lo > 0 and e - sentences[lo - 1][0] <= limit:
            lo -= 1
            s = sentences[lo][0]
            grew = True
        if not grew:
            return s, e


def load_policies(corpus: Path) -> tuple[list[Policy], list[str]]:
    """Every policy of ``corpus`` chunked as the index chunks it, with base-model chunk vectors."""
    from index.chunking import chunk_policy, split_sentences
    from index.embedder import embed
    from index.policies import parse_policy
    from index.readers import read_document

    policies, texts = [], []
    for path in sorted(corpus.glob("*")):
        doc = read_document(path)
        parsed = parse_policy(doc.text, path.name)
        chunks = list(chunk_policy(parsed))
        windows = []
        for section in parsed.sections:
            sentences = [(s.start, s.end) for s in split_sentences(doc.text, section.start, section.end)]
            for c in chunks:
                if c.section is section:
                    windows.append(grow(sentences, c.start, c.end))
        policies.append(Policy(parsed.company, parsed.domain, doc.text, [(c.start, c.end) for c in chunks],
                               windows, None, len(texts)))
        texts.extend(c.embed_text for c in chunks)
    vectors = embed(DEFAULT_MODEL, texts)
    for p in policies:
        p.vectors = vectors[p.first_row:p.first_row + len(p.chunks)]
    return policies, texts


def make_examples(questions, policies: list[Policy], texts: list[str]) -> list[Example]:
    """Each answerable question with its policy's positives and keyword scores."""
    import bm25s

    from index.lexical import stems
    from qa.answer import query_stems
    from qa.question import understand
    from evaluation.scoring import normalise

    retriever = bm25s.BM25()
    retriever.index([stems(t) or ["_"] for t in texts], show_progress=False)
    by_company = {}
    for i, p in enumerate(policies):
        for key in (p.company, p.domain):
            if key:
                by_company[key.lower()] = i
    out = []
    for q in questions:
        i = by_company.get((q.company or "").lower())
        if i is None or not q.answerable:
            continue
        p = policies[i]
        evidence = [normalise(e) for e in q.evidence]
        positives = [j for j, (x, y) in enumerate(p.windows)
                     if any(e in normalise(p.text[x:y][:EXCERPT_CHARS]) for e in evidence)]
        lexical = np.asarray(retriever.get_scores(query_stems(understand(q.question, [])) or ["_"]), dtype="float32")
        lexical = lexical[p.first_row:p.first_row + len(p.chunks)]
        lexical = lexical / lexical.max() if lexical.max() > 0 else lexical
        out.append(Example(q.question, i, positives, lexical, tuple(evidence)))
    return out


def hit_rank(example: Example, policy: Policy, fused: np.ndarray, k: int = 5) -> int | None:
    """Rank (1-based) of the first excerpt holding evidence, excerpts overlapping earlier ones skipped."""
    from evaluation.scoring import normalise

    shown: list[tuple[int, int]] = []
    for j in np.argsort(-fused):
        x, y = policy.windows[j]
        if any(x < b and a < y for a, b in shown):
            continue
        shown.append((x, y))
        if any(e in normalise(policy.text[x:y][:EXCERPT_CHARS]) for e in example.evidence):
            return len(shown)
        if len(shown) >= k:
            return None
    return None


def evaluate(model, examples: list[Example], policies: list[Policy]) -> dict:
    """Hit@1/3/5 of the fused ranking with ``model`` encoding the questions (numpy simulation)."""
    vectors = encode(model, [e.question for e in examples])
    ranks, best = [], []
    for e, v in zip(examples, vectors):
        p = policies[e.policy]
        dense = p.vectors @ v
        best.append(float(dense.max()))
        ranks.append(hit_rank(e, p, DENSE_WEIGHT * dense + LEXICAL_WEIGHT * e.lexical))
    n = len(ranks) or 1
    out = {f"hit@{k}": round(100 * sum(1 for r in ranks if r and r <= k) / n, 1) for k in (1, 3, 5)}
    out["best dense p1/p50"] = (round(float(np.percentile(best, 1)), 3), round(float(np.median(best)), 3))
    if examples and examples[0].base is not None:
        out["cos to base"] = round(float(np.mean(np.sum(vectors * np.stack([e.base for e in examples]), 1))), 3)
    return out


def set_anchors(model, examples: list[Example]) -> None:
    """Store each question's vector from ``model`` (the untrained base) as its anchor."""
    for e, v in zip(examples, encode(model, [e.question for e in examples])):
        e.base = v


def encode(model, questions: list[str]) -> np.ndarray:
    import torch

    with torch.no_grad():
        return model.encode(questions, batch_size=64, normalize_embeddings=True, convert_to_numpy=True,
                            show_progress_bar=False)


def trainable_model(seed: int, rank: int = 0):
    """A fresh copy of the base model with only biases and LayerNorm weights trainable (BitFit),
    plus low-rank updates of every encoder linear layer when ``rank`` > 0."""
    import torch
    from sentence_transformers import SentenceTransformer

    from index.embedder import resolve_model_path

    torch.manual_seed(seed)
    model = SentenceTransformer(resolve_model_path(DEFAULT_MODEL), device="cpu")
    if rank:
        from index.query_adapter import add_low_rank

        add_low_rank(model, rank)
    names = set(trainable_names(model))
    for name, param in model.named_parameters():
        param.requires_grad = name in names
    return model


def train(model, examples: list[Example], policies: list[Policy], epochs: int, lr: float, tau: float,
          batch: int, seed: int, anchor: float, level: float = 0.0, log=None, after_epoch=None):
    """Multi-positive softmax over each question's policy chunks, plus ``anchor`` x (1 - cosine to
    the base model's vector of the question): the ranking loss alone cannot see the absolute
    similarity (it moves every chunk's score alike), and the abstention floor and the questions
    across companies depend on it. Returns the model (trained in place)."""
    import torch

    rng = random.Random(seed)
    usable = [e for e in examples if e.positives]
    params = [p for p in model.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(params, lr=lr, weight_decay=0.0)
    chunk_vectors = [torch.tensor(p.vectors) for p in policies]
    model.train()
    for epoch in range(1, epochs + 1):
        order = list(range(len(usable)))
        rng.shuffle(order)
        total, started = 0.0, time.time()
        for i in range(0, len(order), batch):
            part = [usable[j] for j in order[i:i + batch]]
            features = model.preprocess([e.question for e in part])
            out = model(features)["sentence_embedding"]
            out = torch.nn.functional.normalize(out, dim=-1)
            loss = 0.0
            for e, v in zip(part, out):
                dense = chunk_vectors[e.policy] @ v
                logits = (DENSE_WEIGHT * dense + LEXICAL_WEIGHT * torch.from_numpy(e.lexical)) / tau
                loss = loss - (torch.logsumexp(logits[e.positives], 0) - torch.logsumexp(logits, 0))
                if level:  # keep the best passage's similarity where the base model put it
                    base_best = float(policies[e.policy].vectors.dot(e.base).max())
                    loss = loss + level * (dense.max() - base_best) ** 2
            if anchor:
                bases = torch.from_numpy(np.stack([e.base for e in part]))
                loss = loss + anchor * (1 - (out * bases).sum(-1)).sum()
            loss = loss / len(part)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += float(loss.detach()) * len(part)
        model.eval()
        if log:
            log(f"epoch {epoch}: loss {total / len(usable):.4f} ({time.time() - started:.0f} s)")
        if after_epoch:
            after_epoch(epoch, model)
        model.train()
    model.eval()
    return model


def soften(model, strength: float, seed: int, rank: int) -> None:
    """Keep ``strength`` of what training changed: each trained parameter becomes
    base + strength x (trained - base), a point on the line between the two models."""
    import torch

    base = dict(trainable_model(seed, rank).named_parameters())
    with torch.no_grad():
        for name, param in model.named_parameters():
            if param.requires_grad:
                param.copy_(base[name] + strength * (param - base[name]))


def split_companies(companies: list[str]) -> tuple[set[str], set[str]]:
    """The fixed 8 / 4 split of the 12 tune companies used for every trained lever (as exp7/exp13)."""
    ordered = sorted(companies, key=lambda c: hashlib.sha1(("val" + c).encode()).hexdigest())
    val = set(ordered[: len(ordered) // 3])
    return set(ordered) - val, val


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=Path(os.environ.get("POLICYQA_SHARED") or ROOT.parent / "shared"))
    parser.add_argument("--out", type=Path, help="where to write the adapter (safetensors)")
    parser.add_argument("--validate", action="store_true", help="train on 8 tune companies, report the other 4 per epoch")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--lr", type=float, default=5e-3)
    parser.add_argument("--tau", type=float, default=0.2)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--anchor", type=float, default=0.0, help="weight of staying close to the base model's question vector")
    parser.add_argument("--level", type=float, default=10.0,
                        help="weight of keeping the best passage's similarity at the base model's level (abstention floor)")
    parser.add_argument("--strength", type=float, default=0.5,
                        help="share of the trained change kept in the saved adapter (base + strength x change): "
                             "1 ranks PolicyQA's generic questions best, 0.5 keeps most of that gain without "
                             "losing ranks on questions about one named practice (docs/quality.md)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rank", type=int, default=0, help="low-rank updates of the encoder's linear layers (0: BitFit only)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (1 keeps the run deterministic)")
    parser.add_argument("--train-on", choices=("all", "tune", "report"), default="all",
                        help="questions of --out's adapter: all 20 companies (shipped), or one half only, "
                             "to score the other half on companies it never saw (cross-validation)")
    parser.add_argument("--hold-out-fold", metavar="K/N",
                        help="train on every company but those of fold K of N (evaluation.scoring.company_folds), to score "
                             "that fold with `python -m evaluation ... --fold K/N` (cross-validation by company)")
    args = parser.parse_args(argv)
    quiet_third_parties()
    import torch

    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    from evaluation.scoring import in_fold, load_questions, parse_fold, split_of

    dev = args.shared / "eval" / "policyqa-dev"
    started = time.time()
    policies, texts = load_policies(dev / "corpus")
    questions = load_questions(dev / "questions.jsonl")
    tune = [q for q in questions if split_of(q) == "tune"]
    print(f"{len(policies)} policies, {len(texts)} chunks, {len(questions)} questions, {len(tune)} of them tune "
          f"({time.time() - started:.0f} s)", flush=True)
    log = lambda line: print(line, flush=True)  # noqa: E731
    if args.validate:
        train_c, val_c = split_companies(sorted({q.company for q in tune}))
        train_ex = make_examples([q for q in tune if q.company in train_c], policies, texts)
        val_ex = make_examples([q for q in tune if q.company in val_c], policies, texts)
        print(f"train {len(train_ex)} questions ({len(train_c)} companies), val {len(val_ex)} "
              f"({sorted(val_c)})", flush=True)
        model = trainable_model(args.seed, args.rank)
        set_anchors(model, train_ex)
        set_anchors(model, val_ex)
        print("epoch 0: train", evaluate(model, train_ex, policies), "val", evaluate(model, val_ex, policies), flush=True)
        train(model, train_ex, policies, args.epochs, args.lr, args.tau, args.batch, args.seed, args.anchor, args.level, log,
              lambda ep, m: print(f"  epoch {ep}: train", evaluate(m, train_ex, policies), "val",
                                  evaluate(m, val_ex, policies), flush=True))
    if args.out:
        chosen = [q for q in questions if args.train_on in ("all", split_of(q))]
        if args.hold_out_fold:
            chosen = in_fold(chosen, parse_fold(args.hold_out_fold), inside=False)
        examples = make_examples(chosen, policies, texts)
        model = trainable_model(args.seed, args.rank)
        set_anchors(model, examples)
        print(f"base, {args.train_on}:", evaluate(model, examples, policies), flush=True)
        train(model, examples, policies, args.epochs, args.lr, args.tau, args.batch, args.seed, args.anchor, args.level, log)
        print(f"trained, {args.train_on} (seen):", evaluate(model, examples, policies), flush=True)
        if args.strength != 1.0:
            soften(model, args.strength, args.seed, args.rank)
            print(f"kept {args.strength:g} of the change, {args.train_on} (seen):", evaluate(model, examples, policies),
                  flush=True)
        from index.query_adapter import save_adapter

        save_adapter(model, args.out, {"epochs": args.epochs, "lr": args.lr, "tau": args.tau, "batch": args.batch,
                                       "seed": args.seed, "rank": args.rank, "anchor": args.anchor, "level": args.level, "questions": len(examples),
                                       "trained_on": args.train_on, "strength": args.strength,
                                       **({"held_out_fold": args.hold_out_fold} if args.hold_out_fold else {}),
                                       "recipe": "scripts/train_query_adapter.py"})
        print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes, {time.time() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
