# Exploratory lever measurement on policyqa-dev (not part of the product); see README.md here.
import os
"""Precompute units and embeddings for offline retrieval experiments on a corpus."""
import json, pickle, sys, re
from pathlib import Path
import numpy as np
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
from index.readers import read_document
from index.policies import parse_policy
from index.chunking import split_sentences, plain_text, chunk_policy
from index.embedder import embed
from qa.baseline import paragraphs

corpus = Path(sys.argv[1]); out = Path(sys.argv[2]); qfile = sys.argv[3]
docs = []
for path in sorted(corpus.glob("*")):
    doc = read_document(path)
    pol = parse_policy(doc.text, path.name)
    sents = []
    for sec in pol.sections:
        for s in split_sentences(doc.text, sec.start, sec.end):
            sents.append((s.start, s.end, sec.heading))
    chunks = [(c.start, c.end, c.embed_text) for c in chunk_policy(pol)]
    paras = paragraphs(doc.text)
    docs.append(dict(name=path.name, company=pol.company, domain=pol.domain, text=doc.text, sents=sents,
                     chunks=chunks, paras=paras))
model = "all-MiniLM-L6-v2"
S = [plain_text(d["text"][a:b]) for d in docs for a, b, h in d["sents"]]
C = [e for d in docs for a, b, e in d["chunks"]]
P = [plain_text(d["text"][a:b]) for d in docs for a, b in d["paras"]]
qs = [json.loads(l) for l in open(qfile)]
uq = sorted({q["question"] for q in qs})
print(len(S), len(C), len(P), len(uq), flush=True)
emb = dict(sent=embed(model, S), chunk=embed(model, C), para=embed(model, P), q=embed(model, uq))
pickle.dump(dict(docs=docs, emb=emb, uq=uq, S=S, C=C, P=P), open(out, "wb"))
