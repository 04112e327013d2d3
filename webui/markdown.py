"""Policy text as formatted HTML (markdown-it-py, raw HTML off), with passages marked by source offsets.

A policy's Markdown is rendered to headings, emphasis, lists, tables and links, but nothing in it
can become markup of its own: raw HTML is escaped as text (``html: False``), images are not
loaded, and links are limited to markdown-it's safe schemes (no ``javascript:``), each opening in
a new tab with ``rel="noopener noreferrer"``.

The evidence sentence is placed by its exact offsets in the source, not by searching the output:
private-use sentinel characters are inserted at the offsets before rendering and turned into
``<mark>``/``<span>`` afterwards, closed before every tag and reopened before the next text, so
the marks always nest properly whatever block or inline markup they cross.
"""
from __future__ import annotations

import re
from html import escape

from markdown_it import MarkdownIt

# Sentinels: (opening, closing) per wrapper, outermost wrapper first.
_SENTINELS = "\ue000\ue001\ue002\ue003"
_RESERVED = re.compile("[\ue000-\ue00f]")
_PERCENT = {"%EE%80%8" + str(i): ch for i, ch in enumerate(_SENTINELS)}
_PERCENT_RE = re.compile("|".join(_PERCENT))
# Block markup at the start of a line ("## ", "* ", "1. ", "> ", "| "): a sentinel placed before it
# would turn the heading or list item into a paragraph, so sentinels move past it.
_LINE_MARKUP = re.compile(r"(?:[ \t]{0,3}(?:#{1,6}[ \t]+|[*+-][ \t]+|\d{1,9}[.)][ \t]+|>[ \t]?|\|[ \t]*))+")
MARKDOWN_KINDS = (".md", ".markdown", ".html", ".htm")  # sources whose text is Markdown


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.disable("image")  # a policy's image would be a request to a third party: its text stays, as a link

    def link_open(renderer, tokens, idx, options, env):
        tokens[idx].attrSet("target", "_blank")
        tokens[idx].attrSet("rel", "noopener noreferrer")
        return renderer.renderToken(tokens, idx, options, env)

    md.add_render_rule("link_open", link_open)
    return md


_MD = _parser()


def is_markdown(doc: str) -> bool:
    """True when the policy ``doc`` (its id or file name) holds Markdown (or HTML read as Markdown)."""
    return doc.lower().endswith(MARKDOWN_KINDS)


_LINK_TARGET = re.compile(r"\]\([^()\s]*(?:\([^()\s]*\)[^()\s]*)*(?:\s+\"[^\"]*\")?\)")
_TABLE_RULE = re.compile(r"^[ \t]*\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$", re.M)


def _safe_offset(source: str, offset: int, closing: bool, links: list[tuple[int, int]],
                 rules: list[tuple[int, int]]) -> int:
    """``offset`` moved to where a sentinel changes no Markdown structure, the visible text kept.

    Out of a link's destination (it would land in the URL), off a table's rule line, past block
    markup at the start of a line (a closing one back to the end of the line before), and before
    a table row's trailing pipe (it would add a cell).
    """
    for start, end in links:
        if start < offset < end:
            offset = end
            break
    for start, end in rules:
        if start <= offset <= end and offset > 0:
            offset = end + 1 if not closing else start
            break
    offset = min(offset, len(source))
    if offset == 0 or source[offset - 1] == "\n":
        if not closing:
            match = _LINE_MARKUP.match(source, offset)
            return match.end() if match else offset
        while offset > 0 and source[offset - 1] in " \t\n":
            offset -= 1
    if closing and offset > 0 and source[offset - 1] == "|":
        line_start = source.rfind("\n", 0, offset) + 1
        if source[line_start:offset].lstrip().startswith("|"):
            offset -= 1
            while offset > line_start and source[offset - 1] in " \t":
                offset -= 1
    return offset


