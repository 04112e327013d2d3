"""Structure in text that Markdown does not mark: headings as plain lines or inside one long line,
bare headings among sentences, and the items of a list that a sentence introduces.

Policies saved as text come in two shapes. Most keep a line per paragraph (often hard-wrapped),
with headings as short lines of their own ("Website Visitors", "4. Cookies", "WHAT WE COLLECT",
"What information do we collect?"). Some are one line: their headings sit between sentences
("... as described below. 5.2 Deleting your Information. You may ..."). ``plain_headings`` finds
both; ``index.policies.split_sections`` uses them when the text has no Markdown headings.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

MAX_HEADING_WORDS = 12
MAX_HEADING_CHARS = 100
MIN_BODY_WORDS = 12  # a heading is followed by prose of at least this many words before the next one
LONG_LINE = 600  # a line this long holds several paragraphs (or the whole policy): look for headings inside it

# Words a title leaves in lower case ("Sharing of Information with Third Parties").
_SMALL = frozenset("""a an the and or nor but of to for in on at by with from into about as per via vs than
that we you your our us is are do does how what who when why where which this it its may can not if
""".split())
_NUMBER = r"(?:\d{1,2}(?:\.\d{1,2}){0,3}\.?|[A-Z]\.|[IVX]{1,4}\.|\(\w{1,3}\))"
_NUMBERED = re.compile(rf"^{_NUMBER}\s+(?=[A-Z])")
_QUESTION_START = re.compile(r"^(?:how|what|when|where|why|who|whom|which|do|does|did|can|could|will|would|is|are|"
                             r"should|may|shall)\b", re.I)
_WORD = re.compile(r"[^\W\d_][\w'’&-]*")
_DATE_LINE = re.compile(r"^(?:last\s+)?(?:updated|modified|revised|effective)\b", re.I)
_URLISH = re.compile(r"https?://|www\.|@|\.(?:com|org|net)\b", re.I)
_ESCAPED = re.compile(r"\\([\\`*_{}\[\]()#+\-.!])")  # Markdown escapes: "1\. Who are we?"


@dataclass(frozen=True)
class PlainHeading:
    """A heading found in plain text: ``title`` at ``start``; its section's text starts at ``body_start``."""

    level: int
    title: str
    start: int
    body_start: int


def heading_level(line: str) -> int | None:
    """The level of ``line`` when it is shaped like a heading, else None.

    Shapes: numbered ("5.2 Deleting your Information.", "IV. Cookies"; deeper numbers nest),
    ALL CAPS ("INFORMATION WE COLLECT"), title case ("Sharing of Information with Third Parties")
    and question-shaped ("What information do we collect?"). A line ending in a comma, semicolon
    or colon, or with a URL or e-mail address, is not a heading; nor is a plain sentence.
    """
    line = " ".join(_ESCAPED.sub(r"\1", line).replace("*", " ").split())
    words = line.split()
    if not words or len(words) > MAX_HEADING_WORDS or len(line) > MAX_HEADING_CHARS or _URLISH.search(line):
        return None
    if line[-1] in ",;:" or not line[0].isupper() and not line[0].isdigit() and line[0] != "(":
        return None
    numbered = _NUMBERED.match(line)
    rest = line[numbered.end():] if numbered else line
    letters = _WORD.findall(rest)
    if not letters or sum(any(c.isdigit() for c in w) for w in rest.split()) > 1 or _DATE_LINE.match(rest):
        return None  # "June 2017 (32)", "T2J 4P4", "Last updated: 1/1/2020"
    if len(words) == 1 and len(letters[0]) < 4:
        return None  # "OK", "YES"
    depth = 2 + numbered.group(0).strip().rstrip(".").count(".") if numbered else 2
    if rest.endswith("?"):
        if _QUESTION_START.match(rest) and len(words) <= 10:
            return depth
        return None
    ends_sentence = rest[-1] in ".!"
    if ends_sentence and not numbered:
        return None  # "We collect data." is a sentence; "5.2 Deleting your Information." is numbered
    if numbered and len(letters) <= 8:
        return depth
    if all(w.isupper() for w in letters if len(w) > 1) and sum(len(w) > 1 for w in letters) >= 1 and len(rest) >= 4:
        return depth
    capitals = [w for w in letters if w.lower() not in _SMALL]
    if capitals and all(w[0].isupper() for w in capitals) and len(letters) <= 10:
        return depth
    return None


def _unmarked(sentence: str) -> str:
    return " ".join(re.sub(r"[*_#>`]+", " ", sentence).split())


def is_heading_line(sentence: str) -> bool:
    """A sentence shaped like a heading ("5.2 Deleting your Information.", "What We Collect")."""
    plain = _unmarked(sentence)
    return bool(plain) and heading_level(plain) is not None


