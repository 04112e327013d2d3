"""``ask``: from a question to a short answer backed by verbatim, cited excerpts."""
from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
import time

import numpy as np

from index.dates import date_label
from index.structure import is_bare_heading, list_end
from index.config import Config, get_config, quiet_third_parties
from index.errors import BadQuestion, IndexDamaged, PolicyQAError
from index.embedder import word_pieces
from index.lexical import stem_pairs, stem_word, stems, words
from index.retrieval import EXACT_CHUNKS, Hit, IndexView, PolicyInfo, open_index

from .cues import answer_kinds, looks_like_answer
from .polarity import YES_NO_START, sentence_stance, yes_no_lead
from .question import (MAX_QUESTION_CHARS, VAGUE, Understood, expand_stems, is_practice, is_specific, paraphrase_stems,
                       search_text, understand, variants)
from .presence import union_over
from .records import Answer, Citation

MAX_EXCERPT_CHARS = 1200
MAX_HIGHLIGHT_CHARS = 600
MAX_LIST_ITEMS = 15
MAX_ITEM_LEAD_CHARS = 160  # a list item's opening words joined to a highlight later in the item
MAX_SHORT_BLOCK = 300  # a short paragraph after a sentence ending with ':' (an address) is what it introduces
MAX_COMPANIES_LISTED = 20
# Below this dense similarity the best passage is unrelated to the question.
MIN_DENSE_SIMILARITY = 0.22
# Share of the question's topic words a policy must contain to state it, across companies; for one
# company, a policy lacking that many is silent only when no passage is this close in meaning either
# (an off-topic question: "What is a good recipe for pancakes?").
MIN_TOPIC_COVERAGE = 0.5
OFF_TOPIC_SIMILARITY = 0.30
# Passages searched for an answer of a required shape ("how long": a period of time).
SHAPE_PASSAGES = 5
# Words of one family share this many first letters (identity, identifiable), all of a short word's.
FAMILY_PREFIX = 5
SHORT_WORD = 6
STALE_CHECK_SECONDS = 5.0
SENTENCE_COVERAGE_WEIGHT = 0.15  # tuned with the fusion weights (docs/quality.md)
# Bonus for a sentence shaped like the wanted answer (qa.cues), in the same units as the fused score.
ANSWER_SHAPE_WEIGHT = 0.05
# A neighbouring sentence joins the highlight when it adds this share of the topic weight.
NEIGHBOUR_GAIN = 0.25
NEWEST_VERSION_BONUS = 0.05
# Answer kinds this heavy (a time limit, a consequence, an address) decide which version answers.
STRONG_SHAPE = 2.0
# Bonus for a sentence that writes the question's side-by-side topic words as a phrase ("required cookies").
PHRASE_WEIGHT = 0.05
# An excerpt grows towards the neighbouring sentence closer to the question: its chunk's similarity
# plus this much of the share of the question's topic the sentence itself holds.
GROWTH_TOPIC_WEIGHT = 0.3
# Passages beyond the k cited whose neighbours' similarities are fetched up front (some are skipped).
NEIGHBOUR_LOOKAHEAD = 3
# The newest version addresses the topic when its best sentence holds half of it, as silence is judged.
NEWEST_ADDRESSES_TOPIC = MIN_TOPIC_COVERAGE

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
    hits = view.hits(query_vector, query_stems(understood), docs, k=max(k * 3, 10))
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


