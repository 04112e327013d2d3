"""One chat turn, independent of any UI: resolve follow-ups, apply the filters, call ``ask``.

The web app (``webui``) renders what this module returns; tests drive it directly.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from index.config import Config, get_config
from index.errors import BadQuestion
from index.retrieval import PolicyInfo

from .answer import ask, clean_question, ensure_index
from .followup import Turn, resolve
from .question import asked_about, find_companies
from .records import Answer

ALL_COMPANIES = "All"
NEWEST = "newest"


@dataclass(frozen=True)
class ChatRequest:
    """What one chat message asks once follow-ups and filters are applied."""

    message: str
    question: str
    company: str | None = None
    policy_date: str | None = None
    rewritten: bool = False


@dataclass(frozen=True)
class ChatTurn:
    """A finished turn: the request, its answer, and the context the next message may refer to."""

    request: ChatRequest
    answer: Answer
    context: Turn


def company_choices(policies: list[PolicyInfo]) -> list[str]:
    """"All" followed by every indexed company, alphabetically."""
    return [ALL_COMPANIES, *sorted({p.company for p in policies}, key=str.lower)]


def versions_of(company: str | None, policies: list[PolicyInfo]) -> list[str]:
    """Policy dates of ``company``, newest first (empty for "All" or an unknown company)."""
    if not company or company == ALL_COMPANIES:
        return []
    return sorted({p.policy_date for p in policies if p.company == company and p.policy_date}, reverse=True)


def plan(message: str, previous: Turn | None, policies: list[PolicyInfo], company_filter: str | None = None,
         version: str | None = None) -> ChatRequest:
    """The question to ask for ``message``.

    A follow-up is rewritten from ``previous``. The company filter applies to questions that name
    no company (before a company carried over from the previous turn: the filter is the user's
    latest explicit choice); the version applies when the question is about the filtered company.
    """
    text = clean_question(message)
    resolved = resolve(text, previous, policies)
    if resolved.needs_previous:
        raise BadQuestion(_needs_previous(text, policies))
    chosen = company_filter if company_filter and company_filter != ALL_COMPANIES else None
    named = asked_about(resolved.question, policies)
    company = None
    if not named:
        company = chosen or resolved.company
    about = named if named else ([company] if company else [])
    policy_date = None
    if version and version != NEWEST and chosen and about == [chosen]:
        policy_date = version
    return ChatRequest(message=text, question=resolved.question, company=company, policy_date=policy_date,
                       rewritten=resolved.rewritten)


def answer_turn(message: str, previous: Turn | None = None, company_filter: str | None = None,
                version: str | None = None, config: Config | None = None) -> ChatTurn:
    """Answer one chat message. Raises ``BadQuestion`` for an empty or over-long message."""
    config = config or get_config()
    policies = list(ensure_index(config, progress=False).policies.values())
    request = plan(message, previous, policies, company_filter, version)
    answer = ask(request.question, company=request.company, config=config, policy_date=request.policy_date)
    return ChatTurn(request, answer, Turn(request.question, answer.company or request.company))


def _needs_previous(message: str, policies: list[PolicyInfo]) -> str:
    named = find_companies(message, policies)
    example = f"Does {named[0]} share data with advertisers?" if named else "Does the policy mention cookies?"
    return (f"“{message}” follows up on an earlier question, and there is none yet. "
            f"Ask a whole question first, such as “{example}”")


def growing_text(text: str, pieces: int = 12) -> Iterator[str]:
    """Longer and longer prefixes of ``text``, cut after whole words, ending with ``text`` itself."""
    cuts = [m.end() for m in re.finditer(r"\S+\s*", text)]
    if not cuts:
        yield text
        return
    step = max(1, len(cuts) // pieces)
    for i in range(step - 1, len(cuts) - 1, step):
        yield text[:cuts[i]].rstrip()
    yield text


def ask_in_context(question: str, company: str | None = None, policy_date: str | None = None,
                   previous: str | None = None, config: Config | None = None) -> Answer:
    """``ask``, with ``question`` read as a follow-up of ``previous`` (the question asked before) when given.

    ``company`` and ``policy_date`` work as in ``ask``. ``Answer.question`` is the question answered.
    """
    config = config or get_config()
    text = clean_question(question)
    carried = None
    if previous and previous.strip():
        policies = list(ensure_index(config, progress=False).policies.values())
        before = clean_question(previous)
        named = asked_about(before, policies)
        resolved = resolve(text, Turn(before, named[0] if len(named) == 1 else None), policies)
        text, carried = resolved.question, resolved.company
    else:
        policies = list(ensure_index(config, progress=False).policies.values())
        if resolve(text, None, policies).needs_previous:
            raise BadQuestion(_needs_previous(text, policies))
    return ask(text, company=company or carried, config=config, policy_date=policy_date)
