"""Understand a question: which company, which policy version, which words matter.

Nothing here looks at answers; it reads the question and the list of indexed policies.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from index.lexical import STOPWORDS, stem_word, tokens, words
from index.retrieval import PolicyInfo

from . import companies
from .companies import fold

MAX_QUESTION_CHARS = 2000

_ENCRYPTION = ("encrypt", "encryption", "encrypted", "ssl", "tls", "cryptographic")
_PORTABILITY = ("export", "portable", "portability", "machine-readable")
_CHANGE_OF_OWNER = ("acquisition", "acquire", "acquired", "acquirer", "merger", "merge", "bankruptcy",
                    "reorganization", "successor", "divestiture")
# Privacy vocabulary: a question's word also finds the words policies use for the same practice.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "sell": ("sell", "sold", "sale", "rent", "trade", "monetize"),
    "share": ("share", "disclose", "disclosure", "transfer", "provide", "give"),
    "disclose": ("disclose", "share", "disclosure", "transfer", "reveal"),
    "third": ("third", "partner", "affiliate", "provider", "vendor", "subsidiary"),
    "partner": ("partner", "affiliate", "third"),
    "delete": ("delete", "deletion", "erase", "remove", "destroy", "depersonalize"),
    "remove": ("remove", "delete", "erase"),
    "erase": ("erase", "delete", "remove"),
    "keep": ("keep", "retain", "retention", "store", "hold"),
    "retain": ("retain", "retention", "keep", "store"),
    "store": ("store", "retain", "keep", "hold", "server"),
    "cookie": ("cookie", "beacon", "pixel", "tracking"),
    "track": ("track", "tracking", "cookie", "beacon", "pixel", "dnt"),
    "kept": ("keep", "retain", "retention", "store"),
    "sold": ("sell", "sale", "rent", "trade"),
    "gave": ("give", "share", "provide"),
    "sent": ("send", "transfer", "share"),
    "held": ("hold", "keep", "store", "retain"),
    "opt": ("opt", "unsubscribe", "choice", "preference"),
    "unsubscribe": ("unsubscribe", "opt"),
    "collect": ("collect", "gather", "obtain", "receive", "record"),
    "gather": ("gather", "collect", "obtain"),
    "contact": ("contact", "email", "mail", "address", "phone"),
    "email": ("email", "e-mail", "mail"),
    "child": ("child", "children", "minor", "kid", "age", "13"),
    "children": ("children", "child", "minor", "kid", "age", "13"),
    "kid": ("kid", "child", "children", "minor"),
    "secure": ("secure", "security", "protect", "encrypt", "safeguard", "ssl"),
    "security": ("security", "secure", "protect", "encrypt", "safeguard"),
    "protect": ("protect", "security", "secure", "safeguard"),
    "change": ("change", "amend", "revise", "update", "modify", "notify"),
    "update": ("update", "change", "correct", "amend", "revise"),
    "correct": ("correct", "update", "rectify", "amend"),
    "access": ("access", "review", "view", "copy"),
    "advertiser": ("advertiser", "advertising", "advertise", "marketing"),
    "advertising": ("advertising", "advertiser", "ad", "marketing", "targeted"),
    "ad": ("ad", "advertising", "advertisement"),
    "marketing": ("marketing", "promotional", "advertising", "newsletter"),
    "location": ("location", "geolocation", "gps", "geographic"),
    "ip": ("ip", "internet protocol"),
    "analytics": ("analytics", "statistics", "analysis"),
    "transfer": ("transfer", "transmit", "send", "move", "cross-border", "international"),
    "law": ("law", "legal", "subpoena", "court", "authority", "government"),
    "enforcement": ("enforcement", "law", "police", "legal", "authority"),
    # Not "authority": "you have authority to accept these terms" says nothing about the police.
    "police": ("police", "law", "enforcement", "subpoena", "court", "government"),
    "government": ("government", "authority", "law", "enforcement"),
    # A specific safeguard, not security in general: "we protect your data" does not say it is encrypted.
    "encrypt": _ENCRYPTION,
    "encryption": _ENCRYPTION,
    "breach": ("breach", "incident", "compromise", "compromised"),
    # A change of owner: a policy that never writes any of these is silent on being bought.
    "acquired": _CHANGE_OF_OWNER,
    "acquire": _CHANGE_OF_OWNER,
    "acquisition": _CHANGE_OF_OWNER,
    "merger": _CHANGE_OF_OWNER,
    "bankruptcy": _CHANGE_OF_OWNER,
    "supervisory": ("supervisory",),  # a supervisory authority (GDPR), not any regulation
    "processor": ("processor", "processors", "processing"),  # a payment processor
    "rent": ("rent", "sell", "sold", "sale", "trade", "lease"),
    "officer": ("officer", "dpo"),  # a data protection officer
    "authentication": ("authentication", "authenticate", "two-factor", "2fa", "multi-factor"),
    "export": _PORTABILITY,
    "portable": _PORTABILITY,
    "portability": _PORTABILITY,
    "password": ("password", "credential", "login"),
    # Not "inform": its stem is "information"'s.
    "notify": ("notify", "notice", "notification", "alert", "email"),
    "choice": ("choice", "choose", "opt", "option", "preference", "setting", "consent"),
    "choices": ("choice", "choose", "opt", "option", "preference", "setting", "consent"),
    "control": ("control", "manage", "setting", "opt", "choice", "preference"),
    "manage": ("manage", "control", "setting", "preference", "choice"),
    "identity": ("identity", "identify", "identifiable", "identifier", "anonymous", "name"),
    "edit": ("edit", "update", "change", "correct", "modify"),
    "modify": ("modify", "update", "change", "edit", "correct"),
    "obtain": ("obtain", "collect", "receive", "gather"),
    "receive": ("receive", "obtain", "collect", "share", "disclose"),
    "anonymized": ("anonymized", "anonymous", "aggregate", "de-identified", "depersonalize"),
    "aggregated": ("aggregated", "aggregate", "anonymous", "statistical"),
    "international": ("international", "country", "countries", "transfer", "outside", "abroad"),
    "app": ("app", "application", "mobile", "device"),
}

# Everyday words for what policies write in their own vocabulary ("mix my data": combine; "warn me":
# notify). They widen the keyword search and the choice of the evidence sentence, at half weight;
# unlike SYNONYMS they prove nothing about silence: a policy lacking "combine" may still "mix".
_PARAPHRASE_GROUPS: tuple[tuple[str, str], ...] = (
    ("buyout takeover acquire acquired acquirer acquisition merger merge merged bankrupt bankruptcy bought buys buyer",
     "acquisition acquire merger merge reorganization bankruptcy successor asset sale"),
    ("mix mixed combine combined link linked connect connected match matched cross-reference",
     "combine link associate match append merge aggregate"),
    ("warn warning heads-up alert alerted announce inform informed",
     "notify notice notification email post announce"),
    ("spy watch watched monitor monitored follow followed profile profiling",
     "track tracking monitor cookie analytics profile behavior"),
    ("money profit profits monetise monetize cash",
     "sell sold sale rent trade monetize commercial"),
    ("hand handed pass passed leak leaked outsider outsiders",
     "share disclose provide transfer third party"),
    ("wipe wiped forget forgotten purge erase rid close closing closed cancel cancelled",
     "delete deletion remove erase deactivate terminate cancel close"),
    ("see look view download export copy",
     "access review view copy export download"),
    ("stop quit refuse decline object withdraw block disable turn",
     "opt unsubscribe withdraw object refuse decline disable browser setting"),
    ("spam promo promos promotion promotions newsletter newsletters offers",
     "marketing promotional newsletter email advertising unsubscribe"),
    ("hack hacked hacker breach breached stolen theft",
     "security breach unauthorized incident compromise safeguard"),
    ("complain complaint complaints dispute disputes unhappy",
     "complaint contact authority dispute supervisory resolve"),
    ("young teen teens teenager teenagers underage minor minors kids",
     "children child minor age 13 16 parent"),
    ("card credit payment payments pay paying billing bank banking",
     "payment credit card billing transaction processor financial"),
    ("abroad overseas foreign outside country countries",
     "transfer international country outside located server"),
    ("ship ships shipped shipping move moves moved moving relocate relocated",
     "transfer transmit international outside located store"),
    ("host hosted hosting cloud datacenter",
     "host server located store data center"),
    ("fix fixed wrong incorrect inaccurate mistake mistakes outdated",
     "correct rectify update inaccurate amend"),
    ("permission permissions agree agreement approve approval",
     "consent agree accept permission authorize"),
    ("staff employee employees worker workers team",
     "employee staff personnel authorized access"),
    ("forum forums comment comments post posts posted public publicly",
     "public forum post blog comment community"),
    ("signup register registering registration join joining",
     "register registration account sign subscribe"),
    ("job jobs career careers resume cv applicant candidate",
     "job application recruitment candidate resume employment"),
    ("photo photos picture pictures upload uploaded file files document documents",
     "content upload file document"),
    ("crash crashes bug bugs diagnostic diagnostics error errors",
     "log crash diagnostic error usage"),
    ("history logs logged record recorded",
     "log record history activity"),
    ("own owns owned owning belong belongs",
     "owner ownership own property"),
    ("inside internally in-house",
     "internal internally team employee affiliate"),
    ("chat chats messenger messaging livechat",
     "communication tool message support contact"),
    ("upgrade upgrading upgraded premium plan plans subscription",
     "paid convert account subscription billing payment purchase"),
    ("employer employers workplace",
     "organization company business employer"),
    ("ads adverts targeted personalized personalised",
     "advertising advertiser ad targeted interest"),
    ("figure guess guessed guesses deduce deduced predict predicts",
     "infer inference determine derive identify"),
    ("rule rules",
     "policy policies terms governed govern"),
    ("message messages messaging correspondence",
     "correspondence communication communicate email contact"),
    ("accountable liable",
     "responsible responsibility liability liable"),
    ("promise promises promised",
     "guarantee warrant assure ensure"),
    ("computer computers laptop laptops phone phones tablet tablets smartphone",
     "device browser operating system mobile"),
    ("scam scams scammer scammers fraudster fraudsters con",
     "fraud fraudulent prohibited illegal"),
    ("worried worry worries concerned",
     "concern concerns questions"),
    ("call calls calling letter letters",
     "phone telephone mail physical postal"),
    ("answer answers answered reply replies",
     "respond response reply"),
    ("hang hangs hoard hoards save saves saved",
     "keep retain retention store"),
    ("safe safely safety",
     "protect protection security secure safeguard"),
    ("browse browsing surf surfing",
     "visit browse navigate website"),
    ("anonymously anonymous incognito unidentified",
     "anonymous identify identifying identifiable without"),
)

# Words that shape a question about a policy without naming a practice ("what choices apply to ...").
# They still search, but their absence from a policy is no sign that the policy is silent.
VAGUE = frozenset("""
choice choices control controls option options scope apply applies applicable allow allows allowed type types
kind kinds form forms way ways regarding basic usage offer offers give gives available explicitly yes first
party parties others other via practice practices fulfill purpose purposes reason reasons reveal leak notice
attention difference specific certain provide provides provided mention mentions able need needs regard regards
category categories exactly exact behind towards toward deal pay generic occur element elements audience
audiences forever didn doesn don isn aren wasn weren won shouldn wouldn couldn
""".split())

# Words that say nothing about which practice is asked about.
GENERIC = frozenset("""
data information info personal policy privacy statement company companies website websites site sites web
service services user users customer customers people person someone anyone anything something any
use used uses using make makes made get gets got let lets know tell say says said mention mentions mentioned
ask asked want wants need needs like way ways kind type types sort thing things whether also ever still
much many often long quickly quick soon fast happen happens happened way new one two
come comes came coming take takes took taking break breaks
actually really basically stuff anyway please just even ok okay hey hi hello thanks thank kindly
""".split()) | {"what", "which", "who", "whom", "whose", "how", "why", "when", "where"}

# A company whose name is one of these words ("Can", "Data", "Notice") is named only when the word
# is written capitalised inside a sentence; its domain always names it.
_EVERYDAY = STOPWORDS | GENERIC | VAGUE

_YEAR = re.compile(r"\b(19[89]\d|20[0-4]\d)\b")
_POSSESSIVE = re.compile(r"\b([A-Z][\w&.-]*(?:\s+[A-Z][\w&.-]*){0,2})['’]s?\b")
_SUBJECT = re.compile(
    r"^\s*(?i:(?:how|what|when|where|why|who)\s+)?(?i:does|do|did|is|are|was|can|could|will|would|has|have|should|may)\s+"
    r"([A-Z][\w&.-]*(?:\s+[A-Z][\w&.-]*){0,2})\b"
)
_DOMAIN = re.compile(r"\b([a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|org|net|io|co|edu|gov|info|biz|us|uk|fr|de))\b", re.I)
_CAPITALISED_COMMON = frozenset("""
I You We They He She It The A An My Your Our Their This That These Those There What Which Who How Why When Where
Do Does Did Is Are Can Could Will Would Has Have Should May If
""".split())
_NOT_COMPANIES = _CAPITALISED_COMMON | frozenset("EU GDPR CCPA US USA UK Europe European America American Internet".split())


@dataclass
class Understood:
    """What the question is about."""

    question: str
    companies: list[str] = field(default_factory=list)  # canonical company names, in question order
    unknown_company: str | None = None
    year: int | None = None
    content_words: list[str] = field(default_factory=list)  # words that carry the question's topic
    entities: list[str] = field(default_factory=list)  # capitalised names other than the companies
    phrases: list[tuple[str, str]] = field(default_factory=list)  # topic words written side by side


def company_aliases(policies: list[PolicyInfo]) -> dict[str, str]:
    """Lower-case name forms -> canonical company name (see ``qa.companies``)."""
    return companies.company_aliases(policies)


def find_companies(text: str, policies: list[PolicyInfo]) -> list[str]:
    """Known companies named in ``text`` (name, distinctive word, domain or alias, any case), in order."""
    return companies.find_companies(text, policies, _EVERYDAY, _written_as_name)


# Names written as one list ("Azalead and Azendoo", "Azalead's, Azendoo's or Axosoft's", "Azalead vs Azendoo").
_LISTED = re.compile(r"^(?:['’]s)?\s*(?:,|/|&|and|or|nor|vs\.?|versus|,\s*(?:and|or))?\s*$", re.I)
# A question that compares the companies it names ("longer than Azendoo", "do both ...").
_COMPARES = re.compile(r"\b(?:than|compar\w*|differ\w*|both|either|neither|unlike|versus|vs|same|similar\w*)\b", re.I)


def asked_about(question: str, policies: list[PolicyInfo], writes=None) -> list[str]:
    """The companies ``question`` is asked of: the first one named and those listed with it. A company
    named later, apart from that list, is what the question asks about ("Does Comindware share data
    with Salesforce?" asks Comindware's policy about Salesforce, even when Salesforce's own policy is
    indexed), unless the question compares them ("Does Azalead keep data longer than Azendoo?").

    A company named only by a word of its name ("a California resident" for Covered California) yields
    to one named whole ("How often can a California resident ask Advair for a copy?" asks Advair); where
    every company is named by a word, the first decides nothing: each is asked, as a comparison.

    A first company is the one asked about when ``writes(company, name)`` (whether that company's
    policies write the name) says the other company's policies write it and its own do not write the
    other's, unless the two are listed together: "How can I opt out of Google Analytics on the Incline
    Press Service?" and "Which cookie does Google use to serve ads on Packagetrackr?" ask Incline
    Press and Packagetrackr, whose policies speak of Google; Google's does not name them."""
    mentions = companies.company_mentions(question, policies, _EVERYDAY, _written_as_name)
    whole = [m for m in mentions if not m.by_word]
    mentions = whole or mentions
    if len(mentions) < 2 or _COMPARES.search(question) or mentions[0].by_word:
        return [m.company for m in mentions]
    first, other = mentions[0], mentions[1]
    if (writes and not _LISTED.match(question[first.end:other.start])
            and writes(other.company, question[first.start:first.end])
            and not writes(first.company, question[other.start:other.end])):
        return [other.company]
    kept = mentions[:1]
    for mention in mentions[1:]:
        if not _LISTED.match(question[kept[-1].end:mention.start]):
            break
        kept.append(mention)
    return [m.company for m in kept]


