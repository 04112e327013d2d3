"""``python -m evaluation QUESTIONS.jsonl [--corpus DIR] [--company-given] [--json OUT]``.

Scores ``qa.ask`` and the naive baseline (``evaluation.baseline``) on the same questions and prints them
side by side: Hit@1/3/5, MRR, Highlight@1, abstention accuracy, false-abstention rate, Yes/No
lead accuracy (for questions that carry a ``lead``), and latency p50/p95 per question (warm:
the model and index are loaded before the clock starts). Scoring rules: ``evaluation.scoring``.

``--corpus DIR`` indexes that folder into its own data folder (``--data``, else
``<POLICYQA_DATA>/eval/<name>-<hash of the path>``), so evaluation never touches the main index.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

from index.config import Config, get_config, quiet_third_parties
from index.errors import PolicyQAError

from .scoring import Metrics, Outcome, Question, load_questions, parse_fold, score_answer, select, summarise

ROWS = [
    ("Hit@1", "hit_at_1", "pct"), ("Hit@3", "hit_at_3", "pct"), ("Hit@5", "hit_at_5", "pct"),
    ("MRR", "mrr", "num"), ("Highlight@1", "highlight_at_1", "pct"),
    ("abstention accuracy", "abstention_accuracy", "pct"), ("false abstentions", "false_abstention_rate", "pct"),
    ("Yes/No lead accuracy", "lead_accuracy", "pct"), ("'Yes' where 'No' is right", "wrong_yes", "int"),
    ("wrong Yes/No leads", "wrong_leads", "int"), ("leads given where expected", "lead_coverage", "pct"),
    ("version accuracy", "version_accuracy", "pct"),
    ("highlights that are a bare heading", "bare_heading_highlight_share", "pct"),
    ("latency p50 (ms)", "latency_ms_p50", "ms"), ("latency p95 (ms)", "latency_ms_p95", "ms"),
]


def eval_config(corpus: Path | None = None, data: Path | None = None) -> Config:
    """The configuration to evaluate with: the configured one, or a private index of ``corpus``."""
    base = get_config()
    if corpus is None:
        return replace(base, data_dir=data.resolve()) if data else base
    corpus = corpus.expanduser().resolve()
    if not corpus.is_dir():
        raise PolicyQAError(f"--corpus {corpus} is not a folder")
    digest = hashlib.sha1(str(corpus).encode()).hexdigest()[:10]
    data_dir = data.resolve() if data else base.data_dir / "eval" / f"{corpus.name}-{digest}"
    return replace(base, corpus_dir=corpus, data_dir=data_dir, collection=f"policyqa-eval-{digest}")


def run_system(questions: list[Question], answer_fn, progress: bool = False) -> list[Outcome]:
    """Answer every question with ``answer_fn(question) -> Answer`` and score it, timing each call."""
    outcomes = []
    for i, q in enumerate(questions, 1):
        started = time.perf_counter()
        answer = answer_fn(q)
        ms = (time.perf_counter() - started) * 1000
        outcomes.append(score_answer(q, answer, ms))
        if progress and i % 100 == 0:
            print(f"  {i}/{len(questions)}", file=sys.stderr, flush=True)
    return outcomes


def evaluate(questions: list[Question], config: Config, company_given: bool = False, baseline: bool = True,
             k: int = 5, progress: bool = False) -> dict:
    """Score ``qa.ask`` (and the baseline) on ``questions``; returns the report as plain data."""
    from index.embedder import embed_query

    from qa.answer import ask, ensure_index

    ensure_index(config, progress=progress)
    embed_query(config.model, "warm up", config.query_adapter)
    embed_query(config.model, "warm up", adapter=False)  # the baseline's plain model
    ask("Do you use cookies?", config=config)  # warm every cache the first question would fill

    def ours(q: Question):
        return ask(q.question, company=q.company if company_given else None, k=k, config=config)

    report: dict = {"system": run_system(questions, ours, progress)}
    if baseline:
        from .baseline import NaiveBaseline

        naive = NaiveBaseline(config)
        naive.ask("warm up", k=k)
        # The baseline is defined with the company filter given (shared/README.md).
        report["baseline"] = run_system(questions, lambda q: naive.ask(q.question, company=q.company, k=k), progress)
    return report


def _cell(value, kind: str) -> str:
    if value is None:
        return "–"
    if kind == "pct":
        return f"{100 * value:.1f}%"
    if kind == "ms":
        return f"{value:.1f}"
    if kind == "int":
        return str(value)
    return f"{value:.3f}"


def format_table(metrics: dict[str, Metrics]) -> str:
    """Metric rows, one column per system."""
    names = list(metrics)
    lines = [f"{'metric':<28}" + "".join(f"{n:>12}" for n in names)]
    for label, attr, kind in ROWS:
        values = [getattr(metrics[n], attr) for n in names]
        if all(v is None for v in values):
            continue
        lines.append(f"{label:<28}" + "".join(f"{_cell(v, kind):>12}" for v in values))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    quiet_third_parties()
    parser = argparse.ArgumentParser(prog="python -m evaluation", description=__doc__.split("\n\n")[1])
    parser.add_argument("questions", type=Path, help="question file (.jsonl, format in shared/README.md)")
    parser.add_argument("--corpus", type=Path, help="index and answer from this corpus folder instead")
    parser.add_argument("--data", type=Path, help="data folder for --corpus's index (default: under POLICYQA_DATA)")
    parser.add_argument("--company-given", action="store_true", help="pass each question's company to ask()")
    parser.add_argument("--json", type=Path, metavar="OUT", help="write the report (with per-question rows) here")
    parser.add_argument("--split", choices=["all", "tune", "report"], default="all",
                        help="half of the companies: 'tune' to tune on, 'report' to report on (default all)")
    parser.add_argument("--fold", metavar="K/N", help="only the companies of fold K of N (cross-validation by company, "
                        "as scripts/train_query_adapter.py --hold-out-fold)")
    parser.add_argument("--limit", type=int, help="only the first N questions (after --split/--sample)")
    parser.add_argument("--sample", type=int, help="a random sample of N questions (fixed --seed)")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("-k", type=int, default=5, help="citations per answer (default 5)")
    parser.add_argument("--no-baseline", action="store_true", help="score qa.ask only")
    parser.add_argument("--misses", action="store_true", help="list the questions each system got wrong")
    args = parser.parse_args(argv)
    try:
        fold = parse_fold(args.fold) if args.fold else None
        questions = select(load_questions(args.questions), args.split, args.limit, args.sample, args.seed, fold)
        config = eval_config(args.corpus, args.data)
        report = evaluate(questions, config, args.company_given, not args.no_baseline, args.k, progress=True)
    except PolicyQAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    metrics = {name: summarise(outcomes) for name, outcomes in report.items()}
    names = {"system": "PolicyQA", "baseline": "baseline"}
    answerable = sum(q.answerable for q in questions)
    print(f"{args.questions} · {len(questions)} questions ({answerable} answerable, "
          f"{len(questions) - answerable} unanswerable) · split {args.split} · corpus {config.corpus_dir} · "
          f"company {'given' if args.company_given else 'not given'} (baseline: always given)")
    print(format_table({names[n]: m for n, m in metrics.items()}))
    if args.misses:
        by_id = {q.id: q for q in questions}
        for name, outcomes in report.items():
            for o in outcomes:
                if (o.answerable and (o.rank != 1 or not o.highlight or not o.found)) or (
                        not o.answerable and o.found) or o.lead_ok is False:
                    print(f"  {names[name]} miss {o.id}: rank={o.rank} highlight={o.highlight} found={o.found} "
                          f"lead_ok={o.lead_ok} | {by_id[o.id].question} | {' '.join(o.text.split())[:160]}")
    for name, outcomes in report.items():
        for o in outcomes:
            for heading in o.bare_highlights:
                print(f"  {names[name]} bare-heading highlight {o.id}: {' '.join(heading.split())[:160]}")
    if args.json:
        data = {
            "questions_file": str(args.questions), "corpus": str(config.corpus_dir), "split": args.split,
            "fold": args.fold,
            "limit": args.limit, "sample": args.sample, "seed": args.seed, "k": args.k,
            "company_given": args.company_given, "baseline_company_given": True,
            "metrics": {names[n]: m.to_dict() for n, m in metrics.items()},
            "per_question": {names[n]: [o.__dict__ for o in outcomes] for n, outcomes in report.items()},
            "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(data, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
