"""Questions across companies: "Which companies share data with Salesforce?", "Do any of them sell data?".

One retrieval pass over every company's policy (the newest version, or the one in force in the
year asked about, plus older versions), then the hits are grouped by company and each company's
policy is judged with the same silence and evidence rules as a one-company answer.
"""
from __future__ import annotations

import re
from dataclasses import replace

import numpy as np

from index.dates import date_label, dated_policy
from index.config import Config
from index.lexical import STOPWORDS
from index.retrieval import Hit, IndexView

from .compose import citation_lines, cite, quote, topic_phrase
from .names import NAMES_RULE, names_missing_from_text
from .polarity import sentence_stance
from .question import Understood
from .retrieve import choose_versions, query_stems
from .records import Answer, Citation, CompanyFinding

_GROUPS = r"(?:companies|services|sites|websites|firms|policies|ones)"
_ANY_GROUP = rf"any\s+(?:of\s+(?:these|those|them)\b|of\s+the\s+{_GROUPS}\b|(?:company|service|site|website|firm|policy)\b)"
_ACROSS_CUE = re.compile(
    r"^\s*(?:which|who|whose)\b"
    rf"|\b(?:which|what)\s+(?:of\s+(?:the|these|those|them)\s+)?{_GROUPS}\b"
    rf"|\b(?:do|does|did|is|are|was|were|has|have|can|could|will|would)\s+{_ANY_GROUP}"
    r"|\bany\s+of\s+(?:these|those|them)\b"
    rf"|\bhow\s+many\s+(?:of\s+)?(?:the\s+|these\s+|those\s+)?{_GROUPS}\b",
    re.I,
)
# "you", "this website": the asker has one company in mind, though the question does not name it.
_ONE_ADDRESSEE = re.compile(r"\b(?:you|your|yours|this\s+\w+|the\s+(?:website|site|company|service|app|firm))\b", re.I)
_SEVERAL = re.compile(rf"\b(?:companies|policies|services|sites|websites|firms|any\s+of|of\s+(?:them|these|those))\b",
                      re.I)
# A question about what policies mention asks about mentions, not about whether a practice happens.
_MENTION_CUE = re.compile(r"\b(?:mention|mentions|mentioned|refer|refers|talk|talks|say|says|said|discuss|discusses)\b", re.I)
# Chunks retrieved per company in the single pass, and its bounds.
CANDIDATES_PER_COMPANY = 12
MIN_CANDIDATES = 100
MAX_CANDIDATES = 2000
# Up to this many companies, the question asked of each is embedded before the search, in one batch,
# and their mean is the search query; beyond it, a plain query first, then only the companies found.
BATCH_ALL = 32
MIN_PROSE_WORDS = 1
# Each company's best passages and sentences read by the judge, and how many companies are read
# (those whose best passage is closest); the others are silent on the question.
JUDGED_PASSAGES = 3
JUDGED_SENTENCES = 9
JUDGED_COMPANIES = 40
# Of each company's sentences the cross-encoder reads the screen's 3 likeliest (the judge's own number is 6):
# across 20 companies the median answer took 1,049-1,165 ms with 6 and about half the extra with 3, and
# bench/across.py's recall and precision stayed (docs/performance.md, round 14).
CROSS_ENCODED = 3


# Each company's policy is judged as if the question were asked about it alone ("Do they ...?").
_ONE_COMPANY_FORM = [
    (re.compile(r"^\s*(?:which|what)\s+(?:of\s+(?:the|these|those)\s+)?polic(?:y|ies)\s+", re.I), "Does the policy "),
    (re.compile(r"^\s*(?:which|what|how\s+many)\s+(?:of\s+(?:the|these|those)\s+)?"
                r"(?:companies|services|sites|websites|firms|ones)\s+", re.I), "Do they "),
    (re.compile(r"^\s*(?:which|how\s+many)\s+of\s+(?:them|these|those)\s+", re.I), "Do they "),
    (re.compile(r"^\s*who\s+(?=[a-z]+s\b)", re.I), "Do they "),  # "Who sells data?", not "Who can I ask?"
    (re.compile(rf"\b{_ANY_GROUP}(?:\s+{_GROUPS}\b)?", re.I), "they"),
]


def one_company_form(question: str) -> str:
    """The question as it would be asked of one company: "Which companies sell data?" → "Do they sell data?"."""
    for pattern, replacement in _ONE_COMPANY_FORM:
        rewritten = pattern.sub(replacement, question, count=1)
        if rewritten != question:
            return " ".join(rewritten.split())
    return question


def is_across_question(understood: Understood) -> bool:
    """A question that names several companies, or names none and asks "which", "who" or "do any"."""
    if len(understood.companies) >= 2:
        return True
    question = understood.question
    if understood.companies or not _ACROSS_CUE.search(question):
        return False
    return bool(_SEVERAL.search(question)) or not _ONE_ADDRESSEE.search(question)


