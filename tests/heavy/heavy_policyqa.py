"""Heavy comparison on the PolicyQA dev set (3,809 questions; indexes its 20-policy corpus).

Not collected by default (the file name does not start with test_). Run it explicitly:

    .venv/bin/python -m pytest tests/heavy/heavy_policyqa.py -s

It takes 15-25 minutes on 2 busy cores; POLICYQA_HEAVY_SAMPLE=N runs a fixed sample of N. It checks, on the *report* half (companies never used for
tuning) with the company passed, that PolicyQA beats the naive baseline by a clear margin and
does not abstain on answerable questions.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
SHARED = next((p for p in (PROJECT.parent / "shared", PROJECT.parent.parent / "shared") if p.is_dir()),
              PROJECT.parent / "shared")
DEV = SHARED / "eval" / "policyqa-dev"


@pytest.mark.slow
@pytest.mark.skipif(not (DEV / "questions.jsonl").exists(), reason="shared/eval/policyqa-dev is not here")
def test_policyqa_report_half_beats_the_baseline(tmp_path):
    from evaluation.harness import eval_config, evaluate, format_table
    from evaluation.scoring import load_questions, select, summarise

    sample = int(os.environ.get("POLICYQA_HEAVY_SAMPLE", "0")) or None
    questions = select(load_questions(DEV / "questions.jsonl"), "report", sample=sample)
    config = eval_config(DEV / "corpus", tmp_path / "data")
    report = evaluate(questions, config, company_given=True, baseline=True)
    ours, naive = summarise(report["system"]), summarise(report["baseline"])
    print("\n" + format_table({"PolicyQA": ours, "baseline": naive}))
    # Full report half (2026-11-22): 34.9 / 56.0 vs 26.2 / 42.2. A small POLICYQA_HEAVY_SAMPLE is too
    # noisy for margins (150 questions: 33.3 vs 30.0), so a sample only has to be no worse.
    h1, h3 = (0.05, 0.08) if sample is None else (0.0, 0.0)
    assert ours.hit_at_1 >= naive.hit_at_1 + h1 and ours.hit_at_3 >= naive.hit_at_3 + h3
    assert ours.false_abstention_rate <= 0.05
