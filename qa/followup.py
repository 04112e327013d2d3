"""Follow-up questions in a conversation: "What about Axosoft?" after a question about Comindware.

A follow-up that names only a company, another party or a year is the previous question with
that one thing swapped. A follow-up that refers back ("Do they ...", "What about cookies?")
keeps the previous company. Everything else is a new question.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from index.retrieval import PolicyInfo

from .question import company_aliases, understand

_YEAR = re.compile(r"\b(19[89]\d|20[0-4]\d)\b")
_LEAD = re.compile(r"^\s*(?:(?:and|also|ok(?:ay)?|so|now|then)\b[\s,]*)*"
                   r"(?:(?:what|how)\s+about|what\s+of"
                   r"|(?:and\s+)?(?:the\s+)?same(?:\s+question)?\s+(?:for|about|with))\b",
                   re.I)
_AND_LEAD = re.compile(r"^\s*(?:and|also)\b", re.I)
# Words a follow-up may hold besides the company or year it names.
_FILLER = frozenset("""
and or also ok okay so now then what how about of same question for with at in on from by the a an its their
policy policies privacy version versions year one website site company companies instead too as well please s
""".split())
_BACK_REFERENCE = re.compile(r"\b(?:they|them|their|theirs|it|its|this\s+company|the\s+company|this\s+policy|"
                             r"that\s+policy|the\s+policy)\b", re.I)
_NAME = re.compile(r"^(?:[A-Z][\w&.-]*|[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,})$")


@dataclass(frozen=True)
class Turn:
    """What the previous turn asked, after its own follow-up was resolved, and whom it was about."""

    question: str
    company: str | None = None


@dataclass(frozen=True)
class Resolved:
    """The question to ask. ``company`` carries the previous turn's company when the question refers back."""

    question: str
    company: str | None = None
    rewritten: bool = False
    needs_previous: bool = False  # a bare follow-up ("What about Axosoft?") with nothing to follow


def resolve(message: str, previous: Turn | None, policies: list[PolicyInfo]) -> Resolved:
    """Turn a chat message into a self-contained question, using the previous turn when it is a follow-up."""
    message = " ".join(message.split())
    named = _company_spans(message, policies)
    years = _YEAR.findall(message)
    leftover = _leftover_words(message, named)
    has_lead = bool(_LEAD.match(message) or _AND_LEAD.match(message))
    names_only = (bool(named or years) and not leftover) or (
        has_lead and not named and not years and 0 < len(leftover) <= 3 and all(_NAME.match(w) for w in leftover))
    if previous is None or not previous.question:
        return Resolved(message, needs_previous=names_only)

    if (named or years) and not leftover:
        companies = _unique([c for _, _, c in named])
        question = previous.question
        if companies:
            question = _swap_company(question, " and ".join(companies), policies)
        if years:
            question = _swap_year(question, years[-1])
        return Resolved(question, company=None if companies else previous.company, rewritten=question != message)

    if names_only:
        # "What about Google?": another party (or an unknown company) in the previous question's place.
        name = " ".join(leftover)
        question = _swap_party(previous.question, name, policies)
        return Resolved(question, company=None, rewritten=True)

    if not named and (has_lead or _BACK_REFERENCE.search(message)) and previous.company:
        if understand(message, policies).unknown_company is None:
            return Resolved(message, company=previous.company)
    return Resolved(message)


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _company_spans(text: str, policies: list[PolicyInfo]) -> list[tuple[int, int, str]]:
    """(start, end, company) of every known company named in ``text``, by name or domain."""
    aliases = company_aliases(policies)
    lowered = text.lower()
    spans: list[tuple[int, int, str]] = []
    for alias in sorted(aliases, key=len, reverse=True):
        for match in re.finditer(r"(?<![\w.])" + re.escape(alias) + r"(?![\w])", lowered):
            if not any(s < match.end() and match.start() < e for s, e, _ in spans):
                spans.append((match.start(), match.end(), aliases[alias]))
    return sorted(spans)


def _leftover_words(message: str, named: list[tuple[int, int, str]]) -> list[str]:
    """The message's words other than company names, years and filler, in their original case."""
    text = message
    for start, end, _ in sorted(named, reverse=True):
        text = text[:start] + " " + text[end:]
    text = _YEAR.sub(" ", text)
    tokens = re.findall(r"[A-Za-z0-9][\w&.-]*[\w]|[A-Za-z0-9]", text.replace("’", "'"))
    return [t for t in tokens if t.lower() not in _FILLER]


def _swap_company(question: str, company: str, policies: list[PolicyInfo]) -> str:
    spans = _company_spans(question, policies)
    if spans:
        start, end, _ = spans[0]
        return question[:start] + company + question[end:]
    unknown = understand(question, policies).unknown_company
    if unknown and unknown in question:
        return question.replace(unknown, company, 1)
    return _append(question, f"at {company}")


def _swap_party(question: str, name: str, policies: list[PolicyInfo]) -> str:
    understood = understand(question, policies)
    if understood.entities:
        entity = understood.entities[-1]
        match = list(re.finditer(r"\b" + re.escape(entity) + r"\b", question))
        if match:
            last = match[-1]
            return question[:last.start()] + name + question[last.end():]
    return _swap_company(question, name, policies)


def _swap_year(question: str, year: str) -> str:
    if _YEAR.search(question):
        return _YEAR.sub(year, question)
    return _append(question, f"in {year}")


def _append(question: str, words: str) -> str:
    body = question.rstrip()
    end = ""
    while body and body[-1] in "?!.":
        end = body[-1] + end
        body = body[:-1]
    return f"{body} {words}{end or '?'}"
