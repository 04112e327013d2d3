"""Rows for a neighbour-join decision: for each answerable dev question whose first citation's passage is
the gold one, the best sentence, its neighbours (prev/next in the section) with the judge's full probability,
and where the evidence lies."""
import json, sys, os
from pathlib import Path
sys.path.insert(0, '/work/main')
os.environ.setdefault('HF_HUB_OFFLINE', '1')
from evaluation.harness import eval_config
from evaluation.scoring import normalise
import qa.answer as A, qa.evidence as E
from index.chunking import plain_text
from qa.judge import get_judge

data = Path('/work/main/.policyqa/eval')
config = eval_config(data / 'unseen-corpus', data / 'unseen-index')
cap = {}
orig_cite = A.cite
def cite(view, ranked, k, qv=None, topic=None):
    cap['view'], cap['ranked'], cap['qv'] = view, ranked, qv
    return orig_cite(view, ranked, k, qv, topic)
A.cite = cite
orig_js = E.judge_sentences
def js(view, understood, hits, config, qv, *a, **kw):
    out = orig_js(view, understood, hits, config, qv, *a, **kw)
    cap['judged'], cap['understood'], cap['hits'] = out, understood, hits
    return out
E.judge_sentences = js
judge = get_judge(config)
rows = []
sets = sys.argv[1:]
for path in sets:
    for line in open(path):
        q = json.loads(line)
        if not q['answerable']: continue
        cap.clear()
        ans = A.ask(q['question'], config=config)
        if not ans.found or 'ranked' not in cap: continue
        view, top = cap['view'], cap['ranked'][0]
        hit, best = top.hit, tuple(top.sentence)
        c = ans.citations[0]
        if c.doc != hit.doc: continue
        src = view.source_text(hit.doc)
        ev = [normalise(e) for e in q['evidence']]
        sec = sorted(set(view.section_sentences(hit)))
        nxt = next((s for s in sec if s[0] >= c.highlight_end), None)
        prv = next((s for s in reversed(sec) if s[1] <= c.highlight_start), None)
        judged = {(j.hit.doc, tuple(j.sentence)): j.probability for j in cap['judged']}
        row = dict(id=q['id'], p_best=top.probability, hl=src[c.highlight_start:c.highlight_end],
                   in_hl=any(e in normalise(src[c.highlight_start:c.highlight_end]) for e in ev))
        for name, s in (('next', nxt), ('prev', prv)):
            if s is None: row[name] = None; continue
            a, b = (c.highlight_start, s[1]) if name == 'next' else (s[0], c.highlight_end)
            text = plain_text(src[s[0]:s[1]])
            idx = cap['hits'].index(hit)
            feats = E.sentence_features(view, cap['understood'], cap['hits'], [(idx, s, text)], config, cap['qv'])
            p = float(judge.probabilities(feats)[0]) if feats else 0.0
            row[name] = dict(text=text[:300], gap=src[(c.highlight_end if name=='next' else s[1]):(s[0] if name=='next' else c.highlight_start)],
                             p=p, judged=judged.get((hit.doc, s)), chars=b - a,
                             in_joined=any(e in normalise(src[a:b]) for e in ev),
                             in_alone=any(e in normalise(src[s[0]:s[1]]) for e in ev))
        rows.append(row)
json.dump(rows, open(os.environ.get('OUT', '/work/scratch/r28/join-rows.json'), 'w'), indent=1)
print(len(rows))
