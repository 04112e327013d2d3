"""Build the answer judge's training pairs from ../shared (nothing here is imported by the product).

Two sources, each split into sentences exactly as the index splits them (``index.chunking``):

- **PolicyQA dev** (``policyqa``): each question against its policy. The sentences overlapping the gold
  span are positives; negatives are other sentences of the same policy, the hardest by shared stems
  first, never a sentence that is gold for another question of the same OPP-115 type.
- **Question-shaped headings** (``headings``) of the shared ToS;DR and DMOZ policies ("How long do we
  keep your data?"): the first sentences under the heading are positives, sentences of the policy's
  other sections are negatives (hardest by shared stems first). Half of the questions are turned
  to a user's voice naming the company ("How long does Imgur keep my data?").

Left out: the companies held back for the project's measurement, and every policy of the blind
evaluation sets (``eval/unseen-*.jsonl``), so that those stay unseen by the judge.

    .venv/bin/python scripts/judge_data.py --out build/judge-pairs.jsonl.gz
"""
from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from index.chunking import plain_text, split_sentences  # noqa: E402
from index.lexical import stems  # noqa: E402
from index.policies import parse_policy  # noqa: E402
from index.readers import read_document  # noqa: E402

SHARED = ROOT.parent / "shared"
HELD_BACK = {"canary", "filefactory", "fitbit", "github", "gitlab", "pastebin", "researchgate", "xing",
             "facebook", "spotify", "twitter", "uber", "airbnb"}
HARD_NEGATIVES = 5
RANDOM_NEGATIVES = 3
HEADING_POSITIVES = 3
MAX_SENTENCE_CHARS = 600


def held_back(name: str) -> bool:
    """A file of a company held back for measurement (by its file name)."""
    key = re.sub(r"[^a-z]", "", name.lower())
    return any(key.startswith(h) or f"www{h}" in key or key.startswith(f"{h}com") for h in HELD_BACK)


def blind_files() -> set[str]:
    """File names (without folder) of every policy the blind sets are written over."""
    names: set[str] = set()
    for path in sorted((ROOT / "eval").glob("unseen-*.jsonl")):
        for line in path.read_text().splitlines():
            if line.strip():
                row = json.loads(line)
                if row.get("file"):
                    names.add(Path(row["file"]).name)
    sources = ROOT / "eval" / "unseen-sources.json"
    if sources.exists():
        names |= {Path(f).name for f in json.loads(sources.read_text()).values()}
    return names


def _normalise(text: str) -> tuple[str, list[int]]:
    """Lower-cased text with whitespace collapsed and '*' / '\\' dropped, and each kept char's offset."""
    out, where, space = [], [], False
    for i, ch in enumerate(text):
        if ch in "*\\":
            continue
        if ch.isspace():
            if not space and out:
                out.append(" ")
                where.append(i)
            space = True
            continue
        space = False
        out.append(ch.lower())
        where.append(i)
    return "".join(out), where


def find_span(text: str, phrase: str, normalised=None) -> tuple[int, int] | None:
    """Offsets of ``phrase`` in ``text`` under the scoring rules' normalisation."""
    norm, where = normalised or _normalise(text)
    target, _ = _normalise(phrase)
    target = target.strip()
    at = norm.find(target) if target else -1
    if at < 0:
        return None
    return where[at], where[at + len(target) - 1] + 1


def policy_sentences(text: str, file_name: str) -> list[tuple[int, int, str]]:
    """(start, end, section heading) of every sentence the index would cut from ``text``."""
    policy = parse_policy(text, file_name, policy_date="2000-01-01")
    out = []
    for section in policy.sections:
        for span in split_sentences(policy.text, section.start, section.end):
            out.append((span.start, span.end, section.heading))
    return out


def clean(sentence: str) -> str:
    return plain_text(sentence)[:MAX_SENTENCE_CHARS]


def _hard_order(question: str, candidates: list[str]) -> list[int]:
    wanted = set(stems(question))
    overlap = [len(wanted & set(stems(c))) for c in candidates]
    return sorted(range(len(candidates)), key=lambda i: -overlap[i])


def _negatives(rng: random.Random, question: str, pool: list[str]) -> list[str]:
    if not pool:
        return []
    order = _hard_order(question, pool)
    hard = [pool[i] for i in order[:HARD_NEGATIVES]]
    rest = [pool[i] for i in order[HARD_NEGATIVES:]]
    return hard + rng.sample(rest, min(RANDOM_NEGATIVES, len(rest)))


def policyqa_groups(rng: random.Random) -> list[dict]:
    folder = SHARED / "eval" / "policyqa-dev"
    questions = [json.loads(l) for l in (folder / "questions.jsonl").read_text().splitlines() if l.strip()]
    by_company = defaultdict(list)
    for q in questions:
        by_company[q["company"]].append(q)
    groups = []
    for company, qs in sorted(by_company.items()):
        text = (folder / "corpus" / f"{company}.md").read_text(encoding="utf-8")
        sents = policy_sentences(text, f"{company}.md")
        norm = _normalise(text)
        gold: dict[int, set[int]] = {}
        for q in qs:
            found = set()
            for phrase in q["evidence"]:
                span = find_span(text, phrase, norm)
                if span:
                    found |= {i for i, (a, b, _) in enumerate(sents) if a < span[1] and span[0] < b}
            gold[id(q)] = found
        by_type = defaultdict(set)
        for q in qs:
            by_type[q.get("type", "")] |= gold[id(q)]
        texts = [clean(text[a:b]) for a, b, _ in sents]
        for q in qs:
            positives = gold[id(q)]
            if not positives:
                continue
            banned = positives | by_type[q.get("type", "")]
            pool = [texts[i] for i in range(len(sents)) if i not in banned and len(texts[i]) > 20]
            groups.append({"source": "policyqa", "company": company, "question": _voice(rng, q["question"], company),
                           "positives": [texts[i] for i in sorted(positives)][:3],
                           "negatives": _negatives(rng, q["question"], pool)})
    return groups