def judge_silence(understood: Understood, view: IndexView, docs: list[str], hits: list[Hit],
                  words_required: bool = False, by_rarity: bool = False) -> tuple[bool, list[str]]:
    """Whether the policies ``docs`` say nothing relevant, judged from their best ``hits``.

    Silence is proved, not guessed from missing everyday words (a question in the user's own words
    rarely uses the policy's): a name the policies never write ("Salesforce", "Do Not Track"), a
    word of the privacy vocabulary they never use with any of its synonyms ("sell": nor rent nor
    trade), a rare technical term they never use ("biometric"), an answer of a required shape that
    none of the best passages has ("How long ...?" and no period of time), or no passage near the
    question's meaning at all (most of its words absent and no passage close in meaning).
    Returns ``(silent, missing)``: ``missing`` are what the policies lack (the missing names first),
    for the answer to say.

    ``words_required`` (questions across companies: "Which companies mention subpoenas?") also
    takes a policy that lacks half of the question's topic words to be silent: there the words
    are what is looked for in every policy. With ``by_rarity`` a rare word weighs more than a common
    one there: a policy writing "collect" and "number" has not said it collects credit card numbers.
    """
    missing = _missing_topics(understood, view, docs)
    missing_lower = [m.lower() for m in missing]
    best_dense = max((h.dense for h in hits), default=0.0)
    if hits and best_dense < MIN_DENSE_SIMILARITY:
        best_dense = max(best_dense, _plain_model_similarity(understood, view, docs))
    entity_missing = [e.lower() for e in understood.entities if e.lower() in missing_lower]
    practice_missing = [m for m in missing if is_practice(m) and not _alternative_present(understood.question, m, missing)]
    specific_missing = [m for m in missing if is_specific(m, lambda w: word_pieces(view.config.model, w))]
    from .names import missing_names

    names_missing = missing_names(understood, view, docs)
    from .cues import required_shapes

    shapes = required_shapes(understood.question)
    shape_missing = _required_shape_missing(shapes, view, hits)
    # "What is X's street address?" is answered by an address, whatever words the policy uses for it.
    shape_answers = bool(hits) and not shape_missing and any(s.anywhere for s in shapes)
    topic = [w for w in understood.content_words if w not in VAGUE]
    covered = 1 - len([m for m in missing if m not in VAGUE]) / len(topic) if topic else 1.0
    if words_required and by_rarity and topic:
        weight = rarity_weights(view, topic)
        covered = min(covered, 1 - sum(weight[m] for m in missing if m in weight) / (sum(weight.values()) or 1.0))
    silent = (not hits or best_dense < MIN_DENSE_SIMILARITY or bool(entity_missing) or bool(practice_missing)
              or bool(names_missing) or bool(specific_missing) or bool(shape_missing)
              or (covered < MIN_TOPIC_COVERAGE and not shape_answers
                  and (words_required or _off_topic(understood, view, docs, best_dense))))
    return silent, (entity_missing or names_missing or practice_missing or specific_missing or shape_missing
                    or missing)


def _off_topic(understood: Understood, view: IndexView, docs: list[str], best_dense: float) -> bool:
    """No passage is close in meaning to the question, by the plain model (the query adapter was
    trained on privacy questions and lifts the similarity of unrelated ones)."""
    plain = _plain_model_similarity(understood, view, docs) or best_dense
    return min(plain, best_dense) < OFF_TOPIC_SIMILARITY


def _alternative_present(question: str, word: str, missing: list[str]) -> bool:
    """``word`` is one of alternatives ("for analytics or research") and another of them is present."""
    for match in re.finditer(r"(\w+)\s*(?:,|\bor\b|/)\s*(?:\w+\s+)?(\w+)", question.lower()):
        pair = {match.group(1), match.group(2)}
        if word in pair and any(other not in missing for other in pair - {word}):
            return True
    return False


def rarity_weights(view: IndexView, words_: list[str]) -> dict[str, float]:
    """Word -> the keyword index's idf of its rarest stem (1 for a word without stems)."""
    return {w: max((view.lexical.idf(s) for s in stems(w)), default=1.0) for w in words_}


def _required_shape_missing(shapes, view: IndexView, hits: list[Hit]) -> list[str]:
    """The names of the required ``shapes`` of answer (``qa.cues.required_shapes``: "how long", a
    period of time; a phone number) that none of the best passages has; [] otherwise."""
    if not shapes or not hits:
        return []
    passages = " ".join(view.source_text(h.doc)[h.start:h.end] for h in hits[:SHAPE_PASSAGES])
    whole = " ".join(view.source_text(d) for d in {h.doc for h in hits}) if any(s.anywhere for s in shapes) else ""
    others = _without_own_names(passages, {h.company for h in hits}) if not all(s.own_name_answers for s in shapes) else ""

    def text_for(shape) -> str:
        return whole if shape.anywhere else passages if shape.own_name_answers else others

    return [shape.name for shape in shapes if not shape.sentence.search(text_for(shape))]


def _without_own_names(text: str, companies: set[str]) -> str:
    """``text`` with the policies' own company names blanked ("Azendoo SAS" is not its own vendor)."""
    names = sorted((re.escape(c) for c in companies if c), key=len, reverse=True)
    if not names:
        return text
    return re.sub(rf"\b(?:{'|'.join(names)})\b", "the company", text, flags=re.I)