def search_text(question: str, named: list[PolicyInfo]) -> str:
    """The question as it is embedded for searching: the name of the company it names (``named``:
    that company's policies) becomes "the company". Its policies are already chosen by that name,
    and the name in the query vector pulls towards passages that merely repeat it (titles, contact
    lines) rather than ones that answer."""
    aliases = company_aliases(named)
    text = question
    for alias in sorted(aliases, key=len, reverse=True):
        if alias.lower() in text.lower():
            text = re.sub(r"(?<![\w.])" + re.escape(alias) + r"(?:['’]s)?(?!\w)", "the company", text, flags=re.I)
    return " ".join(text.split())


def _written_as_name(text: str, start: int) -> bool:
    """The word at ``start`` is capitalised where a sentence does not begin."""
    before = text[:start].rstrip()
    return text[start:start + 1].isupper() and bool(before) and before[-1] not in ".?!:;\"“‘'(["


@lru_cache(maxsize=1)
def name_words() -> dict[str, str]:
    """Lower-case word -> the capitalised form policies write it in (qa/data/name_words.json)."""
    path = Path(__file__).resolve().parent / "data" / "name_words.json"
    try:
        return dict(json.loads(path.read_text())["names"])
    except (OSError, ValueError, KeyError):
        return {}


def is_question_vocabulary(word: str) -> bool:
    """A word (lower case) the question reader already knows as an everyday or privacy word, so never
    a name to capitalise: a stop word, a generic or vague word, a synonym key or a paraphrase word."""
    return (word in STOPWORDS or word in GENERIC or word in VAGUE or word in SYNONYMS
            or bool(paraphrase_stems(word)))


