"""The citations an answer shows: only those its text uses, no two quoting overlapping text.

``qa.ask`` may return more citations than its answer cites (context for a reader of the API),
and two of them can quote overlapping passages of one policy. The chat shows an answer with
just the citations it cites, an overlapping one folded into the first that covers its text, and
the markers renumbered [1], [2], ... in the order they appear.
"""
from __future__ import annotations

import re
from dataclasses import replace

from qa.records import Answer, Citation

_MARKER = re.compile(r"\[(\d{1,3})\]")
_SEE_ALSO = re.compile(r"\s*See also ((?:\[\d{1,3}\](?:,\s*|\s+and\s+)?)+)\.")


def _overlaps(a: Citation, b: Citation) -> bool:
    same_text = (a.doc or a.source) == (b.doc or b.source) and a.policy_date == b.policy_date
    return same_text and a.start < b.end and b.start < a.end


def _cited_in(answer: Answer) -> set[int]:
    """Numbers the answer refers to: markers in its text and notes, and every comparison's citations."""
    numbers = {int(n) for part in [answer.text, *answer.notes] for n in _MARKER.findall(part)}
    for finding in answer.companies:
        numbers.update(c.n for c in finding.citations)
        if finding.earlier is not None:
            numbers.add(finding.earlier.n)
    for change in answer.changes:
        numbers.update(c.n for c in (change.old, change.new) if c is not None)
    return numbers


def used_citations(answer: Answer) -> Answer:
    """``answer`` with only the citations it uses, overlaps folded, markers renumbered in order.

    Comparisons keep their numbers (each side quotes its own citation); unused ones still go.
    An answer whose text cites nothing keeps its citations as they are.
    """
    cited = _cited_in(answer)
    if not cited or not answer.citations:
        return answer
    if answer.companies or answer.changes:
        return replace(answer, citations=[c for c in answer.citations if c.n in cited])
    by_n = {c.n: c for c in answer.citations}
    order = [int(n) for n in _MARKER.findall(" ".join([answer.text, *answer.notes]))]
    kept: list[Citation] = []
    renumber: dict[int, int] = {}
    for n in order:
        if n in renumber or n not in by_n:
            continue
        citation = by_n[n]
        same = next((k for k in kept if _overlaps(k, citation)), None)
        if same is not None:
            renumber[n] = same.n
            continue
        kept.append(replace(citation, n=len(kept) + 1))
        renumber[n] = len(kept)

    def marker(match: re.Match) -> str:
        n = int(match.group(1))
        return f"[{renumber[n]}]" if n in renumber else match.group(0)

    text = _tidy(_MARKER.sub(marker, answer.text))
    notes = [_MARKER.sub(marker, note) for note in answer.notes]
    return replace(answer, text=text, notes=notes, citations=kept)


def _tidy(text: str) -> str:
    """"See also" lists without the markers already cited before them (and without repeats)."""

    def see_also(match: re.Match) -> str:
        before = set(_MARKER.findall(text[:match.start()]))
        fresh: list[str] = []
        for n in _MARKER.findall(match.group(1)):
            if n not in before and n not in fresh:
                fresh.append(n)
        if not fresh:
            return ""
        listed = ", ".join(f"[{n}]" for n in fresh)
        return f" See also {listed}."

    return _SEE_ALSO.sub(see_also, text)
