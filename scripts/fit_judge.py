"""Fit and calibrate how the answer judge decides (nothing here is imported by the product).

1. For every question, retrieval as ``qa.ask`` does it, then every judged sentence's features
   (``qa.evidence.sentence_features``) and whether it holds an evidence phrase.
2. PolicyQA dev (company given, a seeded sample): the logistic weights over the features.
3. The seed-style sets (the five seed policies, which the fit never saw; a sample of each set):
   the reliability table (probability against observed precision) and the threshold on the best
   sentence's probability that keeps false abstentions at most ``--max-false-abstention``.

    .venv/bin/python scripts/fit_judge.py --write qa/data/judge.json   # about 20 minutes on 2 CPUs
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared"
# The blind sets the judge's weights learn from (13-37); the cross-encoder's cache was made with
# ``--sets 13-100`` (docs/quality.md, round 46).
UNSEEN_SETS = "13-37"
FOLDS = 8
SEED_SETS = sorted((ROOT / "eval").glob("heldout-seed*.jsonl")) + [SHARED / "eval" / "seed-questions.jsonl"]


def unseen_sets(numbers: str) -> list[Path]:
    """The blind set files of a range such as "13-100"."""
    first, _, last = numbers.partition("-")
    return [ROOT / "eval" / f"unseen-{n}.jsonl" for n in range(int(first), int(last or first) + 1)]


def collect(paths: list[Path], corpus: Path | None, data: Path | None, company_given: bool,
            sample: int | None = None) -> list[dict]:
    """Feature rows of every judged sentence, grouped per question."""
    from evaluation.harness import eval_config
    from evaluation.scoring import load_questions, normalise
    from index.config import quiet_third_parties
    from index.embedder import embed_query
    from qa.answer import choose_versions, ensure_index, query_stems
    from qa.evidence import candidate_sentences, sentence_features
    from qa.question import find_companies, search_text, understand

    quiet_third_parties()
    config = eval_config(corpus, data)
    view = ensure_index(config, progress=False)
    out = []
    for path in paths:
        questions = load_questions(path)
        if sample and sample < len(questions):
            import random

            questions = random.Random(13).sample(questions, sample)
        for n, q in enumerate(questions):
            policies = list(view.policies.values())
            understood = understand(q.question, policies)
            if company_given and q.company:
                understood.companies = find_companies(q.company, policies)[:1]
            docs, _, _ = choose_versions(understood, policies)
            named = [p for p in policies if p.company in understood.companies]
            vector = embed_query(config.model, search_text(q.question, named), config.query_adapter)
            hits = view.hits(vector, query_stems(understood), docs, k=15)
            candidates = candidate_sentences(view, hits)
            rows = sentence_features(view, understood, hits, candidates, config, vector)
            evidence = [normalise(e) for e in q.evidence]
            labels = [any(e and e in normalise(c[2]) for e in evidence) for c in candidates]
            out.append({"set": path.name, "id": q.id, "question": q.question, "company": q.company,
                        "answerable": q.answerable, "rows": rows, "labels": labels, "texts": [c[2] for c in candidates]})
            if n % 50 == 0:
                print(f"  {path.name}: {n}", file=sys.stderr, flush=True)
    return out


def fit(questions: list[dict], features: tuple[str, ...]) -> dict[str, float]:
    """Logistic weights over ``features``: a sentence holding an evidence phrase against the rest."""
    from sklearn.linear_model import LogisticRegression

    from qa.judge import design, terms

    x = design([r for q in questions for r in q["rows"]], features)
    y = np.array([label for q in questions for label in q["labels"]])
    model = LogisticRegression(C=PAIRS_C, max_iter=5000).fit(x, y)
    weights = {t: round(float(w), 5) for t, w in zip(terms(features), model.coef_[0])}
    weights["bias"] = round(float(model.intercept_[0]), 5)
    return weights


# A sentence this likely joins a highlight beside it, and without a lead gate may lead. Chosen as the lead's
# floor on the development sets 13-25 (every run with `POLICYQA_JUDGE` set to a copy of judge.json with another
# "lead"), counting a wrong lead as three right ones lost (docs/quality.md, round 12): 0.25 was best for any cost
# from 2 to 5. Since round 43 the lead gate alone decides a lead from any answering sentence.
LEAD = 0.25
# Out of fold, the cross-encoder reading the screen's 4, 6, 8 or 10 likeliest of 16 sentences: silent at <= 5 %
# false abstentions 73.0, 73.5, 74.3, 73.5 % (all 16: 72.1 %); 6 halved its cost (docs/quality.md, round 14).
# Of the 8 shortlisted sentences, 4 keep as much (docs/quality.md, round 15).
CROSS_ENCODED = 4
# Candidates (of qa.evidence.MAX_JUDGED_SENTENCES = 16) encoded and judged at all, picked by the shortlist
# over the features known before encoding (qa.judge.SHORTLIST); see docs/quality.md, round 15.
SHORTLISTED = 8
PAIRS_C = 0.3  # regularisation of the 35 terms (docs/quality.md, round 11)


def combine(rows: list[dict], weights: dict, features: tuple[str, ...]) -> np.ndarray:
    from qa.judge import probabilities

    return probabilities(rows, weights, features)


def shortlist(cached: dict, limit: int) -> dict:
    """As the product does (``Judge.shortlisted_rows``): weights over the features known before encoding
    keep each question's ``limit`` likeliest candidates; the others are dropped from ``cached``. Returns
    what judge.json records of it."""
    from qa.judge import SHORTLIST, screened

    questions = cached["policyqa"] + cached["seed"] + cached["unseen"]
    weights = fit(cached["policyqa"] + [q for q in cached["seed"] + cached["unseen"] if q["answerable"]], SHORTLIST)
    for q in questions:
        kept = screened(q["rows"], weights, limit, SHORTLIST)
        for key in ("rows", "labels", "texts"):
            q[key] = [q[key][i] for i in kept]
    return {"shortlist": weights, "shortlisted": limit}


def screen(cached: dict, limit: int) -> dict:
    """As the product does (``qa.judge.screened``): weights over the other features pick each question's
    ``limit`` likeliest sentences; the rest get a low "ce" (the 10th percentile of all). Changes ``cached``'s
    rows; returns what judge.json records of it."""
    from qa.judge import SCREEN, screened

    questions = cached["policyqa"] + cached["seed"] + cached["unseen"]
    weights = fit(cached["policyqa"] + [q for q in cached["seed"] + cached["unseen"] if q["answerable"]], SCREEN)
    fill = round(float(np.percentile([r["ce"] for q in questions for r in q["rows"]], 10)), 5)
    for q in questions:
        kept = set(screened(q["rows"], weights, limit))
        for i, row in enumerate(q["rows"]):
            if i not in kept:
                row["ce"] = fill
    return {"screen": weights, "cross_encoded": limit, "ce_fill": fill}


def company_of(question: dict) -> str:
    return f"{'seed' if question['set'].startswith(('heldout', 'seed')) else question['set']}:{question['company']}"


def out_of_fold(policyqa: list[dict], dev: list[dict], features: tuple[str, ...], folds: int = FOLDS) -> list[np.ndarray]:
    """Each development question's sentence probabilities from weights fitted without its company:
    PolicyQA plus the answerable questions of the other companies' folds."""
    import random

    companies = sorted({company_of(q) for q in dev})
    random.Random(15).shuffle(companies)
    fold = {c: i % folds for i, c in enumerate(companies)}
    out: list[np.ndarray] = [np.zeros(0)] * len(dev)
    for k in range(folds):
        train = policyqa + [q for q in dev if fold[company_of(q)] != k and q["answerable"]]
        weights = fit(train, features)
        for i, q in enumerate(dev):
            if fold[company_of(q)] == k and q["rows"]:
                out[i] = combine(q["rows"], weights, features)
    return out


