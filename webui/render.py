"""HTML for the chat: answers, sources and whole policies.

Every piece of text that comes from a user or a policy goes through ``html.escape`` here, so a
policy holding ``<script>`` or ``<img onerror=...>`` is shown as text and never runs. The markup
this module adds is the only markup on the page.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape

from index.dates import date_label
from qa.records import Answer, Change, Citation, CompanyFinding

_MARKER = re.compile(r"\[(\d{1,3})\]")
MAX_FOOTNOTES = 6  # lines under an answer; Sources lists every citation
FEW_COMPANIES = 6  # up to this many, every company compared gets a column, silent ones too
MAX_COMPANY_COLUMNS = 24


def text(value: object) -> str:
    """Escaped text, quotes included, safe inside elements and attribute values."""
    return escape(str(value), quote=True)


def _with_markers(answer_text: str) -> str:
    return _MARKER.sub(r'<span class="pq-ref">[\1]</span>', text(answer_text))


def user_message(message: str) -> str:
    """A user's chat message, shown exactly as typed."""
    return f'<span class="pq-user">{text(message)}</span>'


def pending_message() -> str:
    """Shown while the policies are searched."""
    return '<div class="pq-answer pq-pending">Searching the policies…</div>'


def partial_answer(prefix: str) -> str:
    """The answer while it streams in."""
    return f'<div class="pq-answer"><p>{_with_markers(prefix)}<span class="pq-cursor">▍</span></p></div>'


def streamed_text(answer: Answer) -> str:
    """What streams into the chat before the finished answer replaces it.

    A comparison streams its summary line only: the side-by-side view that follows says the rest.
    """
    return answer.text.split("\n", 1)[0] if _is_comparison(answer) else answer.text


def _is_comparison(answer: Answer) -> bool:
    return ((answer.kind == "versions" and bool(answer.changes) and len(answer.versions) == 2)
            or (answer.kind == "companies" and bool(answer.companies)))


def answer_message(answer: Answer, asked: str | None = None) -> str:
    """The finished answer: text with [n] markers, notes, and where each citation comes from.

    Comparisons are laid out side by side: two versions of a policy in two columns (older on
    the left), several companies as one column each.
    """
    kind = "pq-answer" if answer.found else "pq-answer pq-silent"
    parts = [f'<div class="{kind}">']
    if asked:
        parts.append(f'<p class="pq-asked">Answering: “{text(asked)}”</p>')
    side_by_side = None
    if _is_comparison(answer):
        side_by_side = versions_side_by_side(answer) if answer.kind == "versions" else companies_side_by_side(answer)
    if side_by_side:
        parts.append(f"<p>{_with_markers(streamed_text(answer))}</p>{side_by_side}")
    else:
        parts.append(f"<p>{_with_markers(answer.text)}</p>")
    for note in answer.notes:
        parts.append(f'<p class="pq-note">{text(note)}</p>')
    if answer.citations and not side_by_side:  # a side-by-side view names every citation's place itself
        places: dict[tuple[str, str, str], list[int]] = {}
        for c in answer.citations:
            places.setdefault((c.company, date_label(c.policy_date), c.section or "(no section)"), []).append(c.n)
        parts.append('<ul class="pq-footnotes">')
        shown = list(places.items())[:MAX_FOOTNOTES]
        for (company, date, section), numbers in shown:
            refs = " ".join(f'<span class="pq-ref">[{n}]</span>' for n in numbers)
            parts.append(f"<li>{refs} {text(company)} · policy of {text(date)} · {text(section)}</li>")
        if len(places) > len(shown):
            rest = sum(len(numbers) for numbers in list(places.values())[len(shown):])
            parts.append(f"<li>… {rest} more citations: see Sources</li>")
        parts.append("</ul>")
    parts.append("</div>")
    return "".join(parts)


_CHANGE_GROUPS = (("changed", "Changed"), ("added", "Added in {new}"), ("removed", "Removed since {old}"))
_VERDICTS = {"states": "States it", "states_not": "Says it does not", "silent": "Not mentioned"}
_VERDICT_ORDER = {"states": 0, "states_not": 1, "silent": 2}  # evidence first; sorted() keeps the rest in order


def _quote(c: Citation) -> str:
    """A citation's evidence sentence as a quote, with its [n] marker and section."""
    return (f'<span class="pq-ref">[{c.n}]</span> <span class="pq-section">{text(c.section or "(no section)")}'
            f'</span><span class="pq-quote">“{text(c.highlight or c.excerpt)}”</span>')


