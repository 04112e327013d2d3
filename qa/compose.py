"""Compose stage: citations (verbatim excerpts grown around the evidence sentence), the answer
text with its Yes/No lead, the silent answer, and the CLI rendering."""
from __future__ import annotations

import re

from index.dates import date_label
from index.lexical import stems
from index.retrieval import Hit, IndexView
from index.chunking import plain_text
from index.config import Config
from index.structure import is_bare_heading, list_end, list_item

from .polarity import lead_features, read_lead
from .question import Understood
from .records import Answer, Citation

MAX_EXCERPT_CHARS = 1200
MAX_HIGHLIGHT_CHARS = 600
MAX_LIST_ITEMS = 15
MAX_ITEM_LEAD_CHARS = 160  # a list item's opening words joined to a highlight later in the item
MAX_SHORT_BLOCK = 300  # a short paragraph after a sentence ending with ':' (an address) is what it introduces
# An excerpt grows towards the neighbouring sentence closer to the question: its chunk's similarity
# plus this much of the share of the question's topic the sentence itself holds.
GROWTH_TOPIC_WEIGHT = 0.3
# Passages beyond the k cited whose neighbours' similarities are fetched up front (some are skipped).
NEIGHBOUR_LOOKAHEAD = 3


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


def topic_share(view: IndexView, understood: Understood):
    """A function: sentence text -> the share of the question's topic weight it holds (0 to 1)."""
    weights = _topic_weights(view, understood)
    total = _topic_total(view, understood)

    def share(sentence: str) -> float:
        found = set(stems(sentence))
        return min(sum(w for stem, w in weights.items() if stem in found) / total, 1.0)
    return share


def cite(view: IndexView, ranked: list, k: int, query_vector=None, topic=None,
         likely: set[tuple[str, int, int]] | None = None) -> list[Citation]:
    """The top ``k`` distinct passages: a later passage already shown inside an earlier excerpt is skipped.

    With ``query_vector``, each excerpt grows towards the neighbouring text closer to the question
    (by its chunk's similarity, plus ``GROWTH_TOPIC_WEIGHT`` x ``topic(sentence)`` when given).
    ``likely``: (doc, start, end) of the sentences the judge finds likely answers; one beside a
    highlight joins it (``_with_likely_neighbours``)."""
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
        best = _not_a_heading(source_text, hit, best, view)
        if best is None:
            continue  # headings only: nothing here to quote as evidence
        highlight_start, highlight_end = _highlight_span(source_text, hit, best, view)
        if likely:
            highlight_start, highlight_end = _with_likely_neighbours(
                view.section_sentences(hit), (highlight_start, highlight_end),
                {(a, b) for doc, a, b in likely if doc == hit.doc})
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
        if any(doc == hit.doc and start < e and b < end for doc, b, e in shown):
            continue  # its highlight reached into text an earlier citation shows
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


def _with_likely_neighbours(sentences: list[tuple[int, int]], highlight: tuple[int, int],
                            likely: set[tuple[int, int]]) -> tuple[int, int]:
    """``highlight`` joined with the sentence just before and the one just after it (in its
    section) that the judge also finds a likely answer (``likely``), within ``MAX_HIGHLIGHT_CHARS``:
    the answer often runs over two sentences ("Sign up for our monthly newsletter. We will never
    share your information with third parties.")."""
    start, end = highlight
    after = next((s for s in sentences if s[0] >= end), None)
    if after in likely and after[1] - start <= MAX_HIGHLIGHT_CHARS:
        end = after[1]
    before = next((s for s in reversed(sentences) if s[1] <= start), None)
    if before in likely and end - before[0] <= MAX_HIGHLIGHT_CHARS:
        start = before[0]
    return start, end


def _not_a_heading(text: str, hit: Hit, best: tuple[int, int], view: IndexView) -> tuple[int, int] | None:
    """``best``, or when it is only a heading ("Service Providers", the first sentence of a passage
    that was not judged), the first sentence after it in its section that is not; None if none is."""
    if not is_bare_heading(plain_text(text[best[0]:best[1]])):
        return tuple(best)
    return next((tuple(span) for span in view.section_sentences(hit)
                 if span[0] >= best[1] and not is_bare_heading(plain_text(text[span[0]:span[1]]))), None)


def _highlight_span(text: str, hit: Hit, best: tuple[int, int], view: IndexView) -> tuple[int, int]:
    """The evidence sentence; a sentence that introduces a list (ends with ':') takes the list with it
    (or at least the sentence after it), a sentence inside a list item takes the item's opening words
    ("* Have your data deleted. You can ask us to ...": the item is one statement), and a sentence is
    joined by the one of its paragraph that leans back on it ("Usage data: We collect ... This
    includes IP addresses ...")."""
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
    stop = list_end(text, end, following, MAX_HIGHLIGHT_CHARS - (end - start))
    if (stop == end and following and following[0][1] - start <= MAX_HIGHLIGHT_CHARS
            and not is_bare_heading(plain_text(text[following[0][0]:following[0][1]]))):
        # No list or short block follows, but an introduction alone answers nothing ("... from the
        # following sources:"): it takes at least the sentence it introduces.
        return start, following[0][1]
    return start, stop


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
    """For a highlight that is a list item (``index.structure.list_item``, marked or a short line of its
    own), the sentence introducing the list ("We may disclose your information:", "In these cases we never
    share your information unless you give us written permission:"): the item alone does not say who
    does what. The items between are of the highlight's kind ("5. Links to other Websites." after unmarked
    lines is no item of theirs), and a label ("Mailchimp:") introduces nothing."""
    text = view.source_text(citation.doc)
    before = [tuple(s) for c in view.doc_chunks.get(citation.doc, []) if c["section"] == citation.section
              for s in c["sentences"] if s[1] <= citation.highlight_start][-MAX_LIST_ITEMS:]
    item, kind = (citation.highlight_start, citation.highlight_end), None
    for start, end in reversed(before):
        found = list_item(text, end, *item)
        if not found or found != (kind or found):
            return None
        intro = text[start:end].rstrip()
        if intro.endswith(":"):
            return None if is_bare_heading(intro[:-1]) else text[start:end]
        item, kind = (start, end), found
    return None


