"""``python -m qa.eval QUESTIONS.jsonl [--corpus DIR] [--company-given]``: score answers.

Scoring follows ``shared/README.md``: text is lower-cased, whitespace collapsed and Markdown
``*`` dropped before an evidence phrase is looked for in an excerpt or highlight.
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from pathlib import Path


def normalise(text: str) -> str:
    return " ".join(text.lower().replace("*", "").split())


def load_questions(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def score(questions: list[dict], answer_fn) -> dict:
    """Run ``answer_fn(question_record) -> Answer`` over the questions and compute the metrics."""
    hits = {1: 0, 3: 0, 5: 0}
    rr_total = highlight1 = answerable = unanswerable = abstained_right = false_abstentions = 0
    latencies = []
    rows = []
    for q in questions:
        started = time.perf_counter()
        answer = answer_fn(q)
        latencies.append((time.perf_counter() - started) * 1000)
        evidence = [normalise(e) for e in q.get("evidence", [])]
        rank = None
        for i, c in enumerate(answer.citations[:10]):
            excerpt = normalise(c.excerpt[:1200])
            if any(e in excerpt for e in evidence):
                rank = i + 1
                break
        hl = bool(answer.citations) and any(e in normalise(answer.citations[0].highlight) for e in evidence)
        if q.get("answerable", True):
            answerable += 1
            for k in hits:
                hits[k] += bool(rank and rank <= k)
            rr_total += 1 / rank if rank else 0
            highlight1 += hl
            false_abstentions += not answer.found
        else:
            unanswerable += 1
            abstained_right += not answer.found
        rows.append({"id": q.get("id"), "rank": rank, "highlight": hl, "found": answer.found,
                     "answerable": q.get("answerable", True)})
    n = max(answerable, 1)
    return {
        "questions": len(questions),
        "hit@1": hits[1] / n, "hit@3": hits[3] / n, "hit@5": hits[5] / n, "mrr": rr_total / n,
        "highlight@1": highlight1 / n,
        "abstention_accuracy": abstained_right / unanswerable if unanswerable else None,
        "false_abstention_rate": false_abstentions / n,
        "latency_ms_p50": statistics.median(latencies) if latencies else None,
        "latency_ms_p95": sorted(latencies)[int(0.95 * (len(latencies) - 1))] if latencies else None,
        "rows": rows,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qa.eval")
    parser.add_argument("questions", type=Path)
    parser.add_argument("--company-given", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    from qa import ask

    questions = load_questions(args.questions)
    result = score(questions, lambda q: ask(q["question"], company=q.get("company") if args.company_given else None))
    for key, value in result.items():
        if key != "rows":
            print(f"{key:>24}: {value:.3f}" if isinstance(value, float) else f"{key:>24}: {value}")
    for row in result["rows"]:
        if (row["answerable"] and row["rank"] != 1) or (row["answerable"] != row["found"]) or (row["answerable"] and not row["highlight"]):
            print("  miss:", row)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
