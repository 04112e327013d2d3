"""Which kind of answer a question gets: one policy, company by company, or two versions compared."""
from __future__ import annotations

from index.config import Config
from index.retrieval import IndexView

from .question import Understood
from .records import Answer


def answer_by_route(understood: Understood, view: IndexView, config: Config) -> Answer | None:
    """The answer for a question across versions or across companies; None for a one-policy question."""
    from .across import answer_across, is_across_question
    from .versions import answer_changes, is_change_question

    if is_change_question(understood):
        return answer_changes(understood, view, config)
    if is_across_question(understood):
        return answer_across(understood, view, config)
    return None


def format_routed(answer: Answer) -> str:
    """CLI rendering of an answer across companies or versions."""
    from .across import format_companies
    from .versions import format_changes

    return format_changes(answer) if answer.kind == "versions" else format_companies(answer)
