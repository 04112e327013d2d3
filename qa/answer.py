"""``ask``: from a question to a short answer backed by verbatim, cited excerpts."""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass
import time

from index.config import Config, get_config, quiet_third_parties
from index.errors import BadQuestion, PolicyQAError
from index.lexical import stems
from index.retrieval import Hit, IndexView, PolicyInfo, open_index

from .presence import union_over
from .question import MAX_QUESTION_CHARS, Understood, expand_stems, understand, variants
from .records import Answer, Citation

MAX_EXCERPT_CHARS = 1200
# Below this dense similarity the best passage is unrelated to the question.
MIN_DENSE_SIMILARITY = 0.30
# Share of the question's topic words that must appear somewhere in the policy.
MIN_TOPIC_COVERAGE = 0.5
STALE_CHECK_SECONDS = 5.0
SENTENCE_COVERAGE_WEIGHT = 0.35
NEWEST_VERSION_BONUS = 0.05
NEWEST_ADDRESSES_TOPIC = 0.6

_NEGATION = re.compile(
    r"\b(?:not|never|no|cannot|can't|won't|don't|doesn't|do\s+not|does\s+not|will\s+not|shall\s+not|neither|nor)\b",
    re.I,
)
_YES_NO_START = re.compile(r"^\s*(?:does|do|did|is|are|was|were|can|could|will|would|has|have|should|may)\b", re.I)

_ensure_lock = threading.Lock()
_last_check: dict = {}


def ensure_index(config: Config, progress=True) -> IndexView:
    """The loaded index, built or brought up to date first when missing or stale."""
    from index.build import build, is_stale

    with _ensure_lock:
        key = (config.data_dir, config.corpus_dir, config.model, config.chroma_url)
        now = time.monotonic()
        if now - _last_check.get(key, -1e9) > STALE_CHECK_SECONDS:
            if is_stale(config):
                build(config, progress=progress)
            _last_check[key] = time.monotonic()
    return open_index(config)


def clean_question(question) -> str:
    """Validate and normalise a question, or raise ``BadQuestion`` with a message for the user."""
    if not isinstance(question, str):
        raise BadQuestion("the question must be text")
    text = re.sub(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\ufeff]", " ", question)
    text = " ".join(text.split())
    if not text:
        raise BadQuestion("the question is empty: ask something like 'Does Comindware share data with Salesforce?'")
    if len(text) > MAX_QUESTION_CHARS:
        raise BadQuestion(f"the question is too long ({len(text):,} characters; the limit is "
                          f"{MAX_QUESTION_CHARS:,}). Ask one short question at a time.")
    if not re.search(r"\w", text):
        raise BadQuestion("the question has no words in it")
    return text


def ask(question: str, company: str | None = None, k: int = 5, config: Config | None = None) -> Answer:
    """Answer ``question`` from the indexed privacy policies.

    ``company`` (name or domain, any case) restricts the answer to that company; otherwise a
    company named in the question does. The newest policy version is used unless the question
    names a year. Returns an ``Answer`` whose ``citations`` quote the policies verbatim.
    Raises ``BadQuestion`` for an empty or over-long question.
    """
    quiet_third_parties()
    text = clean_question(question)
    if not isinstance(k, int) or k < 1:
        raise BadQuestion("k must be a whole number of at least 1")
    k = min(k, 20)
    config = config or get_config()
    view = ensure_index(config)
    policies = list(view.policies.values())
    understood = understand(text, policies)

    if company:
        from .question import find_companies

        named = find_companies(company, policies)
        if not named:
            return _unknown_company_answer(text, company, policies)
        understood.companies = named[:1]
        understood.unknown_company = None
    if not understood.companies and understood.unknown_company:
        return _unknown_company_answer(text, understood.unknown_company, policies)
    from .routes import answer_by_route  # questions across companies or across versions

    routed = answer_by_route(understood, view, config)
    if routed is not None:
        return routed

    docs, newest, notes = _choose_versions(understood, policies)
    from index.embedder import embed_query

    hits = view.hits(embed_query(config.model, text), query_stems(understood), docs, k=max(k * 3, 10))
    focus = understood.companies[0] if len(understood.companies) == 1 else None
    answer = Answer(question=text, text="", found=False, company=focus, notes=notes,
                    policy_date=view.policies[next(iter(newest))].policy_date if len(newest) == 1 else None)
    if not hits:
        answer.text = _silent_text(understood, view, docs, [])
        return answer

    silent, missing = judge_silence(understood, view, docs, hits)
    if silent:
        answer.text = _silent_text(understood, view, docs, missing)
        return answer

    from .versions import add_earlier_version_line, prefer_version_that_speaks

    ranked = prefer_version_that_speaks(understood, view, hits, _rerank(view, hits, understood, newest), newest)
    answer.citations = _citations(view, ranked, k)
    answer.found = bool(answer.citations)
    answer.text = _answer_text(understood, answer.citations, view, newest) if answer.found else _silent_text(
        understood, view, docs, missing)
    if answer.found:
        add_earlier_version_line(answer, understood, view, ranked, newest)
    return answer


