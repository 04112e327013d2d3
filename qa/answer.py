"""``ask``: from a question to a short answer backed by verbatim, cited excerpts."""
from __future__ import annotations

import re
import threading
import unicodedata
import time

from index.dates import date_label
from index.structure import list_end
from index.config import Config, get_config, quiet_third_parties
from index.errors import BadQuestion, IndexDamaged, PolicyQAError
from index.lexical import stems
from index.retrieval import Hit, IndexView, PolicyInfo, open_index

from .polarity import yes_no_lead
from .question import MAX_QUESTION_CHARS, Understood, expand_stems, search_text, understand
from .records import Answer, Citation

MAX_EXCERPT_CHARS = 1200
MAX_HIGHLIGHT_CHARS = 600
MAX_LIST_ITEMS = 15
MAX_ITEM_LEAD_CHARS = 160  # a list item's opening words joined to a highlight later in the item
MAX_SHORT_BLOCK = 300  # a short paragraph after a sentence ending with ':' (an address) is what it introduces
MAX_COMPANIES_LISTED = 20
STALE_CHECK_SECONDS = 5.0
# Passages retrieved for a question (the judge reads the first of them, ``qa.evidence``).
RETRIEVED = 15
# An excerpt grows towards the neighbouring sentence closer to the question: its chunk's similarity
# plus this much of the share of the question's topic the sentence itself holds.
GROWTH_TOPIC_WEIGHT = 0.3
# Passages beyond the k cited whose neighbours' similarities are fetched up front (some are skipped).
NEIGHBOUR_LOOKAHEAD = 3

# A name the searched policies never write ("Salesforce", "Do Not Track") makes them silent on it.
NAMES_RULE = True

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


def clean_question(question) -> str:
    """Validate and normalise a question, or raise ``BadQuestion`` with a message for the user."""
    if not isinstance(question, str):
        raise BadQuestion("the question must be text")
    if len(question) > 50 * MAX_QUESTION_CHARS:  # do not even scan a pasted book
        raise BadQuestion(f"the question is too long ({len(question):,} characters; the limit is "
                          f"{MAX_QUESTION_CHARS:,}). Ask one short question at a time.")
    # Control and format characters, and lone surrogates (what undecodable bytes on a command line become).
    text = re.sub(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff\ud800-\udfff]",
                  " ", question)
    text = unicodedata.normalize("NFC", " ".join(text.split()))  # "e" + combining accent is "é"
    if not text and re.search(r"[\ud800-\udfff]", question):
        raise BadQuestion("the question is not readable text (its bytes are not UTF-8; check the terminal's encoding)")
    if not text:
        raise BadQuestion("the question is empty: ask something like 'Does Comindware share data with Salesforce?'")
    if len(text) > MAX_QUESTION_CHARS:
        raise BadQuestion(f"the question is too long ({len(text):,} characters; the limit is "
                          f"{MAX_QUESTION_CHARS:,}). Ask one short question at a time.")
    if not re.search(r"\w", text):
        raise BadQuestion("the question has no words in it")
    return text


