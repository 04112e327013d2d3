"""How faithfully policy files are read: sections, heading-only chunks and dates, parsing only.

Reads every shared policy (ToS;DR and DMOZ, the held-back companies left out) and the seed
corpus with ``index.readers``, ``index.policies`` and ``index.chunking`` (nothing is embedded)
and prints one JSON object of measurements; ``--dates OUT`` writes each policy's date and the
words next to it, for the hand-checked sample in docs/ingestion.md.

    nice -n 10 .venv/bin/python bench/ingestion.py [--code DIR] [--dates OUT.jsonl]

``--code DIR`` imports ``index`` from another checkout (``git worktree``/``git archive`` of an
older commit), which is how docs/ingestion.md measures "before".
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = next((p for p in (ROOT.parent / "shared", ROOT.parent.parent / "shared") if p.is_dir()), ROOT.parent / "shared")
sys.path.insert(0, str(ROOT))  # ``--code`` goes before it: ``index`` is imported from there

from evaluation.overview import held_back  # noqa: E402  (standard library only: not the measured code)


def policy_files(shared: Path, seed: Path) -> list[Path]:
    """Every shared and seed policy, held-back companies excepted."""
    files = []
    for folder in (shared / "corpora" / "tosdr", shared / "corpora" / "dmoz-2000", seed):
        for path in sorted(folder.iterdir()):
            if path.is_file() and not held_back(path.name):  # kept for blind evaluation: never read here
                files.append(path)
    return files


# The judge of "only a heading", the same code before and after (not the product's own test): a
# chunk of at most 12 words, no URL, shaped like a title: numbered ("5.2 Deleting your
# Information."), ALL CAPS, a short question, or title case without a sentence end.
_NUMBERED = re.compile(r"^(?:\d{1,2}(?:\.\d{1,2})*\.?|[A-Z]\.|[IVX]{1,4}\.)\s+[A-Z]")
_SMALL = set("a an the and or of to for in on at by with from about as that we you your our us is are do does "
             "how what who when why where which this it its may can not if".split())


def heading_only(plain: str) -> bool:
    """A chunk's plain text is only a heading."""
    plain = plain.strip()
    words = plain.split()
    if not words or len(words) > 12 or re.search(r"https?:|www\.|@", plain) or plain[-1] in ",;:":
        return False
    if _NUMBERED.match(plain):
        return len(words) <= 9
    if plain.endswith("?"):
        return len(words) <= 10 and bool(re.match(r"(?i)(how|what|when|where|why|who|which|do|does|can|will|is|are)\b", plain))
    if plain[-1] in ".!":
        return False
    letters = re.findall(r"[^\W\d_][\w'’-]*", plain)
    if letters and all(w.isupper() for w in letters if len(w) > 1):
        return True
    capitals = [w for w in letters if w.lower() not in _SMALL]
    return bool(capitals) and all(w[0].isupper() for w in capitals)


def measure(files: list[Path]) -> tuple[dict, list[dict]]:
    from index.chunking import chunk_policy
    from index.policies import parse_policy
    from index.readers import Unreadable, read_document

    rows, dates = [], []
    chunks_total = heading_chunks = 0
    started = time.perf_counter()
    for path in files:
        try:
            doc = read_document(path)
        except Unreadable:
            continue
        policy = parse_policy(doc.text, path.name, hints=doc.hints)
        chunks = chunk_policy(policy)
        chunks_total += len(chunks)
        heading_chunks += sum(heading_only(c.text) for c in chunks)
        words = len(doc.text.split())
        rows.append((words, len(policy.sections)))
        date = policy.policy_date or None
        context = ""
        if date and date in (policy.effective_date, getattr(policy, "archive_date", None)):
            source = "text"
        elif date and doc.hints.date == date:
            source = "metadata"
        elif date and date in path.name:
            source = "file name"
        else:
            source = None
        if date and source == "text":
            context = _context(doc.text, date)
        dates.append({"file": f"{path.parent.name}/{path.name}", "date": date, "source": source, "context": context})
    long = [sections for words, sections in rows if words > 1000]
    dated = [d for d in dates if d["date"] and d["source"] in ("text", "metadata")]
    result = {
        "policies": len(rows),
        "one_section_share": round(sum(s == 1 for _, s in rows) / len(rows), 4),
        "over_1000_words": len(long),
        "one_section_share_over_1000_words": round(sum(s == 1 for s in long) / max(len(long), 1), 4),
        "median_sections": statistics.median(s for _, s in rows),
        "chunks": chunks_total,
        "heading_only_chunk_share": round(heading_chunks / max(chunks_total, 1), 4),
        "dated_from_text_or_metadata_share": round(len(dated) / len(rows), 4),
        "dated_by_source": {k: sum(d["source"] == k for d in dates)
                            for k in ("text", "metadata", "file name", None)},
        "seconds": round(time.perf_counter() - started, 1),
    }
    result["dated_by_source"]["undated"] = result["dated_by_source"].pop(None)
    return result, dates


def _context(text: str, iso: str) -> str:
    """The words around the first "updated/effective" label in the text: what a checker reads."""
    match = re.search(r"(?i)(last\s+(?:updated|modified|revised|amended|reviewed)|effective|updated|revised|"
                      r"date\s+of\s+last|dated|as\s+of)", text)
    if not match:
        return ""
    return " ".join(text[max(0, match.start() - 40):match.end() + 80].split())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", type=Path, default=ROOT, help="checkout whose index package is measured")
    parser.add_argument("--shared", type=Path, default=SHARED)
    parser.add_argument("--dates", type=Path, help="write each policy's date and context here (JSON lines)")
    args = parser.parse_args()
    sys.path.insert(0, str(args.code.resolve()))
    files = policy_files(args.shared, ROOT / "corpus")
    result, dates = measure(files)
    result["code"] = str(args.code)
    print(json.dumps(result, indent=2))
    if args.dates:
        args.dates.write_text("".join(json.dumps(d) + "\n" for d in dates))
    return 0


if __name__ == "__main__":
    sys.exit(main())