# A question's words in statement order, no mark, no more than a heading's words: the headings of the common
# templates ("How we protect your data", "What data breach procedures we have in place"; about 1,000 such lines in
# the 2,570 shared files), whose sections are often left empty. Not "When": it opens list items.
_STATEMENT_ORDER_HEADING = re.compile(r"^(?:How|What|Who|Where|Why|Which)\s[^.!?:;,]*$")


def is_bare_heading(sentence: str) -> bool:
    """A sentence that is only a heading ("5.2 Deleting your Information.", "What We Collect", "How we
    protect your data"): never evidence."""
    plain = _unmarked(sentence)
    return bool(plain) and (heading_level(plain) is not None or (
        bool(_STATEMENT_ORDER_HEADING.match(plain)) and len(plain.split()) <= MAX_HEADING_WORDS))


def plain_headings(text: str, skip_until: int = 0) -> list[PlainHeading]:
    """Headings of a text without Markdown headings: short heading-shaped lines followed by prose,
    and headings between the sentences of very long lines."""
    found: list[PlainHeading] = []
    lines = [(m.start(), m.end()) for m in re.finditer(r"[^\n]+", text) if m.end() > skip_until]
    for i, (start, end) in enumerate(lines):
        line = text[start:end]
        if len(line) >= LONG_LINE:
            found.extend(_inline_headings(text, start, end))
            continue
        title = line.strip()
        level = heading_level(title)
        if level is None or title.startswith(("#", "|", ">", "- ", "* ", "+ ", "•")):
            continue
        if i and not _ends_paragraph(text[lines[i - 1][0]:lines[i - 1][1]]):
            continue  # a short line inside a hard-wrapped paragraph
        following = " ".join(text[s:e] for s, e in lines[i + 1:i + 6])
        if not following[:1].isupper() and not following[:1].isdigit() and following[:1] not in "\"“(":
            continue
        body_words = 0
        for s, e in lines[i + 1:i + 12]:
            nxt = text[s:e].strip()
            if heading_level(nxt) is not None and body_words:
                break
            body_words += len(nxt.split()) if heading_level(nxt) is None else 0
            if body_words >= MIN_BODY_WORDS:
                break
        if body_words < MIN_BODY_WORDS:
            continue
        body_start = end + 1 if end < len(text) else end
        found.append(PlainHeading(level, _title(title), start + (len(line) - len(line.lstrip())), body_start))
    return found


def _ends_paragraph(line: str) -> bool:
    line = line.rstrip().rstrip("*_\"”’)")
    return not line or line[-1] in ".!?:;" or heading_level(line.strip()) is not None or len(line.split()) <= 3


def _title(line: str) -> str:
    return " ".join(_ESCAPED.sub(r"\1", line).replace("*", " ").split()).rstrip(".").strip()


# Inside a long line: "... end of sentence. 5.2 Deleting your Information. Next sentence ..."
_INLINE_NUMBERED = re.compile(rf"(?<=[.!?:][ \t])(?P<title>{_NUMBER}[ \t]+[A-Z][^.!?:]{{2,80}}[.:])(?=[ \t]+[A-Z])")
# "... end of sentence. What information do we collect? We collect ...", spaced or glued
# ("... requests.Why do we collect data?In order to ...").
_INLINE_QUESTION = re.compile(r"(?<=[.!:])[ \t]*(?P<title>[A-Z][^.!?]{8,90}\?)(?=[ \t]*[A-Z])")
# "... end of sentence. INFORMATION WE COLLECT We collect ..."
_INLINE_CAPS = re.compile(r"(?<=[.!?:][ \t])(?P<title>[A-Z][A-Z&'’ ,-]{3,80}[A-Z])(?=[ \t]+[A-Z][a-z])")
# "... end of sentence. Information We Collect We collect ...": a title-case run, then a sentence
# that opens with a pronoun or article followed by a lower-case word.
_INLINE_TITLE = re.compile(
    r"(?<=[.!?][ \t])(?P<title>[A-Z][\w'’-]*(?:[ \t]+(?:[A-Z][\w'’-]*|of|and|or|to|for|the|with|in|on|your|our|about|&)){1,8})"
    r"(?=[ \t]+(?:We|You|Our|Your|This|These|If|When|In|The|Any|All|Some|Such|To|For|As|Please|It)[ \t]+[a-z])")


# Text whose line breaks were dropped without a space: "... regularly.Information CollectedBreaux
# Mart collects ...": a title after a sentence end, glued to the sentence after it.
_INLINE_GLUED = re.compile(
    r"(?<=[.!?])[ \t]*(?P<title>[A-Z][\w'’-]*(?:[ \t]+(?:[A-Z][\w'’-]*|of|and|or|to|for|the|with|in|on|your|our|"
    r"we|you|are|is|do|how|what|about|&)){0,8}?[a-z]{2})(?P<next>[A-Z][\w'’]*)(?=[a-z ])")


