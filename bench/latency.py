"""Query latency of ``qa.ask`` on the seed corpus, warm: p50 and p95 in milliseconds.

    POLICYQA_DATA=/tmp/bench-data python bench/latency.py [--rounds 5] [--json OUT]

Builds (or reuses) the seed index, loads the model, answers every question once to warm the
caches, then times ``rounds`` passes over the seed questions plus the held-out seed-style ones
(``eval/heldout-seed.jsonl``), one question at a time. Prints the machine, the load average and
the numbers; docs/quality.md keeps the results.

The judge keeps the word vectors of the sentences it encoded (``index.embedder.embed_words``), so a
question meets the sentences of earlier questions already encoded. Each timed round starts with that
store empty (``--words round``: every round is a first pass over its questions, as a chat session
asking them one after another); ``--words question`` empties it before every question (each
answer encodes all of its sentences afresh). On a shared machine wall time waits for a free
core, so the CPU time each call used is reported too (``--threads 1`` makes it comparable to
wall time on an idle core).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _shared() -> Path:
    for candidate in (ROOT.parent / "shared", ROOT.parent.parent / "shared"):
        if candidate.is_dir():
            return candidate
    return ROOT.parent / "shared"


def questions() -> list[str]:
    """Seed-style questions: the shared seed set when present, and the project's held-out set."""
    files = [_shared() / "eval" / "seed-questions.jsonl", ROOT / "eval" / "heldout-seed.jsonl"]
    out = []
    for path in files:
        if path.exists():
            out += [json.loads(line)["question"] for line in path.read_text().splitlines() if line.strip()]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    parser.add_argument("--words", choices=("round", "question"), default="round",
                        help="empty the judge's store of encoded sentences before each round or each question")
    args = parser.parse_args()
    from index.config import get_config, quiet_third_parties
    from qa.answer import ask, ensure_index
    from evaluation.scoring import percentile
    from index.embedder import forget_words

    quiet_third_parties()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    config = get_config()
    ensure_index(config, progress=False)
    asked = questions()
    for question in asked:  # warm: model, index, per-policy caches
        ask(question)
    times, cpu = [], []
    for _ in range(args.rounds):
        forget_words()
        for question in asked:
            if args.words == "question":
                forget_words()
            started, started_cpu = time.perf_counter(), time.process_time()
            ask(question)
            times.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
    result = {
        "questions": len(asked), "rounds": args.rounds, "calls": len(times),
        "p50_ms": round(percentile(times, 50), 2), "p95_ms": round(percentile(times, 95), 2),
        "mean_ms": round(statistics.fmean(times), 2), "max_ms": round(max(times), 2),
        # CPU time of this process per call: what the call costs when it does not wait for a core.
        "cpu_p50_ms": round(percentile(cpu, 50), 2), "cpu_p95_ms": round(percentile(cpu, 95), 2),
        "torch_threads": args.threads, "words_emptied_each": args.words,
        "machine": f"{platform.machine()} {os.cpu_count()} CPUs, {platform.python_implementation()} "
                   f"{platform.python_version()}",
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
