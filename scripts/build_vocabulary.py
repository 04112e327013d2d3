"""Rebuild qa/data/specific_words.json: privacy-policy words that only some policies use.

    python scripts/build_vocabulary.py [CORPUS_DIR]   (default: ../shared/corpora/tosdr)

A stem is "specific" when at least MIN_DOCUMENTS policies of the background corpus use it, but
no more than MAX_SHARE of them (biometric, fingerprint, geolocation...). When a question's topic
word is specific and the policy never uses it, the policy is taken to be silent on it; a common
word (information, choice, financial) or one the background never uses (a typo) proves nothing.
"""
from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
MIN_DOCUMENTS = 3
MAX_SHARE = 0.25
OUT = ROOT / "qa" / "data" / "specific_words.json"


def main() -> int:
    from index.lexical import stems
    from index.readers import Unreadable, read_document

    shared = next((p for p in (ROOT.parent / "shared", ROOT.parent.parent / "shared") if p.is_dir()), ROOT.parent / "shared")
    corpus = Path(sys.argv[1]) if len(sys.argv) > 1 else shared / "corpora" / "tosdr"
    df: Counter = Counter()
    documents = 0
    for path in sorted(corpus.iterdir()):
        try:
            text = read_document(path).text
        except Unreadable:
            continue
        documents += 1
        df.update({s for s in stems(text) if s.isalpha() and len(s) > 2})
    specific = sorted(s for s, n in df.items() if n >= MIN_DOCUMENTS and n / documents <= MAX_SHARE)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({
        "about": "Stems used by at least min_documents and at most max_share of the background policies. "
                 "Built by scripts/build_vocabulary.py from the ToS;DR tosback corpus (ODC-BY 1.0; attribution: "
                 "Office of the French Ambassador for Digital Affairs).",
        "documents": documents, "min_documents": MIN_DOCUMENTS, "max_share": MAX_SHARE, "stems": specific,
    }, indent=0))
    print(f"{len(specific)} specific stems from {documents} policies -> {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