def render(source: str, spans: list[tuple[int, int, str]] = (), markdown: bool = True) -> str:
    """``source`` as HTML, each ``(start, end, opening_tag)`` span wrapped in that tag.

    Spans must nest (outermost first) and lie inside ``source``; the closing tag is derived from
    the opening one. With ``markdown=False`` the text is escaped as is (line breaks kept by CSS).
    """
    spans = list(spans)[:2]
    source = _RESERVED.sub("\ufffd", source)  # same length: offsets stay exact
    inserts: list[tuple[int, int, str]] = []  # (offset, order, sentinel)
    links = [(m.start() + 1, m.end()) for m in _LINK_TARGET.finditer(source)] if markdown else []
    rules = [(m.start(), m.end()) for m in _TABLE_RULE.finditer(source)] if markdown else []
    for i, (start, end, _) in enumerate(spans):
        start = max(0, min(start, len(source)))
        end = max(start, min(end, len(source)))
        if markdown and start < end:
            start = _safe_offset(source, start, False, links, rules)
            end = max(start, _safe_offset(source, end, True, links, rules))
        if start >= end:
            continue  # nothing visible to mark
        # At one offset: closings (inner first) come before openings (outer first).
        inserts.append((start, 10 + i, _SENTINELS[2 * i]))
        inserts.append((end, 5 - i, _SENTINELS[2 * i + 1]))
    inserts.sort()
    pieces, last = [], 0
    for offset, _, sentinel in inserts:
        pieces.append(source[last:offset])
        pieces.append(sentinel)
        last = offset
    pieces.append(source[last:])
    marked = "".join(pieces)
    html = _MD.render(marked) if markdown else escape(marked, quote=False)
    return _place_wrappers(html, [tag for _, _, tag in spans])


def _closing(tag: str) -> str:
    return "</" + re.match(r"<\s*([a-zA-Z][\w-]*)", tag).group(1) + ">"


def _place_wrappers(html: str, tags: list[str]) -> str:
    """Sentinels turned into properly nested wrapper tags around text runs only."""
    wanted = [False] * len(tags)  # which wrappers the text at this point lies inside
    emitted: list[int] = []  # wrappers open in the output, outermost first
    out: list[str] = []

    def apply(ch: str) -> None:
        i = _SENTINELS.index(ch)
        if i // 2 < len(tags):
            wanted[i // 2] = i % 2 == 0

    def close_all() -> None:
        while emitted:
            out.append(_closing(tags[emitted.pop()]))

    for match in re.finditer(r"<[^>]*>|[^<]+", html):
        piece = match.group(0)
        if piece.startswith("<"):  # a tag: marks never span one; sentinels inside attributes still count
            close_all()
            for ch in re.findall(f"[{_SENTINELS}]", _PERCENT_RE.sub(lambda m: _PERCENT[m.group(0)], piece)):
                apply(ch)
            out.append(_PERCENT_RE.sub("", re.sub(f"[{_SENTINELS}]", "", piece)))
            continue
        for run in re.split(f"([{_SENTINELS}])", piece):
            if len(run) == 1 and run in _SENTINELS:
                apply(run)
                want = [i for i, on in enumerate(wanted) if on]
                if emitted and emitted != want[:len(emitted)]:
                    close_all()
                continue
            if not run:
                continue
            want = [i for i, on in enumerate(wanted) if on]
            if want != emitted and run.strip():
                close_all()
                for i in want:
                    out.append(tags[i])
                    emitted.append(i)
            out.append(run)
    close_all()
    return "".join(out)


def strip_line_markup(line: str) -> str:
    """A line without the block markup at its start ("## ", "* ", "1. ", "> "): for quoting it inline."""
    match = _LINE_MARKUP.match(line)
    return line[match.end():] if match and match.end() < len(line) else line


def render_inline(source: str) -> str:
    """One run of text with inline Markdown (emphasis, links, code) rendered; raw HTML escaped."""
    return _MD.renderInline(_RESERVED.sub("\ufffd", source))
