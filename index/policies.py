"""Parse a policy's text into a ``Policy``: company, dates and a list of sections with offsets.

Headings come from a real Markdown parser (markdown-it-py). The archived policies bend
Markdown in ways this module repairs:

- a heading that wraps onto the next line (a hard line break at the end of the heading);
- bold headings and escaped numbering (``### **1\\. Information collected**``);
- a "heading" that is really a paragraph (too many words to be a title);
- Azendoo's "Basically," headings, which summarise the section before them;
- short bold-only paragraphs used as sub-headings.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from markdown_it import MarkdownIt

from .dates import parse_date, stated_date
from .readers import DocumentHints
from .structure import plain_headings

_md = MarkdownIt("commonmark").enable("table")

ARCHIVE_NOTE = re.compile(
    r"extracted and transformed from the (?P<domain>[\w.-]+\.[a-z]{2,}) privacy policy that was archived on "
    r"(?P<date>\d{4}-\d{2}-\d{2})",
    re.I,
)
TITLE_DOMAIN = re.compile(r"^#\s+(?P<domain>[\w-]+(?:\.[\w-]+)*\.[a-z]{2,})\s+privacy policy\s*$", re.I | re.M)
URL_FIRST_LINE = re.compile(r"^\s*https?://(?:www\.)?(?P<domain>[\w.-]+\.[a-z]{2,})", re.I)
FILE_DATE = re.compile(r"(?<!\d)(\d{4}-\d{2}-\d{2})(?!\d)")
MAX_HEADING_WORDS = 16
# A stretch of this many words without a Markdown heading is searched for plain headings.
MIN_UNMARKED_WORDS = 1000


@dataclass(frozen=True)
class Section:
    """A run of policy text under one heading path; ``start``/``end`` index the policy text."""

    path: tuple[str, ...]
    start: int
    end: int

    @property
    def heading(self) -> str:
        return " > ".join(self.path)


@dataclass
class Policy:
    """One version of one company's privacy policy."""

    company: str
    domain: str | None
    policy_date: str | None  # ISO date naming this version (see ``parse_policy``); None: undated
    effective_date: str | None
    title: str
    text: str
    sections: list[Section] = field(default_factory=list)
    archive_date: str | None = None


def parse_policy(text: str, file_name: str, company: str | None = None, policy_date: str | None = None,
                 hints: DocumentHints | None = None) -> Policy:
    """Build a ``Policy`` from its text. ``company``/``policy_date`` override what the text says.

    Without them the company is, in order: the archived site's domain, a domain in the title
    ("# example.com privacy policy"), the page's site name, the name in the title ("Acme
    Privacy Policy", "Privacy Notice of Acme"), the page's URL, then the file name. The date is
    the archive date, a stated date ("Last updated", "Effective"), the file's own metadata (HTML
    meta, PDF), a date in the file name; else None (undated), never the file's time or today.
    """
    hints = hints or DocumentHints()
    head = text[:3000]
    archive = ARCHIVE_NOTE.search(head)
    domain = archive.group("domain").lower() if archive else None
    title_domain = TITLE_DOMAIN.search(head)
    if not domain and title_domain:
        domain = title_domain.group("domain").lower()
    url_domain = URL_FIRST_LINE.match(head) or (URL_FIRST_LINE.match(hints.url) if hints.url else None)
    if not domain and url_domain:
        domain = url_domain.group("domain").lower()
    if domain and domain.startswith("www."):
        domain = domain[4:]
    archive_date = archive.group("date") if archive else None
    effective = stated_date(text)
    heading = _title(text)
    title = heading or hints.title or Path(file_name).stem
    file_date = FILE_DATE.search(file_name)
    named_date = parse_date(file_date.group(1)) if file_date else None
    named = None
    if not (archive or title_domain):
        named = (_clean_company(hints.site) if hints.site else None) or company_from_title(heading or "") \
            or company_from_title(hints.title or "")
    resolved_company = company or named or _company_name(domain, file_name)
    resolved_date = policy_date or archive_date or effective or hints.date or named_date or None
    skip = 0
    if archive:
        paragraph_end = text.find("\n\n", archive.end())
        skip = paragraph_end if paragraph_end != -1 else archive.end()
    sections = split_sections(text, skip_until=skip)
    return Policy(
        company=resolved_company,
        domain=domain,
        policy_date=resolved_date,
        effective_date=effective,
        title=title,
        text=text,
        sections=sections,
        archive_date=archive_date,
    )


