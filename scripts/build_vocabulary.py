"""Rebuild qa/data/specific_words.json (privacy-policy words that only some policies use) and
qa/data/name_words.json (words policies write as names: Google, Salesforce, GDPR, Flash).

    python scripts/build_vocabulary.py [CORPUS_DIR]   (default: ../shared/corpora/tosdr)

A word is a "name word" when at least MIN_NAME_DOCUMENTS policies write it inside a sentence and
at least NAME_SHARE of those occurrences are capitalised; a question typed in lower case ("does
comindware use google analytics?") is read with those words capitalised, so that a policy that
never names Google is silent on it.

A stem is "specific" when at least MIN_DOCUMENTS policies of the background corpus use it, but
no more than MAX_SHARE of them (biometric, fingerprint, geolocation...). When a question's topic
word is specific and the policy never uses it, the policy is taken to be silent on it; a common
word (information, choice, financial) or one the background never uses (a typo) proves nothing.
"""
from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
MIN_DOCUMENTS = 3
MAX_SHARE = 0.25
OUT = ROOT / "qa" / "data" / "specific_words.json"
NAMES_OUT = ROOT / "qa" / "data" / "name_words.json"
MIN_NAME_DOCUMENTS = 3
NAME_SHARE = 0.9
# A word inside a sentence: after a lower-case word or a comma, not after a full stop or a line start.
_INSIDE = re.compile(r"(?<=[a-z,;] )([A-Za-z][A-Za-z0-9]+)\b")


def main() -> int:
    from index.lexical import stems
    from index.readers import Unreadable, read_document

    shared = next((p for p in (ROOT.parent / "shared", ROOT.parent.parent / "shared") if p.is_dir()), ROOT.parent / "shared")
    corpus = Path(sys.argv[1]) if len(sys.argv) > 1 else shared / "corpora" / "tosdr"
    df: Counter = Counter()
    cased: dict[str, Counter] = {}
    name_df: Counter = Counter()
    documents = 0
    for path in sorted(corpus.iterdir()):
        try:
            text = read_document(path).text
        except Unreadable:
            continue
        documents += 1
        df.update({s for s in stems(text) if s.isalpha() and len(s) > 2})
        seen: set[str] = set()
        for match in _INSIDE.finditer(text):
            word = match.group(1)
            lower = word.lower()
            cased.setdefault(lower, Counter())[word] += 1
            seen.add(lower)
        name_df.update(seen)
    specific = sorted(s for s, n in df.items() if n >= MIN_DOCUMENTS and n / documents <= MAX_SHARE)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({
        "about": "Stems used by at least min_documents and at most max_share of the background policies. "
                 "Built by scripts/build_vocabulary.py from the ToS;DR tosback corpus (ODC-BY 1.0; attribution: "
                 "Office of the French Ambassador for Digital Affairs).",
        "documents": documents, "min_documents": MIN_DOCUMENTS, "max_share": MAX_SHARE, "stems": specific,
    }, indent=0))
    print(f"{len(specific)} specific stems from {documents} policies -> {OUT}")
    names = _name_words(cased, name_df)
    NAMES_OUT.write_text(json.dumps({
        "about": "Lower-case word -> the capitalised form policies write it in, for words written capitalised in "
                 "at least name_share of their occurrences inside sentences, by at least min_documents policies. "
                 "Built by scripts/build_vocabulary.py from the ToS;DR tosback corpus (ODC-BY 1.0; attribution: "
                 "Office of the French Ambassador for Digital Affairs).",
        "documents": documents, "min_documents": MIN_NAME_DOCUMENTS, "name_share": NAME_SHARE, "names": names,
    }, indent=0, sort_keys=True))
    print(f"{len(names)} name words -> {NAMES_OUT}")
    return 0


def _name_words(cased: dict[str, Counter], name_df: Counter) -> dict[str, str]:
    """Words policies write as names, but not the privacy vocabulary nor words any question uses."""
    from qa.question import is_question_vocabulary

    names = {}
    for lower, counts in cased.items():
        total = sum(counts.values())
        capitalised = sum(n for form, n in counts.items() if form[0].isupper())
        if (name_df[lower] < MIN_NAME_DOCUMENTS or capitalised < NAME_SHARE * total or len(lower) < 3
                or is_question_vocabulary(lower)):
            continue
        names[lower] = max((f for f in counts if f[0].isupper()), key=lambda f: counts[f])
    return dict(sorted(names.items()))


if __name__ == "__main__":
    sys.exit(main())
