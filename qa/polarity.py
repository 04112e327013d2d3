"""Whether quoted evidence answers a yes/no question with "Yes", "No", or neither.

``read_lead`` reads the clauses of the sentence that hold most of the question's topic words
(directly, by a synonym or by a word of the same family):

- "No" when every one of them is negative ("we do not sell", "customers cannot opt out", "no
  company can guarantee");
- "Yes" when none of them is negated;
- nothing when some are and some are not ("we share ... but do not sell"), when those clauses are
  relative ones stating another party's practice ("organizations that sell our games"), when the
  negation is hedged ("may not be deleted"), or when the question is itself negative ("Doesn't ...?").

It also says whether the sentence speaks to every practice and name the question asks about and to
most of its other topic words. Whether the reading becomes the answer's lead is the lead gate's call
(``qa.compose._lead``): a logistic model over ``lead_features`` fitted on the blind sets by
``scripts/fit_lead.py``; without one, a sentence that speaks to the whole question leads.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from index.lexical import stem_word

from .question import VAGUE, Understood, is_practice, variants

# A yes/no question starts with an auxiliary, perhaps after a lead-in that ends with a comma ("In 2014,
# did ...", "If I close my account, will ...", "I'm a student, can I ...").
_LEAD_IN = r"[^?,]{0,120},\s*"
YES_NO_START = re.compile(
    rf"^\s*(?:{_LEAD_IN}(?:and\s+|so\s+|then\s+)?)?"
    r"(?:does|do|did|is|are|was|were|can|could|will|would|has|have|had|should|may|might|must)\b", re.I)
_NEGATION = frozenset("not never no cannot unable can't won't don't doesn't didn't isn't aren't wasn't weren't "
                      "shouldn't wouldn't couldn't neither nor none nothing nobody without".split())
# A question asked in the negative ("Doesn't X ...?", "Does X not ...?") has no plain Yes or No; one that
# names a condition ("... without my consent?", "... at no cost?") has.
_QUESTION_NEGATION = _NEGATION - {"without", "no", "none", "nothing", "nobody"}
# What the lead gate reads of the evidence (``lead_features``): "may" (``_HEDGES``) is how policies state a
# practice ("we may share your data with ..."), so it is weighed apart from the exceptions that narrow one.
_EXCEPTIONS = frozenset("only unless except until without".split())
# "no" that does not deny the practice: "at no cost", "no later than"; nor does "not" in "including but
# not limited to" or "not only ... but also".
_NOT_DENIAL_AFTER_NO = frozenset("cost charge later more less matter extra additional".split())
_NOT_DENIAL_AFTER_NOT = frozenset("limited only".split())
# "and"/"or" before a denied verb starts a clause of its own: "We mask IP addresses and do not allow ...".
_AUXILIARIES = frozenset("do does did will would can could shall should may might must is are was were have has had".split())
_CLAUSE_WORDS = frozenset("but however unless except although though whereas while if when which who that so "
                          "because since where".split())
_CONDITIONS = frozenset(("if",))
# Clauses a comma closes: a condition, a reason or a concession.
_SUBORDINATE = _CONDITIONS | frozenset(("because", "although", "though", "whereas"))
# Of those, the ones that state no practice of their own: a condition or a reason ("Because the standard
# has yet to gain acceptance, we don't respond to those signals"). A concession states one: "Although our
# servers don't respond to do-not-track requests, you can block tracking in other ways."
_NO_PRACTICE = _CONDITIONS | frozenset(("because",))
_RELATIVE = frozenset(("that", "which", "who"))
# After a comma, a new clause starts with its subject: "..., we will remove it".
_SUBJECTS = frozenset("we you they it i he she our your their this these those".split())
_TOKEN = re.compile(r"[A-Za-z]+(?:['’][A-Za-z]+)?|[,;:()!?]|\.(?=\s|$)")
FAMILY_PREFIX = 5
# Share of a question's topic words other than practices and names that the evidence must speak to.
OTHER_WORDS_SHARE = 0.5
# Words that only frame a question ("what types", "exactly"): the evidence need not repeat them.
# Vague but meaningful words stay in: "Does X have control over ...?" is not answered "Yes" by a
# sentence about cookies that never speaks of control.
_FRAMING = frozenset("""
type types kind kinds form forms way ways regarding regard regards basic specific certain exactly exact
category categories mention mentions practice practices generic element elements yes first scope applicable
apply applies usage via towards toward audience audiences able need needs explicitly occur attention
difference behind forever fulfill purpose purposes reason reasons available others other party parties deal
didn doesn don isn aren wasn weren won shouldn wouldn couldn
""".split())


# Names with "not" in them are no negation: "Do Not Track" signals, "Do Not Call" lists. Only the
# capitalised or quoted name ('the “do not track” setting'): "we do not track you" is a negation.
_NAMED_NOT = re.compile(r"\bDo[\s-]+Not[\s-]+(Track|Call|Sell)\b|\bDO[\s-]+NOT[\s-]+(TRACK|CALL|SELL)\b"
                        r"|(?i:[\"“‘']\s*do[\s-]+not[\s-]+(track|call|sell)\s*[\"”’'])"
                        # in lower case, by the thing it names: "we honor do not track signals"
                        r"|(?i:\bdo[\s-]+not[\s-]+(track)(?=[\s-]+(?:signals?|requests?|settings?|headers?|"
                        r"preferences?|mechanisms?|features?|options?)\b))")


def without_named_nots(text: str) -> str:
    """``text`` with the names that hold a "not" written as one word: "a Do Not Track signal" -> "a dnt signal"."""
    def one(match: re.Match) -> str:
        name = next(g for g in match.groups() if g).lower()
        return "dnt" if name == "track" else f"donot{name}"

    return _NAMED_NOT.sub(one, text)


def _tokens(text: str) -> list[str]:
    text = without_named_nots(text)
    return [t.lower().replace("’", "'") for t in _TOKEN.findall(text)]


def _is_negation(tokens: list[str], j: int) -> bool:
    word = tokens[j]
    following = tokens[j + 1] if j + 1 < len(tokens) else ""
    if (word == "no" and following in _NOT_DENIAL_AFTER_NO) or (word == "not" and following in _NOT_DENIAL_AFTER_NOT):
        return False
    return word in _NEGATION or word.endswith("n't")


def _clauses(tokens: list[str]) -> list[int]:
    """Clause number of each token: punctuation, subordinating words and ', <subject>' start a new clause,
    and so does any comma that closes a condition or a reason ("If you do not wish to ..., simply
    unsubscribe", "Because required cookies are essential ..., there is no option to opt out") and
    "and"/"or" before a denied verb ("... and do not allow ...")."""
    numbers, current, conditional = [], 0, False
    for j, word in enumerate(tokens):
        if word in ";:()!?." or word in _CLAUSE_WORDS or (word in ("and", "or") and _denied_verb_at(tokens, j + 1)):
            current += 1
            conditional = word in _SUBORDINATE
        elif word == "," and (conditional or (j + 1 < len(tokens) and tokens[j + 1].split("'")[0] in _SUBJECTS)):
            current += 1
            conditional = False
        numbers.append(current)
    return numbers


def _denied_verb_at(tokens: list[str], j: int) -> bool:
    """Whether a denied verb starts at ``j``: "not", "never", "don't", or an auxiliary then "not"/"never"."""
    if j >= len(tokens):
        return False
    if tokens[j] in ("not", "never") or tokens[j].endswith("n't"):
        return True
    return tokens[j] in _AUXILIARIES and j + 1 < len(tokens) and tokens[j + 1] in ("not", "never")


def _clause_openers(tokens: list[str], clause: list[int]) -> dict[int, str]:
    """The word that opened each clause, where a word did ("that", "if", "but")."""
    openers: dict[int, str] = {}
    for j, word in enumerate(tokens):
        if (j == 0 or clause[j] != clause[j - 1]) and word in _CLAUSE_WORDS:
            openers[clause[j]] = word
    return openers


_HEDGES = frozenset(("may", "might"))


def _hedged_clauses(tokens: list[str], clause: list[int]) -> set[int]:
    """Clauses with a negation right after "may" or "might" ("may not be deleted")."""
    return {clause[j] for j in range(1, len(tokens)) if tokens[j - 1] in _HEDGES and _is_negation(tokens, j)}


def _negated_clauses(tokens: list[str]) -> set[int]:
    """Clauses that deny something. A negation inside a condition ("if you do not wish to receive
    emails") states no practice, so it does not deny the clause."""
    clause = _clauses(tokens)
    conditions = {clause[j] for j, word in enumerate(tokens) if word in _CONDITIONS}
    denied = {clause[j] for j in range(len(tokens)) if _is_negation(tokens, j) and clause[j] not in conditions}
    # A denied introduction denies what it introduces: "we undertake not to: sell or share ...".
    for j, word in enumerate(tokens):
        if word == ":" and j >= 2 and clause[j - 1] in denied and (_is_negation(tokens, j - 1) or
                                                         (tokens[j - 1] == "to" and _is_negation(tokens, j - 2))):
            # A list number's full stop ("not to: 3. Sell ...") follows no word and ends nothing.
            end = next((k for k in range(j + 2, len(tokens)) if tokens[k] == "." and tokens[k - 1][0].isalpha()),
                       len(tokens))
            denied |= {clause[k] for k in range(j + 1, end)}
    return denied


def _matches(word: str, token: str) -> bool:
    stem = stem_word(token)
    if stem in variants(word) or token == word:
        return True
    return len(word) > FAMILY_PREFIX and len(token) >= FAMILY_PREFIX and token[:FAMILY_PREFIX] == word[:FAMILY_PREFIX]


# Sentences that state no practice of the company's own: a definition ("A cookie is a small text
# file", "'Personal data' means ..."), or a right of the user's ("California residents have the
# right to opt out of the sale ..."). A lead drawn from them would answer another question.
_DEFINITION = re.compile(r"^\W*(?:an?\s+|the\s+)?[\w\s'’“”\"-]{1,40}?\b(?:is|are)\s+(?:an?\s+|(?:small|tiny|little|clear|"
                         r"electronic|alphanumeric|unique|text|pieces?|files?|images?|graphics?|identifiers?)\b)"
                         r"|\b(?:means|refers\s+to|is\s+defined\s+as)\b", re.I)
_USERS_RIGHT = re.compile(r"\b(?:you|residents?|users?|individuals?|consumers?|data\s+subjects?|customers?)\b[^.;:]{0,60}?"
                          r"\b(?:have|has|may\s+exercise|are\s+entitled\s+to)\b[^.;:]{0,30}?\brights?\b"
                          r"|^\W*(?:the\s+)?rights?\s+to\b", re.I)


def states_own_practice(evidence: str) -> bool:
    """Whether ``evidence`` states what the company does, not a definition or the user's rights."""
    return not (_DEFINITION.search(evidence) or _USERS_RIGHT.search(evidence))


@dataclass(frozen=True)
class LeadReading:
    """What a sentence says to a yes/no question: ``said`` ("Yes"/"No"), read in the clauses holding
    most of the question's words, and whether it ``speaks`` to every practice and name asked about
    and to most of the other topic words (``_speaks_to_question``)."""

    said: str
    speaks: bool


def read_lead(understood: Understood, evidence: str) -> LeadReading | None:
    """The Yes or No ``evidence`` gives to ``understood.question``, where it gives one: None for a
    question that is not yes/no or is asked in the negative, for a definition or a user's right, a
    sentence holding none of the question's topic words, another party's practice in a relative
    clause, a hedged negation, or clauses that disagree."""
    question, asked = understood.question, _tokens(understood.question)
    if not YES_NO_START.match(question) or any(t in _QUESTION_NEGATION or t.endswith("n't") for t in asked):
        return None
    if not states_own_practice(evidence):
        return None
    topic = [w for w in understood.content_words if w not in _FRAMING]
    if not topic:
        return None
    tokens = _tokens(evidence)
    if "without" in asked:
        # The question's own condition ("... without telling me?"): the sentence's "without notice" meets
        # it and denies nothing.
        tokens = ["without-" if t == "without" else t for t in tokens]
    places: dict[str, list[int]] = {w: [i for i, t in enumerate(tokens) if _matches(w, t)] for w in topic}
    speaks = _speaks_to_question(understood, topic, places)
    places = {w: found for w, found in places.items() if found}
    if not places:
        return None
    clause, denied = _clauses(tokens), _negated_clauses(tokens)
    # The clauses holding most of the question's words answer it ("Cookies are small text files ...;
    # cookies cannot access, read, or modify any other data": the second clause answers "Can
    # cookies read my data?").
    held: dict[int, set[str]] = {}
    for w, found in places.items():
        for i in found:
            held.setdefault(clause[i], set()).add(w)
    opener = _clause_openers(tokens, clause)
    # A condition or a reason states no practice: "You cannot open an account if you are under the age of
    # 13" answers with its main clause, however many of the question's words the condition holds.
    held = {c: ws for c, ws in held.items() if opener.get(c) not in _NO_PRACTICE}
    if not held:
        return None
    focus = _focus(held)
    # "organizations that sell our games": a relative clause states the practice of the noun before it.
    if all(opener.get(c) in _RELATIVE for c in focus):
        return None
    # "we may not immediately delete residual copies": a hedged negation is neither a Yes nor a No.
    if any(c in _hedged_clauses(tokens, clause) for c in focus):
        return None
    if all(c in denied for c in focus):
        return LeadReading("No", speaks)
    if any(c in denied for c in focus):
        return None
    # A practice asked about that is denied elsewhere in the sentence ("we share ... but do not
    # sell"): no single answer.
    practices = {w for w in places if is_practice(w)}
    denied_practice = any(c in denied and ws & practices for c, ws in held.items())
    return None if denied_practice else LeadReading("Yes", speaks)


def _focus(held: dict[int, set[str]]) -> list[int]:
    """The clauses holding most of the question's words (``held``: clause -> the words it holds); of
    clauses holding as many, those naming the practice asked about ("We collect your data and do not
    share it" answers "Does X share my data?" with its second clause)."""
    most = max(len(ws) for ws in held.values())
    focus = [c for c, ws in held.items() if len(ws) == most]
    return [c for c in focus if any(is_practice(w) for w in held[c])] or focus


LEAD_FEATURES = ("probability", "speaks", "denies", "negations", "may", "exception", "length", "asks_ability")


def lead_features(understood: Understood, evidence: str, reading: LeadReading, probability: float) -> dict:
    """What the lead gate (``qa.judge.Judge.lead_gate``) weighs: the judge's probability of the sentence,
    whether it speaks to the whole question, whether it denies, how many negations it holds, whether it
    says "may" and whether it makes an exception ("only", "unless" ...), its length, and whether the
    question asks what the user can do ("Can I ...")."""
    tokens = _tokens(evidence)
    words = [t for t in tokens if t[0].isalpha()]
    return {
        "probability": float(probability),
        "speaks": 1.0 if reading.speaks else 0.0,
        "denies": 1.0 if reading.said == "No" else 0.0,
        "negations": sum(_is_negation(tokens, j) for j in range(len(tokens))) / 3,
        "may": 1.0 if any(t in _HEDGES for t in words) else 0.0,
        "exception": 1.0 if any(t in _EXCEPTIONS for t in words) else 0.0,
        "length": min(len(words), 80) / 80,
        "asks_ability": 1.0 if _ASKS_ABILITY.match(understood.question) else 0.0,
    }


_ASKS_ABILITY = re.compile(rf"^\s*(?:{_LEAD_IN})?can\s+i\b", re.I)


def _speaks_to_question(understood: Understood, topic: list[str], places: dict[str, list[int]]) -> bool:
    """The evidence speaks to every practice and name the question asks about ("sell", "cookies",
    "Salesforce") and to most of its other topic words: a user's own wording ("in response to a
    subpoena", "hand over my info") need not be echoed word for word."""
    names = {e.lower() for e in understood.entities}
    key = [w for w in topic if is_practice(w) or w in names]
    others = [w for w in topic if w not in key]
    if not all(places[w] for w in key):
        return False
    if not key:
        return all(places[w] for w in others)
    return sum(bool(places[w]) for w in others) >= OTHER_WORDS_SHARE * len(others)


def sentence_stance(understood: Understood, sentence: str) -> str | None:
    """"no" when the clauses of ``sentence`` that hold the question's topic words are negative,
    "yes" otherwise, None when the sentence holds none of the topic words or a hedged negation
    ("may not be deleted") holds one. Looser than ``read_lead``: the question need not be yes/no,
    and every clause holding a topic word counts, not only those holding the most."""
    topic = [w for w in understood.content_words if w not in VAGUE] or list(understood.content_words)
    tokens = _tokens(sentence)
    places = [i for i, t in enumerate(tokens) for w in topic if _matches(w, t)]
    if not places:
        return None
    clause, denied = _clauses(tokens), _negated_clauses(tokens)
    if any(clause[i] in _hedged_clauses(tokens, clause) for i in places):
        return None
    return "no" if all(clause[i] in denied for i in places) else "yes"