def answer_across(understood: Understood, view: IndexView, config: Config) -> Answer:
    """Answer company by company from one retrieval pass; see the module docstring."""
    from index.embedder import embed_query

    policies = list(view.policies.values())
    asked = understood.question
    understood = replace(understood, question=one_company_form(asked))
    targets = understood.companies or sorted({p.company for p in policies})
    docs, judged, _ = choose_versions(replace(understood, companies=targets), policies)
    judged_doc = {view.policies[d].company: d for d in judged}
    chunk_total = sum(view.policies[d].chunks for d in docs)
    k = min(chunk_total, max(MIN_CANDIDATES, CANDIDATES_PER_COMPANY * len(targets)), MAX_CANDIDATES)
    asked_of = _company_query_vectors(config, understood.question, targets if len(targets) <= BATCH_ALL else [])
    query = _mean(list(asked_of.values())) if asked_of else embed_query(config.model, understood.question,
                                                                          config.query_adapter)
    hits = view.hits(query, query_stems(understood), docs, k=k)
    missing = sorted({h.company for h in hits} - set(asked_of))
    asked_of.update(_company_query_vectors(config, understood.question, missing))
    by_doc: dict[str, list[Hit]] = {}
    for hit in _as_asked_of_each_company(view, asked_of, hits):
        by_doc.setdefault(hit.doc, []).append(hit)

    about_practice = not _MENTION_CUE.search(asked)
    closest = sorted(by_doc, key=lambda d: -max(h.score for h in by_doc[d]))[:JUDGED_COMPANIES]
    by_doc = {d: by_doc[d] for d in closest}
    context = (config, asked_of)
    versions_of: dict[str, list[str]] = {}
    for d in docs:
        versions_of.setdefault(view.policies[d].company, []).append(d)
    citations: list[Citation] = []
    findings: list[CompanyFinding] = []
    for company in targets:
        doc = judged_doc.get(company)
        if doc is None:
            continue
        evidence = _evidence(understood, view, doc, by_doc.get(doc, []), len(citations), context)
        status = "silent"
        if evidence:
            status = "states_not" if about_practice and sentence_stance(understood, evidence.highlight) == "no" else "states"
            citations.append(evidence)
        earlier = None
        older = [d for d in versions_of.get(company, []) if d != doc]
        if status == "silent" and older:
            earlier = _earliest_evidence(understood, view, older, by_doc, len(citations), context)
            if earlier:
                citations.append(earlier)
        findings.append(CompanyFinding(company, view.policies[doc].policy_date, status,
                                       (evidence,) if evidence else (), earlier))

    answer = Answer(question=asked, text="", found=bool(citations), citations=citations,
                    kind="companies", companies=findings)
    answer.text = _across_text(understood, findings, about_practice)
    return answer


def _company_query_vectors(config: Config, question: str, companies: list[str]) -> dict:
    """The question asked of each company ("Does Comindware use MailChimp?"), embedded in one batch.

    Indexed passages carry their company's name, so the question naming the company matches its
    passages far better than "Do they use MailChimp?" does, and the silence rules are calibrated
    on questions that name the company.
    """
    if not companies:
        return {}
    from index.embedder import embed_queries

    return dict(zip(companies, embed_queries(config.model, [_asked_of(question, c) for c in companies],
                                             config.query_adapter)))


def _mean(vectors: list) -> np.ndarray:
    mean = np.mean(np.asarray(vectors), axis=0)
    return (mean / (np.linalg.norm(mean) or 1.0)).astype("float32")


def _as_asked_of_each_company(view: IndexView, asked_of: dict, hits: list[Hit]) -> list[Hit]:
    """The hits with their meaning score recomputed against the question asked of their own
    company, from the candidates' stored vectors (one fetch, no second search)."""
    from index.retrieval import DENSE_WEIGHT, LEXICAL_WEIGHT

    if not hits:
        return hits
    stored = view.store.vectors([h.chunk_id for h in hits])
    out = []
    for hit in hits:
        if hit.chunk_id not in stored or hit.company not in asked_of:
            out.append(hit)
            continue
        dense = float(stored[hit.chunk_id] @ asked_of[hit.company])
        out.append(replace(hit, dense=round(dense, 4), score=round(DENSE_WEIGHT * dense + LEXICAL_WEIGHT * hit.lexical, 4)))
    return out


def _asked_of(question: str, company: str) -> str:
    """ "Do they use MailChimp?" asked of Comindware: "Does Comindware use MailChimp?"."""
    named = re.sub(r"^\s*(?:do|does)\s+(?:they|the\s+policy)\b", f"Does {company}", question, count=1, flags=re.I)
    named = re.sub(r"\b(?:they|the\s+policy)\b", company, named, count=1, flags=re.I)
    return named if named != question else f"{company}: {question}"


