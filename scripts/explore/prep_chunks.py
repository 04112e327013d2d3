# Exploratory lever measurement on policyqa-dev (not part of the product); see README.md here.
import os
import sys, pickle
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
from pathlib import Path
from index.readers import read_document
from index.policies import parse_policy
from index.chunking import chunk_policy
from index.embedder import embed
corpus = Path(sys.argv[1]); out = sys.argv[2]
res = {}
for size in [int(s) for s in sys.argv[3:]]:
    rows, texts = [], []
    for di, path in enumerate(sorted(corpus.glob("*"))):
        doc = read_document(path); pol = parse_policy(doc.text, path.name)
        for c in chunk_policy(pol, max_tokens=size):
            rows.append((di, c.start, c.end)); texts.append(c.embed_text)
    res[size] = (rows, embed("all-MiniLM-L6-v2", texts), texts)
    print(size, len(rows), flush=True)
pickle.dump(res, open(out, "wb"))
