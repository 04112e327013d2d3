# Exploratory lever measurement on policyqa-dev (not part of the product); see README.md here.
import os
import json, pickle, sys, re, hashlib
import numpy as np
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
from qa.scoring import normalise, load_questions, split_of
from index.lexical import stems, LexicalIndex

def load(pkl, qfile, split="tune"):
    D = pickle.load(open(pkl, "rb"))
    qs = [q for q in load_questions(qfile) if split is None or split_of(q) == split]
    qi = {q: i for i, q in enumerate(D["uq"])}
    # unit tables
    for kind, key in (("sent", "sents"), ("chunk", "chunks"), ("para", "paras")):
        rows = []
        for di, d in enumerate(D["docs"]):
            for u in d[key]:
                rows.append((di, u[0], u[1]))
        D[kind + "_rows"] = rows
        D[kind + "_doc"] = np.array([r[0] for r in rows])
    D["qi"] = qi
    return D, qs

def doc_of_company(D, company):
    c = company.lower()
    for i, d in enumerate(D["docs"]):
        if c in (d["company"].lower(), (d["domain"] or "").lower()):
            return i

def para_bounds(text, a, b):
    s = text.rfind("\n\n", 0, a); s = 0 if s < 0 else s + 2
    e = text.find("\n\n", b); e = len(text) if e < 0 else e
    return s, e

def grow(D, di, a, b, limit=1200):
    """excerpt around highlight [a,b): its paragraph, plus neighbours while under limit; windowed if too long"""
    text = D["docs"][di]["text"]
    s, e = para_bounds(text, a, b)
    if e - s > limit:
        # window of sentences around highlight
        sents = [(x, y) for (x, y, h) in D["docs"][di]["sents"] if x >= s and y <= e]
        lo = hi = next((i for i, (x, y) in enumerate(sents) if x <= a < y or x >= a), 0)
        s, e = sents[lo][0] if sents else a, sents[hi][1] if sents else b
        s, e = min(s, a), max(e, b)
        while True:
            grew = False
            if hi + 1 < len(sents) and sents[hi + 1][1] - s <= limit:
                hi += 1; e = sents[hi][1]; grew = True
            if lo - 1 >= 0 and e - sents[lo - 1][0] <= limit:
                lo -= 1; s = sents[lo][0]; grew = True
            if not grew: break
        return s, e
    while True:
        grew = False
        if e < len(text):
            ns, ne = para_bounds(text, e + 2, e + 2)
            if ne - s <= limit and ne > e:
                e = ne; grew = True
        if s > 0:
            ps, pe = para_bounds(text, s - 3, s - 3)
            if e - ps <= limit and ps < s:
                s = ps; grew = True
        if not grew: break
    return s, e

def hit_rank(D, q, excerpts, k=10):
    ev = [normalise(e) for e in q.evidence]
    for i, (di, s, e) in enumerate(excerpts[:k]):
        t = normalise(D["docs"][di]["text"][s:e][:1200])
        if any(x in t for x in ev):
            return i + 1
    return None

def summarize(ranks, hl=None):
    n = len(ranks)
    f = lambda k: sum(1 for r in ranks if r and r <= k) / n
    out = f"H@1 {f(1):.3f} H@3 {f(3):.3f} H@5 {f(5):.3f} MRR {sum(1/r for r in ranks if r)/n:.3f}"
    if hl is not None: out += f" HL@1 {sum(hl)/n:.3f}"
    return out

def evidence_spans(text, evidence):
    spans = []
    for ev in evidence:
        words = ev.replace("*", " ").split()
        if not words: continue
        pat = r"[\s*]*".join(re.escape(w) for w in words)
        for m in re.finditer(pat, text, re.I):
            spans.append((m.start(), m.end()))
    return spans

def positives(D, kind, di, q):
    text = D["docs"][di]["text"]
    spans = evidence_spans(text, q.evidence)
    idx = np.where(D[kind + "_doc"] == di)[0]
    pos = []
    for j, u in enumerate(idx):
        _, a, b = D[kind + "_rows"][u]
        if any(a < e and s < b for s, e in spans):
            pos.append(j)
    return idx, pos

def grow_fill(D, di, a, b, limit=1200, after_bias=1):
    """grow sentence by sentence (after first, then before) while the span stays within limit"""
    sents = [(x, y) for (x, y, h) in D["docs"][di]["sents"]]
    lo = hi = None
    for i, (x, y) in enumerate(sents):
        if y > a and x < b:
            lo = i if lo is None else lo; hi = i
    if lo is None:
        return a, b
    s, e = min(a, sents[lo][0]), max(b, sents[hi][1])
    while True:
        grew = False
        for _ in range(after_bias):
            if hi + 1 < len(sents) and sents[hi + 1][1] - s <= limit:
                hi += 1; e = sents[hi][1]; grew = True
        if lo > 0 and e - sents[lo - 1][0] <= limit:
            lo -= 1; s = sents[lo][0]; grew = True
        if not grew: break
    return s, e