def report(dev: list[dict], probabilities: list[np.ndarray], max_false: float) -> float:
    """The calibration table, the answerable/unanswerable separation and the silence threshold."""
    from sklearn.metrics import roc_auc_score

    scored = [(q, p) for q, p in zip(dev, probabilities) if q["answerable"] and len(p)]
    probs = np.concatenate([p for _, p in scored])
    labels = np.array([label for q, _ in scored for label in q["labels"]])
    print("judge probability | sentences | observed precision (holds an evidence phrase)")
    for lo, hi in zip([0, .1, .2, .3, .4, .5, .6, .7, .8, .9], [.1, .2, .3, .4, .5, .6, .7, .8, .9, 1.01]):
        inside = (probs >= lo) & (probs < hi)
        if inside.sum():
            print(f"  {lo:.1f}-{min(hi, 1):.1f} | {int(inside.sum()):5d} | {labels[inside].mean():.3f}")
    top = [bool(q["labels"][int(np.argmax(p))]) for q, p in scored]
    print(f"top sentence holds evidence: {np.mean(top):.3f} of {len(top)} answerable")
    best = np.array([float(p.max()) if len(p) else 0.0 for p in probabilities])
    answerable = np.array([q["answerable"] for q in dev])
    print(f"answerable vs unanswerable AUC of the best probability: {roc_auc_score(answerable, best):.3f}")
    print("threshold | unanswerable -> silent | answerable -> silent")
    chosen = 0.0
    for t in np.arange(0.02, 0.62, 0.005):
        abst = float((best[~answerable] < t).mean())
        false = float((best[answerable] < t).mean())
        print(f"  {t:.3f} | {abst:.3f} | {false:.3f}")
        if false <= max_false:
            chosen = float(t)
    return round(chosen, 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=ROOT / "build" / "judge-features.json")
    parser.add_argument("--fresh", action="store_true", help="recompute the cached feature rows")
    parser.add_argument("--sets", default=UNSEEN_SETS, help="the blind sets collected with --fresh (first-last)")
    parser.add_argument("--sample", type=int, default=300, help="PolicyQA dev questions fitted on")
    parser.add_argument("--seed-sample", type=int, default=30, help="questions of each seed-style set")
    parser.add_argument("--features", default=None, help="comma-separated subset of qa.judge.FEATURES")
    parser.add_argument("--max-false-abstention", type=float, default=0.05)
    parser.add_argument("--cross-encoded", type=int, default=CROSS_ENCODED, help="sentences the cross-encoder reads")
    parser.add_argument("--shortlisted", type=int, default=SHORTLISTED, help="candidates encoded and judged")
    parser.add_argument("--hold-out-fold", metavar="K/N", help="fit without PolicyQA fold K of N's companies "
                        "(evaluation.scoring.company_folds), to score that fold cross-validated")
    parser.add_argument("--lead", type=float, default=LEAD, help="the best sentence's probability a Yes/No lead "
                        "needs (at least the silence threshold)")
    parser.add_argument("--write", type=Path, help="write the weights and threshold here (qa/data/judge.json)")
    args = parser.parse_args()
    from qa.evidence import MAX_JUDGED_SENTENCES
    from qa.judge import FEATURES

    if args.cache.exists() and not args.fresh:
        cached = json.loads(args.cache.read_text())
    else:
        from evaluation.unseen import prepare

        pqa = SHARED / "eval" / "policyqa-dev" / "questions.jsonl"
        data = Path(os.environ.get("POLICYQA_DATA", ROOT / ".policyqa"))
        unseen_corpus, unseen_index = prepare(data / "eval", SHARED)
        cached = {"policyqa": collect([pqa], SHARED / "eval" / "policyqa-dev" / "corpus", data / "fit-policyqa",
                                      True, args.sample),
                  "seed": collect(SEED_SETS, None, None, False, args.seed_sample),
                  "unseen": collect(unseen_sets(args.sets), unseen_corpus, unseen_index, False)}
        args.cache.parent.mkdir(parents=True, exist_ok=True)
        args.cache.write_text(json.dumps(cached))
    features = tuple(args.features.split(",")) if args.features else FEATURES
    if args.hold_out_fold:
        from evaluation.scoring import company_folds, load_questions, parse_fold

        k, n = parse_fold(args.hold_out_fold)
        held = company_folds(load_questions(SHARED / "eval" / "policyqa-dev" / "questions.jsonl"), n)[k - 1]
        cached["policyqa"] = [q for q in cached["policyqa"] if (q["company"] or q["id"]).lower() not in held]
        print(f"fold {k}/{n}: {len(cached['policyqa'])} PolicyQA questions of the other companies")
    # After --hold-out-fold: neither the shortlist nor the screen may see the held-out fold.
    screening = shortlist(cached, args.shortlisted) if args.shortlisted < MAX_JUDGED_SENTENCES else {}
    if screening:
        print(f"shortlisted: the {args.shortlisted} likeliest candidates by the features known before encoding")
    if "ce" in features:
        screening.update(screen(cached, args.cross_encoded))
        print(f"cross-encoded: the {args.cross_encoded} likeliest sentences by the screen; the others' ce "
              f"{screening['ce_fill']}")
    dev = cached["seed"] + cached["unseen"]
    print(f"== {len(dev)} development questions over {len({company_of(q) for q in dev})} companies, "
          f"each scored by weights fitted without its company ({FOLDS} folds)")
    threshold = report(dev, out_of_fold(cached["policyqa"], dev, features), args.max_false_abstention)
    print(f"threshold with false abstention <= {args.max_false_abstention}: {threshold}")
    weights = fit(cached["policyqa"] + [q for q in dev if q["answerable"]], features)
    print("weights (all data):", weights)
    if args.write:
        current = json.loads(args.write.read_text()) if args.write.exists() else {}
        for key in ("screen", "cross_encoded", "ce_fill", "shortlist", "shortlisted"):  # refitted or dropped
            current.pop(key, None)
        current.update({"weights": weights, "answers": threshold, "lead": max(args.lead, threshold), **screening})
        args.write.write_text(json.dumps(current, indent=2) + "\n")
        print(f"wrote {args.write}")


if __name__ == "__main__":
    main()