def _side(c: Citation | None, date: str, css: str) -> str:
    if c is None:
        return f'<div class="pq-side {css} pq-absent">Not in the policy of {text(date)}</div>'
    return f'<div class="pq-side {css}" data-date="{text(date_label(c.policy_date))}">{_quote(c)}</div>'


def versions_side_by_side(answer: Answer) -> str:
    """Two versions of one policy in two columns, older left, newer right, one row per change.

    Changed statements sit next to each other; an added topic leaves the older side empty, a
    removed one the newer side.
    """
    old, new = (date_label(d) for d in answer.versions)
    company = answer.company or (answer.citations[0].company if answer.citations else "")
    rows = [f'<div class="pq-compare pq-versions">'
            f'<div class="pq-compare-row pq-compare-head">'
            f'<div class="pq-side pq-old"><span class="pq-company">{text(company)}</span> '
            f'<span class="pq-date">policy of {text(old)}</span></div>'
            f'<div class="pq-side pq-new"><span class="pq-company">{text(company)}</span> '
            f'<span class="pq-date">policy of {text(new)}</span></div></div>']
    for kind, title in _CHANGE_GROUPS:
        changes = [c for c in answer.changes if c.kind == kind]
        if not changes:
            continue
        rows.append(f'<div class="pq-compare-group">{text(title.format(old=old, new=new))} · {len(changes)}</div>')
        rows.extend(_change_row(change, old, new) for change in changes)
    rows.append("</div>")
    return "".join(rows)


def _change_row(change: Change, old: str, new: str) -> str:
    why = ""
    if change.signals:
        why = f'<div class="pq-change-why">differs in: {text(", ".join(change.signals))}</div>'
    return (f'<div class="pq-compare-row pq-{change.kind}" title="{text(change.topic)}">'
            f'{_side(change.old, old, "pq-old")}{_side(change.new, new, "pq-new")}{why}</div>')


def companies_side_by_side(answer: Answer) -> str:
    """One column per company: its verdict, the policy version judged, and the quoted evidence.

    With many companies, those whose policies are silent (and never said it earlier) share one
    line instead of a column each, and at most ``MAX_COMPANY_COLUMNS`` columns are drawn.
    """
    findings = sorted(answer.companies, key=lambda f: (_VERDICT_ORDER.get(f.status, 3), f.earlier is None))
    quiet = []
    if len(findings) > FEW_COMPANIES:
        quiet = [f for f in findings if f.status == "silent" and f.earlier is None]
        findings = [f for f in findings if not (f.status == "silent" and f.earlier is None)]
    shown = findings[:MAX_COMPANY_COLUMNS]
    parts = [f'<div class="pq-compare pq-companies">{"".join(_company_column(f) for f in shown)}</div>']
    if len(findings) > len(shown):
        parts.append(f'<p class="pq-note">… and {len(findings) - len(shown)} more companies with evidence: see '
                     f"Sources.</p>")
    if quiet:
        names = ", ".join(f"{f.company} ({date_label(f.policy_date)})" for f in quiet)
        parts.append(f'<p class="pq-note pq-quiet">Not mentioned in the policies of {text(names)}.</p>')
    return "".join(parts)


def _company_column(finding: CompanyFinding) -> str:
    parts = [f'<div class="pq-company-col pq-co-{finding.status.replace("_", "-")}">'
             f'<div class="pq-company-head"><span class="pq-company">{text(finding.company)}</span> '
             f'<span class="pq-date">policy of {text(date_label(finding.policy_date))}</span></div>'
             f'<div class="pq-verdict">{text(_VERDICTS.get(finding.status, finding.status))}</div>']
    for c in finding.citations:
        parts.append(f'<div class="pq-evidence">{_quote(c)}</div>')
    if finding.earlier is not None:
        parts.append(f'<div class="pq-evidence pq-earlier"><span class="pq-date">Earlier, in the policy of '
                     f'{text(date_label(finding.earlier.policy_date))}:</span> {_quote(finding.earlier)}</div>')
    parts.append("</div>")
    return "".join(parts)


def error_message(message: str) -> str:
    """A problem the user can fix (an empty question, an unknown version, ...)."""
    return f'<div class="pq-answer pq-error"><p>{text(message)}</p></div>'


