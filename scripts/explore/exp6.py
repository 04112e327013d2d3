# Exploratory lever measurement on policyqa-dev (not part of the product); see README.md here.
import os
import sys; sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import *
import bm25s, pickle
split = sys.argv[1] if len(sys.argv) > 1 else "tune"
D, qs = load(os.environ.get("EXPLORE_DIR", "/tmp/policyqa-explore") + "/pqa.pkl", os.environ.get("PQA_QUESTIONS", "../shared/eval/policyqa-dev/questions.jsonl"), split)
E = D["emb"]
CH = pickle.load(open("" + os.environ.get("EXPLORE_DIR", "/tmp/policyqa-explore") + "/pqa_chunks.pkl", "rb"))
CH[120] = (D["chunk_rows"], E["chunk"], D["C"])
from qa.question import understand, expand_stems
def qstems(q):
    st = stems(q); u = understand(q, [])
    return st + [s for s in expand_stems(u.content_words) if s not in st]
for size in sorted(CH):
    rows, V, texts = CH[size]
    docs = np.array([r[0] for r in rows])
    r = bm25s.BM25(); r.index([stems(t) or ["_"] for t in texts], show_progress=False)
    for wl in (0.1, 0.2, 0.3):
        ranks = []
        for q in qs:
            di = doc_of_company(D, q.company)
            idx = np.where(docs == di)[0]
            dense = V[idx] @ E["q"][D["qi"][q.question]]
            lex = np.asarray(r.get_scores(qstems(q.question)))[idx]
            lex = lex / lex.max() if lex.max() > 0 else lex
            s = (1 - wl) * dense + wl * lex
            order = idx[np.argsort(-s)]
            exc, covered = [], []
            for u in order:
                _, a, b = rows[u]
                if any(a < y and x < b for x, y in covered): continue
                x, y = grow_fill(D, di, a, b, 1200)
                covered.append((x, y)); exc.append((di, x, y))
                if len(exc) >= 5: break
            ranks.append(hit_rank(D, q, exc))
        print(size, wl, summarize(ranks), flush=True)