def ask(question: str, company: str | None = None, k: int = 5, config: Config | None = None,
        policy_date: str | None = None) -> Answer:
    """Answer ``question`` from the indexed privacy policies.

    ``company`` (name or domain, any case) restricts the answer to that company; otherwise a
    company named in the question does. The newest policy version is used unless the question
    names a year or ``policy_date`` (ISO date of one version) picks a version.
    Returns an ``Answer`` whose ``citations`` quote the policies verbatim.
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

    company = _clean_company(company)
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

    if policy_date:
        policies = [p for p in policies if p.policy_date == policy_date
                    and (not understood.companies or p.company in understood.companies)]
        if not policies:
            return _unknown_version_answer(text, understood.companies, policy_date, view)
    docs, newest, notes = _choose_versions(understood, policies)
    from index.embedder import embed_query

    named = [p for p in view.policies.values() if p.company in understood.companies]
    query_vector = embed_query(config.model, search_text(text, named), config.query_adapter)
    hits = view.hits(query_vector, query_stems(understood), docs, k=max(k * 3, RETRIEVED))
    focus = understood.companies[0] if len(understood.companies) == 1 else None
    answer = Answer(question=text, text="", found=False, company=focus, notes=notes,
                    policy_date=view.policies[next(iter(newest))].policy_date if len(newest) == 1 else None)
    if not hits:
        answer.text = _silent_text(understood, view, docs, [])
        return answer
    from .evidence import judge_passages, prefer_newest
    from .judge import get_judge

    calibration = get_judge(config).calibration
    judged = judge_passages(view, understood, hits, config, query_vector)
    if not judged or judged[0].probability < calibration.answers or (NAMES_RULE and _names_missing(understood, view, docs)):
        answer.text = _silent_text(understood, view, docs, _names_missing(understood, view, docs) if NAMES_RULE else [])
        return answer
    ranked = prefer_newest(judged, newest, calibration.answers)
    answer.citations = _citations(view, ranked, k, query_vector, _topic_share(view, understood))
    answer.found = bool(answer.citations)
    lead_allowed = ranked[0].probability >= calibration.lead
    answer.text = _answer_text(understood, answer.citations, view, newest, lead_allowed)
    if answer.found:
        from .versions import add_earlier_version_line

        add_earlier_version_line(answer, understood, view, ranked, newest, calibration.answers)
    return answer


def _names_missing(understood: Understood, view: IndexView, docs: list[str]) -> list[str]:
    from .names import missing_names

    return missing_names(understood, view, docs)


def query_stems(understood: Understood) -> list[str]:
    """Keyword-search stems: the question's own, then its topic words' synonyms."""
    from .names import PLACE_NAMES

    own = stems(understood.question)
    places = [other for e in understood.entities for other in PLACE_NAMES.get(e.lower(), ())]
    return own + [s for s in expand_stems(understood.content_words) + stems(" ".join(places)) if s not in own]


def _clean_company(company) -> str | None:
    """The ``company`` argument without control characters; None when it is blank."""
    if company is None:
        return None
    if not isinstance(company, str):
        raise BadQuestion("the company must be a name or a domain, as text")
    cleaned = " ".join(re.sub(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\ud800-\udfff]", " ", company).split())
    if len(cleaned) > 200:
        raise BadQuestion("the company name is too long (the limit is 200 characters)")
    return cleaned or None


def _unknown_company_answer(question: str, name: str, policies: list[PolicyInfo]) -> Answer:
    known = sorted({p.company for p in policies})
    listed = ", ".join(known[:MAX_COMPANIES_LISTED])
    if len(known) > MAX_COMPANIES_LISTED:
        listed += f" and {len(known) - MAX_COMPANIES_LISTED:,} more"
    return Answer(question=question, found=False,
                  text=f"I have no privacy policy for {name}. The policies I know are: {listed}.")


def _unknown_version_answer(question: str, companies: list[str], policy_date: str, view: IndexView) -> Answer:
    dates = sorted({date_label(p.policy_date) for p in view.policies.values() if not companies or p.company in companies})
    whose = f"{companies[0]}'s" if len(companies) == 1 else "an indexed"
    return Answer(question=question, found=False,
                  text=f"I have no version of {whose} policy dated {policy_date}. The versions I know are: "
                       f"{', '.join(dates)}.")


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


def _topic_weights(view: IndexView, understood: Understood) -> dict[str, float]:
    """Stem -> weight: rare question words weigh most."""
    return {stem: view.lexical.idf(stem) for word in understood.content_words for stem in stems(word)}


def _topic_total(view: IndexView, understood: Understood) -> float:
    """The question's whole topic weight: what a sentence's topic weight is a share of."""
    return sum(view.lexical.idf(s) for w in understood.content_words for s in stems(w)) or 1.0


_REFERENT = (r"(?:information|data|details?|signals?|features?|icons?|requests?|services?|tools?|"
             r"technolog(?:y|ies)|cookies?|choices?|settings?|programs?|practices?|changes?)\b")
# A word that names what it refers back to ("this information", "these cookies").
_NAMES_WHAT_IT_REFERS_TO = re.compile(rf"\b(?:this|these|such) {_REFERENT}", re.I)
# A sentence that leans on the one before it ("This includes ...", "Azalead does not store this
# information", "Because ..., we do not respond ...") completes it: the two are one statement.
_LEANS_BACK = re.compile(
    r"^\W*(?:this|these|that|those|such|it|they|however|but|because|therefore|thus|instead|otherwise|"
    r"in (?:this|that|such|which) case|if so|unless)\b"
    rf"|\b(?:this|these|such|that) {_REFERENT}"
    r"|\b(?:share|send|provide|give|handle|process|store|keep|delete|retain|use) (?:this|these|it|them)\b", re.I)
# A paragraph that opens with a contrast or consequence continues the paragraph before it.
_CONTINUES_PARAGRAPH = re.compile(
    r"^\W*(?:however|but|therefore|thus|instead|otherwise|nevertheless|nonetheless|"
    r"in (?:this|that|such) case)\b", re.I)


def _joins(gap: str, sentence: str) -> bool:
    """Whether ``sentence``, separated by ``gap`` from the highlight, continues it."""
    if "\n" not in gap:
        return bool(_LEANS_BACK.search(sentence))
    return gap.count("\n") <= 2 and not _LIST_ITEM.match(sentence) and bool(_CONTINUES_PARAGRAPH.match(sentence))


def _with_continuation(text: str, sentences: list[tuple[int, int]], start: int, end: int) -> tuple[int, int]:
    """[start, end) joined with the next sentence when that one leans back on it (in the same
    paragraph, or opening the next one with "However, ..."), or with the one after it when that
    names what it refers to ("... does not store this information"); and with the previous
    sentence when its own first sentence leans back. Within ``MAX_HIGHLIGHT_CHARS``."""
    after = [s for s in sentences if s[0] >= end][:2]
    if after and after[0][1] - start <= MAX_HIGHLIGHT_CHARS and _joins(text[end:after[0][0]],
                                                                       text[after[0][0]:after[0][1]]):
        end = after[0][1]
    elif (len(after) == 2 and "\n" not in text[end:after[1][0]] and after[1][1] - start <= MAX_HIGHLIGHT_CHARS
          and _NAMES_WHAT_IT_REFERS_TO.search(text[after[1][0]:after[1][1]])):
        end = after[1][1]
    previous = next((s for s in reversed(sentences) if s[1] <= start), None)
    if (previous and end - previous[0] <= MAX_HIGHLIGHT_CHARS and not _LIST_ITEM.match(text, previous[0])
            and not text[previous[0]:previous[1]].rstrip().endswith(":")
            and (_LEANS_BACK.match(text, start) if "\n" not in text[previous[1]:start]
                 else _joins(text[previous[1]:start], text[start:end]))):
        start = previous[0]
    return start, end


def _topic_share(view: IndexView, understood: Understood):
    """A function: sentence text -> the share of the question's topic weight it holds (0 to 1)."""
    weights = _topic_weights(view, understood)
    total = _topic_total(view, understood)

    def share(sentence: str) -> float:
        found = set(stems(sentence))
        return min(sum(w for stem, w in weights.items() if stem in found) / total, 1.0)
    return share


