"""Score answers against a question file, following the rules in ``shared/README.md``.

Text is lower-cased, whitespace collapsed and Markdown ``*`` dropped before an evidence phrase is
looked for in an excerpt (its first 1,200 characters) or in the first citation's highlight.
"""
from __future__ import annotations

import hashlib
import json
import random
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from index.errors import PolicyQAError
from index.structure import is_bare_heading

SCORED_EXCERPT_CHARS = 1200
MRR_DEPTH = 10


def normalise(text: str) -> str:
    """Lower case, no Markdown ``*``, single spaces."""
    return " ".join(text.lower().replace("*", "").split())


@dataclass(frozen=True)
class Question:
    """One line of a question file."""

    id: str
    question: str
    company: str | None
    answerable: bool
    evidence: tuple[str, ...]
    lead: str | None = None  # "Yes"/"No" when the answer should open with it (optional field)
    policy_date: str | None = None  # the version the evidence must come from (optional field)
    type: str | None = None


def load_questions(path: Path) -> list[Question]:
    """Read a ``.jsonl`` question file; a malformed line is a clear error naming the line."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise PolicyQAError(f"cannot read the question file {path}: {exc.strerror or exc}") from None
    out: list[Question] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            out.append(Question(
                id=str(data.get("id", number)), question=data["question"], company=data.get("company"),
                answerable=bool(data.get("answerable", True)), evidence=tuple(data.get("evidence") or ()),
                lead=(data.get("lead") or "").capitalize() or None, policy_date=data.get("policy_date"), type=data.get("type"),
            ))
        except (ValueError, KeyError, TypeError) as exc:
            raise PolicyQAError(f"{path}:{number}: not a question record ({type(exc).__name__}: {exc})") from None
    if not out:
        raise PolicyQAError(f"{path} holds no questions")
    return out


def split_of(question: Question) -> str:
    """'tune' or 'report': a fixed half of the companies (by a hash of the name), so tuning never
    sees the policies it is reported on. Questions without a company go by their id."""
    key = (question.company or question.id).lower()
    return "tune" if int(hashlib.sha1(key.encode()).hexdigest(), 16) % 2 == 0 else "report"


def company_folds(questions: list[Question], n: int) -> list[set[str]]:
    """The questions' companies in ``n`` groups of (nearly) equal size, fixed by a hash of each name:
    cross-validation by company, so a trained model is always scored on policies it never saw."""
    ordered = sorted({(q.company or q.id).lower() for q in questions},
                     key=lambda c: hashlib.sha1(("fold" + c).encode()).hexdigest())
    return [set(ordered[i::n]) for i in range(n)]


def parse_fold(text: str) -> tuple[int, int]:
    """``"2/4"`` -> ``(2, 4)``: fold 2 of 4 (folds count from 1)."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text or "")
    if not match or not 1 <= int(match.group(1)) <= int(match.group(2)):
        raise PolicyQAError(f"a fold is written K/N with 1 <= K <= N (for example 2/4), not {text!r}")
    return int(match.group(1)), int(match.group(2))


def in_fold(questions: list[Question], fold: tuple[int, int], inside: bool = True) -> list[Question]:
    """The questions whose company is in fold ``K/N`` (``inside=False``: all the others)."""
    members = company_folds(questions, fold[1])[fold[0] - 1]
    return [q for q in questions if ((q.company or q.id).lower() in members) == inside]


def select(questions: list[Question], split: str | None = None, limit: int | None = None,
           sample: int | None = None, seed: int = 13, fold: tuple[int, int] | None = None) -> list[Question]:
    """Questions of one split (or of one company fold), then the first ``limit`` or a seeded random
    ``sample`` of them."""
    chosen = [q for q in questions if split in (None, "all") or split_of(q) == split]
    if fold is not None:
        chosen = in_fold(chosen, fold)
    if sample is not None and sample < len(chosen):
        chosen = random.Random(seed).sample(chosen, sample)
    if limit is not None:
        chosen = chosen[:limit]
    return chosen


@dataclass
class Outcome:
    """How one answer scored."""

    id: str
    answerable: bool
    found: bool
    rank: int | None  # 1-based rank of the first citation containing evidence (None: not in the first 10)
    highlight: bool  # evidence inside the first citation's highlight
    lead_ok: bool | None  # answer opens with the expected Yes/No (None: nothing expected)
    wrong_yes: bool  # expected "No" but the answer says "Yes"
    version_ok: bool | None  # first citation from the expected policy version (None: nothing expected)
    ms: float
    text: str = ""
    said: str | None = None  # the answer's Yes/No lead, if it gives one
    highlights: int = 0  # citations with a highlighted sentence
    bare_highlights: tuple[str, ...] = ()  # highlights that are only a heading (index.structure.is_bare_heading)