def quote(text: str) -> str:
    from index.chunking import plain_text

    words = plain_text(text)
    return words if len(words) <= 400 else words[:397].rsplit(" ", 1)[0] + "…"


def answer_text(understood: Understood, citations: list[Citation], view: IndexView, newest: set[str],
                probability: float | None, judge, config: Config | None = None) -> str:
    """The answer's words: a Yes/No lead where one is sure (``_lead``; ``config``: the lead's second reader may
    weigh in), whose policy says it, the quote."""
    first = citations[0]
    who = f"{first.company}'s policy ({date_label(first.policy_date)}) says"
    if first.doc not in newest:
        current = [view.policies[d] for d in newest if view.policies[d].company == first.company]
        if current:
            who = (f"{first.company}'s current policy ({date_label(current[0].policy_date)}) does not say this directly; "
                   f"its earlier version ({date_label(first.policy_date)}) says")
    intro = _list_intro(view, first)
    lead = _lead(understood, f"{intro} {first.highlight}" if intro else first.highlight, probability, judge, config)
    said = f"{quote(intro)} … {quote(first.highlight)}" if intro else quote(first.highlight)
    text = f"{lead + '. ' if lead else ''}{who}: “{said}” [1]"
    more = [c for c in citations[1:3] if c.company != first.company or c.section != first.section]
    if more:
        text += " See also " + ", ".join(f"[{c.n}]" for c in more) + "."
    return text


def lead_floor(judge) -> float:
    """How likely a sentence must be before its Yes/No reading is weighed: with a lead gate, which reads the
    judge's probability itself, any sentence that answers (docs/quality.md, round 43); without, ``Judge.lead``."""
    return judge.answers if judge.lead_gate else judge.lead


def _lead(understood: Understood, evidence: str, probability: float | None, judge,
          config: Config | None = None) -> str | None:
    """"Yes", "No" or None: the sentence's reading (``qa.polarity.read_lead``), given when the lead gate
    finds the reading at least ``Judge.lead_gate_at`` likely, or ``Judge.lead_gate_speaks_at`` where the
    sentence speaks to the whole question. The gate weighs the judge's probability of the sentence, so any
    sentence that answers (``Judge.answers``) may lead; without a gate, one at least ``Judge.lead`` likely
    that speaks to the whole question does. No probability: no lead.

    With ``config`` and a judge that has them, a second reader (``qa.cross_encoder.yes_probability``, learnt
    from the blind sets' leads) has the last word: it drops a trusted reading it finds under
    ``Judge.polarity_veto`` likely, and gives one the gate withholds that it finds at least
    ``Judge.polarity_adds`` likely from a sentence at least ``Judge.polarity_floor`` likely (docs/quality.md,
    round 45)."""
    if probability is None or judge is None or probability < lead_floor(judge):
        return None
    reading = read_lead(understood, evidence)
    if reading is None:
        return None
    if not judge.lead_gate:
        return reading.said if reading.speaks else None
    trusted = judge.trusts(lead_features(understood, evidence, reading, probability))
    if config is None or judge.polarity_veto is None:
        return reading.said if trusted else None
    if not trusted and probability < judge.polarity_floor:
        return None
    from .cross_encoder import yes_probability

    yes = yes_probability(understood.question, evidence, config)
    agrees = yes if reading.said == "Yes" else 1.0 - yes
    return reading.said if agrees >= (judge.polarity_veto if trusted else judge.polarity_adds) else None


def silent_text(understood: Understood, view: IndexView, docs: list[str], missing: list[str]) -> str:
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
        what = topic_phrase(understood, missing)
        return f"{whose} {verb} not mention {what}." if verb else f"{whose} mentions {what}."
    if not verb:
        return "Not stated: none of the indexed privacy policies addresses this question."
    return f"Not stated: {whose} {verb} not address this question."


def topic_phrase(understood: Understood, missing: list[str]) -> str:
    lowered = {m.lower() for m in missing}
    entities = [e for e in understood.entities if e.lower() in lowered]
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
    lines = [answer.text] + [f"  note: {note}" for note in answer.notes] + citation_lines(answer.citations)
    return "\n".join(lines)


def citation_lines(citations: list[Citation]) -> list[str]:
    """CLI lines for each citation: a blank line, its place, its evidence sentence, its offsets."""
    lines: list[str] = []
    for c in citations:
        lines.append("")
        lines.append(f"[{c.n}] {c.company} · policy of {date_label(c.policy_date)} · {c.section}")
        lines.append(f"    “{quote(c.highlight)}”")
        lines.append(f"    {c.source}:{c.start}-{c.end}")
    return lines