_QUESTION_WORD = re.compile(r"^(?:how|what|which|who|whom|with whom|when|where|why|do|does|did|is|are|can|will|"
                            r"would|should|may|to whom|for how long|what's)\b", re.I)
_GENERIC = re.compile(r"^(?:questions?|contact us|what is this|who are we|who we are|about us|how to contact us)\??$", re.I)
_NUMBERING = re.compile(r"^(?:#{1,6}\s*)?(?:\d+(?:\\?\.\d+)*\\?[.)]?\s+|[A-Z]\\?[.)]\s+)?")


def _heading_question(line: str) -> str | None:
    """The question a heading line asks ("### 6\\. How do we protect personal information?"), or None."""
    text = _NUMBERING.sub("", line.strip()).strip(" #*_").replace("\\", "")
    if not text.endswith("?") or not _QUESTION_WORD.match(text):
        return None
    words = text.split()
    if not 4 <= len(words) <= 20 or _GENERIC.match(text):
        return None
    return text


_VOICE = [(r"\bdo we\b", "does {c}"), (r"\bdoes (?:the company|our company)\b", "does {c}"),
          (r"\bwe\b", "{c}"), (r"\bour\b", "{c}'s"), (r"\bus\b", "{c}"), (r"\byours\b", "mine"),
          (r"\byour\b", "my"), (r"\bdo you\b", "do I"), (r"\bcan you\b", "can I"), (r"\bare you\b", "am I"),
          (r"\byou\b", "me"), (r"\bthis (?:website|site|company|service)\b", "{c}")]


def _voice(rng: random.Random, question: str, company: str) -> str:
    """Half the time, the question in a user's voice naming the company."""
    if rng.random() < 0.5:
        return question
    name = re.sub(r"\.(?:com|org|net)$", "", company)
    name = name[:1].upper() + name[1:]
    out = question
    for pattern, repl in _VOICE:
        out = re.sub(pattern, repl.format(c=name), out, flags=re.I)
    return out[:1].upper() + out[1:]


def heading_groups(rng: random.Random, skip: set[str]) -> list[dict]:
    files = sorted((SHARED / "corpora" / "tosdr").glob("*.md")) + sorted((SHARED / "corpora" / "dmoz-2000").glob("*.txt"))
    groups = []
    for path in files:
        if held_back(path.stem) or path.name in skip:
            continue
        try:
            doc = read_document(path)
        except Exception:
            continue
        text = doc.text
        lines = list(re.finditer(r"[^\n]+", text))
        heads = [(m, q) for m in lines if (q := _heading_question(m.group(0)))]
        if not heads:
            continue
        try:
            company = parse_policy(text, path.name, policy_date="2000-01-01").company
        except Exception:
            continue
        if path.parent.name == "tosdr":
            company = path.stem
        all_sents = [(s.start, s.end) for s in split_sentences(text, 0, len(text))]
        starts = [m.start() for m, _ in heads] + [len(text)]
        for n, (match, question) in enumerate(heads):
            body_end = starts[n + 1]
            # The section ends at the next heading-like line (Markdown '#', or a short line without a full stop).
            nxt = re.search(r"\n(?:#{1,6} |[A-Z0-9][^\n.]{0,60}\n)", text[match.end():body_end])
            if nxt:
                body_end = match.end() + nxt.start()
            inside = [(a, b) for a, b in all_sents if a >= match.end() and b <= body_end]
            inside = [(a, b) for a, b in inside if len(plain_text(text[a:b])) > 25]
            if not inside:
                continue
            positives = [clean(text[a:b]) for a, b in inside[:HEADING_POSITIVES]]
            inside_set = set(inside)
            pool = [clean(text[a:b]) for a, b in all_sents
                    if (a, b) not in inside_set and not (match.start() <= a < body_end) and len(text[a:b]) > 25
                    and not _heading_question(text[a:b])]
            groups.append({"source": "headings", "company": company, "file": path.name,
                           "question": _voice(rng, question, company), "positives": positives,
                           "negatives": _negatives(rng, question, pool)})
    return groups


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "judge-pairs.jsonl.gz")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    skip = blind_files()
    groups = policyqa_groups(rng) + heading_groups(rng, skip)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(args.out, "wt", encoding="utf-8") as handle:
        for g in groups:
            handle.write(json.dumps(g, ensure_ascii=False) + "\n")
    counts = defaultdict(int)
    for g in groups:
        counts[g["source"]] += 1
    print(f"{len(groups)} questions ({dict(counts)}), {len(skip)} blind-set files left out -> {args.out}")


if __name__ == "__main__":
    main()