def with_names_capitalised(question: str) -> str:
    """``question`` with the words policies write as names capitalised as they write them: a
    question typed in lower case ("does comindware use google analytics?") names Google too.
    The list is rebuilt by scripts/build_vocabulary.py."""
    names = name_words()
    return re.sub(r"\b[a-z][a-z0-9]+\b", lambda m: names.get(m.group(0), m.group(0)), question)


# Phrases whose words mislead one by one: "hold on to my data" is keeping it, "the data it holds" is not.
_IDIOM_WORDS = {"hold on to": "keep", "hold onto": "keep", "hang on to": "keep", "hang onto": "keep",
                "holding on to": "keep", "holding onto": "keep", "get rid of": "delete", "do away with": "delete",
                "figure out": "infer", "work out": "infer", "kick in": "take effect", "kicks in": "take effect",
                "look around": "browse", "looking around": "browse", "look through": "review", "looking through": "review",
                "go through": "review", "goes through": "review", "going through": "review", "ask before": "consent before",
                "ask me before": "consent before", "ask my permission": "consent",
                "mailing address": "mailing postal physical address", "postal address": "postal physical address",
                "where i am": "my location", "where i'm": "my location", "hook up": "connect", "hooked up": "connect",
                "hook it up": "connect", "stop working": "break", "stops working": "breaks"}
