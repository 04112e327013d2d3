"""Choose the overview's own threshold: how likely a cell's sentence must be (nothing here is imported by the product).

The answer judge's silence threshold (``answers`` in ``qa/data/judge.json``) was chosen for users'
questions; the overview asks fourteen fixed practice questions of every policy. This reads every labelled
cell's candidates (``qa.overview._Asker.candidates``: each judged sentence's probability and verdict) once,
then scores each threshold as ``_Asker.cell`` decides: the first candidate at least that likely with a
verdict, where a denial (the practice's "no") needs ``Judge.states_denial`` (``denies``, else ``answers``)
whatever the threshold. The threshold with the most cells right wins (the higher one on a tie) as long as no
more cells say the opposite of their label than at the denial threshold itself.

    .venv/bin/python scripts/fit_overview.py eval/overview/grid.jsonl ... [--write qa/data/judge.json]
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def cells_of(grids: list[Path], data: Path) -> list[dict]:
    """Every labelled cell with its candidates: (probability, verdict) in the order the overview reads them."""
    from evaluation.overview import prepare, read_grid, shared_folder
    from qa.overview import PRACTICES, _Asker
    from qa.retrieve import ensure_index

    practices = {p.id: p for p in PRACTICES}
    out = []
    for grid in grids:
        labels, _ = read_grid(grid)
        config, _ = prepare(labels, data / grid.stem, shared_folder())
        view = ensure_index(config, progress=False)
        asker = _Asker(view, config)
        for label in labels:
            versions = [p for p in view.policies.values() if p.company == label.company]
            info = next((p for p in versions if p.policy_date == label.policy_date), None) or max(
                versions, key=lambda p: p.policy_date or "")
            candidates = [(p, v) for p, v, _ in asker.candidates(info, practices[label.practice])]
            out.append({"grid": grid.stem, "practice": label.practice, "label": label.verdict, "candidates": candidates})
        print(f"  {grid.name}: {len(labels)} cells", file=sys.stderr, flush=True)
    return out


def verdict_at(cell: dict, threshold: float, denies: float) -> str:
    """The cell's verdict as ``qa.overview._Asker.cell`` gives it at ``threshold`` (a denial at ``denies``)."""
    from qa.overview import NOT_STATED, deciding, practice

    found = deciding(cell["candidates"], practice(cell["practice"]), threshold, denies)
    return found[1] if found else NOT_STATED


def score(cells: list[dict], threshold: float, denies: float) -> tuple[int, int]:
    """Cells right and cells saying the opposite of their label, at ``threshold``."""
    from evaluation.overview import is_opposite

    right = opposite = 0
    for cell in cells:
        verdict = verdict_at(cell, threshold, denies)
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
    from index.config import get_config
    from qa.judge import get_judge

    # As ``_Asker.cell``: a denial needs the overview's own denial threshold, not the answers' silence one
    # (round 35 raised that to 0.11 and kept the overview's denials at 0.085).
    denies = get_judge(get_config()).states_denial
    with tempfile.TemporaryDirectory() as tmp:
        cells = cells_of(args.grids, Path(tmp))
    base_right, base_opposite = score(cells, denies, denies)
    print(f"{len(cells)} cells; at the denial threshold {denies}: {base_right} right, {base_opposite} opposite")
    best = (base_right, denies)
    for threshold in np.round(np.arange(0.0, 0.41, 0.01), 3):
        right, opposite = score(cells, float(threshold), denies)
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