@lru_cache(maxsize=256)
def _plain_vector(model: str, question: str):
    """A question's plain-model vector, once (a question across companies is judged per company)."""
    from index.embedder import embed_query

    return embed_query(model, question, adapter=False)


def _plain_model_similarity(understood: Understood, view: IndexView, docs: list[str]) -> float:
    """The best passage's similarity to the question embedded by the plain model.

    The similarity floor was calibrated on the plain model; the query adapter ranks passages
    better but lowers the similarity of some questions (generic ones, typos), so a question under
    the floor is checked again, at the cost of a second embedding for those few questions only.
    """
    from index.query_adapter import applies_to

    config = view.config
    if not config.query_adapter or not applies_to(config.model, config.query_adapter):
        return 0.0
    plain = _plain_vector(config.model, understood.question)
    if sum(view.policies[d].chunks for d in docs if d in view.policies) <= EXACT_CHUNKS:
        # A few policies (one company, or one of many judged in turn): their stored vectors, no second search.
        best = 0.0
        for doc in docs:
            ids, matrix = view.doc_vectors(doc)
            if ids:
                best = max(best, float(np.max(matrix @ np.asarray(plain, dtype="float32"))))
        return best
    return max((h.dense for h in view.hits(plain, query_stems(understood), docs, k=10)), default=0.0)


def stance(understood: Understood, sentence: str) -> str | None:
    """``"no"`` when ``sentence`` speaks to the question's topic and negates it, ``"yes"`` when it
    speaks to it plainly, None when it does not speak to the topic words at all (``qa.polarity``)."""
    return sentence_stance(understood, sentence)


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


def _missing_topics(understood: Understood, view: IndexView, docs: list[str]) -> list[str]:
    """Topic words of the question that no searched policy mentions: not the word, not a synonym,
    not a word of the same family (identity/identifiable: all but the last three letters shared,
    five at least). Names (capitalised words) count only as themselves, in their own forms
    (``qa.names.name_word_present``): Salesforce is not sales, Californian is California."""
    if not understood.content_words:
        return []
    present = _present_stems(view, docs)
    from .names import asks_where_the_company_is, name_word_present

    names = {e.lower() for e in understood.entities}

    def in_family(word: str) -> bool:
        # Short words must be whole: "recipe" is not "recipient".
        size = len(word) if len(word) <= SHORT_WORD else max(FAMILY_PREFIX, len(word) - 3)
        return (len(word) > size and word not in names
                and any(p.startswith(word[:size]) for p in present if len(p) >= size))

    def name_in_another_form(word: str) -> bool:  # Californian: California; IDs: identifiers
        return word in names and name_word_present(word, present)

    missing = [w for w in understood.content_words
               if not (variants(w) & present) and not in_family(w) and not name_in_another_form(w)]
    if names and not asks_where_the_company_is(understood.question):
        # A name written only in the company's postal address ("Bordeaux France") is not spoken of.
        prose = _present_stems(view, docs, prose=True)
        missing += [w for w in understood.content_words if w in names and w not in missing
                    and not (variants(w) & prose) and not name_word_present(w, prose)]
    return missing


_stem_cache: dict[tuple[str, str, bool], frozenset] = {}


def _present_stems(view: IndexView, docs: list[str], prose: bool = False) -> frozenset:
    """Every stem and word the policies ``docs`` write (with ``prose``, outside their address blocks)."""
    return union_over(view, docs, "prose stems" if prose else "stems",
                      lambda ds: frozenset().union(*(_doc_stems(view, d, prose) for d in ds)))


def _doc_stems(view: IndexView, doc: str, prose: bool = False) -> frozenset:
    key = (view.policies[doc].source, str(view.manifest_mtime), prose)
    found = _stem_cache.get(key)
    if found is None:
        from .names import without_address_blocks

        text = without_address_blocks(view.source_text(doc)) if prose else view.source_text(doc)
        found = frozenset(stems(text)) | frozenset(words(text))
        if len(_stem_cache) > 512:
            _stem_cache.clear()  # another thread may be reading: it keeps its own reference
        _stem_cache[key] = found
    return found


