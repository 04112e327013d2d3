"""Judge stage: every sentence of the retrieved passages, scored as a possible answer.

Retrieval (``index.retrieval``) finds passages near the question. Here each of their sentences
gets a calibrated probability of answering it from the judge (``qa.judge``), which weighs

- the sentence's own closeness in meaning to the question (embedded alone, as the question is),
- its passage's keyword score,
- the share of the question's topic it writes (rare words weigh more), and whether it writes the
  names the question asks about ("Salesforce"),
- how closely its words, read in context, meet each topic word of the question (rare words weigh
  more): "erase" meets "delete" and "keep" meets "retain" with no list of synonyms,
- for a "how long" question, whether it states a period or how the keeping ends,
- the cross-encoder's reading of question and sentence together (``qa.cross_encoder``), for the
  sentences the other features find likeliest (``Judge.screened``).

Only the candidates that a shortlist over the features known before encoding finds likeliest are
encoded and judged (``plain_features``, ``Judge.shortlisted_rows``).

Each passage is represented by its most probable sentence; the best probability decides whether
the policy answers at all (``Judge.answers``). Where no sentence of the first passages is likely
enough, ``qa.answer.ask`` reads further down them (``FURTHER_PASSAGES``) before saying the policy
is silent.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from index.chunking import plain_text
from index.config import Config
from index.lexical import stems
from index.retrieval import Hit, IndexView
from index.structure import is_bare_heading

from . import cross_encoder
from .judge import get_judge
from .question import VAGUE, Understood

# Passages whose sentences are judged, and at most how many sentences in all (the judge's cost).
JUDGED_PASSAGES = 6
MAX_JUDGED_SENTENCES = 16
# Before an answer says the policy is silent, the judge reads this far down the retrieved passages.
FURTHER_PASSAGES = 10
FURTHER_SENTENCES = 32
# A question asking how long, and the shape of its answer: a period, or how it ends. Fitted with the
# other features, it gained 2.7 points of silence at the same false abstentions (docs/quality.md).
HOW_LONG = re.compile(r"\bhow long\b", re.I)
DURATION = re.compile(r"\b(?:\d+|one|two|three|four|five|six|seven|ten|twelve|thirty|sixty|ninety)[\s-]*"
                      r"(?:day|week|month|year)s?\b|\bas long as\b|\buntil\b|\bindefinite|\bperiod\b", re.I)
# A passage of the chosen version ranks above an older version's when the two are this close, in
# log-odds (a margin in probability would mean more near 0.5 than near 0.1). The judge with pairwise
# terms spreads log-odds wider than round 9's: 1.0 -> 1.5 kept the seed-style sets' version accuracy
# (100 %) and Hit@1 (91.3 -> 91.4 %), and the newest Azalead policy's encryption answer first.
NEWEST_MARGIN = 1.5


@dataclass
class Judged:
    """One retrieved passage with its most probable answer sentence."""

    hit: Hit
    sentence: tuple[int, int]
    probability: float
    rank: int  # the passage's place in retrieval order
    text: str | None = None  # the sentence as plain text (None for a passage not judged)

    @property
    def score(self) -> float:
        return self.probability


def candidate_sentences(view: IndexView, hits: list[Hit], passages: int = JUDGED_PASSAGES,
                        limit: int = MAX_JUDGED_SENTENCES) -> list[tuple[int, tuple[int, int], str]]:
    """(passage number, span, plain text) of the sentences judged: the first ``passages`` hits'
    sentences in retrieval order, each once, at most ``limit``."""
    out: list[tuple[int, tuple[int, int], str]] = []
    seen: set[tuple[str, int, int]] = set()
    for i, hit in enumerate(hits[:passages]):
        source = view.source_text(hit.doc)
        for start, end in hit.sentences:
            if len(out) >= limit:
                return out
            if (hit.doc, start, end) in seen:
                continue
            seen.add((hit.doc, start, end))
            words = plain_text(source[start:end])
            if words.strip() and not is_bare_heading(words):  # a heading alone is never the evidence
                out.append((i, (start, end), words))
    return out


def plain_features(view: IndexView, understood: Understood, hits: list[Hit],
                   candidates: list[tuple[int, tuple[int, int], str]]) -> list[dict]:
    """What each candidate shows before anything is encoded: its passage's keyword score, the share of
    the question's topic it writes, the names it writes, a stated period (for "how long" questions) and
    its place among the candidates. The judge's shortlist reads these (``Judge.shortlisted_rows``)."""
    companies = {c.lower() for c in understood.companies}
    weight = _topic_weights(view, understood)
    total = sum(weight.values()) or 1.0
    names = [e.lower() for e in understood.entities if e.lower() not in companies]
    asks_duration = bool(HOW_LONG.search(understood.question))
    rows = []
    for place, (i, _, text) in enumerate(candidates):
        found = set(stems(text))
        lower = text.lower()
        rows.append({
            "lexical": hits[i].lexical,
            "coverage": sum(w for s, w in weight.items() if s in found) / total,
            "names": (sum(n in lower for n in names) / len(names)) if names else 1.0,
            "duration": (1.0 if DURATION.search(text) else -1.0) if asks_duration else 0.0,
            # The shortlist learnt the places of 16 candidates: one read further counts as the last.
            "position": min(place, MAX_JUDGED_SENTENCES) / MAX_JUDGED_SENTENCES,
        })
    return rows


