# Exploratory lever measurement on policyqa-dev (not part of the product); see README.md here.
import os
import sys; sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import *
import bm25s
split = sys.argv[1] if len(sys.argv) > 1 else "tune"
D, qs = load(os.environ.get("EXPLORE_DIR", "/tmp/policyqa-explore") + "/pqa.pkl", os.environ.get("PQA_QUESTIONS", "../shared/eval/policyqa-dev/questions.jsonl"), split)
E = D["emb"]
from qa.question import understand, expand_stems
BM = {}
for kind, texts in (("chunk", D["C"]), ("sent", D["S"]), ("para", D["P"])):
    r = bm25s.BM25(); r.index([stems(t) or ["_"] for t in texts], show_progress=False); BM[kind] = r
def qstems(q):
    st = stems(q); u = understand(q, [])
    return st + [s for s in expand_stems(u.content_words) if s not in st]
def run(kind, wl, mode, overlap, limit=1200, k=5):
    ranks = []
    for q in qs:
        di = doc_of_company(D, q.company)
        idx = np.where(D[kind + "_doc"] == di)[0]
        dense = E[kind][idx] @ E["q"][D["qi"][q.question]]
        lex = np.asarray(BM[kind].get_scores(qstems(q.question)))[idx]
        lex = lex / lex.max() if lex.max() > 0 else lex
        s = (1 - wl) * dense + wl * lex
        order = idx[np.argsort(-s)]
        exc, covered = [], []
        for u in order:
            _, a, b = D[kind + "_rows"][u]
            if overlap == "inside" and any(x <= a and b <= y for x, y in covered): continue
            if overlap == "any" and any(a < y and x < b for x, y in covered): continue
            x, y = grow(D, di, a, b, limit) if mode == "para" else grow_fill(D, di, a, b, limit)
            if overlap == "trim":
                if any(x <= a and b <= yy for xx, yy in covered if xx <= a < yy): pass
            covered.append((x, y)); exc.append((di, x, y))
            if len(exc) >= k: break
        ranks.append(hit_rank(D, q, exc))
    return ranks
for kind in ("chunk", "para", "sent"):
    for mode in ("para", "fill"):
        for overlap in ("inside", "any"):
            print(kind, mode, overlap, summarize(run(kind, 0.15, mode, overlap)), flush=True)
