"""Compare two versions of a policy statement by statement: what was added, removed or changed.

Policies are rewritten, not patched, so a line diff says little. Instead every sentence of the
older version is paired with the sentence of the newer version that says the most similar
thing, judged by meaning (sentence embeddings), shared words (tf-idf) and the headings of the
sections they sit in. Then:

- a pair that says the same in other words is *reworded*; a pair whose numbers, negation or
  time terms differ (30 business days *before* → 30 days *after*) is a *change*;
- a sentence with no counterpart, or whose distinctive words the other version never uses
  ("Flash cookies"), was *removed* (older side) or *added* (newer side); these are gathered
  into topics by section.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from index.lexical import stem_word, words

# Weights of the pair score: meaning, shared words, section headings.
DENSE_WEIGHT = 0.5
LEXICAL_WEIGHT = 0.5
HEADING_WEIGHT = 0.2
# A pair scoring at least this says the same thing, maybe differently.
MIN_PAIR_SCORE = 0.5
# Pairs this close in words are unchanged (typos, punctuation, markup).
SAME_WORDS = 0.9
# A sentence whose distinctive words (by idf weight) the other version mostly never uses is new or gone.
MIN_NOVELTY = 0.5
# Below ``MIN_NOVELTY``, a statement with at least this much novelty still gets its own topic.
MIN_TOPIC_NOVELTY = 0.25
MIN_STATEMENT_WORDS = 4
# A negation that appears or disappears matters only in a pair at least this close.
MIN_NEGATION_PAIR_SCORE = 0.65

_NUMBER_WORDS = {
    "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8",
    "nine": "9", "ten": "10", "eleven": "11", "twelve": "12", "thirteen": "13", "fourteen": "14", "fifteen": "15",
    "sixteen": "16", "eighteen": "18", "twenty": "20", "thirty": "30", "forty": "40", "forty-five": "45",
    "fifty": "50", "sixty": "60", "ninety": "90", "hundred": "100",
}
_NUMBER = re.compile(r"\b\d+(?:[.,]\d+)?\b")
_NEGATION = re.compile(r"\b(?:not|never|no|cannot|can't|won't|don't|doesn't|neither|nor|without)\b", re.I)
# Words that fix when, how long or how far a commitment holds.
_TIME_TERMS = frozenset({"before", "prior", "after", "within", "until", "later", "earlier", "least", "most",
                         "business", "calendar", "immediately", "promptly", "automatically", "advance"})
_UNITS = re.compile(r"\b(?:day|days|week|weeks|month|months|year|years|hour|hours|minute|minutes)\b", re.I)
# Heading words that name no topic.
_HEADING_NOISE = frozenset(stem_word(w) for w in "privacy policy statement information your our data personal".split())


@dataclass(frozen=True)
class Statement:
    """One sentence of one policy version: where it is and what it says (plain text)."""

    doc: str
    section: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Difference:
    """A statement added or removed, or a pair of statements that changed."""

    kind: str  # "added" | "removed" | "changed"
    topic: str  # the section heading (the newer version's, except for removals)
    old: Statement | None
    new: Statement | None
    similarity: float | None = None
    signals: tuple[str, ...] = ()
    weight: float = 0.0  # order of importance within its kind
    names: tuple[str, ...] = ()  # names only this side mentions ("Flash"), when they make the topic


@dataclass
class VersionDiff:
    """The differences between an older and a newer version, most important first."""

    changed: list[Difference] = field(default_factory=list)
    added: list[Difference] = field(default_factory=list)
    removed: list[Difference] = field(default_factory=list)
    reworded: int = 0  # pairs that say the same thing in other words
    unchanged: int = 0
    old_statements: int = 0
    new_statements: int = 0


def terms(text: str) -> list[str]:
    """Stemmed words with number words written as digits ("thirty (30)" → 30, 30)."""
    return [_NUMBER_WORDS.get(w) or stem_word(w) for w in words(text.replace("-", " "))]


def numbers(text: str) -> frozenset[str]:
    found = set(_NUMBER.findall(text))
    found.update(_NUMBER_WORDS[w] for w in re.findall(r"[a-z]+", text.lower()) if w in _NUMBER_WORDS)
    return frozenset(found)


def statements_from_text(text: str, doc: str) -> list[Statement]:
    """The sentences of a policy's text (not indexed), section by section."""
    from index.chunking import plain_text, split_sentences
    from index.policies import parse_policy

    policy = parse_policy(text, doc)
    return [Statement(doc, section.heading, span.start, span.end, plain_text(text[span.start:span.end]))
            for section in policy.sections for span in split_sentences(text, section.start, section.end)]


