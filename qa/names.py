"""Names in a question ("Do Not Track", "TRUSTe", "Google Analytics") that a policy must contain.

Topic words are matched by stem and synonym, which is right for "sell" or "cookies" but wrong
for names: "Do Not Track" is not "track", "TRUSTe" is not "trust". A policy that never writes
the name does not mention it.

A name still tolerates the forms English gives it: plurals and demonyms ("Californian" is
"California", "European" is "Europe"), hyphenation ("Wi-Fi" is "WiFi" or "wi-fi"; the words of
a multi-word name are compared as stems), and a two- or three-letter abbreviation written out
("IDs" are "identifiers", "EU" is "European").
"""
from __future__ import annotations

import re
import threading
import unicodedata

from index.chunking import plain_text
from index.lexical import stem_word, words
from index.retrieval import IndexView

from .presence import union_over

# The names rule: a name the searched policies never write ("Salesforce", "Do Not Track")
# makes them silent on it, whatever the judge reads (docs/quality.md, the rule-family table).
NAMES_RULE = True

# A street line ("157 Dmitrovskoje HWY", "38 rue Jean Mermoz"), a PO box or a postcode with its town.
POSTAL_ADDRESS = re.compile(
    r"\b\d{1,5},?\s+(?:[A-Z][\w'’.-]*\s*){1,4}(?i:street|st\.?|road|rd\.?|avenue|ave\.?|boulevard|blvd\.?|"
    r"hwy|highway|drive|dr\.?|lane|suite|unit|floor)\b|\b\d{1,5},?\s+(?i:rue|via|calle|strasse|straße)\s+[A-Z]|"
    r"\b(?i:P\.?\s?O\.?\s+Box)\b|\b[A-Z]{2}\s+\d{5}\b|\b\d{5}\s*,?\s+[A-Z][a-z]+")
from .question import Understood, fold

_TOKEN = re.compile(r"(?<!\w)[^\W\d_][\w&'’-]*")  # a word that starts with a letter: not "MEX" of "3MEX"
_POSSESSIVE = re.compile(r"['’]s?$")
# Capitalised for grammar, not because they name something (sentence starts are skipped anyway).
_COMMON = frozenset({"I"})

# Endings that make another form of the same name: plurals and demonyms (California: Californian).
_NAME_ENDINGS = ("s", "es", "n", "an", "ian", "ean", "ns", "ans", "ians")
# The shorter form keeps at least this many letters, so short words do not turn into each other.
MIN_BASE = 4
# An abbreviation counts as written out by a word this much longer that starts with it (ID: identifier).
EXPANSION_EXTRA = 5

_lock = threading.Lock()
_doc_forms: dict[tuple[str, str, bool], tuple[str, frozenset]] = {}


def name_forms(word: str) -> set[str]:
    """``word`` (lower case) and the forms a plural or demonym ending makes of it, both ways:
    california, californian; europe, european; canada, canadian; partners, partner."""
    forms = {word}
    bases = {word, word[:-1]} if word[-1:] in ("a", "e", "y") else {word}
    for ending in _NAME_ENDINGS:
        forms.update(base + ending for base in bases if len(base) >= MIN_BASE)
        if word.endswith(ending) and len(word) - len(ending) >= MIN_BASE:
            base = word[: -len(ending)]
            forms.update((base, base + "a", base + "e"))
    return forms


def abbreviation_written_out(abbreviation: str, vocabulary) -> bool:
    """A two- or three-letter abbreviation (lower case, no plural s) starting a longer word of ``vocabulary``."""
    return (2 <= len(abbreviation) <= 3 and abbreviation.isalpha()
            and any(len(w) >= len(abbreviation) + EXPANSION_EXTRA and w.startswith(abbreviation) for w in vocabulary))


# Places that policies name otherwise: "America" is written "United States" or "USA".
PLACE_NAMES = {
    "america": ("united states", "usa"), "american": ("united states", "usa"), "usa": ("united states", "america"),
    "britain": ("united kingdom", "uk"), "british": ("united kingdom", "uk"), "uk": ("united kingdom", "britain"),
    "england": ("united kingdom", "uk"), "holland": ("netherlands",), "dutch": ("netherlands",),
}


def name_key(text: str) -> str:
    """A name as names are compared: lower case, without accents ("Zürich", "ZURICH" and "zurich" agree)."""
    return fold(unicodedata.normalize("NFC", text)).lower()