_IDIOMS = re.compile(r"\b(?:" + "|".join(sorted(map(re.escape, _IDIOM_WORDS), key=len, reverse=True)) + r")\b", re.I)


# "my 12 year old", "a 15-year-old": a child, whatever the number.
_AGE = re.compile(r"\b\d{1,2}[- ]?(?:years?|yrs?)[- ]?olds?\b", re.I)
# "keep my information safe / secure" is protecting it, not keeping (retaining) it.
_KEEP_SAFE = re.compile(r"\bkeep(?:s|ing)?\b((?:\s+[\w'’]+){0,3}?)\s+(safe|secure)\b", re.I)
# "turn cookies off", "switch off tracking": disabling them.
_TURN_OFF = re.compile(r"\b(?:turn|switch)(?:s|ed|ing)?\b((?:\s+[\w'’]+){0,2}?)\s+off\b", re.I)


def understand(question: str, policies: list[PolicyInfo], writes=None) -> Understood:
    """Read company, year and topic words from ``question`` (names typed in lower case included);
    ``writes``: see ``asked_about``."""
    question = with_names_capitalised(question)
    understood = Understood(question)
    understood.companies = asked_about(question, policies, writes)
    for company in understood.companies:  # "if comindware gets bought": the cues read names capitalised
        question = re.sub(rf"(?<![\w.]){re.escape(company)}(?![\w])", lambda m: company, question, flags=re.I)
    understood.question = question
    years = _YEAR.findall(question)
    understood.year = int(years[-1]) if years else None
    if not understood.companies:
        understood.unknown_company = _unknown_company(question)
    company_words = set()
    for company in understood.companies:
        company_words.update(words(company))
        company_words.update(words(fold(company)))
        for p in policies:
            if p.company == company:
                for name in (p.domain or "", *(getattr(p, "aliases", ()) or ())):  # "Rocketeers" names Acme Rockets
                    company_words.update(words(name))
                    company_words.update(words(fold(name)))
    topic_text = _AGE.sub("child", _IDIOMS.sub(lambda m: _IDIOM_WORDS[m.group(0).lower()], question))
    topic_text = _TURN_OFF.sub(r"disable\1", _KEEP_SAFE.sub(r"protect\1 \2", topic_text))
    sequence = tokens(topic_text)
    is_topic = [w not in STOPWORDS and w not in GENERIC and w not in company_words and fold(w) not in company_words
                and not _YEAR.fullmatch(w) and len(w) > 1 for w in sequence]
    understood.content_words = [w for w, topic in zip(sequence, is_topic) if topic]
    # "required cookies", "device ID": two topic words written side by side.
    understood.phrases = [(a, b) for a, b, both in zip(sequence, sequence[1:], map(all, zip(is_topic, is_topic[1:])))
                          if both and a != b]
    first = True
    # Names given only as examples ("(e.g., SSN)") illustrate the question; they are not its topic.
    examples = [m.span() for m in re.finditer(r"\([^)]*\)", question)]
    for match in re.finditer(r"(?<!\w)[A-Za-z][\w&-]*", question):  # not "MEX" of "3MEX"
        token = match.group(0)
        if first:
            first = False
            continue
        if any(a <= match.start() < b for a, b in examples):
            continue
        if (token[0].isupper() and token.lower() not in company_words and fold(token.lower()) not in company_words
                and token not in _CAPITALISED_COMMON):
            understood.entities.append(token)
    return understood


