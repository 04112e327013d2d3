# Exploratory lever measurement on policyqa-dev (not part of the product); see README.md here.
import os
import sys; sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import *
import bm25s, collections
from sklearn.linear_model import LogisticRegression
D, allq = load(os.environ.get("EXPLORE_DIR", "/tmp/policyqa-explore") + "/pqa.pkl", os.environ.get("PQA_QUESTIONS", "../shared/eval/policyqa-dev/questions.jsonl"), None)
E = D["emb"]
tune = [q for q in allq if split_of(q) == "tune"]
comps = sorted({q.company for q in tune}, key=lambda c: hashlib.sha1(("val" + c).encode()).hexdigest())
val_c = set(comps[: len(comps) // 3])
from qa.question import understand, expand_stems
r = bm25s.BM25(); r.index([stems(t) or ["_"] for t in D["C"]], show_progress=False)
def qstems(q):
    st = stems(q); u = understand(q, [])
    return st + [s for s in expand_stems(u.content_words) if s not in st]
docstems = {}
def feats(q, N=20):
    di = doc_of_company(D, q.company)
    idx = np.where(D["chunk_doc"] == di)[0]
    dense = E["chunk"][idx] @ E["q"][D["qi"][q.question]]
    lex = np.asarray(r.get_scores(qstems(q.question)))[idx]
    lex = lex / lex.max() if lex.max() > 0 else lex
    fused = 0.8 * dense + 0.2 * lex
    order = np.argsort(-fused)[:N]
    qs_ = set(qstems(q.question)); qs0 = set(stems(q.question))
    text = D["docs"][di]["text"]
    X, W = [], []
    ev = [normalise(e) for e in q.evidence]
    for rank, j in enumerate(order):
        _, a, b = D["chunk_rows"][idx[j]]
        x, y = grow_fill(D, di, a, b, 1200)
        wst = set(stems(text[x:y])); cst = set(stems(text[a:b]))
        nb = max(fused[j - 1] if j > 0 else 0, fused[j + 1] if j + 1 < len(idx) else 0)
        f = [dense[j], lex[j], fused[j], fused[j] - fused[order[0]], 1 / (rank + 1), nb,
             len(qs0 & wst) / max(len(qs0), 1), len(qs_ & wst) / max(len(qs_), 1), len(qs0 & cst) / max(len(qs0), 1),
             j / len(idx), (y - x) / 1200, (b - a) / 1200]
        X.append(f); W.append((di, x, y))
    y = [int(any(e in normalise(text[x:yy][:1200]) for e in ev)) for _, x, yy in W]
    return np.array(X), np.array(y), W
def build(qs):
    return [(q,) + feats(q) for q in qs]
TR = build([q for q in tune if q.company not in val_c]); VA = build([q for q in tune if q.company in val_c])
def evaluate(data, model=None):
    ranks = []
    for q, X, y, W in data:
        s = model.decision_function(X) if model else X[:, 2]
        order = np.argsort(-s, kind="stable")
        exc, covered = [], []
        for j in order:
            di, x, yy = W[j]
            if any(x < b and a < yy for _, a, b in exc): continue
            exc.append(W[j])
            if len(exc) >= 5: break
        ranks.append(hit_rank(D, q, exc))
    return summarize(ranks)
print("fused train", evaluate(TR), "val", evaluate(VA))
Xtr = np.vstack([X for _, X, y, W in TR]); ytr = np.concatenate([y for _, X, y, W in TR])
for C in (0.01, 0.1, 1, 10):
    m = LogisticRegression(C=C, max_iter=2000).fit(Xtr, ytr)
    print("LR", C, "train", evaluate(TR, m), "val", evaluate(VA, m), np.round(m.coef_, 2))
