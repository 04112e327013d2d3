"""Recognise page furniture that is not policy text: menus, runs of bare links, code and data.

Policies saved from the web (the ToS;DR corpus, pasted pages) often begin and end with a
site's navigation, and sometimes carry inline JavaScript, CSS or JSON. Embedding that is slow
and pollutes answers. Blocks are judged one by one, from their own words only, so offsets into
the policy text are untouched: a skipped block is simply not part of any chunk.

The rules are deliberately conservative: a short list item, a list of data categories with
commas, or a single link inside real prose is kept.
"""
from __future__ import annotations

import re

# Small function words that make up a third or more of any English prose sentence.
_FUNCTION_WORDS = frozenset("""
a an the and or but if of to in on at by for with from as into about than then that this these those it its
is are was were be been being have has had do does did we you they he she i our your their us them my me
will would can could may might shall should must not no any all some each such which who whom what when
where how why there here so also only other more most
""".split())

_MD_LINK = re.compile(r"!?\[([^\]]*)\]\((?:[^()]|\([^)]*\))*\)")
_URL = re.compile(r"(?:https?://|www\.)\S+?(?=[.,;:!?)]*(?:\s|$))")
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
_CODE_CHARS = re.compile(r"[{}();:=<>\[\]\\$]")
_HARD_CODE_CHARS = re.compile(r"[{};=]")  # rare in prose, addresses and tables alike
_HTML_TAG = re.compile(r"</?[a-zA-Z][\w-]*(?:\s[^<>]*)?/?>")
_LIST_MARK = re.compile(r"^\s*(?:[*+-]|\d+[.)])\s+")
_SENTENCE_END = re.compile(r"[.!?:](?:\s|$)")

MIN_MENU_WORDS = 15
MIN_MENU_CAPITALISED = 0.6
MIN_MENU_LINKS = 4
MAX_MENU_OTHER_WORDS = 0.2
MAX_MENU_FUNCTION_SHARE = 0.12
MIN_CODE_CHARS = 40
CODE_CHAR_SHARE = 0.06
MAX_CODE_FUNCTION_SHARE = 0.2


def link_only(block: str) -> bool:
    """True when a block is nothing but links (a menu entry, a footer link)."""
    if not _MD_LINK.search(block) and not _URL.search(block):
        return False
    rest = _URL.sub(" ", _MD_LINK.sub(" ", block))
    rest = _LIST_MARK.sub("", rest)
    return len(_WORD.findall(rest)) <= 1


def is_code(block: str) -> bool:
    """JavaScript, CSS or JSON that leaked into the text: many brackets, braces and operators."""
    text = _HTML_TAG.sub(" ", _URL.sub(" ", _MD_LINK.sub(r"\1", block)))
    if len(text) < MIN_CODE_CHARS or len(_HARD_CODE_CHARS.findall(text)) < 2:
        return False
    code = len(_CODE_CHARS.findall(text))
    if code < 4 or code / len(text) < CODE_CHAR_SHARE:
        return False
    return _function_share(_WORD.findall(text)) < MAX_CODE_FUNCTION_SHARE


def _function_share(words: list[str]) -> float:
    return sum(w.lower() in _FUNCTION_WORDS for w in words) / len(words) if words else 0.0


def is_menu(block: str) -> bool:
    """A site's menu or footer: a row of links, or a long run of capitalised labels with no sentence."""
    if block.lstrip().startswith("|"):
        return False  # a table row is data, however terse
    links = _MD_LINK.findall(block)
    text = _URL.sub(" ", _MD_LINK.sub(r" \1 ", block))
    words = _WORD.findall(text)
    if len(links) >= MIN_MENU_LINKS:
        outside = _WORD.findall(_LIST_MARK.sub("", _URL.sub(" ", _MD_LINK.sub(" ", block))))
        if len(outside) <= MAX_MENU_OTHER_WORDS * len(words):
            return True
    if len(words) < MIN_MENU_WORDS or "," in text or _SENTENCE_END.search(text.rstrip() + " "):
        return False
    capitalised = sum(w[0].isupper() for w in words) / len(words)
    return capitalised >= MIN_MENU_CAPITALISED and _function_share(words) <= MAX_MENU_FUNCTION_SHARE


def boilerplate_blocks(blocks: list[str]) -> set[int]:
    """Indices of the blocks that are page furniture.

    Code and menus are dropped wherever they are. Link-only blocks are dropped only in runs of
    three or more (a navigation list), and not when a heading or a line ending in ":"
    introduces the run ("We work with these partners:"); a lone link stays.
    """
    junk = {i for i, b in enumerate(blocks) if is_code(b) or is_menu(b)}
    run: list[int] = []
    for i, block in enumerate(blocks + [""]):
        if i < len(blocks) and link_only(block):
            run.append(i)
            continue
        if len(run) >= 3 and not _introduced(blocks, run[0], junk):
            junk.update(run)
        run = []
    return junk


def _introduced(blocks: list[str], first: int, junk: set[int]) -> bool:
    before = next((blocks[j] for j in range(first - 1, -1, -1) if j not in junk), "")
    before = before.strip()
    return before.startswith("#") or before.endswith(":")