def _unknown_company(question: str) -> str | None:
    domain = _DOMAIN.search(question)
    if domain:
        return domain.group(1)
    for pattern in (_POSSESSIVE, _SUBJECT):
        match = pattern.search(question)
        if match:
            name = match.group(1).strip()
            if name.split()[0] not in _NOT_COMPANIES and name not in _NOT_COMPANIES:
                return name
    return None


def is_practice(word: str) -> bool:
    """A word of the privacy vocabulary (sell, share, cookie, children...): with its synonyms, its
    absence from a policy means the policy does not address that practice."""
    return bool(synonyms_of(word))


def expand_stems(content_words: list[str]) -> list[str]:
    """Stems of the topic words plus their privacy-vocabulary synonyms and, for everyday words, the
    policy words they stand for (each once)."""
    out: list[str] = []
    for word in content_words:
        # The search widens only the exact words of the vocabulary (measured: widening their
        # inflections too moved PolicyQA within noise, Hit@1 -0.4, Hit@5 +0.6 on 500 questions).
        for variant in (word, *SYNONYMS.get(word, SYNONYMS.get(word.rstrip("s"), ()))):
            for part in variant.split():
                stem = stem_word(part)
                if stem not in out:
                    out.append(stem)
        out.extend(s for s in paraphrase_stems(word) if s not in out)
    return out


