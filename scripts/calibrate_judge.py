"""Calibrate the answer judge on question sets over policies it never saw (nothing here is imported by the product).

For every question: retrieval as ``qa.ask`` does it, every judged sentence's raw logit, and whether
the sentence holds an evidence phrase. Then (1) Platt scaling of the logit to the probability that a
sentence is evidence, (2) the reliability table (probability against observed precision), and (3) the
threshold on the best sentence's probability that separates answerable from unanswerable questions.

    .venv/bin/python scripts/calibrate_judge.py eval/heldout-seed*.jsonl ../shared/eval/seed-questions.jsonl \
        --dump build/calibration.json [--write qa/data/judge.json]
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def collect(paths: list[Path], corpus: Path | None = None, data: Path | None = None) -> list[dict]:
    from index.config import quiet_third_parties
    from index.embedder import embed_query
    from evaluation.scoring import load_questions, normalise
    from evaluation.harness import eval_config
    from qa.answer import _choose_versions, ensure_index, query_stems
    from qa.evidence import judge_passages
    from qa.judge import Calibration, get_judge
    from qa.question import search_text, understand

    quiet_third_parties()
    config = eval_config(corpus, data)
    view = ensure_index(config)
    judge = get_judge(config)
    judge.calibration = Calibration()  # raw: probability = sigmoid(logit)
    rows = []
    for path in paths:
        for q in load_questions(path):
            policies = list(view.policies.values())
            understood = understand(q.question, policies)
            docs, newest, _ = _choose_versions(understood, policies)
            named = [p for p in policies if p.company in understood.companies]
            vector = embed_query(config.model, search_text(q.question, named), config.query_adapter)
            hits = view.hits(vector, query_stems(understood), docs, k=15)
            judged = judge_passages(view, q.question, hits, config)
            evidence = [normalise(e) for e in q.evidence]
            cands = []
            for j in judged:
                if j.probability <= 0:
                    continue
                text = view.source_text(j.hit.doc)[j.sentence[0]:j.sentence[1]]
                logit = math.log(j.probability / max(1e-9, 1 - j.probability))
                cands.append({"logit": logit, "evidence": any(e and e in normalise(text) for e in evidence)})
            rows.append({"set": path.name, "id": q.id, "answerable": q.answerable, "candidates": cands,
                         "best": max((c["logit"] for c in cands), default=-20.0)})
    return rows


def platt(logits: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    a, b = 1.0, 0.0
    for _ in range(2000):
        p = 1 / (1 + np.exp(-(a * logits + b)))
        ga, gb = np.mean((p - labels) * logits), np.mean(p - labels)
        a, b = a - 0.5 * ga, b - 0.5 * gb
    return float(a), float(b)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("questions", nargs="+", type=Path)
    parser.add_argument("--corpus", type=Path)
    parser.add_argument("--data", type=Path)
    parser.add_argument("--dump", type=Path)
    parser.add_argument("--load", type=Path, help="reuse a --dump instead of answering again")
    parser.add_argument("--write", type=Path, help="write the calibration here (qa/data/judge.json)")
    parser.add_argument("--max-false-abstention", type=float, default=0.05)
    args = parser.parse_args()
    rows = json.loads(args.load.read_text()) if args.load else collect(args.questions, args.corpus, args.data)
    if args.dump:
        args.dump.parent.mkdir(parents=True, exist_ok=True)
        args.dump.write_text(json.dumps(rows))
    # Sentence level: the best sentence of each answerable question's passages, evidence or not.
    logits = np.array([c["logit"] for r in rows if r["answerable"] for c in r["candidates"][:5]])
    labels = np.array([float(c["evidence"]) for r in rows if r["answerable"] for c in r["candidates"][:5]])
    a, b = platt(logits, labels)
    prob = lambda x: 1 / (1 + math.exp(-(a * x + b)))
    print(f"Platt: scale {a:.3f}, shift {b:.3f} on {len(logits)} judged sentences")
    print("judge probability | sentences | observed precision (holds evidence)")
    edges = [0, 0.1, 0.2, 0.35, 0.5, 0.65, 0.8, 0.9, 1.01]
    ps = np.array([prob(x) for x in logits])
    for lo, hi in zip(edges, edges[1:]):
        inside = (ps >= lo) & (ps < hi)
        if inside.sum():
            print(f"  {lo:.2f}-{min(hi, 1):.2f} | {inside.sum():5d} | {labels[inside].mean():.3f}")
    answerable = np.array([prob(r["best"]) for r in rows if r["answerable"]])
    unanswerable = np.array([prob(r["best"]) for r in rows if not r["answerable"]])
    print(f"{len(answerable)} answerable, {len(unanswerable)} unanswerable questions")
    print("threshold | abstention on unanswerable | false abstention on answerable")
    best = None
    for t in np.arange(0.02, 0.9, 0.02):
        abst = float((unanswerable < t).mean()) if len(unanswerable) else 0
        false = float((answerable < t).mean())
        print(f"  {t:.2f} | {abst:.3f} | {false:.3f}")
        if false <= args.max_false_abstention:
            best = float(t)
    print(f"chosen threshold (false abstention <= {args.max_false_abstention}): {best}")
    if args.write:
        current = json.loads(args.write.read_text()) if args.write.exists() else {}
        current.update({"scale": round(a, 4), "shift": round(b, 4), "answers": round(best, 3)})
        args.write.write_text(json.dumps(current, indent=2) + "\n")
        print(f"wrote {args.write}")


if __name__ == "__main__":
    main()
