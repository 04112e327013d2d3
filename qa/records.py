"""The answer records users get back from ``qa.ask``."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Citation:
    """A verbatim excerpt of one policy version backing the answer.

    ``open(source).read()[start:end] == excerpt``; ``highlight`` is the evidence sentence(s)
    inside the excerpt, at ``highlight_start:highlight_end`` of the same source text.
    """

    n: int
    company: str
    policy_date: str
    section: str
    score: float
    excerpt: str
    highlight: str
    source: str
    start: int
    end: int
    highlight_start: int
    highlight_end: int
    doc: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Answer:
    """A short answer in words, with [n] markers pointing into ``citations``.

    ``found`` is False when the policies say nothing relevant; ``text`` then says so.
    """

    question: str
    text: str
    found: bool
    citations: list[Citation] = field(default_factory=list)
    company: str | None = None
    policy_date: str | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "question": self.question,
            "text": self.text,
            "found": self.found,
            "company": self.company,
            "policy_date": self.policy_date,
            "notes": list(self.notes),
            "citations": [c.to_dict() for c in self.citations],
        }
