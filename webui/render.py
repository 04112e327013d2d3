"""HTML for the chat: answers, sources and whole policies.

Every piece of text that comes from a user or a policy is either escaped here (``html.escape``)
or rendered by ``webui.markdown`` with raw HTML off, so a policy holding ``<script>`` or
``<img onerror=...>`` is shown as text and never runs. The markup this module and markdown-it
add is the only markup on the page.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from html import escape

from index.dates import date_label
from qa.records import Answer, Change, Citation, CompanyFinding

from . import markdown

_MARKER = re.compile(r"\[(\d{1,3})\]")
FEW_COMPANIES = 6  # up to this many, every company compared gets a column, silent ones too
MAX_COMPANY_COLUMNS = 24
OPEN_TOPICS = 3  # a version comparison shows its first topics open, the rest collapsed


def text(value: object) -> str:
    """Escaped text, quotes included, safe inside elements and attribute values."""
    return escape(str(value), quote=True)


def answer_key(answer: Answer) -> str:
    """A short id tying an answer's [n] markers to its source cards (same answer, same id)."""
    digest = hashlib.sha1(f"{answer.question}\x1f{answer.text}".encode("utf-8")).hexdigest()
    return digest[:8]


def _ref(key: str, n: int | str) -> str:
    return f'<a class="pq-ref" href="#pq-cite-{key}-{n}" title="Open source {n}">[{n}]</a>'


def inline(value: str) -> str:
    """A line of policy text (or an answer quoting one) with its Markdown rendered inline, HTML escaped."""
    lines = [markdown.strip_line_markup(line) for line in str(value).split("\n")]
    return markdown.render_inline("\n".join(lines))


def _with_markers(answer_text: str, key: str = "") -> str:
    return _MARKER.sub(lambda m: _ref(key, m.group(1)), inline(answer_text))


def user_message(message: str) -> str:
    """A user's chat message, shown exactly as typed."""
    return f'<span class="pq-user">{text(message)}</span>'


def pending_message() -> str:
    """Shown while the policies are searched."""
    return '<div class="pq-answer pq-pending" role="status">Searching the policies…</div>'


def _is_comparison(answer: Answer) -> bool:
    return ((answer.kind == "versions" and bool(answer.changes) and len(answer.versions) == 2)
            or (answer.kind == "companies" and bool(answer.companies)))


def summary_line(answer: Answer) -> str:
    """The first line of a comparison's text: what the side-by-side view below it lays out."""
    return answer.text.split("\n", 1)[0]


def plain_text(answer: Answer) -> str:
    """The answer and its citations as plain text, for the copy button."""
    lines = [answer.text.strip()]
    lines += [note for note in answer.notes]
    if answer.citations:
        lines.append("")
        lines.append("Sources:")
        for c in answer.citations:
            quote = " ".join((c.highlight or c.excerpt).split())
            lines.append(f"[{c.n}] {c.company}, policy of {date_label(c.policy_date)}, {c.section or '(no section)'}: “{quote}”")
    return "\n".join(lines)


def answer_message(answer: Answer, asked: str | None = None) -> str:
    """The finished answer: text with [n] links to its source cards, notes, and a copy button.

    Comparisons are laid out side by side: two versions of a policy (a summary, then the
    changes by topic, older on the left), several companies as one column each.
    """
    key = answer_key(answer)
    kind = "pq-answer" if answer.found else "pq-answer pq-silent"
    parts = [f'<div class="{kind}">']
    if asked:
        parts.append(f'<p class="pq-asked">Answering: “{text(asked)}”</p>')
    side_by_side = None
    if _is_comparison(answer):
        side_by_side = (versions_side_by_side(answer, key) if answer.kind == "versions"
                        else companies_side_by_side(answer, key))
    if side_by_side:
        parts.append(f'<p class="pq-summary">{_with_markers(summary_line(answer), key)}</p>{side_by_side}')
    else:
        parts.append(f'<p class="pq-text">{_with_markers(answer.text, key)}</p>')
    for note in answer.notes:
        parts.append(f'<p class="pq-note">{_with_markers(note, key)}</p>')
    if answer.citations and not side_by_side:  # a side-by-side view names every citation's place itself
        places: dict[tuple[str, str, str], list[int]] = {}
        for c in answer.citations:
            places.setdefault((c.company, date_label(c.policy_date), c.section or "(no section)"), []).append(c.n)
        parts.append('<ul class="pq-footnotes">')
        for (company, date, section), numbers in places.items():
            refs = " ".join(_ref(key, n) for n in numbers)
            parts.append(f"<li>{refs} {text(company)} · policy of {text(date)} · {text(section)}</li>")
        parts.append("</ul>")
    # The chat's sanitizer drops data- attributes, so the text to copy rides along, hidden.
    parts.append(f'<div class="pq-actions"><button type="button" class="pq-copy">Copy answer</button>'
                 f'<div class="pq-copy-text" hidden>{text(plain_text(answer))}</div></div>')
    parts.append("</div>")
    return "".join(parts)