@lru_cache(maxsize=1)
def _paraphrase_index() -> dict[str, tuple[str, ...]]:
    index: dict[str, list[str]] = {}
    for everyday, policy_words in _PARAPHRASE_GROUPS:
        targets = [stem_word(w) for w in policy_words.split()]
        for word in everyday.split():
            found = index.setdefault(stem_word(word), [])
            found.extend(t for t in targets if t not in found)
    return {k: tuple(v) for k, v in index.items()}


def paraphrase_stems(word: str) -> tuple[str, ...]:
    """Stems of the policy vocabulary for an everyday ``word`` ("mix": combin, link, ...); () if none."""
    return _paraphrase_index().get(stem_word(word), ())


def variants(word: str) -> set[str]:
    """Stems that count as mentioning ``word``: itself and its synonyms."""
    return {stem_word(p) for v in (word, *synonyms_of(word)) for p in v.split()}


@lru_cache(maxsize=1)
def _keys_by_stem() -> dict[str, str]:
    found: dict[str, str] = {}
    for key in SYNONYMS:
        found.setdefault(stem_word(key), key)
    return found


def synonyms_of(word: str) -> tuple[str, ...]:
    """The privacy-vocabulary synonyms of ``word`` in any of its inflections (selling, shared,
    deleted), () if none. An inflection is at least as long as its word and shares all of it but
    a last letter: "office" and "official" are not forms of "officer"."""
    found = SYNONYMS.get(word) or SYNONYMS.get(word.rstrip("s"))
    if found:
        return found
    key = _keys_by_stem().get(stem_word(word))
    if key is None or len(word) < len(key) or len(os.path.commonprefix([word, key])) < len(key) - 1:
        return ()
    return SYNONYMS[key]
