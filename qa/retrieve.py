"""Retrieve stage: the index kept up to date, the policy versions a question is asked of, and
the keyword stems that search with its vector."""
from __future__ import annotations

import threading
import time

from index.config import Config
from index.dates import date_label
from index.errors import IndexDamaged
from index.lexical import stems
from index.retrieval import IndexView, PolicyInfo, open_index

from .question import Understood, expand_stems

STALE_CHECK_SECONDS = 5.0
# Passages retrieved for a question (the judge reads the first of them, ``qa.evidence``).
RETRIEVED = 15

_ensure_lock = threading.Lock()
_last_check: dict = {}


def ensure_index(config: Config, progress=True) -> IndexView:
    """The loaded index, built or brought up to date first when missing or stale."""
    from index.build import build, is_stale, writer_active

    with _ensure_lock:
        key = (config.data_dir, config.corpus_dir, config.model, config.chroma_url)
        now = time.monotonic()
        if now - _last_check.get(key, -1e9) > STALE_CHECK_SECONDS:
            # Another process writing the index (`python -m index add`) publishes its manifest when
            # done; meanwhile questions are answered from the last one instead of waiting for it.
            if is_stale(config) and not writer_active(config):
                build(config, progress=progress)
            _last_check[key] = time.monotonic()
    try:
        return open_index(config)
    except IndexDamaged:
        with _ensure_lock:  # repair once: the build rewrites what is missing or damaged
            build(config, progress=progress)
        return open_index(config)


def query_stems(understood: Understood) -> list[str]:
    """Keyword-search stems: the question's own, then its topic words' synonyms."""
    from .names import PLACE_NAMES

    own = stems(understood.question)
    places = [other for e in understood.entities for other in PLACE_NAMES.get(e.lower(), ())]
    return own + [s for s in expand_stems(understood.content_words) + stems(" ".join(places)) if s not in own]


def choose_versions(understood: Understood, policies: list[PolicyInfo]) -> tuple[list[str], set[str], list[str]]:
    """The policy files to search, and which of them are preferred.

    A named company's versions are all searched, the newest preferred; a year in the question
    selects the version in force that year. Without a company, each company's newest version.
    """
    notes: list[str] = []
    by_company: dict[str, list[PolicyInfo]] = {}
    for p in policies:
        by_company.setdefault(p.company, []).append(p)
    wanted = understood.companies or list(by_company)
    docs: list[str] = []
    preferred: set[str] = set()
    for company in wanted:
        versions = sorted(by_company.get(company, []), key=lambda p: p.version_key)
        if not versions:
            continue
        chosen = versions[-1]
        if understood.year:
            in_force = [p for p in versions if _year_of(p) <= understood.year]
            exact = [p for p in versions if _year_of(p) == understood.year
                     or (p.effective_date or "").startswith(str(understood.year))]
            chosen = (exact or in_force or versions[:1])[-1]
        preferred.add(chosen.doc)
        if understood.companies and not understood.year:
            docs.extend(p.doc for p in versions)
        else:
            docs.append(chosen.doc)
        if len(versions) > 1 and understood.companies:
            others = ", ".join(date_label(p.policy_date) for p in versions if p.doc != chosen.doc)
            notes.append(f"{company} has {len(versions)} policy versions; this answer prefers the one of "
                         f"{date_label(chosen.policy_date)} (others: {others})."
                         + (" Undated versions are ordered as they were added." if any(not p.policy_date for p in versions)
                            else ""))
    return docs, preferred, notes


def _year_of(policy: PolicyInfo) -> int:
    try:
        return int(policy.policy_date[:4])
    except (TypeError, ValueError):
        return 0