def name_word_present(word: str, vocabulary) -> bool:
    """Whether the one-word name ``word`` (lower case) is in ``vocabulary`` (a policy's raw lower-case
    words) in one of its forms (``name_forms``), or written out when it is an abbreviation, or, for a
    place, under its other name (``PLACE_NAMES``)."""
    word = name_key(word).replace("-", "").replace("’", "'").split("'")[0]
    if word in vocabulary:
        return True
    if any(all(part in vocabulary for part in other.split()) for other in PLACE_NAMES.get(word, ())):
        return True
    singular = word[:-1] if word.endswith("s") and len(word) > 2 else word
    if singular in vocabulary or abbreviation_written_out(singular, vocabulary):
        return True
    return any(form in vocabulary for form in name_forms(word))


def name_phrases(understood: Understood, company_words: set[str]) -> list[list[str]]:
    """Runs of capitalised words in the question, leaving out sentence starts, "I" and company names."""
    runs: list[list[str]] = []
    current: list[str] = []
    previous_end = None
    question = unicodedata.normalize("NFC", understood.question)  # "e" + combining acute is one letter
    possessive = False
    for match in _TOKEN.finditer(question):
        token = re.split(r"['’]", match.group(0))[0]
        gap = question[previous_end:match.start()] if previous_end is not None else "."
        previous_end = match.end()
        sentence_start = bool(re.search(r"[.?!:;]", gap))
        capital = (token[:1].isupper() and not sentence_start and token not in _COMMON
                   and not _names_company(token, company_words))
        # "Apple's TrueDepth camera": what a name owns is a name of its own, not one name with it.
        after_owner, possessive = possessive, bool(_POSSESSIVE.search(match.group(0)))
        if capital and current and gap.strip() == "" and not after_owner:
            current.append(token)
            continue
        if current:
            runs.append(current)
        current = [token] if capital else []
    if current:
        runs.append(current)
    return [run for run in runs if len(run) > 1 or (_looks_coined(run[0]) and not _two_letters(run[0]))]


def _two_letters(token: str) -> bool:
    """A lone two-letter abbreviation (PC, CV, IDs): too many spellings to be a name a policy must write."""
    return len(token.rstrip("s")) <= 2 and token[:2].isupper()


def _names_company(token: str, company_words: set[str]) -> bool:
    """Whether ``token`` is a word of the company's name, hyphenated or not ("How-To" of "How-To Geek")."""
    parts = re.findall(r"[a-z0-9]+", fold(token.lower()))
    return fold(token.lower()) in company_words or bool(parts) and all(p in company_words for p in parts)


def company_words_of(understood: Understood) -> set[str]:
    """The words of the companies' names the question names, as written and as stems."""
    return {w for c in understood.companies for w in words(fold(c)) + re.findall(r"[a-z0-9]+", fold(c).lower())}


def _looks_coined(token: str) -> bool:
    """Single names whose stem would match ordinary words: inner capitals or all capitals (TRUSTe, SSL)."""
    core = re.sub(r"s$", "", token) if len(token) > 2 and token[:-1].isupper() else token
    return any(c.isupper() for c in core[1:])


def missing_names(understood: Understood, view: IndexView, docs: list[str]) -> list[str]:
    """The question's names (runs of capitalised words, and single ones such as "Salesforce") that
    none of ``docs`` contains in any of their forms.

    The company's own postal address names a town and a country ("33000 Bordeaux France"); it
    speaks to where the company is, not to servers "outside France": unless the question asks
    where the company is, names written only in an address block do not count."""
    company_words = company_words_of(understood)
    if not docs or (not understood.entities and not name_phrases(understood, company_words)):
        return []
    prose = not asks_where_the_company_is(understood.question)
    if len(docs) == 1:
        form = _forms(view, docs[0], prose)
    else:
        form = union_over(view, docs, "prose forms" if prose else "forms", lambda ds: _joined(view, ds, prose))
    return _missing_from_forms(understood, *form)


_COMPANY_PLACE = re.compile(r"\b(?:based|located|location|offices?|headquarter\w*|address\w*|where|registered|"
                            r"incorporated|mail|post|write)\b", re.I)


def asks_where_the_company_is(question: str) -> bool:
    """Whether an address may answer ``question`` ("Is Azendoo based in France?")."""
    return bool(_COMPANY_PLACE.search(question))


MAX_ADDRESS_BLOCK = 300  # characters: a paragraph longer than this is prose that happens to hold an address


def without_address_blocks(text: str) -> str:
    """``text`` with its short paragraphs holding a postal address blanked (same length)."""

    def blank(match: re.Match) -> str:
        block = match.group(0)
        return re.sub(r"\S", " ", block) if len(block) <= MAX_ADDRESS_BLOCK and POSTAL_ADDRESS.search(block) else block

    return re.sub(r"[^\n]+(?:\n[^\n]+)*", blank, text)