def _citations(view: IndexView, ranked: list, k: int, query_vector=None, topic=None) -> list[Citation]:
    """The top ``k`` distinct passages: a later passage already shown inside an earlier excerpt is skipped.

    With ``query_vector``, each excerpt grows towards the neighbouring text closer to the question
    (by its chunk's similarity, plus ``GROWTH_TOPIC_WEIGHT`` x ``topic(sentence)`` when given)."""
    citations: list[Citation] = []
    shown: list[tuple[str, int, int]] = []
    closeness: dict[str, float] = {}
    if query_vector is not None:
        near = [cid for item in ranked[:k + NEIGHBOUR_LOOKAHEAD] for cid in view.neighbour_chunks(item.hit)]
        closeness = view.chunk_similarities(near, query_vector)
    for item in ranked:
        hit, best = item.hit, item.sentence
        if any(doc == hit.doc and hit.start < end and start < hit.end for doc, start, end in shown):
            continue
        source_text = view.source_text(hit.doc)
        highlight_start, highlight_end = _highlight_span(source_text, hit, best, view)
        # An excerpt does not grow into text an earlier citation already shows.
        floor = max((e for d, _, e in shown if d == hit.doc and e <= hit.start), default=0)
        ceiling = min((b for d, b, _ in shown if d == hit.doc and b >= hit.end), default=len(source_text))
        floor = max(floor, hit.start - MAX_EXCERPT_CHARS)  # beyond these the excerpt cannot reach
        ceiling = min(ceiling, hit.end + MAX_EXCERPT_CHARS)
        sentences = [(span, chunk) for span, chunk in view.policy_sentences(hit)
                     if span[0] >= floor and span[1] <= ceiling]
        unknown = [chunk for _, chunk in sentences if chunk not in closeness]
        if query_vector is not None and unknown:
            closeness.update(view.chunk_similarities(unknown, query_vector))
        towards = None
        if query_vector is not None:
            towards = [closeness.get(chunk, 0.0) + (GROWTH_TOPIC_WEIGHT * topic(source_text[a:b]) if topic else 0.0)
                       for (a, b), chunk in sentences]
        start, end = _excerpt_bounds(hit, (highlight_start, highlight_end), [span for span, _ in sentences], towards)
        shown.append((hit.doc, start, end))
        citations.append(Citation(
            n=len(citations) + 1, company=hit.company, policy_date=hit.policy_date, section=hit.section,
            score=round(item.score, 4), excerpt=source_text[start:end],
            highlight=source_text[highlight_start:highlight_end], source=hit.source, start=start, end=end,
            highlight_start=highlight_start, highlight_end=highlight_end, doc=hit.doc,
        ))
        if len(citations) >= k:
            break
    return citations