def score_answer(question: Question, answer, ms: float) -> Outcome:
    """Score one ``Answer`` (anything with ``found``, ``text`` and ``citations``)."""
    evidence = [normalise(e) for e in question.evidence]
    rank = None
    for i, citation in enumerate(answer.citations[:MRR_DEPTH]):
        excerpt = normalise(citation.excerpt[:SCORED_EXCERPT_CHARS])
        if any(e and e in excerpt for e in evidence):
            rank = i + 1
            break
    first = answer.citations[0] if answer.citations else None
    highlight = bool(first) and any(e and e in normalise(first.highlight) for e in evidence)
    opening = re.match(r"\W*(\w+)", answer.text or "")
    said = opening.group(1) if opening else ""
    lead_ok = None if not question.lead else said == question.lead
    shown = [c.highlight for c in answer.citations if getattr(c, "highlight", "").strip()]
    bare = tuple(h for h in shown if is_bare_heading(h))
    version_ok = None
    if question.policy_date and question.answerable:
        version_ok = bool(first) and first.policy_date == question.policy_date
    return Outcome(question.id, question.answerable, bool(answer.found), rank, highlight, lead_ok,
                   question.lead == "No" and said == "Yes", version_ok, round(ms, 2), answer.text or "",
                   said if said in ("Yes", "No") else None, len(shown), bare)


@dataclass
class Metrics:
    """The harness's numbers for one system over one question set."""

    questions: int = 0
    answerable: int = 0
    unanswerable: int = 0
    hit_at_1: float | None = None
    hit_at_3: float | None = None
    hit_at_5: float | None = None
    mrr: float | None = None
    highlight_at_1: float | None = None
    abstention_accuracy: float | None = None  # unanswerable questions answered found=False
    false_abstention_rate: float | None = None  # answerable questions answered found=False
    lead_accuracy: float | None = None  # questions with an expected Yes/No lead
    wrong_yes: int = 0  # "No" expected, "Yes" said
    wrong_leads: int = 0  # a Yes/No lead other than the expected one (or on a question expecting none)
    lead_coverage: float | None = None  # questions expecting a lead that got one
    version_accuracy: float | None = None
    bare_heading_highlight_share: float | None = None  # of all citations' highlights; the target is 0
    latency_ms_p50: float | None = None
    latency_ms_p95: float | None = None
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (``q`` in 0..100)."""
    if not values:
        return None
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, int(round(q / 100 * len(ordered) + 0.5)) - 1))
    return ordered[index]


def summarise(outcomes: list[Outcome]) -> Metrics:
    """Aggregate outcomes into ``Metrics``."""
    answerable = [o for o in outcomes if o.answerable]
    unanswerable = [o for o in outcomes if not o.answerable]
    m = Metrics(questions=len(outcomes), answerable=len(answerable), unanswerable=len(unanswerable))

    def share(items, test) -> float | None:
        return round(sum(1 for o in items if test(o)) / len(items), 4) if items else None

    if answerable:
        m.hit_at_1 = share(answerable, lambda o: o.rank is not None and o.rank <= 1)
        m.hit_at_3 = share(answerable, lambda o: o.rank is not None and o.rank <= 3)
        m.hit_at_5 = share(answerable, lambda o: o.rank is not None and o.rank <= 5)
        m.mrr = round(sum(1 / o.rank for o in answerable if o.rank) / len(answerable), 4)
        m.highlight_at_1 = share(answerable, lambda o: o.highlight)
        m.false_abstention_rate = share(answerable, lambda o: not o.found)
    m.abstention_accuracy = share(unanswerable, lambda o: not o.found)
    leads = [o for o in outcomes if o.lead_ok is not None]
    m.lead_accuracy = share(leads, lambda o: o.lead_ok)
    m.wrong_yes = sum(o.wrong_yes for o in outcomes)
    m.lead_coverage = share(leads, lambda o: o.said is not None)
    m.wrong_leads = sum(1 for o in outcomes if o.said is not None and o.lead_ok is not None and not o.lead_ok)
    versions = [o for o in outcomes if o.version_ok is not None]
    m.version_accuracy = share(versions, lambda o: o.version_ok)
    shown = sum(o.highlights for o in outcomes)
    m.bare_heading_highlight_share = round(sum(len(o.bare_highlights) for o in outcomes) / shown, 4) if shown else None
    times = [o.ms for o in outcomes]
    p50, p95 = percentile(times, 50), percentile(times, 95)
    m.latency_ms_p50 = round(p50, 2) if p50 is not None else None
    m.latency_ms_p95 = round(p95, 2) if p95 is not None else None
    return m