def judge_silence(understood: Understood, view: IndexView, docs: list[str], hits: list[Hit]) -> tuple[bool, list[str]]:
    """Whether the policies ``docs`` say nothing relevant, judged from their best ``hits``.

    Returns ``(silent, missing)``: ``missing`` are the question's topic words none of ``docs``
    mentions (the missing names first, when a missing name is what makes them silent).
    """
    missing = _missing_topics(understood, view, docs)
    missing_lower = [m.lower() for m in missing]
    topic = understood.content_words
    covered = 1 - (len(missing) / len(topic)) if topic else 1.0
    best_dense = max((h.dense for h in hits), default=0.0)
    entity_missing = [e.lower() for e in understood.entities if e.lower() in missing_lower]
    practice_missing = bool(_YES_NO_START.match(understood.question) and topic and topic[0] in missing)
    from .names import missing_names

    names_missing = missing_names(understood, view, docs)
    silent = (not hits or best_dense < MIN_DENSE_SIMILARITY or covered < MIN_TOPIC_COVERAGE or bool(entity_missing)
              or practice_missing or bool(names_missing))
    return silent, entity_missing or names_missing or missing


def stance(understood: Understood, sentence: str) -> str | None:
    """``"no"`` when ``sentence`` speaks to the question's topic and negates it, ``"yes"`` when it
    speaks to it plainly, None when it does not speak to the topic words at all."""
    topic = {s for w in understood.content_words for s in variants(w)}
    if not topic & set(stems(sentence)):
        return None
    return "no" if _NEGATION.search(sentence) else "yes"


def query_stems(understood: Understood) -> list[str]:
    """Keyword-search stems: the question's own, then its topic words' synonyms."""
    own = stems(understood.question)
    return own + [s for s in expand_stems(understood.content_words) if s not in own]


def _unknown_company_answer(question: str, name: str, policies: list[PolicyInfo]) -> Answer:
    known = sorted({p.company for p in policies})
    return Answer(question=question, found=False,
                  text=f"I have no privacy policy for {name}. The policies I know are: {', '.join(known)}.")


def _choose_versions(understood: Understood, policies: list[PolicyInfo]) -> tuple[list[str], set[str], list[str]]:
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
        versions = sorted(by_company.get(company, []), key=lambda p: p.policy_date)
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
            others = ", ".join(p.policy_date for p in versions if p.doc != chosen.doc)
            notes.append(f"{company} has {len(versions)} policy versions; this answer prefers the one of "
                         f"{chosen.policy_date} (others: {others}).")
    return docs, preferred, notes


def _year_of(policy: PolicyInfo) -> int:
    try:
        return int(policy.policy_date[:4])
    except (TypeError, ValueError):
        return 0


def _missing_topics(understood: Understood, view: IndexView, docs: list[str]) -> list[str]:
    """Topic words of the question that no searched policy mentions, synonyms included."""
    if not understood.content_words:
        return []
    present = union_over(view, docs, "stems", lambda ds: frozenset().union(*(_doc_stems(view, d) for d in ds)))
    return [w for w in understood.content_words if not (variants(w) & present)]


_stem_cache: dict[tuple[str, str], frozenset] = {}


def _doc_stems(view: IndexView, doc: str) -> frozenset:
    key = (view.policies[doc].source, str(view.manifest_mtime))
    if key not in _stem_cache:
        if len(_stem_cache) > 512:
            _stem_cache.clear()
        _stem_cache[key] = frozenset(stems(view.source_text(doc)))
    return _stem_cache[key]


@dataclass
class _Scored:
    hit: Hit
    sentence: tuple[int, int]
    score: float
    coverage: float  # share of the question's topic weight found in the best sentence


def _topic_weights(view: IndexView, understood: Understood) -> dict[str, float]:
    """Stem -> weight: rare question words weigh most; synonyms count half."""
    weights: dict[str, float] = {}
    for word in understood.content_words:
        direct = stems(word)
        for stem in direct:
            weights[stem] = max(weights.get(stem, 0.0), view.lexical.idf(stem))
        for stem in variants(word) - set(direct):
            weights.setdefault(stem, 0.5 * view.lexical.idf(stem))
    return weights


