# Exploratory lever measurement on policyqa-dev (not part of the product); see README.md here.
import os
import sys; sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import *
import bm25s, pickle, os
from rewrite import to_policy_voice
split = sys.argv[1] if len(sys.argv) > 1 else "tune"
D, qs = load(os.environ.get("EXPLORE_DIR", "/tmp/policyqa-explore") + "/pqa.pkl", os.environ.get("PQA_QUESTIONS", "../shared/eval/policyqa-dev/questions.jsonl"), split)
E = D["emb"]
from index.embedder import embed
RW = embed("all-MiniLM-L6-v2", [to_policy_voice(q) for q in D["uq"]])
from qa.question import understand, expand_stems
r = bm25s.BM25(); r.index([stems(t) or ["_"] for t in D["C"]], show_progress=False)
def qstems(q):
    st = stems(q); u = understand(q, [])
    return st + [s for s in expand_stems(u.content_words) if s not in st]
def run(wl, qmode, limit=1200, k=5):
    ranks = []
    for q in qs:
        di = doc_of_company(D, q.company)
        idx = np.where(D["chunk_doc"] == di)[0]
        i = D["qi"][q.question]
        qv = E["q"][i] if qmode == "orig" else RW[i] if qmode == "rw" else (E["q"][i] + RW[i]) / 2
        dense = E["chunk"][idx] @ qv
        lex = np.asarray(r.get_scores(qstems(q.question)))[idx]
        lex = lex / lex.max() if lex.max() > 0 else lex
        s = (1 - wl) * dense + wl * lex
        order = idx[np.argsort(-s)]
        exc, covered = [], []
        for u in order:
            _, a, b = D["chunk_rows"][u]
            if any(a < y and x < b for x, y in covered): continue
            x, y = grow_fill(D, di, a, b, limit)
            covered.append((x, y)); exc.append((di, x, y))
            if len(exc) >= k: break
        ranks.append(hit_rank(D, q, exc))
    return ranks
for qmode in ("orig", "rw", "avg"):
    for wl in (0.0, 0.2):
        print(qmode, wl, summarize(run(wl, qmode)), flush=True)