def sentence_features(view: IndexView, understood: Understood, hits: list[Hit],
                      candidates: list[tuple[int, tuple[int, int], str]], config: Config, query_vector,
                      memo: dict | None = None, cross_encoded: int | None = None,
                      plain: list[dict] | None = None) -> list[dict]:
    """The judge's inputs for each candidate sentence (see the module docstring). ``memo`` (text ->
    its encoding; question and sentence -> the cross-encoder's score) spares a caller that judges the
    same sentences again, for this question or for others, encoding them again;
    ``cross_encoded``: how many sentences the cross-encoder reads, if not the judge's own number;
    ``plain``: the candidates' ``plain_features``, when already known."""
    if not candidates:
        return []
    memo = {} if memo is None else memo
    rows = [dict(row) for row in (plain or plain_features(view, understood, hits, candidates))]
    # The question is encoded beside its sentences (each text alone, on the pool's threads).
    vectors, sentence_words = _encoded(config, [c[2] for c in candidates] + [understood.question], memo)
    vectors, question_words = vectors[:-1], sentence_words.pop()
    similarities = np.asarray(vectors, dtype="float32") @ np.asarray(query_vector, dtype="float32")
    asked, asked_weights = _topic_words(question_words, _topic_weights(view, understood))
    for row, similarity, words in zip(rows, similarities, sentence_words):
        row.update(similarity=float(similarity), align=1.0, weakest=1.0)
        if len(asked) and words:
            best = (asked @ np.array([v for _, v in words]).T).max(axis=1)
            row["align"] = float(best @ asked_weights / asked_weights.sum())
            row["weakest"] = float(best.min())
    # The cross-encoder reads the sentences the screen finds likeliest; the others get the judge's low fill.
    judge = get_judge(config)
    chosen = judge.screened(rows, cross_encoded)
    pairs = [(understood.question, candidates[i][2]) for i in chosen]
    new = list(dict.fromkeys(sentence for question, sentence in pairs if (question, sentence) not in memo))
    if new:
        scores = cross_encoder.scores(understood.question, new, config) / cross_encoder.SCALE
        memo.update(((understood.question, sentence), float(score)) for sentence, score in zip(new, scores))
    for row in rows:
        row["ce"] = judge.ce_fill
    for i, pair in zip(chosen, pairs):
        rows[i]["ce"] = memo[pair]
    return rows


def _encoded(config: Config, texts: list[str], memo: dict | None):
    """Each text's vector (the configured engine's) and its words' vectors in context (int8)."""
    from index.embedder import embed, embed_words

    memo = {} if memo is None else memo
    new = list(dict.fromkeys(t for t in texts if t not in memo))
    if new:
        vectors, words = embed_words(config.model, new)
        if config.engine != "int8":
            vectors = embed(config.model, new)
        memo.update((t, (v, w)) for t, v, w in zip(new, vectors, words))
    return np.vstack([memo[t][0] for t in texts]), [memo[t][1] for t in texts]


def _topic_weights(view: IndexView, understood: Understood) -> dict[str, float]:
    """The stems of the question's topic words, each with its rarity in the index (idf)."""
    topic = {s for w in understood.content_words if w not in VAGUE for s in stems(w)}
    return {s: view.lexical.idf(s) for s in topic}