def _excerpt(c: Citation) -> str:
    hs = max(0, min(len(c.excerpt), c.highlight_start - c.start))
    he = max(hs, min(len(c.excerpt), c.highlight_end - c.start))
    return (f"{text(c.excerpt[:hs])}<mark class=\"pq-highlight\">{text(c.excerpt[hs:he])}</mark>"
            f"{text(c.excerpt[he:])}")


def sources_panel(answer: Answer | None) -> str:
    """One card per citation: company, policy date, section path, excerpt with its highlighted sentence."""
    if answer is None:
        return ('<div class="pq-empty">Sources appear here: each citation with its company, policy date, '
                'section and the excerpt, evidence sentence highlighted.</div>')
    if not answer.citations:
        return f'<div class="pq-empty">No citations: {text(answer.text)}</div>'
    cards = []
    for c in answer.citations:
        data = (f'data-doc="{text(c.doc)}" data-start="{c.start}" data-end="{c.end}" '
                f'data-hs="{c.highlight_start}" data-he="{c.highlight_end}"')
        cards.append(
            f'<div class="pq-card" id="pq-cite-{c.n}">'
            f'<div class="pq-card-head"><span class="pq-ref">[{c.n}]</span> '
            f'<span class="pq-company">{text(c.company)}</span> '
            f'<span class="pq-date">policy of {text(date_label(c.policy_date))}</span></div>'
            f'<div class="pq-section">{text(c.section or "(no section)")}</div>'
            f'<blockquote class="pq-excerpt">{_excerpt(c)}</blockquote>'
            f'<button type="button" class="pq-open" {data}>Open the full policy at [{c.n}]</button>'
            f"</div>"
        )
    return '<div class="pq-sources">' + "".join(cards) + "</div>"


@dataclass(frozen=True)
class Passage:
    """Where a citation lies in a policy's text: the excerpt and its evidence sentence."""

    start: int
    end: int
    highlight_start: int
    highlight_end: int

    def clamp(self, length: int) -> "Passage":
        """The same passage, kept inside a text of ``length`` characters and properly nested."""
        start = max(0, min(self.start, length))
        end = max(start, min(self.end, length))
        hs = max(start, min(self.highlight_start, end))
        he = max(hs, min(self.highlight_end, end))
        return Passage(start, end, hs, he)


def policy_view(company: str, policy_date: str | None, title: str, doc: str, policy_text: str,
                passage: Passage | None = None) -> str:
    """A whole policy as text, the cited passage marked and its evidence sentence highlighted."""
    head = (f'<div class="pq-policy-head"><span class="pq-company">{text(company)}</span> '
            f'<span class="pq-date">policy of {text(date_label(policy_date))}</span>'
            f'<div class="pq-policy-title">{text(title or doc)}</div>'
            f'<div class="pq-policy-doc">{text(doc)}</div></div>')
    if passage is None:
        body = text(policy_text)
    else:
        p = passage.clamp(len(policy_text))
        before, lead = policy_text[:p.start], policy_text[p.start:p.highlight_start]
        evidence, tail = policy_text[p.highlight_start:p.highlight_end], policy_text[p.highlight_end:p.end]
        body = (f'{text(before)}<span class="pq-passage">{text(lead)}<mark class="pq-highlight">{text(evidence)}'
                f"</mark>{text(tail)}</span>{text(policy_text[p.end:])}")
    return f'<div class="pq-policy">{head}<div class="pq-policy-text">{body}</div></div>'


def policy_placeholder() -> str:
    """Shown before any citation is opened."""
    return ('<div class="pq-empty">Open a citation in Sources to read the whole policy here, scrolled to the '
            "passage.</div>")


@dataclass(frozen=True)
class UploadResult:
    """What an upload added and what it refused, for the status line."""

    added: list[tuple[str, str, str]]  # (file name, company, policy date)
    refused: list[tuple[str, str]]  # (file name, reason)


def upload_status(result: UploadResult) -> str:
    """Which files were added (answerable now) and which were refused, and why."""
    parts = []
    if result.added:
        items = "".join(f"<li>{text(name)}: {text(company)}, policy of {text(date_label(date))}</li>"
                        for name, company, date in result.added)
        parts.append(f'<div class="pq-upload-ok">Added to the index, answerable now:<ul>{items}</ul></div>')
    if result.refused:
        items = "".join(f"<li>{text(name)}: {text(reason)}</li>" for name, reason in result.refused)
        parts.append(f'<div class="pq-upload-refused">Not added:<ul>{items}</ul></div>')
    if not parts:
        parts.append('<div class="pq-empty">Choose one or more policy files first.</div>')
    return "".join(parts)