def _highlight_span(text: str, hit: Hit, best: tuple[int, int], view: IndexView) -> tuple[int, int]:
    """The evidence sentence; a sentence that introduces a list (ends with ':') takes the list with it,
    and a sentence inside a list item takes the item's opening words ("* Have your data deleted.
    You can ask us to ...": the item is one statement), and a sentence is joined by the one of its
    paragraph that leans back on it ("Usage data: We collect ... This includes IP addresses ...")."""
    start, end = best
    line_start = text.rfind("\n", 0, start) + 1
    item = _LIST_ITEM.match(text, line_start)
    if item and item.end() < start and start - item.end() <= MAX_ITEM_LEAD_CHARS and end - item.end() <= MAX_HIGHLIGHT_CHARS:
        start = item.end()
    sentences = view.section_sentences(hit)
    if not text[start:end].rstrip().endswith(":"):
        return _with_continuation(text, sentences, start, end)
    following = [s for s in sentences if s[0] >= end]
    if following and not _LIST_ITEM.match(text, following[0][0] - _line_offset(text, following[0][0])):
        # "... or by mailing:" and the address as a short paragraph of its own lines.
        block_end = text.find("\n\n", following[0][0])
        block_end = len(text) if block_end < 0 else block_end
        if block_end - following[0][0] <= MAX_SHORT_BLOCK and block_end - start <= MAX_HIGHLIGHT_CHARS:
            return start, max([s[1] for s in following if s[1] <= block_end] or [end])
    return start, list_end(text, end, following, MAX_HIGHLIGHT_CHARS - (end - start))


_LIST_ITEM = re.compile(r"[ \t]*(?:[*+\-•]|\d+[.)])\s")


def _line_offset(text: str, pos: int) -> int:
    return pos - (text.rfind("\n", 0, pos) + 1)