def _topic_words(words: list, weight: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """The vectors of the question's topic words (``words``: the question's words read in it) and
    their rarity weights."""
    kept = [(v, max(weight[s] for s in stems(w) if s in weight)) for w, v in words
            if any(s in weight for s in stems(w))]
    if not kept:
        return np.zeros((0, 0)), np.zeros(0)
    return np.array([v for v, _ in kept]), np.array([w for _, w in kept])


def judge_sentences(view: IndexView, understood: Understood, hits: list[Hit], config: Config, query_vector,
                    passages: int = JUDGED_PASSAGES, limit: int = MAX_JUDGED_SENTENCES,
                    memo: dict | None = None, cross_encoded: int | None = None,
                    shortlisted: int | None = None) -> list[Judged]:
    """Every candidate sentence of the first ``passages`` hits with the judge's probability, most
    probable first (``memo``, ``cross_encoded``: see ``sentence_features``; ``shortlisted``: how many
    candidates of each policy version are encoded and judged, if not the judge's own number)."""
    candidates = candidate_sentences(view, hits, passages, limit)
    plain = plain_features(view, understood, hits, candidates)
    # Each policy version gets its own shortlist and its own cross-encoded sentences: choosing between
    # versions (``prefer_newest``) needs the newest version's likeliest sentences read in full even where
    # an older version's write more of the question's words.
    by_doc: dict[str, list[int]] = {}
    for n, (i, _, _) in enumerate(candidates):
        by_doc.setdefault(hits[i].doc, []).append(n)
    judge = get_judge(config)
    kept, rows = [], []
    memo = {} if memo is None else memo  # the question is encoded once for all versions
    for group in by_doc.values():
        chosen = [group[k] for k in judge.shortlisted_rows([plain[n] for n in group], shortlisted)]
        kept += chosen
        rows += sentence_features(view, understood, hits, [candidates[n] for n in chosen], config, query_vector,
                                  memo, cross_encoded, [plain[n] for n in chosen])
    candidates = [candidates[n] for n in kept]
    probabilities = judge.probabilities(rows)
    judged = [Judged(hits[i], span, float(p), i, text) for (i, span, text), p in zip(candidates, probabilities)]
    return sorted(judged, key=lambda j: (-j.probability, j.rank))


def judge_passages(view: IndexView, understood: Understood, hits: list[Hit], config: Config,
                   query_vector, passages: int = JUDGED_PASSAGES, limit: int = MAX_JUDGED_SENTENCES,
                   cross_encoded: int | None = None) -> list[Judged]:
    """Each of the first ``passages`` hits with its most probable sentence, most probable first;
    the hits after them follow in retrieval order with probability 0."""
    return best_of_passages(judge_sentences(view, understood, hits, config, query_vector, passages, limit,
                                            cross_encoded=cross_encoded), hits)


def best_of_passages(sentences: list[Judged], hits: list[Hit]) -> list[Judged]:
    """``judge_passages`` from judged ``sentences`` (``judge_sentences``) of ``hits``."""
    best: dict[int, Judged] = {}
    for judged in sentences:
        best.setdefault(judged.rank, judged)
    ranked = sorted(best.values(), key=lambda j: (-j.probability, j.rank))
    rest = [Judged(h, h.sentences[0], 0.0, i) for i, h in enumerate(hits) if i not in best and h.sentences]
    return ranked + rest


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return float(np.log(p / (1 - p)))


def prefer_newest(judged: list[Judged], newest: set[str]) -> list[Judged]:
    """The chosen version answers when its best sentence is nearly as likely (within ``NEWEST_MARGIN``
    in log-odds) as the best older sentence that states a practice; a clearly better older answer goes first, and
    says it is older ("Can I make Azalead delete my data?": 2014's "Requests to ... delete your
    information will be handled within 30 days", not 2017's "You may also delete cookies manually").
    An older definition ("Web beacons are clear electronic images ...") outranks no practice."""
    from .polarity import states_own_practice

    first = next((j for j in judged if j.hit.doc in newest), None)
    if first is None or first is (judged[0] if judged else None):
        return judged
    # A passage not judged (``text`` None) has probability 0: the newest version answers before it.
    older = next((j for j in judged if j.hit.doc not in newest and (j.text is None or states_own_practice(j.text))),
                 None)
    if older is None or _logit(first.probability) >= _logit(older.probability) - NEWEST_MARGIN:
        return [first] + [j for j in judged if j is not first]
    return judged
