"""List N shared policy files no blind set has used yet: python3 eval/blind/pick.py SEED N [dmoz|tosdr|both]."""
import json, random, re, sys
from pathlib import Path
seed, n = int(sys.argv[1]), int(sys.argv[2])
pool = sys.argv[3] if len(sys.argv) > 3 else "dmoz"
S = Path(__file__).resolve().parents[3] / 'shared'  # ../shared beside the checkout
used = set(json.load(open(Path(__file__).resolve().parents[1] / 'unseen-sources.json')).values())
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from evaluation.overview import HELD_BACK, read_grid  # noqa: E402
# and no file a blind grid has labelled
used |= {label.source for grid in (Path(__file__).resolve().parents[1] / 'overview').glob('*.jsonl')
         for label in read_grid(grid)[0]}
# Besides the held-back companies: Hearst (held back with them), and files that repeat a policy a set has spent.
held = [*HELD_BACK, *"hearst yahoo cbs paypal steam privateinternetaccess imdb genetics fosstodon wugtodon".split()]
files = []
if pool in ("dmoz", "both"): files += sorted((S/'corpora/dmoz-2000').glob('*.txt'))
if pool in ("tosdr", "both"): files += sorted((S/'corpora/tosdr').glob('*.md'))
random.Random(seed).shuffle(files)
out = []
for f in files:
    rel = str(f.relative_to(S))
    if rel in used: continue
    low = f.name.lower().replace('-', '').replace(' ', '')
    if any(h in low for h in held): continue
    t = f.read_text(errors='replace')
    words = len(re.findall(r'\b(?:the|and|we)\b', t, re.I))
    priv = len(re.findall(r'privacy|personal|information|cookie', t, re.I))
    if words < 40 or priv < 5 or len(t) > 60000: continue
    out.append(rel)
    if len(out) == n: break
print("\n".join(out))
