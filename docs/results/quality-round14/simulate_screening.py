import sys, json, copy, numpy as np, random
sys.path.insert(0,'scripts'); sys.path.insert(0,'.')
import fit_judge as fj
from qa.judge import FEATURES
from sklearn.metrics import roc_auc_score
c=json.load(open('build/judge-features.json'))
base=tuple(f for f in FEATURES if f!='ce')
dev=c['seed']+c['unseen']; pqa=c['policyqa']
def metrics(dev, probs):
    best=np.array([float(p.max()) if len(p) else 0. for p in probs]); ans=np.array([q['answerable'] for q in dev])
    sil=max([(best[~ans]<t).mean() for t in np.linspace(0,1,801) if (best[ans]<t).mean()<=0.05],default=0)
    top=np.mean([q['labels'][int(np.argmax(p))] for q,p in zip(dev,probs) if q['answerable'] and len(p)])
    return f"AUC {roc_auc_score(ans,best):.3f} silent {sil:.3f} top {top:.3f}"
print('no ce   ', metrics(dev, fj.out_of_fold(pqa,dev,base)))
print('ce all  ', metrics(dev, fj.out_of_fold(pqa,dev,FEATURES)))
# stage 1 ranks by in-sample no-ce weights (fitted on all) -- a slight optimism only in which rows get ce
w0=fj.fit(pqa+[q for q in dev if q['answerable']], base)
allce=np.array([r['ce'] for q in pqa+dev for r in q['rows']])
for K in (4,6,8,10):
  for fill in ('p10',):
    fv=float(np.percentile(allce,10))
    d2=copy.deepcopy(dev); p2=copy.deepcopy(pqa)
    for q in d2+p2:
        if not q['rows']: continue
        p=fj.combine(q['rows'],w0,base); keep=set(np.argsort(-p)[:K])
        for i,r in enumerate(q['rows']):
            if i not in keep: r['ce']=fv
    print(f'K={K} fill {fill}', metrics(d2, fj.out_of_fold(p2,d2,FEATURES)))