@dataclass
class _Scored:
    hit: Hit
    sentence: tuple[int, int]
    score: float
    coverage: float  # share of the question's topic weight found in the best sentence
    phrase: float = 0.0  # share of the question's phrase weight written as a phrase there
    shape: float = 0.0  # weight of the wanted answer kind the best sentence has (qa.cues), 0 for none


def _topic_weights(view: IndexView, understood: Understood) -> dict[str, float]:
    """Stem -> weight: rare question words weigh most; synonyms count half."""
    weights: dict[str, float] = {}
    for word in understood.content_words:
        direct = stems(word)
        for stem in direct:
            weights[stem] = max(weights.get(stem, 0.0), view.lexical.idf(stem))
        for stem in (variants(word) | set(paraphrase_stems(word))) - set(direct):
            weights.setdefault(stem, 0.5 * view.lexical.idf(stem))
    return weights


def _topic_total(view: IndexView, understood: Understood) -> float:
    """The question's whole topic weight: what a sentence's topic weight is a share of."""
    return sum(view.lexical.idf(s) for w in understood.content_words for s in stems(w)) or 1.0


def _phrase_weights(view: IndexView, understood: Understood) -> dict[tuple[str, str], float]:
    """Stem pair -> weight (its rarer word's) for the question's topic words written side by side."""
    out: dict[tuple[str, str], float] = {}
    for a, b in understood.phrases:
        pair = (stem_word(a), stem_word(b))
        out[pair] = max(out.get(pair, 0.0), min(view.lexical.idf(pair[0]), view.lexical.idf(pair[1])))
    return out


def _phrase_share(phrases: dict[tuple[str, str], float], sentence: str) -> float:
    """Share of the question's phrase weight that ``sentence`` writes as the question does."""
    pairs = stem_pairs(sentence)
    return sum(w for pair, w in phrases.items() if pair in pairs) / (sum(phrases.values()) or 1.0)


def _only_older_has_the_shape(scored: list[_Scored], newest: set[str], kinds: tuple) -> bool:
    """Whether the question wants a concrete answer ("how long will it take?": a time limit; "what
    happens if ...": a consequence) that only an older version gives in a sentence on its topic:
    the newest version's "You may also delete cookies manually" shares the topic, not the answer."""
    strong = max((kind.weight for kind in kinds), default=0.0)
    if strong < STRONG_SHAPE:
        return False
    # On the topic: as much of it as the newest version holds at best (a little less), at most half.
    enough = min(NEWEST_ADDRESSES_TOPIC, max((s.coverage for s in scored if s.hit.doc in newest), default=0.0) - 0.1)

    def answers(s: _Scored) -> bool:
        return s.coverage >= enough and s.coverage > 0 and s.shape >= STRONG_SHAPE
    return (not any(answers(s) for s in scored if s.hit.doc in newest)
            and any(answers(s) for s in scored if s.hit.doc not in newest))


def _older_writes_the_phrase(view: IndexView, scored: list[_Scored], phrases: dict[tuple[str, str], float],
                             newest: set[str]) -> bool:
    """Whether an older version writes a phrase of the question ("required cookies") that the newest
    version's passages hold only apart ("our opt-out requires ... an opt-out cookie"): then the older
    one addresses the question and the newest merely shares its words. (A newest version that lacks
    one of the words may say the same in other words: "security measures" / "tools ... encryption".)"""
    older = [s for s in scored if s.hit.doc not in newest and s.phrase > 0]
    current = [s for s in scored if s.hit.doc in newest]
    if not older or not current:
        return False
    best = max(older, key=lambda s: s.phrase)
    if any(s.phrase >= best.phrase for s in current):
        return False
    text = view.source_text(best.hit.doc)
    newest_pairs = set().union(*(stem_pairs(view.source_text(s.hit.doc)[s.sentence[0]:s.sentence[1]]) for s in current))
    written = [pair for pair in phrases
               if pair in stem_pairs(text[best.sentence[0]:best.sentence[1]]) and pair not in newest_pairs]
    for s in current:
        if s.coverage < NEWEST_ADDRESSES_TOPIC:
            continue  # not a sentence that makes the newest version address the topic
        apart = set(stems(view.source_text(s.hit.doc)[s.sentence[0]:s.sentence[1]]))
        if any(a in apart and b in apart for a, b in written):
            return True
    return False