def _evidence(understood: Understood, view: IndexView, doc: str, hits: list[Hit], numbered: int,
              context: tuple) -> Citation | None:
    """The one citation showing that ``doc`` states it, or None when the policy is silent: the
    judge (``qa.evidence``) reads the company's best passages with the question asked of it."""
    from .evidence import judge_passages
    from .judge import get_judge

    if not hits:
        return None  # no passage of it came up in the one search: silent, without reading its text
    config, asked_of = context
    company = view.policies[doc].company
    own = replace(understood, question=_asked_of(understood.question, company), companies=[company])
    hits = sorted(hits, key=lambda h: -h.score)
    query = asked_of.get(company)
    if query is None:
        from index.embedder import embed_query

        query = embed_query(config.model, own.question, config.query_adapter)
    judged = judge_passages(view, own, hits, config, query, JUDGED_PASSAGES, JUDGED_SENTENCES, CROSS_ENCODED)
    if not judged or judged[0].probability < get_judge(config).answers:
        return None
    cited = next(iter(cite(view, judged[:1], 1)), None)
    if cited is None or not _reads_as_prose(cited.highlight) or (NAMES_RULE and names_missing_from_text(understood, _within_section(view, cited))):
        return None
    return replace(cited, n=numbered + 1)


def _within_section(view: IndexView, citation: Citation) -> str:
    """The part of the citation's excerpt inside its own section (an excerpt may run into the next)."""
    spans = [(c["start"], c["end"]) for c in view.doc_chunks.get(citation.doc, []) if c["section"] == citation.section
             and c["start"] < citation.end and citation.start < c["end"]]
    if not spans:
        return citation.excerpt
    start, end = max(citation.start, min(a for a, _ in spans)), min(citation.end, max(b for _, b in spans))
    return view.source_text(citation.doc)[start:end]


def _reads_as_prose(sentence: str) -> bool:
    """A sentence, not page furniture ("pages-home solutions-salesforce-commercecloud"): a few
    of the little words every sentence has."""
    return sum(w in STOPWORDS for w in re.findall(r"[a-z]+", sentence.lower())) >= MIN_PROSE_WORDS


def _earliest_evidence(understood: Understood, view: IndexView, older: list[str], by_doc: dict[str, list[Hit]],
                       numbered: int, context: tuple) -> Citation | None:
    """Evidence from the most recent older version that states it (when the judged one does not)."""
    for doc in sorted(older, key=lambda d: view.policies[d].version_key, reverse=True):
        found = _evidence(understood, view, doc, by_doc.get(doc, []), numbered, context)
        if found:
            return found
    return None


def _across_text(understood: Understood, findings: list[CompanyFinding], about_practice: bool) -> str:
    states = [f for f in findings if f.status == "states"]
    denies = [f for f in findings if f.status == "states_not"]
    silent = [f for f in findings if f.status == "silent"]
    what = _named_topic(understood) or topic_phrase(understood, [])
    lines: list[str] = []
    if states:
        verb = "Stated" if about_practice else "Mentioned"
        lines.append(f"{verb} in {len(states)} of {len(findings)} companies' policies:")
        lines += [f"- {f.company} (policy of {date_label(f.policy_date)}): “{quote(f.citations[0].highlight)}” [{f.citations[0].n}]"
                  for f in states]
    if denies:
        lines.append(f"{len(denies)} of {len(findings)} companies' policies say they do not:")
        lines += [f"- {f.company} (policy of {date_label(f.policy_date)}): “{quote(f.citations[0].highlight)}” [{f.citations[0].n}]"
                  for f in denies]
    if silent:
        names = _join([f"{f.company} ({date_label(f.policy_date)})" for f in silent])
        # When an older version said it, "none" is only true of the versions judged.
        judged = " in force" if any(f.earlier for f in silent) else ""
        if not states and not denies:
            lines.append(f"None of the {len(findings)} companies' policies{judged} mentions {what}: {names}.")
        else:
            lines.append(f"Not mentioned in the policies{judged} of {names}.")
    for f in silent:
        if f.earlier:
            lines.append(f"In its {dated_policy(f.earlier.policy_date)}, {f.company} said: "
                         f"“{quote(f.earlier.highlight)}” [{f.earlier.n}]; its policy of {date_label(f.policy_date)} does not.")
    return "\n".join(lines)


def _named_topic(understood: Understood) -> str:
    """The names asked about as the question writes them, with a topic word that follows a name
    ("Flash cookies", "Do Not Track signals"); "" when the question names nothing."""
    if not understood.entities:
        return ""
    names = re.escape(" ".join(understood.entities)).replace(r"\ ", r"\s+")
    match = re.search(rf"\b{names}(?:\s+([a-z]+))?", understood.question)
    if not match:
        return " ".join(understood.entities)
    follower = match.group(1)
    return " ".join(match.group(0).split()) if follower in understood.content_words else " ".join(understood.entities)


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def format_companies(answer: Answer) -> str:
    """CLI rendering: the answer, then each company's citation with its section and offsets."""
    return "\n".join([answer.text] + citation_lines(answer.citations))
