"""Which indexed company a name means: one resolution for the question, ``company=`` (``qa.ask``,
``index.retrieval.search``, the CLI and the chat's API) and the chat's filter.

A company is named by its registered name ("Acme Widgets"), its distinctive word ("Acme": a word
of the name no other company has and that is not a generic word such as "Privacy", "Policy",
"Inc" or "Data"), its domain ("acme-widgets.com") and its label ("acme-widgets"), and the aliases
given when it was added (``python -m index add --alias``). A near miss of one of these
("Comindwre") names it too, when nothing else does (rapidfuzz).
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:  # index.retrieval resolves ``search(company=)`` here: no import at run time
    from .retrieval import PolicyInfo

NEAR_MISS_SCORE = 88  # rapidfuzz ratio (0-100) for a misspelt name
MIN_NEAR_MISS_CHARS = 5  # shorter names are too easily hit by accident
# Words of company names that name no company on their own.
GENERIC_NAME_WORDS = frozenset("""
privacy policy policies notice statement terms service services inc incorporated llc ltd limited plc gmbh co
corp corporation company companies group holdings global international worldwide online web website site
app apps mobile digital media network networks technologies technology tech solutions software systems labs
data information info the and of for a an our your my new first united american national general best home
store shop club center centre foundation association institute university school studio studios
""".split())


class Mention(NamedTuple):
    """Where a question names a company; ``by_word`` when only by a distinctive word of its name or a near
    miss ("California" of "Covered California"), which may be an ordinary word or a place."""

    start: int
    end: int
    company: str
    by_word: bool = False


def fold(text: str) -> str:
    """Without accents: a question may write "Cafe Lumiere" for "Café Lumière"."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def company_aliases(policies: list[PolicyInfo]) -> dict[str, str]:
    """Lower-case name, distinctive word, domain, domain label and given aliases -> company name."""
    return dict(_aliases(_key(policies))[0])


def _key(policies: list[PolicyInfo]) -> tuple:
    return tuple((p.company, p.domain, tuple(getattr(p, "aliases", ()) or ())) for p in policies)


@lru_cache(maxsize=8)
def _aliases(companies: tuple[tuple[str, str | None, tuple[str, ...]], ...]) -> tuple[tuple, frozenset]:
    """(alias, company) pairs, and the aliases that are a distinctive word (named only when capitalised)."""
    aliases: dict[str, str] = {}
    for company, domain, given in companies:
        aliases[company.lower()] = company
        aliases.setdefault(fold(company.lower()), company)  # "cafe lumiere" names Café Lumière
        for alias in given:
            if alias.strip():
                aliases.setdefault(" ".join(alias.lower().split()), company)
        if domain:
            aliases[domain.lower()] = company
            label = domain.lower().split(".")
            aliases.setdefault(label[-2] if len(label) >= 2 else label[0], company)
    # A distinctive word of a longer name ("Acme" of "Acme Widgets"), when no other company has it.
    owners: dict[str, set[str]] = {}
    for company, _, _ in companies:
        for word in re.findall(r"[^\W_][\w&'’-]*", fold(company.lower())):
            owners.setdefault(word, set()).add(company)
    distinctive = set()
    for word, names in owners.items():
        if (len(names) == 1 and len(word) >= 3 and word not in GENERIC_NAME_WORDS and not word.isdigit()
                and word not in aliases):
            aliases[word] = next(iter(names))
            distinctive.add(word)
    return tuple(aliases.items()), frozenset(distinctive)


def find_companies(text: str, policies: list[PolicyInfo], everyday: frozenset = frozenset(),
                   written_as_name=None) -> list[str]:
    """Known companies named in ``text`` (any name form above, any case), in order of appearance.

    A name that is also an ``everyday`` word ("Can", "Data") counts only where
    ``written_as_name(text, start)`` says it is written as a name. Without an exact name, a near
    miss of one ("Comindwre") names its company.
    """
    return [m.company for m in company_mentions(text, policies, everyday, written_as_name)]


def company_mentions(text: str, policies: list[PolicyInfo], everyday: frozenset = frozenset(),
                     written_as_name=None) -> list[Mention]:
    """Where ``find_companies`` finds each company: its first mention, in order."""
    pairs, distinctive = _aliases(_key(policies))
    aliases = dict(pairs)
    lowered = text.lower()
    if not lowered.isascii() and len(fold(lowered)) == len(lowered):
        lowered = fold(lowered)  # accents dropped on both sides, positions kept
    found: list[Mention] = []
    named: list[tuple[int, int]] = []  # the spans names take, longest names first
    for alias in sorted(aliases, key=len, reverse=True):
        if alias not in lowered:
            continue  # cheap test first: a corpus has thousands of aliases, a question a few words
        for match in re.finditer(r"(?<![\w.])" + re.escape(alias) + r"(?![\w])", lowered):
            if alias in everyday and not (written_as_name and written_as_name(text, match.start())):
                continue  # the company "Can" (can.nl) is not named by "How can I ...?"
            if alias in distinctive and (alias in everyday or not text[match.start()].isupper()):
                continue  # "Acme" names Acme Widgets; "how do they track me" does not name Bill Track 50
            if any(a <= match.start() and match.end() <= b for a, b in named):
                continue  # "Life" of "Life-Answers" does not name SEA LIFE Melbourne
            named.append(match.span())
            company = aliases[alias]
            if all(m.company != company for m in found):
                found.append(Mention(match.start(), match.end(), company, alias in distinctive))
    if not found:
        found = _near_misses(text, {a: c for a, c in aliases.items() if a not in distinctive}, everyday)
    return sorted(found)


def _near_misses(text: str, aliases: dict[str, str], everyday: frozenset) -> list[Mention]:
    from rapidfuzz import fuzz, process

    choices = [a for a in aliases if len(a) >= MIN_NEAR_MISS_CHARS and " " not in a and "." not in a
               and a not in everyday]
    if not choices:
        return []
    found: list[Mention] = []
    for match in re.finditer(r"[A-Za-z][\w&-]{%d,}" % (MIN_NEAR_MISS_CHARS - 1), text):
        word = match.group(0).lower()
        if word in everyday or word in GENERIC_NAME_WORDS:
            continue
        best = process.extractOne(word, choices, scorer=fuzz.ratio, score_cutoff=NEAR_MISS_SCORE)
        if best and all(m.company != aliases[best[0]] for m in found):
            found.append(Mention(match.start(), match.end(), aliases[best[0]], True))
    return found


def resolve_company(name: str, policies: list[PolicyInfo], everyday: frozenset = frozenset()) -> str | None:
    """The one company ``name`` (a name, word, domain, alias or near miss, any case) means; None when none.

    What every ``company=`` goes through. A given name is meant as a name, so a distinctive word
    counts in lower case too ("acme"); a generic word ("privacy") names no company."""
    aliases = company_aliases(policies)
    exact = aliases.get(" ".join(fold(name.lower()).split()))
    if exact:
        return exact
    named = find_companies(name, policies, everyday, lambda text, start: True)
    return named[0] if named else None