# ALL CAPS glued to the sentence after it (and to the one before it, or to a number): "...
# agreements.OVERVIEWThe Site is ...", "... CONTACT US1. WHAT INFORMATION WE COLLECTWe (and ...".
_INLINE_CAPS_GLUED = re.compile(
    r"(?:(?<=[.!?:])|(?<=[.!?:][\"”’)])|(?<=[^\W\d_]))[ \t]*(?P<title>(?:\d{1,2}\.[ \t]?)?[A-Z][A-Z&'’,/ -]{2,80}[A-Z])"
    r"(?P<next>[A-Z])(?=[a-z])")
# A numbered sentence-case heading glued to the sentence after it: "... Your rights.2. Personal
# Data we may collect and whyPersonal data is any ...".
_INLINE_NUMBERED_GLUED = re.compile(
    r"(?<=[.!?:])[ \t]*(?P<title>\d{1,2}\.[ \t]?[A-Z][^.!?:\n]{2,80}?[a-z])(?P<next>[A-Z])(?=[a-z])")
_GLUED = (_INLINE_GLUED, _INLINE_CAPS_GLUED, _INLINE_NUMBERED_GLUED)


def _inline_headings(text: str, start: int, end: int) -> list[PlainHeading]:
    found: list[PlainHeading] = []
    for pattern in (_INLINE_NUMBERED, _INLINE_QUESTION, _INLINE_CAPS, _INLINE_TITLE, *_GLUED):
        for match in pattern.finditer(text, start, end):
            title = match.group("title").strip()
            level = heading_level(title)
            if level is None:
                continue
            if pattern in _GLUED:
                glued = title.split()[-1] + text[match.start("next"):match.start("next") + 2]
                if pattern is not _INLINE_CAPS_GLUED and (text.count(glued) > 1 or len(title.split()) < 2):
                    continue  # "YouTube", "iPhone": a name written that way, not two words glued
                before = text[:match.start("title")].rstrip(" \t")[-1:]
                if pattern is _INLINE_CAPS_GLUED and (len(title) < 6 or before.isalpha() and not title[0].isdigit()):
                    continue  # "IDs", "USA": an acronym; a heading glued to a word needs its number
            if pattern is _INLINE_TITLE and title.split()[-1].lower() in _SMALL:
                continue
            body = match.start("next") if pattern in _GLUED else match.end()
            while body < end and text[body] in " \t":
                body += 1
            found.append(PlainHeading(level, _title(title), match.start("title"), body))
    found.sort(key=lambda h: h.start)
    kept: list[PlainHeading] = []
    for heading in found:
        if kept and heading.start < kept[-1].body_start:
            continue
        # A heading needs prose under it before the next heading.
        kept.append(heading)
    return [h for i, h in enumerate(kept)
            if len(text[h.body_start:(kept[i + 1].start if i + 1 < len(kept) else end)].split()) >= MIN_BODY_WORDS]


_ITEM = re.compile(r"[ \t]*(?:[*+\-•◦▪·]|\d+[.)]|\(?[a-z]\))\s")
MAX_ITEM_CHARS = 300


def list_end(text: str, end: int, following: list[tuple[int, int]], limit: int) -> int:
    """Where the list introduced by a lead-in sentence ending at ``end`` ("We collect:") ends.

    ``following`` are the sentences after it, in order; items (``list_item``, of either kind) are taken
    while the quote stays within ``limit`` characters of the lead-in's end; ``end`` when no item follows.
    """
    last = end
    for a, b in following:
        if not list_item(text, last, a, b) or b - end > limit:
            break
        last = b
    return last


def list_item(text: str, previous_end: int, start: int, end: int) -> str | None:
    """Whether the sentence ``text[start:end]``, after one ending at ``previous_end``, belongs to a list:
    "marked" on a marked list line ("* ...", "1. ...", "• ...", "(a) ..."), "line" for a short line of
    its own that is not a sentence (a list in text without markers), else None."""
    line_start = text.rfind("\n", 0, start) + 1
    if _ITEM.match(text, line_start):
        return "marked"
    own_line = text[line_start:start].strip() == "" and "\n" in text[previous_end:start]
    sentence_like = text[start:end].rstrip().endswith(".") and len(text[start:end].split()) > MAX_HEADING_WORDS
    if (own_line and end - start <= MAX_ITEM_CHARS and not sentence_like
            and not _ends_paragraph_gap(text, previous_end, start)):
        return "line"
    return None


def _ends_paragraph_gap(text: str, before: int, after: int) -> bool:
    return text.count("\n", before, after) >= 2 and not _ITEM.match(text, text.rfind("\n", 0, after) + 1)
