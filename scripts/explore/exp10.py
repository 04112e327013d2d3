# Exploratory lever measurement on policyqa-dev (not part of the product); see README.md here.
import os
import sys; sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import *
import bm25s, collections
D, allq = load(os.environ.get("EXPLORE_DIR", "/tmp/policyqa-explore") + "/pqa.pkl", os.environ.get("PQA_QUESTIONS", "../shared/eval/policyqa-dev/questions.jsonl"), None)
E = D["emb"]
tune = [q for q in allq if split_of(q) == "tune"]
comps = sorted({q.company for q in tune}, key=lambda c: hashlib.sha1(("val" + c).encode()).hexdigest())
val_c = set(comps[: len(comps) // 3])
mode = sys.argv[1]
if mode == "val":
    train = [q for q in tune if q.company not in val_c]; test = [q for q in tune if q.company in val_c]
else:
    train = tune; test = [q for q in allq if split_of(q) == "report"]
from qa.question import understand, expand_stems
r = bm25s.BM25(); r.index([stems(t) or ["_"] for t in D["C"]], show_progress=False)
def qstems(q):
    st = stems(q); u = understand(q, [])
    return st + [s for s in expand_stems(u.content_words) if s not in st]
# evidence sentence centroid per train question
TQ, TE, TT = [], [], []
for q in train:
    di = doc_of_company(D, q.company)
    idx, pos = positives(D, "sent", di, q)
    if not pos: continue
    v = E["sent"][idx[pos]].mean(0); v /= np.linalg.norm(v)
    TQ.append(E["q"][D["qi"][q.question]]); TE.append(v); TT.append(q.type)
TQ, TE = np.array(TQ), np.array(TE)
# type prototypes
def protos(level):
    key = lambda t: "|||".join(t.split("|||")[:level])
    groups = collections.defaultdict(list)
    for i, t in enumerate(TT): groups[key(t)].append(i)
    names = sorted(groups)
    PQ = np.array([TQ[groups[n]].mean(0) for n in names]); PQ /= np.linalg.norm(PQ, axis=1, keepdims=True)
    PE = np.array([TE[groups[n]].mean(0) for n in names]); PE /= np.linalg.norm(PE, axis=1, keepdims=True)
    return PQ, PE
P = {lvl: protos(lvl) for lvl in (1, 2, 3)}
pre = []
for q in test:
    di = doc_of_company(D, q.company)
    idx = np.where(D["chunk_doc"] == di)[0]
    lex = np.asarray(r.get_scores(qstems(q.question)))[idx]
    lex = lex / lex.max() if lex.max() > 0 else lex
    pre.append((q, di, idx, E["q"][D["qi"][q.question]], lex))
def expansion(qv, how, K, tau):
    if how == "knn":
        sims = TQ @ qv; top = np.argsort(-sims)[:K]
        w = np.exp((sims[top] - sims[top].max()) / tau); w /= w.sum()
        return (w[:, None] * TE[top]).sum(0)
    PQ, PE = P[how]
    sims = PQ @ qv; top = np.argsort(-sims)[:K]
    w = np.exp((sims[top] - sims[top].max()) / tau); w /= w.sum()
    return (w[:, None] * PE[top]).sum(0)
def run(how, lam, K=10, tau=0.05, wl=0.2):
    ranks = []
    for q, di, idx, qv, lex in pre:
        q2 = qv
        if lam:
            q2 = qv + lam * expansion(qv, how, K, tau); q2 = q2 / np.linalg.norm(q2)
        s = (1 - wl) * (E["chunk"][idx] @ q2) + wl * lex
        order = idx[np.argsort(-s)]
        exc, covered = [], []
        for u in order:
            _, a, b = D["chunk_rows"][u]
            if any(a < y and x < b for x, y in covered): continue
            x, y = grow_fill(D, di, a, b, 1200)
            covered.append((x, y)); exc.append((di, x, y))
            if len(exc) >= 5: break
        ranks.append(hit_rank(D, q, exc))
    return summarize(ranks)
print(mode, len(train), len(test), "none", run("knn", 0))
for how, K in (("knn", 10), ("knn", 30), (3, 5), (2, 3), (1, 2)):
    for lam in (0.5, 1.0, 2.0):
        for tau in (0.02, 0.1):
            print(mode, how, K, lam, tau, run(how, lam, K, tau), flush=True)
