"""Choose the overview's own threshold: how likely a cell's sentence must be (nothing here is imported by the product).

The answer judge's silence threshold (``answers`` in ``qa/data/judge.json``) was chosen for users'
questions; the overview asks fourteen fixed practice questions of every policy. This runs the overview
of the labelled grids with no threshold (every cell keeps the likeliest sentence that speaks to its
practice, and that sentence's probability), then scores each threshold: a cell whose sentence is less
likely says "not stated". The threshold with the most cells right wins (the higher one on a tie) as long
as no more cells say the opposite of their label than at the judge's own threshold.

    .venv/bin/python scripts/fit_overview.py eval/overview/grid.jsonl ... [--write qa/data/judge.json]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def cells_of(grids: list[Path], data: Path) -> list[dict]:
    """Every labelled cell with the overview's verdict and probability at no threshold."""
    from evaluation.overview import prepare, read_grid, shared_folder
    from qa.overview import overview

    out = []
    for grid in grids:
        labels, _ = read_grid(grid)
        config, _ = prepare(labels, data / grid.stem, shared_folder())
        rows: dict = {}
        for label in labels:
            key = (label.company, label.policy_date)
            if key not in rows:
                rows[key] = overview(label.company, label.policy_date, config=config).rows[0]
            cell = next(c for c in rows[key].cells if c.practice == label.practice)
            out.append({"grid": grid.stem, "label": label.verdict, "verdict": cell.verdict, "probability": cell.probability})
        print(f"  {grid.name}: {len(labels)} cells", file=sys.stderr, flush=True)
    return out


def score(cells: list[dict], threshold: float) -> tuple[int, int]:
    """Cells right and cells saying the opposite of their label, at ``threshold``."""
    from evaluation.overview import is_opposite
    from qa.overview import NOT_STATED

    right = opposite = 0
    for cell in cells:
        verdict = cell["verdict"] if cell["probability"] >= threshold else NOT_STATED
        right += verdict == cell["label"]
        opposite += is_opposite(verdict, cell["label"])
    return right, opposite


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("grids", nargs="+", type=Path)
    parser.add_argument("--write", type=Path, help="set the chosen threshold as \"overview\" in this judge file")
    args = parser.parse_args()
    from index.config import quiet_third_parties

    quiet_third_parties()
    judge_path = Path(os.environ.get("POLICYQA_JUDGE") or ROOT / "qa" / "data" / "judge.json")
    values = json.loads(judge_path.read_text())
    own = float(values["answers"])
    with tempfile.TemporaryDirectory() as tmp:
        unthresholded = Path(tmp) / "judge.json"
        unthresholded.write_text(json.dumps({**values, "overview": 0.0}))
        os.environ["POLICYQA_JUDGE"] = str(unthresholded)
        cells = cells_of(args.grids, Path(tmp))
    base_right, base_opposite = score(cells, own)
    print(f"{len(cells)} cells; at the judge's own threshold {own}: {base_right} right, {base_opposite} opposite")
    best = (base_right, own)
    for threshold in np.round(np.arange(0.0, 0.41, 0.01), 3):
        right, opposite = score(cells, float(threshold))
        print(f"  {threshold:.2f} | {right} right | {opposite} opposite")
        if opposite <= base_opposite and (right, threshold) > best:
            best = (right, float(threshold))
    print(f"chosen: {best[1]} ({best[0]} of {len(cells)} right)")
    if args.write:
        current = json.loads(args.write.read_text())
        current["overview"] = best[1]
        args.write.write_text(json.dumps(current, indent=2) + "\n")
        print(f"wrote {args.write}")


if __name__ == "__main__":
    main()