def diff_statements(old: list[Statement], new: list[Statement], embed) -> VersionDiff:
    """Differences from ``old`` to ``new``; ``embed(texts)`` returns unit-length vectors (rows)."""
    old = [s for s in old if len(s.text.split()) >= MIN_STATEMENT_WORDS]
    new = [s for s in new if len(s.text.split()) >= MIN_STATEMENT_WORDS]
    diff = VersionDiff(old_statements=len(old), new_statements=len(new))
    if not old or not new:
        diff.added = [_gone("added", s, 1.0) for s in new]
        diff.removed = [_gone("removed", s, 1.0) for s in old]
        return diff
    vectors = embed([s.text for s in old] + [s.text for s in new])
    dense = vectors[: len(old)] @ vectors[len(old):].T
    old_terms, new_terms = [terms(s.text) for s in old], [terms(s.text) for s in new]
    idf = _idf(old_terms + new_terms)
    lexical = _tfidf_cosine(old_terms, new_terms, idf)
    headings = _heading_similarity(old, new, embed)
    score = DENSE_WEIGHT * dense + LEXICAL_WEIGHT * lexical + HEADING_WEIGHT * headings

    old_novelty = _novelty(old_terms, new_terms, idf)
    new_novelty = _novelty(new_terms, old_terms, idf)
    old_names, new_names = _only_named_in(old, new), _only_named_in(new, old)
    pairs = _match(score)
    matched_old = {i for i, _ in pairs}
    matched_new = {j for _, j in pairs}
    for i, j in pairs:
        a, b = old[i], new[j]
        signals = _signals(a.text, b.text, float(score[i, j]))
        if not signals and (lexical[i, j] >= SAME_WORDS or _normal(a.text) == _normal(b.text)):
            diff.unchanged += 1
            continue
        if old_novelty[i] >= MIN_NOVELTY:
            matched_old.discard(i)
        if new_novelty[j] >= MIN_NOVELTY:
            matched_new.discard(j)
        if i not in matched_old or j not in matched_new:
            continue
        if not signals:
            diff.reworded += 1
            continue
        weight = float(score[i, j]) * (1 + sum(_SIGNAL_WEIGHT[s] for s in signals))
        diff.changed.append(Difference("changed", _leaf(b.section), a, b, round(float(dense[i, j]), 3), signals,
                                       weight))
    diff.changed.sort(key=lambda d: -d.weight)
    diff.removed = _topics("removed", [i for i in range(len(old)) if i not in matched_old], old, old_names,
                           old_novelty, score.max(axis=1))
    diff.added = _topics("added", [j for j in range(len(new)) if j not in matched_new], new, new_names,
                         new_novelty, score.max(axis=0))
    return diff


_SIGNAL_WEIGHT = {"period": 1.0, "numbers": 1.0, "negation": 1.0, "time terms": 0.5}


def _signals(old: str, new: str, pair_score: float) -> tuple[str, ...]:
    """Why a reworded pair is a real change: its numbers, negation or time terms differ.

    A negation alone counts only in a close pair: loosely paired sentences negate different things.
    """
    signals = []
    old_numbers, new_numbers = numbers(old), numbers(new)
    if old_numbers != new_numbers and (old_numbers or new_numbers):
        signals.append("numbers")
    elif old_numbers and _UNITS.search(old) and _UNITS.search(new):
        signals.append("period")  # the same numbers of days, months... now said differently
    if bool(_NEGATION.search(old)) != bool(_NEGATION.search(new)):
        signals.append("negation")
    old_time = _TIME_TERMS & set(re.findall(r"[a-z]+", old.lower()))
    new_time = _TIME_TERMS & set(re.findall(r"[a-z]+", new.lower()))
    if old_time != new_time and (old_numbers or new_numbers):  # without a period, time words are wording
        signals.append("time terms")
    if signals == ["negation"] and pair_score < MIN_NEGATION_PAIR_SCORE:
        return ()
    return tuple(signals)


def _match(score: np.ndarray) -> list[tuple[int, int]]:
    """Greedy one-to-one pairing, best pairs first, of pairs scoring at least ``MIN_PAIR_SCORE``."""
    order = np.dstack(np.unravel_index(np.argsort(-score, axis=None), score.shape))[0]
    used_old: set[int] = set()
    used_new: set[int] = set()
    pairs = []
    for i, j in order:
        if score[i, j] < MIN_PAIR_SCORE:
            break
        if i in used_old or j in used_new:
            continue
        used_old.add(int(i))
        used_new.add(int(j))
        pairs.append((int(i), int(j)))
    return pairs