def _excerpt_bounds(hit: Hit, highlight: tuple[int, int], sentences: list[tuple[int, int]],
                    closeness: list[float] | None = None) -> tuple[int, int]:
    """The chunk, grown by whole neighbouring sentences (``sentences``: the policy's) while the
    excerpt stays within ``MAX_EXCERPT_CHARS``; a longer chunk is cut around the highlight.

    With ``closeness`` (each sentence's similarity to the question, by its chunk), each step takes
    the neighbouring sentence closer to the question; without it, one after, one before, in turn."""
    start, end = min(hit.start, highlight[0]), max(hit.end, highlight[1])
    if end - start > MAX_EXCERPT_CHARS:
        centre = (highlight[0] + highlight[1]) // 2
        start = max(start, min(highlight[0], centre - MAX_EXCERPT_CHARS // 2))
        end = min(end, start + MAX_EXCERPT_CHARS)
        if highlight[1] > end:
            end = highlight[1]
            start = max(hit.start, end - MAX_EXCERPT_CHARS)
        return start, end
    if closeness is not None:
        return _grow_towards_question(start, end, sentences, closeness)
    before = [s for s in sentences if s[1] <= start][::-1]
    after = [s for s in sentences if s[0] >= end]
    while before or after:
        grew = False
        if after and after[0][1] - start <= MAX_EXCERPT_CHARS:
            end = after.pop(0)[1]
            grew = True
        if before and end - before[0][0] <= MAX_EXCERPT_CHARS:
            start = before.pop(0)[0]
            grew = True
        if not grew:
            break
    return start, end


def _grow_towards_question(start: int, end: int, sentences: list[tuple[int, int]],
                           closeness: list[float]) -> tuple[int, int]:
    """Grow [start, end) one whole sentence at a time, on the side whose next sentence is closer
    to the question (after, on a tie), while the excerpt stays within ``MAX_EXCERPT_CHARS``."""
    before = [i for i, s in enumerate(sentences) if s[1] <= start][::-1]
    after = [i for i, s in enumerate(sentences) if s[0] >= end]
    while True:
        options = []
        if after and sentences[after[0]][1] - start <= MAX_EXCERPT_CHARS:
            options.append((closeness[after[0]], 1, "after"))
        if before and end - sentences[before[0]][0] <= MAX_EXCERPT_CHARS:
            options.append((closeness[before[0]], 0, "before"))
        if not options:
            return start, end
        if max(options)[2] == "after":
            end = sentences[after.pop(0)][1]
        else:
            start = sentences[before.pop(0)][0]


def _list_intro(view: IndexView, citation: Citation) -> str | None:
    """For a highlight that is a list item, the sentence introducing the list ("We may disclose your
    information:"): the item alone does not say who does what."""
    text = view.source_text(citation.doc)
    if not _LIST_ITEM.match(text, citation.highlight_start - _line_offset(text, citation.highlight_start)):
        return None
    sentences = [tuple(s) for c in view.doc_chunks.get(citation.doc, []) if c["section"] == citation.section
                 for s in c["sentences"] if s[1] <= citation.highlight_start]
    for start, end in reversed(sentences[-MAX_LIST_ITEMS:]):
        if text[start:end].rstrip().endswith(":"):
            return text[start:end]
        if not _LIST_ITEM.match(text, start - _line_offset(text, start)):
            return None
    return None


def _quote(text: str) -> str:
    from index.chunking import plain_text

    words = plain_text(text)
    return words if len(words) <= 400 else words[:397].rsplit(" ", 1)[0] + "…"


def _answer_text(understood: Understood, citations: list[Citation], view: IndexView, newest: set[str],
                 lead_allowed: bool = True) -> str:
    first = citations[0]
    who = f"{first.company}'s policy ({date_label(first.policy_date)}) says"
    if first.doc not in newest:
        current = [view.policies[d] for d in newest if view.policies[d].company == first.company]
        if current:
            who = (f"{first.company}'s current policy ({date_label(current[0].policy_date)}) does not say this directly; "
                   f"its earlier version ({date_label(first.policy_date)}) says")
    intro = _list_intro(view, first)
    lead = yes_no_lead(understood, f"{intro} {first.highlight}" if intro else first.highlight) if lead_allowed else None
    quote = f"{_quote(intro)} … {_quote(first.highlight)}" if intro else _quote(first.highlight)
    text = f"{lead + '. ' if lead else ''}{who}: “{quote}” [1]"
    more = [c for c in citations[1:3] if c.company != first.company or c.section != first.section]
    if more:
        text += " See also " + ", ".join(f"[{c.n}]" for c in more) + "."
    return text


def _silent_text(understood: Understood, view: IndexView, docs: list[str], missing: list[str]) -> str:
    """What the answer says when the policies are silent: the names they never write, when that
    is why; otherwise that no sentence of theirs answers the question (the judge's verdict)."""
    companies = understood.companies
    if len(companies) == 1:
        whose, verb = f"{companies[0]}'s policy", "does"
    elif companies:
        whose, verb = f"The policies of {', '.join(companies)}", "do"
    else:
        whose, verb = "None of the indexed privacy policies", ""
    if missing:
        what = _topic_phrase(understood, missing)
        return f"{whose} {verb} not mention {what}." if verb else f"{whose} mentions {what}."
    if not verb:
        return "Not stated: none of the indexed privacy policies addresses this question."
    return f"Not stated: {whose} {verb} not address this question."


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
        lines.append(f"[{c.n}] {c.company} · policy of {date_label(c.policy_date)} · {c.section}")
        lines.append(f"    “{_quote(c.highlight)}”")
        lines.append(f"    {c.source}:{c.start}-{c.end}")
    return "\n".join(lines)


__all__ = ["ask", "format_answer", "ensure_index", "PolicyQAError"]
