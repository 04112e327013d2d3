"""``ask``: from a question to a short answer backed by verbatim, cited excerpts.

The pipeline, one module a stage: ``question`` (understand) → ``retrieve`` → ``evidence`` (judge)
→ ``compose``; ``routes`` sends questions across companies (``across``) or about changes of a
policy (``versions``) their own way."""
from __future__ import annotations

import re
import unicodedata

from index.config import Config, get_config, quiet_third_parties
from index.dates import date_label
from index.errors import BadQuestion, PolicyQAError
from index.companies import resolve_company
from index.retrieval import IndexView, PolicyInfo

from . import names
from .compose import answer_text, cite, format_answer, silent_text, topic_share
from .question import MAX_QUESTION_CHARS, search_text, understand
from .records import Answer
from .retrieve import RETRIEVED, choose_versions, ensure_index, query_stems

MAX_COMPANIES_LISTED = 20



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
    understood = understand(text, policies, names.policy_writer(view))

    company = _clean_company(company)
    if company:
        named = resolve_company(company, policies)
        if not named:
            return _unknown_company_answer(text, company, policies)
        understood.companies = [named]
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
    docs, newest, notes = choose_versions(understood, policies)
    from index.embedder import embed_query

    named = [p for p in view.policies.values() if p.company in understood.companies]
    query_vector = embed_query(config.model, search_text(text, named), config.query_adapter)
    hits = view.hits(query_vector, query_stems(understood), docs, k=max(k * 3, RETRIEVED))
    focus = understood.companies[0] if len(understood.companies) == 1 else None
    answer = Answer(question=text, text="", found=False, company=focus, notes=notes,
                    policy_date=view.policies[next(iter(newest))].policy_date if len(newest) == 1 else None)
    if not hits:
        answer.text = silent_text(understood, view, docs, [])
        return answer
    from .evidence import FURTHER_PASSAGES, FURTHER_SENTENCES, best_of_passages, judge_sentences, prefer_newest
    from .judge import get_judge

    # A name no searched policy writes makes them silent on it, before the judge reads a sentence.
    missing = names.missing_names(understood, view, docs) if names.NAMES_RULE else []
    if missing:
        answer.text = silent_text(understood, view, docs, missing)
        return answer
    judge = get_judge(config)
    memo: dict = {}  # what the first look computed, for the second
    sentences = judge_sentences(view, understood, hits, config, query_vector, memo=memo)
    judged = best_of_passages(sentences, hits)
    if not judged or judged[0].probability < judge.answers:
        # Before saying the policy is silent, the judge reads further down the retrieved passages, and reads
        # them all: the first reading's shortlist keeps the sentences that write the question's words, and an
        # answer in other words ("You may visit our site anonymously") is what it drops (docs/quality.md, round 42).
        sentences = judge_sentences(view, understood, hits, config, query_vector, FURTHER_PASSAGES, FURTHER_SENTENCES,
                                    memo=memo, cross_encoded=judge.further_cross_encoded,
                                    shortlisted=judge.further_shortlisted)
        judged = best_of_passages(sentences, hits)
    if not judged or judged[0].probability < judge.answers:
        answer.text = silent_text(understood, view, docs, [])
        return answer
    ranked = prefer_newest(judged, newest)
    likely = {(j.hit.doc, *j.sentence) for j in sentences if j.probability >= judge.lead}
    answer.citations = cite(view, ranked, k, query_vector, topic_share(view, understood), likely)
    answer.found = bool(answer.citations)
    answer.text = answer_text(understood, answer.citations, view, newest, ranked[0].probability, judge, config)
    if answer.found:
        from .versions import add_earlier_version_line

        add_earlier_version_line(answer, understood, view, ranked, newest, judge.answers)
    return answer


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


__all__ = ["ask", "format_answer", "ensure_index", "PolicyQAError"]
