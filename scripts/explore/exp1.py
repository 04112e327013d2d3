# Exploratory lever measurement on policyqa-dev (not part of the product); see README.md here.
import os
import sys; sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import *
D, qs = load(os.environ.get("EXPLORE_DIR", "/tmp/policyqa-explore") + "/pqa.pkl", os.environ.get("PQA_QUESTIONS", "../shared/eval/policyqa-dev/questions.jsonl"), sys.argv[1] if len(sys.argv) > 1 else "tune")
E = D["emb"]
print(len(qs))
def run(kind, limit=None, k=5):
    ranks = []
    for q in qs:
        di = doc_of_company(D, q.company)
        qv = E["q"][D["qi"][q.question]]
        mask = D[kind + "_doc"] == di
        idx = np.where(mask)[0]
        sims = E[kind][idx] @ qv
        order = idx[np.argsort(-sims)]
        exc = []
        covered = []
        for u in order:
            _, a, b = D[kind + "_rows"][u]
            if any(s <= a and b <= e for s, e in covered): continue
            s, e = (a, b) if limit is None else grow(D, di, a, b, limit)
            covered.append((s, e)); exc.append((di, s, e))
            if len(exc) >= k: break
        ranks.append(hit_rank(D, q, exc))
    return ranks
for kind in ("para", "chunk", "sent"):
    for limit in (None, 600, 900, 1200):
        print(kind, limit, summarize(run(kind, limit)), flush=True)