_POLICY_WORDS = r"(?:online\s+|website\s+|global\s+|customer\s+|consumer\s+)?(?:privacy|data\s+protection|data\s+privacy)\s+(?:policy|notice|statement|policies)"
_NAME_FIRST = re.compile(rf"^(?P<name>.+?)(?:['’]s)?\s*[-–—|:·,]?\s*{_POLICY_WORDS}\b", re.I)
_NAME_LAST = re.compile(rf"^{_POLICY_WORDS}\s*(?:of|for|at|[-–—|:·])\s*(?P<name>.+)$", re.I)
_GENERIC = re.compile(r"^(?:our|the|this|your|my|a|an|website|site|web|online|app|global|general|updated|new|"
                      r"full|current|complete|company|home|welcome)(?:\s+(?:website|site|web|online|app))?$", re.I)
_LEGAL_SUFFIX = re.compile(r"[\s,]+(?:inc|incorporated|llc|l\.l\.c|ltd|limited|plc|gmbh|s\.a|sa|ag|corp|corporation|"
                           r"co|company|pty|b\.v|bv|s\.r\.l|srl|sas|oy|ab|as)\.?$", re.I)


def company_from_title(title: str) -> str | None:
    """The company in a title like "Acme Privacy Policy", "Privacy Notice | Acme" or "Acme, Inc. - Privacy"."""
    title = " ".join(title.replace("*", "").split())
    if not title or len(title) > 120:
        return None
    match = _NAME_FIRST.match(title) or _NAME_LAST.match(title)
    if not match:
        return None
    name = _clean_company(match.group("name"))
    if name and title.isupper() and len(name) > 3:
        name = name.title()  # "ACME CORP PRIVACY POLICY": shouting is not the name's spelling
    return name


def _clean_company(name: str) -> str | None:
    name = re.split(r"\s+[-–—|:·]\s+", name.strip())[0]  # "Acme | Home" -> "Acme"
    name = name.strip(" -–—|:·,.\"'“”")
    for _ in range(2):
        name = _LEGAL_SUFFIX.sub("", name).strip(" ,.")
    if not name or _GENERIC.match(name) or len(name.split()) > 6 or not re.search(r"[^\W\d_]", name):
        return None
    return name


def _company_name(domain: str | None, file_name: str) -> str:
    if domain:
        labels = domain.split(".")
        core = labels[-2] if len(labels) >= 2 else labels[0]
        return core[:1].upper() + core[1:]
    stem = Path(file_name).stem
    stem = FILE_DATE.sub("", stem)
    stem = re.sub(r"[-_ ]*(privacy[-_ ]*policy|privacy|policy)[-_ ]*$", "", stem, flags=re.I)
    stem = re.sub(r"[-_]+", " ", stem).strip(" -_")
    stem = stem or Path(file_name).stem
    return stem if any(c.isupper() for c in stem) else stem.title()


def _title(text: str) -> str | None:
    for token in _md.parse(text[:5000]):
        if token.type == "inline" and token.map and text.splitlines()[token.map[0]].lstrip().startswith("# "):
            return inline_text(token)
    return None


def inline_text(token) -> str:
    """Plain words of an inline token: no emphasis markers, escapes or link targets."""
    parts = []
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return " ".join("".join(parts).split())


def _line_starts(text: str) -> list[int]:
    starts = [0]
    for match in re.finditer("\n", text):
        starts.append(match.end())
    starts.append(len(text))
    return starts


@dataclass
class _Heading:
    level: int
    title: str
    start: int  # offset of the heading line
    body_start: int  # offset just after the heading (and its wrapped continuation)
    from_bold: bool = False
    plain: bool = False  # a plain line of text: no Markdown marks it, so it is kept out of the body