def _topics(kind: str, unmatched: list[int], statements: list[Statement], names: list[set[str]],
            novelty: list[float], best_score: np.ndarray) -> list[Difference]:
    """Topics only one version has, one per section, most important first.

    A section's topic gathers its statements with no counterpart and those naming something the
    other version never mentions ("Flash", "Do Not Track"). A statement with such a name stands for
    the topic, else the most distinctive one. Sections lost or gained whole come first.
    """
    section_size = Counter(s.section for s in statements)
    unmatched_set = set(unmatched)
    groups: dict[str, list[int]] = {}
    for i in range(len(statements)):
        if i in unmatched_set or names[i]:
            groups.setdefault(statements[i].section, []).append(i)
    out = []
    for section, members in groups.items():
        best = max(members, key=lambda i: (bool(names[i]), novelty[i], -best_score[i]))
        section_names: list[str] = []
        for i in members:
            section_names += [n for n in sorted(names[i]) if n not in section_names]
        share = sum(i in unmatched_set for i in members) / section_size[section]
        weight = 2 * share + novelty[best] + (1 - float(best_score[best])) + 0.5 * bool(section_names)
        out.append(_gone(kind, statements[best], weight, tuple(section_names)))
    out.sort(key=lambda d: -d.weight)
    return out


def _gone(kind: str, statement: Statement, weight: float, names: tuple[str, ...] = ()) -> Difference:
    return Difference(kind, _leaf(statement.section), statement if kind == "removed" else None,
                      statement if kind == "added" else None, None, (), weight, names)


def _leaf(section: str) -> str:
    return section.split(" > ")[-1] if section else ""


def _normal(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def _idf(documents: list[list[str]]) -> dict[str, float]:
    df = Counter(t for doc in documents for t in set(doc))
    n = len(documents)
    return {t: math.log(1 + n / c) for t, c in df.items()}


def _tfidf_cosine(left: list[list[str]], right: list[list[str]], idf: dict[str, float]) -> np.ndarray:
    vocabulary = {t: i for i, t in enumerate(idf)}

    def matrix(docs: list[list[str]]) -> np.ndarray:
        m = np.zeros((len(docs), len(vocabulary)), dtype="float32")
        for row, doc in enumerate(docs):
            for t, c in Counter(doc).items():
                m[row, vocabulary[t]] = c * idf[t]
        norms = np.linalg.norm(m, axis=1, keepdims=True)
        return m / np.where(norms == 0, 1, norms)

    return matrix(left) @ matrix(right).T


def _novelty(mine: list[list[str]], other: list[list[str]], idf: dict[str, float]) -> list[float]:
    """Per statement: the idf-weighted share of its words that the other version never uses."""
    other_vocabulary = {t for doc in other for t in doc}
    out = []
    for doc in mine:
        distinct = set(doc)
        total = sum(idf[t] for t in distinct) or 1.0
        out.append(sum(idf[t] for t in distinct if t not in other_vocabulary) / total)
    return out


_NAME = re.compile(r"(?<![.!?:;]\s)(?<!^)\b([A-Z][a-zA-Z]+(?:\s+[A-Z][a-zA-Z]+)*|[A-Z]{2,})\b")


def _only_named_in(mine: list[Statement], other: list[Statement]) -> list[set[str]]:
    """Per statement: capitalised names in it (not sentence starts) whose words the other version never uses."""
    other_vocabulary = {t for s in other for t in terms(s.text)}
    out = []
    for s in mine:
        found = set()
        for match in _NAME.finditer(s.text):
            name = match.group(1)
            name_terms = [t for t in terms(name) if not t.isdigit()]
            if name_terms and not any(t in other_vocabulary for t in name_terms):
                found.add(name)
        out.append(found)
    return out


def _heading_similarity(old: list[Statement], new: list[Statement], embed) -> np.ndarray:
    """Similarity of the section headings of every old and new statement (meaning or shared words)."""
    old_heads = sorted({_leaf(s.section) for s in old})
    new_heads = sorted({_leaf(s.section) for s in new})
    vectors = embed(old_heads + new_heads)
    dense = vectors[: len(old_heads)] @ vectors[len(old_heads):].T
    old_words = [{t for t in terms(h) if t not in _HEADING_NOISE and not t.isdigit()} for h in old_heads]
    new_words = [{t for t in terms(h) if t not in _HEADING_NOISE and not t.isdigit()} for h in new_heads]
    shared = np.array([[len(a & b) / len(a | b) if a and b else 0.0 for b in new_words] for a in old_words])
    heads = np.maximum(dense, shared)
    oi = [old_heads.index(_leaf(s.section)) for s in old]
    ni = [new_heads.index(_leaf(s.section)) for s in new]
    return heads[np.ix_(oi, ni)]
