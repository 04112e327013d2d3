# Exploratory lever measurement on policyqa-dev (not part of the product); see README.md here.
import os
import sys; sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import *
import bm25s
split = sys.argv[1]
D, qs = load(os.environ.get("EXPLORE_DIR", "/tmp/policyqa-explore") + "/pqa.pkl", os.environ.get("PQA_QUESTIONS", "../shared/eval/policyqa-dev/questions.jsonl"), split)
E = D["emb"]
from qa.question import understand, expand_stems
r = bm25s.BM25(); r.index([stems(t) or ["_"] for t in D["C"]], show_progress=False)
def qstems(q):
    st = stems(q); u = understand(q, [])
    return st + [s for s in expand_stems(u.content_words) if s not in st]
def grow_dir(D, di, a, b, limit, after_share):
    sents = [(x, y) for (x, y, h) in D["docs"][di]["sents"]]
    lo = hi = None
    for i, (x, y) in enumerate(sents):
        if y > a and x < b:
            lo = i if lo is None else lo; hi = i
    if lo is None: return a, b
    s, e = min(a, sents[lo][0]), max(b, sents[hi][1])
    budget = limit - (e - s)
    after_budget = budget * after_share
    # grow after up to after_budget, then before with the rest, then after with any rest
    while hi + 1 < len(sents) and sents[hi + 1][1] - e <= after_budget and sents[hi + 1][1] - s <= limit:
        after_budget -= sents[hi + 1][1] - e; hi += 1; e = sents[hi][1]
    while lo > 0 and e - sents[lo - 1][0] <= limit:
        lo -= 1; s = sents[lo][0]
    while hi + 1 < len(sents) and sents[hi + 1][1] - s <= limit:
        hi += 1; e = sents[hi][1]
    return s, e
pre = []
for q in qs:
    di = doc_of_company(D, q.company)
    idx = np.where(D["chunk_doc"] == di)[0]
    dense = E["chunk"][idx] @ E["q"][D["qi"][q.question]]
    lex = np.asarray(r.get_scores(qstems(q.question)))[idx]
    lex = lex / lex.max() if lex.max() > 0 else lex
    pre.append((q, di, idx, 0.8 * dense + 0.2 * lex))
for share in (0.0, 0.25, 0.5, 0.75, 1.0):
    ranks = []
    for q, di, idx, s in pre:
        order = idx[np.argsort(-s)]
        exc, covered = [], []
        for u in order:
            _, a, b = D["chunk_rows"][u]
            if any(a < y and x < b for x, y in covered): continue
            x, y = grow_dir(D, di, a, b, 1200, share)
            covered.append((x, y)); exc.append((di, x, y))
            if len(exc) >= 5: break
        ranks.append(hit_rank(D, q, exc))
    print(split, share, summarize(ranks), flush=True)