def policy_writer(view: IndexView):
    """``writes(company, name)``: whether any policy of ``company`` writes ``name`` (its words, as stems,
    side by side), for ``qa.question.asked_about``."""
    def writes(company: str, name: str) -> bool:
        phrase = _stem_phrase(re.findall(r"[a-z0-9]+", name_key(name)))
        return any(phrase in _forms(view, doc)[0] for doc, info in view.policies.items() if info.company == company)

    return writes


def names_missing_from_text(understood: Understood, text: str) -> list[str]:
    """The question's names (runs of capitalised words, and single ones such as "Salesforce") that
    ``text`` (a cited excerpt) does not contain in any of their forms."""
    return _missing_from_forms(understood, *_text_forms(text))


def _missing_from_forms(understood: Understood, stemmed: str, vocabulary: frozenset) -> list[str]:
    company_words = company_words_of(understood)
    missing = _absent(name_phrases(understood, company_words), [(stemmed, vocabulary)])
    for entity in understood.entities:
        word = name_key(entity)
        if _names_company(entity, company_words) or entity in missing or _two_letters(entity):
            continue
        # A hyphenated name ("Third-Party", "Service-related") is written as its parts.
        phrase = _stem_phrase(word.split("-"))
        if not name_word_present(word, vocabulary) and phrase not in stemmed:
            missing.append(entity)
    return missing


def _absent(names: list[list[str]], forms: list[tuple[str, frozenset]]) -> list[str]:
    missing = []
    for run in names:
        if all(_looks_coined(t) for t in run):  # acronyms and coined names ("EU GDPR"), each on its own
            found = any(all(_coined_present(t, vocabulary) or _initials_present(t, stemmed) for t in run)
                        for stemmed, vocabulary in forms)
        else:
            parts = [p for t in run for p in name_key(t).split("-") if p]
            phrase = _stem_phrase(parts)
            found = any(phrase in stemmed for stemmed, _ in forms)
            if not found and len(parts) >= 3:  # "Do Not Track" written as its initials, "DNT"
                found = any("".join(p[0] for p in parts) in vocabulary for _, vocabulary in forms)
            if not found and len(parts) == 1:  # one hyphenated word (Opt-Out): any of its forms
                found = any(name_word_present(parts[0].lower(), vocabulary) for _, vocabulary in forms)
        if not found:
            missing.append(" ".join(run))
    return missing


def _initials_present(token: str, stemmed: str) -> bool:
    """An acronym of three to five capitals written out as words with those initials ("DPO": "data
    protection officer"), each word of three letters or more so that chance runs rarely match."""
    letters = token.rstrip("s") if token[:-1].isupper() else token
    if not (3 <= len(letters) <= 5 and letters.isupper() and letters.isalpha()):
        return False
    return re.search(" " + " ".join(f"{c}[a-z0-9]{{2,}}" for c in letters.lower()) + " ", stemmed) is not None


def _coined_present(token: str, vocabulary) -> bool:
    """A coined name or acronym as written (TRUSTe, SSL, IDs), hyphenated or not (Wi-Fi: wifi or wi fi)."""
    raw = name_key(re.sub(r"s$", "", token) if token[:-1].isupper() else token)
    if raw in vocabulary or raw + "s" in vocabulary:
        return True
    parts = [p for p in raw.split("-") if p]
    if len(parts) > 1:
        return "".join(parts) in vocabulary or all(p in vocabulary for p in parts)
    return abbreviation_written_out(raw, vocabulary)


def _joined(view: IndexView, docs: list[str], prose: bool = False) -> tuple[str, frozenset]:
    """All of ``docs`` as one form: stems joined so that no phrase spans two policies, words pooled."""
    forms = [_forms(view, doc, prose) for doc in docs]
    return "\x00".join(stemmed for stemmed, _ in forms), frozenset().union(*(vocabulary for _, vocabulary in forms))


def _forms(view: IndexView, doc: str, prose: bool = False) -> tuple[str, frozenset]:
    """A policy as one string of stems (for phrases) and its set of raw lower-case words; with
    ``prose``, leaving out its address blocks (``without_address_blocks``)."""
    key = (view.policies[doc].source, str(view.manifest_mtime), prose)
    with _lock:
        if key in _doc_forms:
            return _doc_forms[key]
    text = view.source_text(doc)
    value = _text_forms(without_address_blocks(text) if prose else text)
    with _lock:
        if len(_doc_forms) > 512:
            _doc_forms.clear()
        _doc_forms[key] = value
    return value


def _text_forms(text: str) -> tuple[str, frozenset]:
    raw = re.findall(r"[a-z0-9]+", name_key(plain_text(text)))
    return _stem_phrase(raw), frozenset(raw)


def _stem_phrase(parts: list[str]) -> str:
    """``parts`` as stems between spaces, the shape a policy's stem string has: a phrase is in it as a substring."""
    return " " + " ".join(stem_word(p) for p in parts if p) + " "
