"""Rebuild qa/data/name_words.json (words policies write as names: Google, Salesforce, GDPR, Flash).

    python scripts/build_vocabulary.py [CORPUS_DIR]   (default: ../shared/corpora/tosdr)

A word is a "name word" when at least MIN_NAME_DOCUMENTS policies write it inside a sentence and
at least NAME_SHARE of those occurrences are capitalised; a question typed in lower case ("does
comindware use google analytics?") is read with those words capitalised, so that a policy that
never names Google is silent on it.

"""
from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
NAMES_OUT = ROOT / "qa" / "data" / "name_words.json"
MIN_NAME_DOCUMENTS = 3
NAME_SHARE = 0.9
# A word inside a sentence: after a lower-case word or a comma, not after a full stop or a line start.
_INSIDE = re.compile(r"(?<=[a-z,;] )([A-Za-z][A-Za-z0-9]+)\b")


def main() -> int:
    from index.readers import Unreadable, read_document

    shared = next((p for p in (ROOT.parent / "shared", ROOT.parent.parent / "shared") if p.is_dir()), ROOT.parent / "shared")
    corpus = Path(sys.argv[1]) if len(sys.argv) > 1 else shared / "corpora" / "tosdr"
    cased: dict[str, Counter] = {}
    name_df: Counter = Counter()
    documents = 0
    for path in sorted(corpus.iterdir()):
        try:
            text = read_document(path).text
        except Unreadable:
            continue
        documents += 1
        seen: set[str] = set()
        for match in _INSIDE.finditer(text):
            word = match.group(1)
            lower = word.lower()
            cased.setdefault(lower, Counter())[word] += 1
            seen.add(lower)
        name_df.update(seen)
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