def _rerank(view: IndexView, hits: list[Hit], understood: Understood, newest: set[str]) -> list[_Scored]:
    """Order hits by fused score plus how well their best sentence answers: how much of the question's
    topic it covers, and whether it has the shape of the wanted answer (a purpose, a duration...)."""
    weights = _topic_weights(view, understood)
    total = _topic_total(view, understood)
    phrases = _phrase_weights(view, understood)
    kinds = answer_kinds(understood.question)
    scored = []
    for hit in hits:
        text = view.source_text(hit.doc)
        found = [set(stems(text[a:b])) for a, b in hit.sentences]
        values = [sum(w for stem, w in weights.items() if stem in f) for f in found]
        cues = [looks_like_answer(kinds, text[a:b]) if kinds else 0.0 for a, b in hit.sentences]
        said = [_phrase_share(phrases, text[a:b]) for a, b in hit.sentences] if phrases else [0.0] * len(values)
        bare = [is_bare_heading(text[a:b]) for a, b in hit.sentences]  # a heading alone is never the evidence
        pick = max(range(len(values)), key=lambda i: (not bare[i], values[i] / total + ANSWER_SHAPE_WEIGHT * cues[i]
                                                      + PHRASE_WEIGHT * said[i], -i))
        best, value = hit.sentences[pick], values[pick]
        # An answer split over two sentences: take the neighbour when it covers what the best one misses.
        for j in (pick + 1, pick - 1):
            if 0 <= j < len(values) and weights:
                joined = sum(w for stem, w in weights.items() if stem in found[pick] | found[j])
                span = (min(best[0], hit.sentences[j][0]), max(best[1], hit.sentences[j][1]))
                if joined - value >= NEIGHBOUR_GAIN * total and span[1] - span[0] <= MAX_HIGHLIGHT_CHARS:
                    best, value = span, joined
                    break
        coverage = min(value / total, 1.0) if weights else 0.0
        bonus = NEWEST_VERSION_BONUS if hit.doc in newest else 0.0
        score = (hit.score + SENTENCE_COVERAGE_WEIGHT * coverage + ANSWER_SHAPE_WEIGHT * cues[pick]
                 + PHRASE_WEIGHT * said[pick] + bonus)
        scored.append(_Scored(hit, best, score, coverage, said[pick], cues[pick]))
    scored.sort(key=lambda s: -s.score)
    # The newest version answers whenever it addresses the topic; older versions only fill its
    # silence. Below the first citation, passages of every version follow by score, each with its date.
    best_newest = max((s.coverage for s in scored if s.hit.doc in newest), default=0.0)
    best_older = max((s.coverage for s in scored if s.hit.doc not in newest), default=0.0)
    if best_newest >= NEWEST_ADDRESSES_TOPIC or best_newest >= best_older - 0.05:
        first = next((s for s in scored if s.hit.doc in newest), None)
        if (first is not None and not _older_writes_the_phrase(view, scored, phrases, newest)
                and not _only_older_has_the_shape(scored, newest, kinds)):
            scored = [first] + [s for s in scored if s is not first]
    return scored


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


def _citations(view: IndexView, ranked: list[_Scored], k: int, query_vector=None, topic=None) -> list[Citation]:
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
    from .cues import REQUIRED

    companies = understood.companies
    kind = next((kind for kind in REQUIRED if missing and missing[0] == kind.name), None)
    if kind:
        verb, what = ("say", kind.silence) if kind.silence else ("state", f"{kind.name} for this")
        if not companies:
            return f"None of the indexed privacy policies {verb}s {what}."
        whose = f"{companies[0]}'s policy does" if len(companies) == 1 else f"The policies of {', '.join(companies)} do"
        return f"{whose} not {verb} {what}."
    what = _topic_phrase(understood, missing)
    # One company's policies ("its" address): a missing name they do write was written only in an address block.
    entities_missing = [e.lower() for e in understood.entities if e.lower() in missing]
    if entities_missing and len(docs) <= 2 and any(e in _present_stems(view, docs) for e in entities_missing):
        what += " outside its postal address"
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
        lines.append(f"[{c.n}] {c.company} · policy of {date_label(c.policy_date)} · {c.section}")
        lines.append(f"    “{_quote(c.highlight)}”")
        lines.append(f"    {c.source}:{c.start}-{c.end}")
    return "\n".join(lines)


__all__ = ["ask", "format_answer", "ensure_index", "PolicyQAError"]
