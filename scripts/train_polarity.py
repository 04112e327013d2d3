"""Train the lead's second reader: a cross-encoder that reads a question and the quoted sentence together and says
how likely the answer is "Yes" (nothing here is imported by the product).

The pairs are the blind sets' own: every question that expects a Yes or No lead, read with its evidence phrases,
labelled by that lead (``eval/unseen-13..140``, about 2,300 pairs). The recipe is the judge's cross-encoder's
(``scripts/train_cross_encoder.py``: the shipped MiniLM, its first 3 layers frozen, a linear head over the
mean-pooled tokens, 96 word pieces, positives weighted 3), for 3 epochs.

``--rows FILE`` (``scripts/fit_lead.py``'s answers that could lead, e.g. its ``--cache``, or rows collected
with ``fit_lead.collect`` for later sets) first scores each row by a model trained without its set (3 folds by
set number) and prints, for the shipped lead gate, what the reader's two thresholds and its floor do:
``qa.compose`` drops a lead the gate trusts when the reader finds the reading less than ``polarity_veto``
likely, and gives one the gate withholds when the reader finds it at least ``polarity_adds`` likely from a
sentence the judge finds at least ``polarity_floor`` likely (docs/quality.md, round 45).

    .venv/bin/python scripts/train_polarity.py [--rows build/lead-rows-51-136.json] [--write qa/data/polarity.safetensors]

About 1.5 minutes a model on 2 CPUs.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
SETS = range(13, 141)


def pairs_of(sets) -> list[tuple[str, str, float]]:
    """(question, evidence, 1.0 for "yes" / 0.0 for "no") for every question of ``sets`` that expects a lead."""
    out = []
    for n in sets:
        for line in (ROOT / "eval" / f"unseen-{n}.jsonl").read_text().splitlines():
            q = json.loads(line)
            if q.get("lead") in ("yes", "no") and q.get("evidence"):
                out.append((q["question"], " ".join(q["evidence"]), 1.0 if q["lead"] == "yes" else 0.0))
    return out


def yes_probabilities(model, questions: list[str], sentences: list[str], max_length: int) -> list[float]:
    import torch

    from train_cross_encoder import score

    tokenizer, encoder, head = model
    out = []
    with torch.no_grad():
        for i in range(0, len(questions), 32):
            out += torch.sigmoid(score(tokenizer, encoder, head, questions[i:i + 32], sentences[i:i + 32],
                                       max_length)).tolist()
    return out


def report(rows: list[dict]) -> None:
    """Right / wrong / unexpected leads of the shipped gate, and with the reader's veto and additions."""
    from fit_lead import counts
    from qa.judge import get_judge

    judge = get_judge()
    gate = [judge.trusts(r["features"]) for r in rows]
    agree = [r["p_yes"] if r["said"] == "Yes" else 1 - r["p_yes"] for r in rows]

    def given(kept: list[bool]) -> str:
        return "right %d, wrong %d, unexpected %d" % counts([r for r, k in zip(rows, kept) if k])

    print(f"{len(rows)} answers that could lead; the gate alone: {given(gate)}")
    for veto in (0.0, 0.05, 0.1, 0.2, 0.3):
        for adds in (0.9, 0.95, 0.98, 1.01):
            for floor in (0.2, 0.3, 0.4, 0.5):
                kept = [(g and a >= veto) or (not g and a >= adds and r["features"]["probability"] >= floor)
                        for r, g, a in zip(rows, gate, agree)]
                print(f"  veto < {veto}, adds >= {adds} from p >= {floor}: {given(kept)}")


def main() -> int:
    from train_cross_encoder import save, train

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=Path, help="answers that could lead (fit_lead.collect rows), scored out of fold")
    parser.add_argument("--write", type=Path, help="the weights file (qa/data/polarity.safetensors)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--layers", type=int, default=6, help="the shipped model's first LAYERS layers")
    parser.add_argument("--freeze", type=int, default=3, help="of which the first FREEZE stay as shipped")
    args = parser.parse_args()
    args.epochs, args.lr, args.max_length, args.by_length = 3, 1e-4, 96, True
    if args.rows:
        data = json.loads(args.rows.read_text())
        rows = data["blind"] if isinstance(data, dict) else data
        rows = [r for r in rows if r["set"] in SETS]
        for fold in range(3):
            model = train(pairs_of([n for n in SETS if n % 3 != fold]), args)
            held = [r for r in rows if r["set"] % 3 == fold]
            for r, p in zip(held, yes_probabilities(model, [r["question"] for r in held],
                                                    [r["evidence"] for r in held], args.max_length)):
                r["p_yes"] = p
        report(rows)
    if args.write:
        pairs = pairs_of(SETS)
        print(f"final model: {len(pairs)} pairs", file=sys.stderr, flush=True)
        _, encoder, head = train(pairs, args)
        save(encoder, head, args.write, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
