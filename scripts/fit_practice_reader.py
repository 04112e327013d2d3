"""Fit the overview's learnt reader (``qa/data/practice_reader.json``) on labelled overview grids.

``python scripts/fit_practice_reader.py [--grids 1-24] [--data DIR] [--out FILE] [--folds 6]``

Each grid (``eval/overview/grid.jsonl`` is grid 1, ``grid-N.jsonl`` the others) has its policies indexed
in ``DIR/N`` (kept between runs, as ``python -m evaluation.overview --data`` keeps them). Every practice's
question is asked of each labelled policy as the overview asks it (``qa.overview._Asker.candidates``: the
judged sentences, the verdict the practice's words read, each sentence's vector). A sentence is an
example of the cell's labelled verdict where its highlight holds one of the labeller's evidence excerpts
(or one holds it), and of ``none`` otherwise. One logistic regression per practice (scikit-learn,
``C=1``); the probability a verdict needs is ``--states``.

With ``--folds K`` it first reports, cross-validated by grid (each grid scored by models fitted without
it), the cells right and those saying the opposite of the label, for the practice's words alone and for
the reader at a few thresholds (docs/overview-practices.md, round 50). About 10 s a grid once indexed,
on 2 CPUs.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from evaluation.overview import is_opposite, prepare, read_grid, shared_folder  # noqa: E402
from qa.overview import NOT_STATED, PRACTICES, _Asker, deciding, practice  # noqa: E402
from qa.practice_reader import NONE, WEIGHTS, Model, PracticeReader, features  # noqa: E402

THRESHOLDS = (0.05, 0.1, 0.15, 0.2)


def grid_numbers(spec: str) -> list[int]:
    """``1-24`` or ``1,3,5-7`` as a list of grid numbers."""
    out: list[int] = []
    for part in spec.split(","):
        low, _, high = part.partition("-")
        out += list(range(int(low), int(high or low) + 1))
    return out


def grid_file(number: int) -> Path:
    return ROOT / "eval" / "overview" / ("grid.jsonl" if number == 1 else f"grid-{number}.jsonl")


def _normal(text: str) -> str:
    return " ".join(re.sub(r"[*_#>`\\]", "", text.lower()).split())


def holds(sentence: str, excerpts: list[str]) -> bool:
    sentence = _normal(sentence)
    return any(e and (e[:60] in sentence or sentence[:60] in e) for e in excerpts)


def collect(numbers: list[int], data: Path) -> list[dict]:
    """Every labelled cell of the grids with its candidates (probability, words' verdict, vector, example class)."""
    cells = []
    for number in numbers:
        path = grid_file(number)
        labels, _ = read_grid(path)
        config, problems = prepare(labels, data / str(number), shared_folder())
        from qa.retrieve import ensure_index

        view = ensure_index(config)
        asker = _Asker(view, config)
        for label in labels:
            versions = [info for info in view.policies.values() if info.company == label.company
                        and (label.policy_date is None or info.policy_date == label.policy_date)]
            if not versions:
                continue
            info = max(versions, key=lambda i: i.policy_date or "")
            wanted = [_normal(e) for e in label.evidence]
            found = []
            for probability, verdict, citation, vector in asker.candidates(info, practice(label.practice)):
                example = label.verdict if label.verdict != NOT_STATED and holds(citation.highlight, wanted) else NONE
                found.append((probability, verdict, np.asarray(vector, dtype=np.float64), example))
            cells.append({"grid": number, "practice": label.practice, "label": label.verdict, "candidates": found})
        print(f"grid {number}: {len(labels)} cells", file=sys.stderr, flush=True)
    return cells


def fit(cells: list[dict], practice_id: str):
    from sklearn.linear_model import LogisticRegression

    p = practice(practice_id)
    rows = [(features(v, pr, verdict, p.verdicts), example) for c in cells if c["practice"] == practice_id
            for pr, verdict, v, example in c["candidates"]]
    classes = {y for _, y in rows}
    if len(classes) < 2:
        return None
    return LogisticRegression(C=1.0, max_iter=3000).fit(np.array([x for x, _ in rows]), [y for _, y in rows])


def shipped(model) -> Model:
    """A fitted scikit-learn model as the product reads it."""
    return Model(tuple(str(c) for c in model.classes_), model.coef_, model.intercept_)


def verdict_of(cell: dict, model, states: float, threshold: float, denies: float) -> str:
    """The cell as the overview decides it (``qa.overview.deciding`` over ``PracticeReader.verdict``) with
    ``model`` (None: the practice's words alone)."""
    p = practice(cell["practice"])
    reader = PracticeReader({p.id: shipped(model)}, states) if model is not None else None
    found = deciding(((probability, reader.verdict(p, vector, probability, verdict) if reader else verdict, None)
                      for probability, verdict, vector, _ in cell["candidates"]), p, threshold, denies)
    return found[1] if found else NOT_STATED


def main() -> int:
    from qa.judge import Judge

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--grids", default="1-24", help="the grids to learn from (default 1-24)")
    parser.add_argument("--data", type=Path, default=ROOT / "build" / "overview-grids",
                        help="where each grid's index is kept (DIR/N)")
    parser.add_argument("--out", type=Path, default=WEIGHTS)
    parser.add_argument("--states", type=float, default=0.1, help="the probability a verdict needs")
    parser.add_argument("--folds", type=int, default=0, help="report K-fold cross-validation by grid first")
    parser.add_argument("--cache", type=Path, help="keep the collected candidates in this file (pickle) and reuse them")
    args = parser.parse_args()
    numbers = grid_numbers(args.grids)
    judge = Judge.load()
    if args.cache and args.cache.exists():
        import pickle

        cells = [c for c in pickle.loads(args.cache.read_bytes()) if c["grid"] in numbers]
    else:
        cells = collect(numbers, args.data)
        if args.cache:
            import pickle

            args.cache.parent.mkdir(parents=True, exist_ok=True)
            args.cache.write_bytes(pickle.dumps(cells))
    if args.folds:
        folds = [numbers[i::args.folds] for i in range(args.folds)]
        tally = {name: [0, 0] for name in ["words"] + [f"reader {t}" for t in THRESHOLDS]}
        for fold in folds:
            train = [c for c in cells if c["grid"] not in fold]
            models = {p.id: fit(train, p.id) for p in PRACTICES}
            for cell in (c for c in cells if c["grid"] in fold):
                for name in tally:
                    states = float(name.split()[1]) if name != "words" else 0.0
                    model = models[cell["practice"]] if name != "words" else None
                    verdict = verdict_of(cell, model, states, judge.states, judge.states_denial)
                    tally[name][0] += verdict == cell["label"]
                    tally[name][1] += is_opposite(verdict, cell["label"])
        for name, (right, opposite) in tally.items():
            print(f"{name:>12}: {right} of {len(cells)} right ({100 * right / len(cells):.1f} %), {opposite} opposite")
    out = {"states": args.states, "grids": args.grids, "cells": len(cells),
           "features": "sentence vector, judge probability, its log, the practice's words' verdict (one-hot)",
           "models": {}}
    for p in PRACTICES:
        model = fit(cells, p.id)
        if model is not None:
            out["models"][p.id] = {"classes": list(shipped(model).classes),
                                   "coef": np.round(model.coef_, 6).tolist(),
                                   "intercept": np.round(model.intercept_, 6).tolist()}
    args.out.write_text(json.dumps(out, separators=(",", ":")) + "\n")
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KiB, {len(cells)} cells)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