def _rerank(view: IndexView, hits: list[Hit], understood: Understood, newest: set[str]) -> list[_Scored]:
    """Order hits by fused score plus how much of the question's topic their best sentence covers."""
    weights = _topic_weights(view, understood)
    total = sum(view.lexical.idf(s) for w in understood.content_words for s in stems(w)) or 1.0
    scored = []
    for hit in hits:
        text = view.source_text(hit.doc)
        best, best_value = hit.sentences[0], -1.0
        for sentence in hit.sentences:
            found = set(stems(text[sentence[0]:sentence[1]]))
            value = sum(w for stem, w in weights.items() if stem in found)
            if value > best_value:
                best, best_value = sentence, value
        coverage = min(best_value / total, 1.0) if weights else 0.0
        bonus = NEWEST_VERSION_BONUS if hit.doc in newest else 0.0
        scored.append(_Scored(hit, best, hit.score + SENTENCE_COVERAGE_WEIGHT * coverage + bonus, coverage))
    scored.sort(key=lambda s: -s.score)
    # The newest version answers whenever it addresses the topic; older versions only fill its silence.
    best_newest = max((s.coverage for s in scored if s.hit.doc in newest), default=0.0)
    best_older = max((s.coverage for s in scored if s.hit.doc not in newest), default=0.0)
    if best_newest >= NEWEST_ADDRESSES_TOPIC or best_newest >= best_older - 0.05:
        scored.sort(key=lambda s: (s.hit.doc not in newest, -s.score))
    return scored


def _citations(view: IndexView, ranked: list[_Scored], k: int) -> list[Citation]:
    citations: list[Citation] = []
    seen_text: set[str] = set()
    for item in ranked:
        hit, best = item.hit, item.sentence
        source_text = view.source_text(hit.doc)
        highlight = source_text[best[0]:best[1]]
        key = " ".join(highlight.lower().split())
        if key in seen_text:
            continue
        seen_text.add(key)
        start, end = _excerpt_bounds(source_text, hit, best)
        citations.append(Citation(
            n=len(citations) + 1, company=hit.company, policy_date=hit.policy_date, section=hit.section,
            score=round(item.score, 4), excerpt=source_text[start:end], highlight=highlight, source=hit.source,
            start=start, end=end, highlight_start=best[0], highlight_end=best[1], doc=hit.doc,
        ))
        if len(citations) >= k:
            break
    return citations


def _excerpt_bounds(text: str, hit: Hit, highlight: tuple[int, int]) -> tuple[int, int]:
    """Grow the chunk to whole neighbouring lines within the section, up to the excerpt limit."""
    start, end = hit.start, hit.end
    if end - start > MAX_EXCERPT_CHARS:
        centre = (highlight[0] + highlight[1]) // 2
        start = max(hit.start, min(highlight[0], centre - MAX_EXCERPT_CHARS // 2))
        end = min(hit.end, start + MAX_EXCERPT_CHARS)
        if highlight[1] > end:
            end = highlight[1]
            start = max(hit.start, end - MAX_EXCERPT_CHARS)
        return start, end
    return start, end


def _quote(text: str) -> str:
    from index.chunking import plain_text

    words = plain_text(text)
    return words if len(words) <= 400 else words[:397].rsplit(" ", 1)[0] + "…"


def _answer_text(understood: Understood, citations: list[Citation], view: IndexView, newest: set[str]) -> str:
    first = citations[0]
    who = f"{first.company}'s policy ({first.policy_date})"
    older = ""
    if first.doc not in newest:
        current = [view.policies[d] for d in newest if view.policies[d].company == first.company]
        if current:
            older = (f"{first.company}'s current policy ({current[0].policy_date}) does not say this directly; "
                     f"its earlier version did. ")
    quote = _quote(first.highlight)
    lead = ""
    if _YES_NO_START.match(understood.question):
        lead = {"yes": "Yes. ", "no": "No. "}.get(stance(understood, first.highlight), "")
    text = f"{older}{lead}{who} says: “{quote}” [1]"
    more = [c for c in citations[1:3] if c.company != first.company or c.section != first.section]
    if more:
        text += " See also " + ", ".join(f"[{c.n}]" for c in more) + "."
    return text


def _silent_text(understood: Understood, view: IndexView, docs: list[str], missing: list[str]) -> str:
    companies = understood.companies
    what = _topic_phrase(understood, missing)
    if len(companies) == 1:
        return f"{companies[0]}'s policy does not mention {what}."
    if companies:
        return f"The policies of {', '.join(companies)} do not mention {what}."
    return f"None of the indexed privacy policies mentions {what}."


def _topic_phrase(understood: Understood, missing: list[str]) -> str:
    entities = [e for e in understood.entities if e.lower() in missing]
    if entities:
        return " ".join(entities)
    if missing:
        return "“" + " ".join(missing) + "”"
    if understood.content_words:
        return "“" + " ".join(understood.content_words) + "”"
    return "this"


def format_answer(answer: Answer) -> str:
    """Readable plain-text rendering for the CLI."""
    if answer.kind != "policy":
        from .routes import format_routed

        return format_routed(answer)
    lines = [answer.text]
    for note in answer.notes:
        lines.append(f"  note: {note}")
    for c in answer.citations:
        lines.append("")
        lines.append(f"[{c.n}] {c.company} · policy of {c.policy_date} · {c.section}")
        lines.append(f"    “{_quote(c.highlight)}”")
        lines.append(f"    {c.source}:{c.start}-{c.end}")
    return "\n".join(lines)


__all__ = ["ask", "format_answer", "ensure_index", "PolicyQAError"]
