"""Choose the fusion weights on the *tune* half of policyqa-dev (never on the seed questions).

    python scripts/tune_fusion.py [--sample N]

Prints Hit@1/3/5, MRR and false abstentions for a small grid of (lexical weight, sentence
coverage weight, answer-shape weight). The chosen values live in index/retrieval.py
(DENSE_WEIGHT, LEXICAL_WEIGHT) and qa/answer.py (SENTENCE_COVERAGE_WEIGHT, ANSWER_SHAPE_WEIGHT);
docs/quality.md records the run.
"""
from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# ../shared beside the project (a git worktree one level deeper finds it one level up).
SHARED = next((p for p in (ROOT.parent / "shared", ROOT.parent.parent / "shared") if p.is_dir()),
              ROOT.parent / "shared") / "eval" / "policyqa-dev"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sample", type=int, default=800)
    parser.add_argument("--lexical", type=float, nargs="*", default=[0.2, 0.35, 0.45])
    parser.add_argument("--coverage", type=float, nargs="*", default=[0.15, 0.35])
    parser.add_argument("--shape", type=float, nargs="*", default=[0.0, 0.05])
    args = parser.parse_args()
    from index import retrieval
    from qa import answer
    from evaluation.harness import eval_config, evaluate
    from evaluation.scoring import load_questions, select, summarise

    questions = select(load_questions(SHARED / "questions.jsonl"), "tune", sample=args.sample)
    config = eval_config(SHARED / "corpus")
    print(f"{len(questions)} tune questions; columns: lexical coverage shape | Hit@1 Hit@3 Hit@5 MRR false-abst")
    for lexical, coverage, shape in itertools.product(args.lexical, args.coverage, args.shape):
        retrieval.DENSE_WEIGHT, retrieval.LEXICAL_WEIGHT = 1 - lexical, lexical
        answer.SENTENCE_COVERAGE_WEIGHT, answer.ANSWER_SHAPE_WEIGHT = coverage, shape
        m = summarise(evaluate(questions, config, company_given=True, baseline=False)["system"])
        print(f"{lexical:.2f} {coverage:.2f} {shape:.2f} | {m.hit_at_1:.3f} {m.hit_at_3:.3f} {m.hit_at_5:.3f} "
              f"{m.mrr:.3f} {m.false_abstention_rate:.3f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