def split_sections(text: str, skip_until: int = 0) -> list[Section]:
    """Split policy text into sections by heading. The H1 title is not part of any path."""
    lines = _line_starts(text)
    tokens = _md.parse(text)
    headings: list[_Heading] = []
    plain: list[_Heading] = []
    titled_lists: list[list[_Heading]] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.type == "heading_open" and tok.map:
            inline = tokens[i + 1]
            level = int(tok.tag[1])
            title = inline_text(inline)
            start = lines[tok.map[0]]
            body_start = lines[tok.map[1]]
            raw_line = text[start:body_start]
            nxt = tokens[i + 3] if i + 3 < len(tokens) else None
            # A heading line ending in a hard break ("  ") continues on the next line.
            if (raw_line.rstrip("\n").endswith("  ") and nxt is not None and nxt.type == "paragraph_open"
                    and nxt.map and nxt.map[0] == tok.map[1]):
                first = text[lines[nxt.map[0]]:lines[nxt.map[0] + 1]].strip()
                if len(first.split()) <= 8:
                    title = f"{title} {inline_text_of_line(first)}".strip()
                    body_start = lines[nxt.map[0] + 1]
            headings.append(_Heading(level, title, start, body_start))
        elif tok.type == "paragraph_open" and tok.map and tok.level == 0:
            inline = tokens[i + 1]
            children = [c for c in inline.children or [] if not (c.type == "text" and not c.content.strip())]
            is_bold_only = (
                len(children) >= 3 and children[0].type == "strong_open" and children[-1].type == "strong_close"
                and all(c.type not in ("strong_open",) for c in children[1:-1])
            )
            title = inline_text(inline)
            followed_by_prose = _prose_follows(tokens, i + 3)
            lead = _bold_lead(children)
            if is_bold_only and 0 < len(title.split()) <= 8 and followed_by_prose:
                parent = next((h.level for h in reversed(headings) if not h.from_bold), 1)
                headings.append(_Heading(min(parent + 1, 6), title, lines[tok.map[0]], lines[tok.map[1]], True))
            elif tok.map[1] - tok.map[0] == 1 and followed_by_prose and _PLAIN_HEADING.match(title):
                plain.append(_Heading(2, title, lines[tok.map[0]], lines[tok.map[1]], True, True))
            elif lead and tok.map[1] - tok.map[0] > 1 and len(title.split()) - len(lead.split()) >= 15:
                # "**1.INTRODUCTION**  " on the paragraph's first line, its text on the next ones
                line = tok.map[0]
                plain.append(_Heading(2, lead, lines[line], lines[line + 1], True, True))
        elif tok.type == "ordered_list_open" and tok.level == 0 and (titled := _titled_items(tokens, i, text, lines)):
            titled_lists.append(titled)
        elif (tok.type == "ordered_list_open" and tok.level == 0 and i + 6 < len(tokens)
              and tokens[i + 2].type == "paragraph_open" and tokens[i + 2].map
              and tokens[i + 2].map[1] - tokens[i + 2].map[0] == 1 and tokens[i + 6].type == "ordered_list_close"):
            # "4. Cookies" on a line of its own is a numbered heading, not a list of one item.
            line = tokens[i + 2].map[0]
            title = text[lines[line]:lines[line + 1]].strip()
            close = i + 6
            nxt = tokens[close + 1] if close + 2 < len(tokens) else None
            followed_by_prose = (nxt is not None and nxt.type == "paragraph_open"
                                 and len(tokens[close + 2].content.split()) >= 15)
            if followed_by_prose and _PLAIN_HEADING.match(title):
                plain.append(_Heading(2, title, lines[line], lines[line + 1], True, True))
        i += 1
    if sum(map(len, titled_lists)) >= 3:  # numbered items with bold titles are the sections
        plain += [h for titled in titled_lists for h in titled]
    # Plain text (a .txt file, a page saved as text, a Markdown page whose only heading is its
    # title): its headings are short lines of their own, or sit between the sentences of one long
    # line (``structure.plain_headings``). They are looked for wherever the Markdown headings leave
    # a long stretch without one, and nest under the Markdown heading before them.
    headings = sorted(headings, key=lambda h: h.start)
    marked = [h for h in headings if h.level > 1]
    if len(marked) == 1 and not marked[0].from_bold and _is_title(text, skip_until, marked[0]):
        marked[0].level = 1  # "Flickr Privacy Policy\n-----" over the whole text: the title, no section
        marked = []
    bounds = [(skip_until, 1)] + [(h.body_start, h.level) for h in marked]
    ends = [h.start for h in marked] + [len(text)]
    found: list[_Heading] = []
    for (start, level), end in zip(bounds, ends):
        if len(text[start:end].split()) < MIN_UNMARKED_WORDS and marked:
            continue
        inside = [h for h in plain if start <= h.start < end]
        starts = {h.start for h in inside}
        inside += [_Heading(h.level, h.title, h.start, h.body_start, True, True)
                   for h in plain_headings(text[:end], start) if h.start not in starts and h.start >= start]
        for h in inside:
            h.level = min(6, h.level + level - 1)
        found += inside
    headings = sorted(headings + found, key=lambda h: h.start)

    sections: list[Section] = []
    stack: list[tuple[int, str]] = []
    cursor = skip_until
    current_path: tuple[str, ...] = ()

    def emit(path: tuple[str, ...], start: int, end: int) -> None:
        body = text[start:end]
        if body.lstrip().startswith("#") or (path and body.lstrip().startswith("**")):
            body = body.lstrip().partition("\n")[2]  # a heading alone is not a section
        if body.strip():
            sections.append(Section(path or ("Introduction",), start, end))

    for heading in headings:
        if heading.start < skip_until:
            continue
        title = heading.title.strip()
        summary_marker = title.endswith(",") and len(title.split()) <= 3
        paragraph_like = len(title.split()) > MAX_HEADING_WORDS
        if heading.level == 1 or summary_marker or paragraph_like:
            # Not a section boundary: the text stays in the section it follows.
            if heading.level == 1:
                emit(current_path, cursor, heading.start)
                cursor = heading.body_start
            continue
        emit(current_path, cursor, heading.start)
        while stack and stack[-1][0] >= heading.level:
            stack.pop()
        stack.append((heading.level, title))
        current_path = tuple(t for _, t in stack)
        # A Markdown heading line belongs to its section's text (the chunker knows to skip it); a
        # plain heading line would read as a sentence, so its section starts after it.
        cursor = heading.body_start if heading.plain else heading.start
    emit(current_path, cursor, len(text))
    return sections


