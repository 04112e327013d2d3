# Exploratory lever measurement on policyqa-dev (not part of the product); see README.md here.
import os
import sys; sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import *
import bm25s
from index.chunking import plain_text
split = sys.argv[1] if len(sys.argv) > 1 else "tune"
D, qs = load(os.environ.get("EXPLORE_DIR", "/tmp/policyqa-explore") + "/pqa.pkl", os.environ.get("PQA_QUESTIONS", "../shared/eval/policyqa-dev/questions.jsonl"), split)
E = D["emb"]
# bm25 per unit kind over the whole corpus
def bm(kind):
    texts = D["S"] if kind == "sent" else D["C"] if kind == "chunk" else D["P"]
    r = bm25s.BM25(); r.index([stems(t) or ["_"] for t in texts], show_progress=False); return r
BM = {k: bm(k) for k in ("sent", "chunk", "para")}
from qa.question import understand, expand_stems
def qstems(q, expand):
    st = stems(q)
    if expand:
        from index.retrieval import PolicyInfo
        u = understand(q, [])
        st = st + [s for s in expand_stems(u.content_words) if s not in st]
    return st
cache = {}
def scores(kind, q, di, expand):
    key = (kind, q.question, di, expand)
    if key not in cache:
        idx = np.where(D[kind + "_doc"] == di)[0]
        dense = E[kind][idx] @ E["q"][D["qi"][q.question]]
        lex = np.asarray(BM[kind].get_scores(qstems(q.question, expand)))[idx]
        lex = lex / lex.max() if lex.max() > 0 else lex
        cache[key] = (idx, dense, lex)
    return cache[key]
def run(kind, wl, expand=False, limit=1200, k=5):
    ranks = []
    for q in qs:
        di = doc_of_company(D, q.company)
        idx, dense, lex = scores(kind, q, di, expand)
        s = (1 - wl) * dense + wl * lex
        order = idx[np.argsort(-s)]
        exc, covered = [], []
        for u in order:
            _, a, b = D[kind + "_rows"][u]
            if any(x <= a and b <= y for x, y in covered): continue
            x, y = grow(D, di, a, b, limit)
            covered.append((x, y)); exc.append((di, x, y))
            if len(exc) >= k: break
        ranks.append(hit_rank(D, q, exc))
    return ranks
for kind in ("chunk", "para", "sent"):
    for expand in (False, True):
        for wl in (0, 0.15, 0.3, 0.45, 0.6):
            print(kind, "expand" if expand else "", wl, summarize(run(kind, wl, expand)), flush=True)