_CHANGE_LABELS = {"changed": "Changed", "added": "Added in {new}", "removed": "Removed since {old}"}
_VERDICTS = {"states": "States it", "states_not": "Says it does not", "silent": "Not mentioned"}
_VERDICT_ORDER = {"states": 0, "states_not": 1, "silent": 2}  # evidence first; sorted() keeps the rest in order


def _quote(c: Citation, key: str) -> str:
    """A citation's evidence sentence as a quote, with its [n] link and section."""
    return (f'{_ref(key, c.n)} <span class="pq-section">{text(c.section or "(no section)")}'
            f'</span><span class="pq-quote">“{inline(c.highlight or c.excerpt)}”</span>')


def _side(c: Citation | None, date: str, css: str, key: str) -> str:
    label = f'<span class="pq-side-date">{text(date)}</span>'
    if c is None:
        return f'<div class="pq-side {css} pq-absent">{label}Not in the policy of {text(date)}</div>'
    return f'<div class="pq-side {css}" data-date="{text(date_label(c.policy_date))}">{label}{_quote(c, key)}</div>'


_NUMBERING = re.compile(r"^\s*(?:\d+(?:\.\d+)*[.)]?\s+)")
_TRAILING_PARENS = re.compile(r"\s*\([^()]*\)\s*$")


def topic_of(change: Change) -> str:
    """The topic a change is grouped under: its section name without numbering or a trailing aside."""
    topic = _NUMBERING.sub("", change.topic or "")
    topic = _TRAILING_PARENS.sub("", topic).strip()
    return topic or "Other"


def versions_side_by_side(answer: Answer, key: str = "") -> str:
    """Two versions of one policy: a count per kind of change, then the changes grouped by topic.

    Each topic is a collapsible group (the first ``OPEN_TOPICS`` open) of rows, older side left,
    newer right; an added statement leaves the older side empty, a removed one the newer side.
    On a narrow screen the two sides stack, each labelled with its policy date.
    """
    old, new = (date_label(d) for d in answer.versions)
    company = answer.company or (answer.citations[0].company if answer.citations else "")
    counts = {kind: sum(c.kind == kind for c in answer.changes) for kind in _CHANGE_LABELS}
    chips = "".join(f'<li class="pq-chip pq-chip-{kind}">{text(label.format(old=old, new=new))}: {counts[kind]}</li>'
                    for kind, label in _CHANGE_LABELS.items() if counts[kind])
    topics: dict[str, list[Change]] = {}
    for kind in _CHANGE_LABELS:  # changed statements first: they matter most
        for change in answer.changes:
            if change.kind == kind:
                topics.setdefault(topic_of(change), []).append(change)
    parts = [f'<div class="pq-compare pq-versions">'
             f'<ul class="pq-chips" aria-label="Changes by kind">{chips}</ul>'
             f'<div class="pq-compare-row pq-compare-head" aria-hidden="true">'
             f'<div class="pq-side pq-old"><span class="pq-company">{text(company)}</span> '
             f'<span class="pq-date">policy of {text(old)}</span></div>'
             f'<div class="pq-side pq-new"><span class="pq-company">{text(company)}</span> '
             f'<span class="pq-date">policy of {text(new)}</span></div></div>']
    for i, (topic, changes) in enumerate(topics.items()):
        kinds = sorted({c.kind for c in changes}, key=list(_CHANGE_LABELS).index)
        tags = "".join(f'<span class="pq-tag pq-tag-{k}">{text(_CHANGE_LABELS[k].format(old=old, new=new))}</span>'
                       for k in kinds)
        opened = " open" if i < OPEN_TOPICS else ""
        parts.append(f'<details class="pq-topic"{opened}><summary><span class="pq-topic-name">{text(topic)}</span> '
                     f'{tags}</summary>{"".join(_change_row(c, old, new, key) for c in changes)}</details>')
    parts.append("</div>")
    return "".join(parts)


def _change_row(change: Change, old: str, new: str, key: str = "") -> str:
    why = ""
    if change.signals:
        why = f'<div class="pq-change-why">differs in: {text(", ".join(change.signals))}</div>'
    return (f'<div class="pq-compare-row pq-{change.kind}" title="{text(change.topic)}">'
            f'{_side(change.old, old, "pq-old", key)}{_side(change.new, new, "pq-new", key)}{why}</div>')