_DOCUMENT_NAME = re.compile(r"\b(?:privacy|policy|policies|notice|statement|terms|conditions|agreement)\b", re.I)


def _is_title(text: str, skip_until: int, heading: _Heading) -> bool:
    """A document's only Markdown heading is its title when it names the document ("Flickr Privacy
    Policy"), is as short as a heading and little text comes before it. A page saved as text can put a
    lone "-" under its whole body, which Markdown reads as one long heading: that is no title."""
    before = len(text[skip_until:heading.start].split())
    return (bool(_DOCUMENT_NAME.search(heading.title)) and len(heading.title.split()) <= MAX_HEADING_WORDS
            and (before < 150 or before < 0.1 * len(text[skip_until:].split())))


def _words(text: str) -> int:
    """Words of letters only: "'; Privacy02 += '" has none."""
    return len(re.findall(r"(?<!\S)[(\"“*_]*[^\W\d_]{2,}[)\"”*_.,;:!?]*(?!\S)", text))


def _prose_follows(tokens, j: int) -> bool:
    """The paragraph at ``tokens[j]`` is prose (15+ words), passing over up to three separator or
    code paragraphs without a word ("'; Privacy02 += '" of a page saved with its script)."""
    for _ in range(4):
        if j + 1 >= len(tokens) or tokens[j].type != "paragraph_open":
            return False
        content = tokens[j + 1].content
        if _words(content):
            return len(content.split()) >= 15
        j += 3
    return False


def _bold_lead(children) -> str | None:
    """The title of a paragraph that opens with a bold line of its own ("**1.INTRODUCTION**" and a
    line break), else None."""
    if len(children) < 5 or children[0].type != "strong_open":
        return None
    close = next((k for k, c in enumerate(children) if c.type == "strong_close"), None)
    if close is None or close + 1 >= len(children) or children[close + 1].type not in ("hardbreak", "softbreak"):
        return None
    title = " ".join("".join(c.content for c in children[1:close] if c.type == "text").split())
    return title if 0 < len(title.split()) <= 8 and re.search(r"[^\W\d_]{2,}", title) else None


_LABEL = re.compile(r"^\s*\d{1,2}[.)]\s+\*\*(?P<title>[^*\n]{2,80}?)\s*[:.]?\*\*\s*[:.]?(?=\s|$)")


def _titled_items(tokens, i: int, text: str, lines: list[int]) -> list[_Heading]:
    """Headings of a top-level numbered list whose items open with a bold title: "1. **About
    Us**" over the item's own paragraphs, or "1. **Consent**: By accepting ..." (half the items
    at least so titled; ``split_sections`` wants three in the document)."""
    depth, items = 0, []
    for j in range(i, len(tokens)):
        tok = tokens[j]
        if tok.type == "list_item_open" and tok.level == 1 and tok.map:
            items.append(tok.map)
        depth += tok.nesting if tok.type.endswith("list_open") or tok.type.endswith("list_close") else 0
        if depth == 0 and j > i:
            break
    titled = []
    for first, last in items:
        line = text[lines[first]:lines[first + 1]]
        match = _LABEL.match(line)
        if not match:
            continue
        title = " ".join(match.group("title").replace("\\", "").split()).rstrip(":.")
        rest = line[match.end():].strip()
        if len(title.split()) > 8 or not re.search(r"[^\W\d_]{2,}", title):
            continue
        if not rest and last - first > 1:  # the title alone on its line, the item's text below it
            titled.append(_Heading(2, title, lines[first], lines[first + 1], True, True))
        elif len(rest.split()) >= 12:  # a run-in title: the item's text follows on its line
            titled.append(_Heading(2, title, lines[first], lines[first], True, True))
    return titled if len(titled) >= 0.5 * len(items) else []


# A heading written as a plain line: a capital (after optional numbering, "1." "A." "IV."), at
# most ten words, no sentence punctuation at the end, no URL.
_PLAIN_HEADING = re.compile(r"^(?:(?:\d{1,2}|[A-Z]|[IVX]{1,4})[.)]\s+)?[A-Z][^.;:!?,/@]{0,78}[^\W_]\)?$"
                            r"(?<!\bthe)(?<!\band)(?<!\bor)(?<!\bof)(?<!\bto)")


def inline_text_of_line(line: str) -> str:
    tokens = _md.parseInline(line)
    return inline_text(tokens[0]) if tokens else line
