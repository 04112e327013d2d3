# Exploratory lever measurement on policyqa-dev (not part of the product); see README.md here.
import os
import sys; sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import *
import bm25s, torch
torch.manual_seed(0); torch.set_num_threads(1)
D, allq = load(os.environ.get("EXPLORE_DIR", "/tmp/policyqa-explore") + "/pqa.pkl", os.environ.get("PQA_QUESTIONS", "../shared/eval/policyqa-dev/questions.jsonl"), None)
E = D["emb"]
tune = [q for q in allq if split_of(q) == "tune"]
comps = sorted({q.company for q in tune}, key=lambda c: hashlib.sha1(("val" + c).encode()).hexdigest())
val_c = set(comps[: len(comps) // 3])
train = [q for q in tune if q.company not in val_c]; val = [q for q in tune if q.company in val_c]
from qa.question import understand, expand_stems
r = bm25s.BM25(); r.index([stems(t) or ["_"] for t in D["C"]], show_progress=False)
def qstems(q):
    st = stems(q); u = understand(q, [])
    return st + [s for s in expand_stems(u.content_words) if s not in st]
WIN = {}
def prep(qs):
    out = []
    for q in qs:
        di = doc_of_company(D, q.company)
        idx = np.where(D["chunk_doc"] == di)[0]
        wins = []
        for j in idx:
            if j not in WIN:
                _, a, b = D["chunk_rows"][j]; WIN[j] = grow_fill(D, di, a, b, 1200)
            wins.append(WIN[j])
        ev = [normalise(e) for e in q.evidence]; text = D["docs"][di]["text"]
        pos = [k for k, (x, y) in enumerate(wins) if any(e in normalise(text[x:y][:1200]) for e in ev)]
        lex = np.asarray(r.get_scores(qstems(q.question)))[idx]
        lex = lex / lex.max() if lex.max() > 0 else lex
        out.append((q, di, idx, D["qi"][q.question], torch.tensor(E["chunk"][idx]), pos, lex))
    return out
TR, VA = prep(train), prep(val)
Q = torch.tensor(E["q"])
def adapt(q, U, V):
    out = q + (q @ V) @ U.T
    return out / out.norm(dim=-1, keepdim=True)
def evaluate(data, U, V, wl=0.2):
    ranks = []
    with torch.no_grad():
        for q, di, idx, qi, C, pos, lex in data:
            dense = (C @ adapt(Q[qi], U, V)).numpy()
            s = (1 - wl) * dense + wl * lex
            order = np.argsort(-s)
            exc = []
            for k in order:
                x, y = WIN[idx[k]]
                if any(x < b and a < y for _, a, b in exc): continue
                exc.append((di, x, y))
                if len(exc) >= 5: break
            ranks.append(hit_rank(D, q, exc))
    return summarize(ranks)
for rank, lr, tau in ((4, 3e-4, 0.05), (16, 3e-4, 0.05), (16, 1e-3, 0.1)):
    U = torch.nn.Parameter(torch.zeros(384, rank)); V = torch.nn.Parameter(torch.randn(384, rank) * 0.01)
    opt = torch.optim.Adam([U, V], lr=lr)
    print("rank", rank, lr, tau, "ep0 val", evaluate(VA, U, V), flush=True)
    for epoch in range(1, 9):
        for i in torch.randperm(len(TR)).tolist():
            q, di, idx, qi, C, pos, lex = TR[i]
            if not pos: continue
            s = C @ adapt(Q[qi], U, V) / tau
            loss = -(torch.logsumexp(s[pos], 0) - torch.logsumexp(s, 0))
            opt.zero_grad(); loss.backward(); opt.step()
        if epoch in (1, 2, 4, 8):
            print("  ep", epoch, "train", evaluate(TR, U, V), "val", evaluate(VA, U, V), flush=True)
