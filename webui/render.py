"""HTML for the chat: answers, sources and whole policies.

Every piece of text that comes from a user or a policy goes through ``html.escape`` here, so a
policy holding ``<script>`` or ``<img onerror=...>`` is shown as text and never runs. The markup
this module adds is the only markup on the page.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape

from qa.records import Answer, Citation

_MARKER = re.compile(r"\[(\d{1,3})\]")
MAX_FOOTNOTES = 6  # lines under an answer; Sources lists every citation


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


def answer_message(answer: Answer, asked: str | None = None) -> str:
    """The finished answer: text with [n] markers, notes, and where each citation comes from."""
    kind = "pq-answer" if answer.found else "pq-answer pq-silent"
    parts = [f'<div class="{kind}">']
    if asked:
        parts.append(f'<p class="pq-asked">Answering: “{text(asked)}”</p>')
    parts.append(f"<p>{_with_markers(answer.text)}</p>")
    for note in answer.notes:
        parts.append(f'<p class="pq-note">{text(note)}</p>')
    if answer.citations:
        places: dict[tuple[str, str, str], list[int]] = {}
        for c in answer.citations:
            places.setdefault((c.company, c.policy_date, c.section or "(no section)"), []).append(c.n)
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
            f'<span class="pq-date">policy of {text(c.policy_date)}</span></div>'
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


def policy_view(company: str, policy_date: str, title: str, doc: str, policy_text: str,
                passage: Passage | None = None) -> str:
    """A whole policy as text, the cited passage marked and its evidence sentence highlighted."""
    head = (f'<div class="pq-policy-head"><span class="pq-company">{text(company)}</span> '
            f'<span class="pq-date">policy of {text(policy_date)}</span>'
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
        items = "".join(f"<li>{text(name)}: {text(company)}, policy of {text(date)}</li>"
                        for name, company, date in result.added)
        parts.append(f'<div class="pq-upload-ok">Added to the index, answerable now:<ul>{items}</ul></div>')
    if result.refused:
        items = "".join(f"<li>{text(name)}: {text(reason)}</li>" for name, reason in result.refused)
        parts.append(f'<div class="pq-upload-refused">Not added:<ul>{items}</ul></div>')
    if not parts:
        parts.append('<div class="pq-empty">Choose one or more policy files first.</div>')
    return "".join(parts)