def companies_side_by_side(answer: Answer, key: str = "") -> str:
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
    parts = [f'<div class="pq-compare pq-companies">{"".join(_company_column(f, key) for f in shown)}</div>']
    if len(findings) > len(shown):
        parts.append(f'<p class="pq-note">… and {len(findings) - len(shown)} more companies with evidence: see '
                     f"Sources.</p>")
    if quiet:
        names = ", ".join(f"{f.company} ({date_label(f.policy_date)})" for f in quiet)
        parts.append(f'<p class="pq-note pq-quiet">Not mentioned in the policies of {text(names)}.</p>')
    return "".join(parts)


def _company_column(finding: CompanyFinding, key: str = "") -> str:
    parts = [f'<div class="pq-company-col pq-co-{finding.status.replace("_", "-")}">'
             f'<div class="pq-company-head"><span class="pq-company">{text(finding.company)}</span> '
             f'<span class="pq-date">policy of {text(date_label(finding.policy_date))}</span></div>'
             f'<div class="pq-verdict">{text(_VERDICTS.get(finding.status, finding.status))}</div>']
    for c in finding.citations:
        parts.append(f'<div class="pq-evidence">{_quote(c, key)}</div>')
    if finding.earlier is not None:
        parts.append(f'<div class="pq-evidence pq-earlier"><span class="pq-date">Earlier, in the policy of '
                     f'{text(date_label(finding.earlier.policy_date))}:</span> {_quote(finding.earlier, key)}</div>')
    parts.append("</div>")
    return "".join(parts)


def error_message(message: str) -> str:
    """A problem the user can fix (an empty question, an unknown version, ...)."""
    return f'<div class="pq-answer pq-error"><p>{text(message)}</p></div>'


def _excerpt(c: Citation) -> str:
    hs = max(0, min(len(c.excerpt), c.highlight_start - c.start))
    he = max(hs, min(len(c.excerpt), c.highlight_end - c.start))
    return markdown.render(c.excerpt, [(hs, he, '<mark class="pq-highlight">')], markdown.is_markdown(c.doc))


def sources_panel(answer: Answer | None) -> str:
    """One card per citation: company, policy date, section path, excerpt with its highlighted sentence."""
    if answer is None:
        return ('<div class="pq-empty">Sources appear here: each citation with its company, policy date, '
                'section and the excerpt, evidence sentence highlighted.</div>')
    if not answer.citations:
        return f'<div class="pq-empty">No citations: {text(answer.text)}</div>'
    key = answer_key(answer)
    cards = []
    for c in answer.citations:
        data = (f'data-doc="{text(c.doc)}" data-start="{c.start}" data-end="{c.end}" '
                f'data-hs="{c.highlight_start}" data-he="{c.highlight_end}"')
        kind = "md" if markdown.is_markdown(c.doc) else "plain"
        cards.append(
            f'<section class="pq-card" id="pq-cite-{key}-{c.n}" tabindex="-1" aria-label="Source {c.n}">'
            f'<div class="pq-card-head"><span class="pq-ref">[{c.n}]</span> '
            f'<span class="pq-company">{text(c.company)}</span> '
            f'<span class="pq-date">policy of {text(date_label(c.policy_date))}</span></div>'
            f'<div class="pq-section">{text(c.section or "(no section)")}</div>'
            f'<blockquote class="pq-excerpt pq-{kind}">{_excerpt(c)}</blockquote>'
            f'<button type="button" class="pq-open" {data}>Open the full policy at [{c.n}]</button>'
            f"</section>"
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
    spans = []
    if passage is not None:
        p = passage.clamp(len(policy_text))
        spans = [(p.start, p.end, '<span class="pq-passage">'),
                 (p.highlight_start, p.highlight_end, '<mark class="pq-highlight">')]
    is_md = markdown.is_markdown(doc)
    body = markdown.render(policy_text, spans, is_md)
    kind = "md" if is_md else "plain"
    return f'<div class="pq-policy">{head}<div class="pq-policy-text pq-{kind}" tabindex="0">{body}</div></div>'


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


def scroll_policy_js(targets: tuple[str, ...], lead: int) -> str:
    """JavaScript for a ``gr.HTML``'s ``js_on_load``: scroll its policy box to the first of ``targets``.

    ``targets`` are CSS selectors tried in order inside the component; the element found
    lands ``1/lead`` of the box's height below its top. It retries while the box is not laid out
    yet (a hidden tab has no height) and again on every new value.
    """
    return """
const reveal = (tries) => {
  const box = element.querySelector('.pq-policy-text');
  const target = %s.map((s) => element.querySelector(s)).find(Boolean);
  if (!box || !target) return;
  if (box.clientHeight === 0) { if (tries > 0) setTimeout(() => reveal(tries - 1), 50); return; }
  const offset = target.getBoundingClientRect().top - box.getBoundingClientRect().top + box.scrollTop;
  box.scrollTop = Math.max(0, offset - box.clientHeight / %d);
};
watch('value', () => reveal(100));
reveal(100);
""" % (json.dumps(list(targets)), lead)
