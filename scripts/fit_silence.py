"""Fit the silence threshold (``answers`` in ``qa/data/judge.json``) on blind sets the judge never learnt from
(nothing here is imported by the product).

1. Every question of the spent blind sets ``--sets`` (``eval/unseen-101..148``) is answered as ``qa.ask``
   answers it, and the judge's probability of its best sentence is kept, from the first reading and from the
   second one that ``qa.ask`` makes before it says "not stated" (none where the answer is silent before the
   judge reads a sentence: no passage, or a name no policy writes). The second reading is made for every
   question, so any threshold is scored as the product would meet it. The cross-encoder learnt from sets
   13-100 and the judge's weights from 13-37 (``scripts/train_cross_encoder.py``, ``scripts/fit_judge.py``),
   so these are policies they never met.
2. The threshold is the largest multiple of ``STEP`` at which at most ``MAX_FALSE_ABSTENTIONS`` of the
   answerable questions go unanswered: the recipe's own rule (``fit_judge.py`` applies it out of fold), on
   thousands of questions instead of 25 sets. With ``--min-silence S`` the threshold is raised, where needed,
   until a share S of the unanswerable questions is silent (round 41 tried 0.92 on sets 101-128). With
   ``--silence S`` it is instead the smallest at which a share S is silent (round 42: as silent as the judge
   before it, at fewer false abstentions).
3. ``--write``: ``answers`` goes into ``qa/data/judge.json``. The overview's denial cells keep their own
   threshold (``denies``), which this script does not change.

    .venv/bin/python scripts/fit_silence.py [--write qa/data/judge.json] [--cache build/silence-rows.json]   # ~20 min
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SETS = "101-148"  # round 46: the sets the shipped cross-encoder (trained on 13-100) never met
MAX_FALSE_ABSTENTIONS = 0.05
STEP = 0.005


def collect(paths: list[Path]) -> list[dict]:
    """One row per question: whether it is answerable and the judge's probability of its best sentence in the
    first reading ("p") and in the second ("further")."""
    import dataclasses
    import tempfile

    import qa.evidence as evidence
    from evaluation.unseen import answers_recording, unseen_config
    from index.config import quiet_third_parties
    from qa.judge import CALIBRATION

    quiet_third_parties()
    config = unseen_config()
    judge = json.loads((config.judge or CALIBRATION).read_text())
    with tempfile.TemporaryDirectory() as folder:
        always = Path(folder) / "judge.json"  # no sentence is likely enough: every question is read twice
        always.write_text(json.dumps({**judge, "answers": 1.01}))
        config = dataclasses.replace(config, judge=always)
        rows = []
        for _, q, seen in answers_recording(paths, config, evidence, "best_of_passages"):
            readings = [judged[0].probability if judged else 0.0 for judged in seen.get("results", [])]
            rows.append({"id": q.id, "answerable": q.answerable, "p": readings[0] if readings else None,
                         "further": readings[-1] if readings else None})
    return rows


def rates(rows: list[dict], threshold: float) -> tuple[float, float]:
    """(false abstentions, unanswerable questions answered "not stated") at ``threshold``: silent where the first
    reading's best sentence is under it and so is the second's."""
    def silent(row):
        if row["p"] is None:
            return True
        return row["p"] < threshold and row.get("further", row["p"]) < threshold

    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    return (sum(map(silent, answerable)) / len(answerable), sum(map(silent, unanswerable)) / len(unanswerable))


def fit(rows: list[dict], min_silence: float | None = None, silence: float | None = None) -> float:
    """The largest multiple of ``STEP`` whose false abstentions stay within ``MAX_FALSE_ABSTENTIONS``; with
    ``min_silence``, raised where needed to the smallest at which that share of unanswerable questions is silent;
    with ``silence``, the smallest at which that share is silent, whatever the false abstentions."""
    def at(step: int) -> float:  # whole steps: 20 additions of 0.005 are not 0.1
        return round(step * STEP, 4)

    step = 1
    if silence is not None:
        while rates(rows, at(step))[1] < silence:
            step += 1
        return at(step)
    while rates(rows, at(step + 1))[0] <= MAX_FALSE_ABSTENTIONS:
        step += 1
    if min_silence is not None:
        while rates(rows, at(step))[1] < min_silence:
            step += 1
    return at(step)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", type=Path, help="the judge file whose 'answers' to set")
    parser.add_argument("--cache", type=Path, help="keep (or reuse) the collected rows here")
    parser.add_argument("--sets", default=SETS, help="the blind sets answered (first-last)")
    parser.add_argument("--min-silence", type=float, help="raise the threshold until this share of the "
                        "unanswerable questions is silent (e.g. 0.92)")
    parser.add_argument("--silence", type=float, help="instead: the smallest threshold at which this share of the "
                        "unanswerable questions is silent (e.g. 0.922)")
    args = parser.parse_args()
    if args.cache and args.cache.exists():
        rows = json.loads(args.cache.read_text())
    else:
        from fit_judge import unseen_sets

        rows = collect(unseen_sets(args.sets))
        if args.cache:
            args.cache.parent.mkdir(parents=True, exist_ok=True)
            args.cache.write_text(json.dumps(rows))
    threshold = fit(rows, args.min_silence, args.silence)
    print(f"{len(rows)} questions; threshold {threshold}")
    for t in sorted({0.11, round(threshold - STEP, 4), threshold, round(threshold + STEP, 4)}):
        false_abstentions, silence = rates(rows, t)
        print(f"  {t:.3f}: false abstentions {100 * false_abstentions:.1f} %, unanswerable -> not stated {100 * silence:.1f} %")
    if args.write:
        judge = json.loads(args.write.read_text())
        judge["answers"] = threshold
        args.write.write_text(json.dumps(judge, indent=2) + "\n")
        print(f"wrote answers = {threshold} to {args.write}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
