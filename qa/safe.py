"""``safe_ask``: ``ask`` for front ends (chat, CLI) that must never show a traceback.

Every outcome is a ``SafeReply``: an ``Answer``, or a message a person can act on. Errors we
expect (a bad question, a Chroma server that is down, an empty index) carry their own message;
anything unexpected is logged with its traceback for the operator and the user gets a short,
honest sentence instead.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from index.errors import BadQuestion, PolicyQAError

from .records import Answer

log = logging.getLogger("policyqa")

UNEXPECTED_MESSAGE = ("Something went wrong on our side while answering, and it has been logged. "
                      "Please try again; if it keeps happening, rebuild the index with `python -m index`.")


@dataclass(frozen=True)
class SafeReply:
    """What a front end shows: ``answer`` when there is one, else ``message``.

    ``kind`` is ``"answer"``, ``"bad_question"`` (the user can fix the question),
    ``"unavailable"`` (the index or its server cannot be used right now) or ``"failure"`` (a bug,
    logged with its traceback).
    """

    kind: str
    answer: Answer | None = None  # or whatever the function given to ``safe_call`` returned
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.answer is not None


def safe_ask(question, company: str | None = None, k: int = 5, config=None, **options) -> SafeReply:
    """Like ``qa.ask`` (same arguments) but never raises, except ``KeyboardInterrupt``/``SystemExit``.

    Front ends show ``reply.answer`` when ``reply.ok``, else ``reply.message``.
    """
    from .answer import ask

    return safe_call(ask, question, company=company, k=k, config=config, **options)


def safe_call(fn, *args, **kwargs) -> SafeReply:
    """Run ``fn`` (``ask``, or a front end's own turn function built on it) and never raise.

    The result of ``fn`` becomes ``reply.answer``; errors become ``reply.message``.
    """
    try:
        return SafeReply("answer", answer=fn(*args, **kwargs))
    except BadQuestion as exc:
        return SafeReply("bad_question", message=_sentence(exc))
    except PolicyQAError as exc:
        return SafeReply("unavailable", message=_sentence(exc))
    except Exception:  # the one place that turns a bug into a message; the traceback goes to the log
        log.exception("unexpected error in %s", getattr(fn, "__qualname__", fn))
        return SafeReply("failure", message=UNEXPECTED_MESSAGE)


def _sentence(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text[0].upper() + text[1:]
