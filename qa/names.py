"""Names in a question ("Do Not Track", "TRUSTe", "Google Analytics") that a policy must contain.

Topic words are matched by stem and synonym, which is right for "sell" or "cookies" but wrong
for names: "Do Not Track" is not "track", "TRUSTe" is not "trust". A policy that never writes
the name does not mention it.
"""
from __future__ import annotations

import re
import threading

from index.chunking import plain_text
from index.lexical import stem_word, words
from index.retrieval import IndexView

from .presence import union_over
from .question import Understood, fold

_TOKEN = re.compile(r"[A-Za-z][\w&'’-]*")
# Capitalised for grammar, not because they name something (sentence starts are skipped anyway).
_COMMON = frozenset({"I"})

_lock = threading.Lock()
_doc_forms: dict[tuple[str, str], tuple[str, frozenset]] = {}


def name_phrases(understood: Understood, company_words: set[str]) -> list[list[str]]:
    """Runs of capitalised words in the question, leaving out sentence starts, "I" and company names."""
    runs: list[list[str]] = []
    current: list[str] = []
    previous_end = None
    for match in _TOKEN.finditer(understood.question):
        token = re.split(r"['’]", match.group(0))[0]
        gap = understood.question[previous_end:match.start()] if previous_end is not None else "."
        previous_end = match.end()
        sentence_start = bool(re.search(r"[.?!:;]", gap))
        capital = (token[:1].isupper() and not sentence_start and token not in _COMMON
                   and fold(token.lower()) not in company_words)
        if capital and current and gap.strip() == "":
            current.append(token)
            continue
        if current:
            runs.append(current)
        current = [token] if capital else []
    if current:
        runs.append(current)
    return [run for run in runs if len(run) > 1 or _looks_coined(run[0])]


def _looks_coined(token: str) -> bool:
    """Single names whose stem would match ordinary words: inner capitals or all capitals (TRUSTe, SSL)."""
    core = re.sub(r"s$", "", token) if len(token) > 2 and token[:-1].isupper() else token
    return any(c.isupper() for c in core[1:])


def missing_names(understood: Understood, view: IndexView, docs: list[str]) -> list[str]:
    """The question's names that none of ``docs`` contains (multi-word names as stemmed phrases)."""
    company_words = {w for c in understood.companies for w in words(fold(c))}
    names = name_phrases(understood, company_words)
    if not names:
        return []
    if len(docs) <= 1:
        forms = [_forms(view, doc) for doc in docs]
    else:
        forms = [union_over(view, docs, "forms", lambda ds: _joined(view, ds))]
    missing = []
    for run in names:
        if all(_looks_coined(t) for t in run):  # acronyms and coined names ("EU GDPR"), each on its own
            raws = [re.sub(r"s$", "", t).lower() if t[:-1].isupper() else t.lower() for t in run]
            found = any(all(r in vocabulary or r + "s" in vocabulary for r in raws) for _, vocabulary in forms)
        else:
            phrase = " " + " ".join(stem_word(t) for t in run) + " "
            found = any(phrase in stemmed for stemmed, _ in forms)
        if not found:
            missing.append(" ".join(run))
    return missing


def _joined(view: IndexView, docs: list[str]) -> tuple[str, frozenset]:
    """All of ``docs`` as one form: stems joined so that no phrase spans two policies, words pooled."""
    forms = [_forms(view, doc) for doc in docs]
    return "\x00".join(stemmed for stemmed, _ in forms), frozenset().union(*(vocabulary for _, vocabulary in forms))


def _forms(view: IndexView, doc: str) -> tuple[str, frozenset]:
    """A policy as one string of stems (for phrases) and its set of raw lower-case words."""
    key = (view.policies[doc].source, str(view.manifest_mtime))
    with _lock:
        if key in _doc_forms:
            return _doc_forms[key]
    raw = re.findall(r"[a-z0-9]+", plain_text(view.source_text(doc)).lower())
    value = (" " + " ".join(stem_word(w) for w in raw) + " ", frozenset(raw))
    with _lock:
        if len(_doc_forms) > 512:
            _doc_forms.clear()
        _doc_forms[key] = value
    return value
