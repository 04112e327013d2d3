"""Benchmark questions across policies on policies the feature was not developed on.

``python bench/across.py [--data DIR]`` indexes the 20 OPP-115 policies of
``shared/eval/policyqa-dev/corpus`` (once; kept in DIR), then:

1. asks "Which companies mention X?" for a fixed list of terms chosen before looking at the
   corpus, and scores the companies said to state it against the truth: the policies whose text
   contains X (whole words, any case); each stated company's citation must quote X;
2. times those answers against one-company questions ("Does <company> mention X?") and counts
   retrieval passes per answer;
3. times the version comparison of the seed corpus's two Azalead policies, cold (sentences
   embedded) and warm (cached).

Prints a Markdown table with the machine and date, for docs/quality.md.
"""
from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
# shared/ sits next to the project; a git worktree one level deeper finds it one level up.
SHARED = next((d for d in (PROJECT.parent / "shared", PROJECT.parent.parent / "shared") if d.is_dir()),
              PROJECT.parent / "shared")
# Chosen before looking at the corpus: services, technologies and laws policies of the era name.
TERMS = ["Google Analytics", "DoubleClick", "Facebook", "Twitter", "PayPal", "Flash", "web beacons", "Do Not Track",
         "Safe Harbor", "TRUSTe", "COPPA", "California", "SSL", "Omniture"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/across.py")
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "policyqa-bench-across")
    args = parser.parse_args(argv)
    corpus = SHARED / "eval" / "policyqa-dev" / "corpus"
    if not corpus.is_dir():
        print(f"skipped: {corpus} is missing", file=sys.stderr)
        return 0
    sys.path.insert(0, str(PROJECT))
    os.environ["POLICYQA_CORPUS"] = str(corpus)
    os.environ["POLICYQA_DATA"] = str(args.data)
    from index.config import get_config, quiet_third_parties

    quiet_third_parties()
    from index import retrieval
    from qa import ask
    from qa.answer import ensure_index

    config = get_config()
    view = ensure_index(config, progress=False)
    texts = {p.company: view.source_text(p.doc) for p in view.policies.values()}

    passes = [0]
    original = retrieval.IndexView.hits

    def counting(self, *a, **k):
        passes[-1] += 1
        return original(self, *a, **k)

    retrieval.IndexView.hits = counting
    ask("Which companies mention cookies?")  # warm-up: model and index loaded
    tp = fp = fn = quoted = 0
    across_ms, single_ms, rows = [], [], []
    for term in TERMS:
        truth = {c for c, t in texts.items() if re.search(rf"(?<!\w){re.escape(term)}(?!\w)", t, re.I)}
        passes.append(0)
        started = time.perf_counter()
        answer = ask(f"Which companies mention {term}?")
        across_ms.append((time.perf_counter() - started) * 1000)
        said = {f.company for f in answer.companies if f.status != "silent"}
        tp += len(said & truth)
        fp += len(said - truth)
        fn += len(truth - said)
        quoted += sum(1 for f in answer.companies if f.company in said & truth
                      and term.lower() in (f.citations[0].excerpt.lower() if f.citations else ""))
        rows.append((term, len(truth), len(said & truth), len(said - truth), len(truth - said), passes[-1]))
        some = sorted(texts)[len(single_ms) % len(texts)]
        started = time.perf_counter()
        ask(f"Does {some} mention {term}?")
        single_ms.append((time.perf_counter() - started) * 1000)
    retrieval.IndexView.hits = original

    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    print(f"## Questions across policies: benchmark ({date.today()}, {platform.machine()}, {os.cpu_count()} CPUs, "
          f"{platform.python_version()})\n")
    print(f"Corpus: {len(texts)} OPP-115 policies (shared/eval/policyqa-dev/corpus), {len(view.chunks)} chunks.\n")
    print("| term | policies containing it | stated & true | stated, not true | missed | retrieval passes |")
    print("| --- | --- | --- | --- | --- | --- |")
    for term, n, good, bad, missed, p in rows:
        print(f"| {term} | {n} | {good} | {bad} | {missed} | {p} |")
    print(f"\nCompanies said to mention a term: precision {precision:.2f}, recall {recall:.2f} "
          f"({tp} right, {fp} wrong, {fn} missed); citations quoting the term: {quoted}/{tp}.")
    ratio = statistics.median(across_ms) / statistics.median(single_ms)
    print(f"Latency, median: across all {len(texts)} companies {statistics.median(across_ms):.0f} ms, one company "
          f"{statistics.median(single_ms):.0f} ms (ratio {ratio:.1f}).")

    seed_versions(config)
    return 0


def seed_versions(config) -> None:
    """Cold and warm time of comparing the seed corpus's two Azalead versions."""
    from dataclasses import replace

    from index.build import build
    from qa.answer import ensure_index
    from qa.versions import _diff_cache, _vector_cache, version_diff

    with tempfile.TemporaryDirectory() as data:
        seed = replace(config, corpus_dir=PROJECT / "corpus", data_dir=Path(data))
        build(seed, progress=False)
        view = ensure_index(seed, progress=False)
        old, new = "azalead-2014-06-25.md", "azalead-2017-12-31.md"
        _diff_cache.clear()
        _vector_cache.clear()
        started = time.perf_counter()
        diff = version_diff(view, seed, old, new)
        cold = time.perf_counter() - started
        _diff_cache.clear()
        _vector_cache.clear()
        started = time.perf_counter()
        version_diff(view, seed, old, new)
        disk = time.perf_counter() - started
        started = time.perf_counter()
        version_diff(view, seed, old, new)
        warm = time.perf_counter() - started
        print(f"Azalead 2014 vs 2017 ({diff.old_statements} + {diff.new_statements} sentences): cold {cold:.1f} s "
              f"(sentences embedded), from the disk cache {disk * 1000:.0f} ms, in memory {warm * 1000:.2f} ms.")


if __name__ == "__main__":
    sys.exit(main())
