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
# map sentence -> chunk
sent_rows = D["sent_rows"]; chunk_rows = D["chunk_rows"]
pre = []
for q in qs:
    di = doc_of_company(D, q.company)
    idx = np.where(D["chunk_doc"] == di)[0]
    sidx = np.where(D["sent_doc"] == di)[0]
    qv = E["q"][D["qi"][q.question]]
    dense = E["chunk"][idx] @ qv
    sd = E["sent"][sidx] @ qv
    smax = np.zeros(len(idx))
    for k, j in enumerate(idx):
        _, a, b = chunk_rows[j]
        inside = [sd[m] for m, sj in enumerate(sidx) if sent_rows[sj][1] < b and sent_rows[sj][2] > a]
        smax[k] = max(inside) if inside else 0
    lex = np.asarray(r.get_scores(qstems(q.question)))[idx]
    lex = lex / lex.max() if lex.max() > 0 else lex
    pre.append((q, di, idx, qv, dense, smax, lex))
def run(wl, beta, prf, topm=3):
    ranks = []
    for q, di, idx, qv, dense, smax, lex in pre:
        d = dense
        if prf:
            s0 = (1 - wl) * dense + wl * lex
            top = np.argsort(-s0)[:topm]
            cen = E["chunk"][idx[top]].mean(0)
            q2 = qv + prf * cen; q2 /= np.linalg.norm(q2)
            d = E["chunk"][idx] @ q2
        s = (1 - wl) * ((1 - beta) * d + beta * smax) + wl * lex
        order = idx[np.argsort(-s)]
        exc, covered = [], []
        for u in order:
            _, a, b = chunk_rows[u]
            if any(a < y and x < b for x, y in covered): continue
            x, y = grow_fill(D, di, a, b, 1200)
            covered.append((x, y)); exc.append((di, x, y))
            if len(exc) >= 5: break
        ranks.append(hit_rank(D, q, exc))
    return summarize(ranks)
for beta in (0, 0.3, 0.5):
    for prf in (0, 0.3, 0.6):
        print(split, beta, prf, run(0.2, beta, prf), flush=True)
