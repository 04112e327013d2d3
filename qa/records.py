"""The answer records users get back from ``qa.ask``."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from index.dates import date_label


@dataclass(frozen=True)
class Citation:
    """A verbatim excerpt of one policy version backing the answer.

    ``open(source).read()[start:end] == excerpt``; ``highlight`` is the evidence sentence(s)
    inside the excerpt, at ``highlight_start:highlight_end`` of the same source text.
    """

    n: int
    company: str
    policy_date: str | None  # None: the policy states no date ("undated")
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

    def to_json(self) -> dict:
        """The citation as the API shows it: ``version`` names the policy version ("undated")."""
        return {**asdict(self), "version": date_label(self.policy_date)}


@dataclass(frozen=True)
class CompanyFinding:
    """What one company's policy says about a question asked across companies.

    ``status`` is ``"states"`` (the policy says so, see ``citations``), ``"states_not"`` (the
    policy says it does not) or ``"silent"`` (the policy does not mention it). ``earlier`` cites an
    older version of the policy when that version said something the judged one does not.
    """

    company: str
    policy_date: str | None  # the version judged: the newest, or the one in force in the year asked about
    status: str
    citations: tuple[Citation, ...] = ()
    earlier: Citation | None = None

    def to_dict(self) -> dict:
        return {"company": self.company, "policy_date": self.policy_date,
                "version": date_label(self.policy_date), "status": self.status,
                "citations": [c.to_json() for c in self.citations],
                "earlier": self.earlier.to_json() if self.earlier else None}


@dataclass(frozen=True)
class Change:
    """One difference between two versions of a policy.

    ``kind`` is ``"added"`` (only ``new`` is set), ``"removed"`` (only ``old``) or ``"changed"``
    (both: the same topic, said differently). ``topic`` names the section it belongs to.
    ``signals`` say why a changed statement matters (e.g. ``"numbers"``, ``"negation"``, ``"terms"``).
    """

    kind: str
    topic: str
    old: Citation | None = None
    new: Citation | None = None
    similarity: float | None = None
    signals: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {"kind": self.kind, "topic": self.topic, "similarity": self.similarity,
                "signals": list(self.signals),
                "old": self.old.to_json() if self.old else None,
                "new": self.new.to_json() if self.new else None}


@dataclass
class Answer:
    """A short answer in words, with [n] markers pointing into ``citations``.

    ``found`` is False when the policies say nothing relevant; ``text`` then says so.
    ``kind`` says how the question was answered: ``"policy"`` (one company, or the best passages
    of all), ``"companies"`` (company by company, see ``companies``) or ``"versions"`` (two
    versions of one policy compared, see ``changes`` and ``versions``). Every citation in
    ``companies`` and ``changes`` is also in ``citations``, with the same ``n``.
    """

    question: str
    text: str
    found: bool
    citations: list[Citation] = field(default_factory=list)
    company: str | None = None
    policy_date: str | None = None
    notes: list[str] = field(default_factory=list)
    kind: str = "policy"
    companies: list[CompanyFinding] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    versions: tuple[str | None, ...] = ()  # (older, newer) policy dates when kind == "versions"

    def to_dict(self) -> dict:
        return {
            "question": self.question,
            "text": self.text,
            "found": self.found,
            "company": self.company,
            "policy_date": self.policy_date,
            "notes": list(self.notes),
            "citations": [c.to_json() for c in self.citations],
            "kind": self.kind,
            "companies": [f.to_dict() for f in self.companies],
            "changes": [c.to_dict() for c in self.changes],
            "versions": list(self.versions),
        }
