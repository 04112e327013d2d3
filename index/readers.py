"""Turn a file on disk (Markdown, text, HTML or PDF) into clean UTF-8 text we can cite.

A citation's ``source`` must satisfy ``open(source).read()[start:end] == excerpt``. When the
raw file already reads back as the text we index, ``source`` is the file itself; otherwise
(another encoding, repaired mojibake, HTML, PDF) a normalised copy is written under
``<data>/sources/`` and cited instead.
"""
from __future__ import annotations

import hashlib
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

SUPPORTED_SUFFIXES = {".md", ".markdown", ".txt", ".text", ".html", ".htm", ".pdf"}
MAX_FILE_BYTES = 20 * 1024 * 1024


class Unreadable(Exception):
    """A file we skip; the message is the reason shown to the user."""


@dataclass(frozen=True)
class DocumentHints:
    """What a file says about itself outside its text: HTML ``<title>``/``<meta>``, PDF metadata."""

    title: str | None = None  # <title>, PDF /Title
    site: str | None = None  # og:site_name, application-name
    url: str | None = None  # canonical link, og:url
    date: str | None = None  # ISO date: article:modified_time, PDF /ModDate or /CreationDate


@dataclass(frozen=True)
class ReadDocument:
    path: Path  # the file the user gave us
    text: str  # what we index and cite
    kind: str  # "markdown", "text", "html" or "pdf"
    raw_sha256: str
    is_verbatim: bool  # True when reading `path` as UTF-8 gives exactly `text`
    hints: DocumentHints = DocumentHints()
    raw: bytes = b""  # the bytes read (what ``index.add`` copies)


def read_document(path: Path, within: Path | None = None) -> ReadDocument:
    """Read one policy file. Raises ``Unreadable`` with a short reason when it must be skipped.

    ``within``: a folder the file actually opened must lie in (checked on the open file, so no
    link, however it changes meanwhile, leads the read out of it).
    """
    suffix = path.suffix.lower()
    if path.is_dir():
        raise Unreadable("is a folder, not a file")
    if suffix not in SUPPORTED_SUFFIXES:
        raise Unreadable(f"unsupported file type '{suffix or '(none)'}' (use .md, .txt, .html or .pdf)")
    raw = _read_regular_file(path, within)
    if not raw.strip():
        raise Unreadable("empty file")
    sha = hashlib.sha256(raw).hexdigest()

    hints = DocumentHints()
    if suffix == ".pdf":
        if b"%PDF-" not in raw[:1024]:
            raise Unreadable(f"not a PDF: {_what_it_is(raw)}")
        (text, hints), kind = _pdf_text(raw), "pdf"
    else:
        if _looks_binary(raw):
            raise Unreadable(f"binary file, not text: {_what_it_is(raw)}")
        decoded = _decode(raw)
        if suffix in (".html", ".htm") or _looks_like_html(decoded):
            text, kind = html_to_markdown(decoded), "html"
            hints = html_hints(decoded)
        else:
            text = repair_text(decoded)
            kind = "markdown" if suffix in (".md", ".markdown") else "text"
    if not text.strip():
        raise Unreadable("no text found in the document")
    verbatim = kind in ("markdown", "text") and _reads_back_as(raw, text)
    return ReadDocument(path=path, text=text, kind=kind, raw_sha256=sha, is_verbatim=verbatim, hints=hints, raw=raw)


_KINDS = ((b"%PDF-", "a PDF file (rename it to .pdf)"),
          (b"PK\x03\x04", "a ZIP archive, such as a Word .docx or OpenDocument file (save it as PDF or text)"),
          (b"\xd0\xcf\x11\xe0", "an old Microsoft Office file (save it as PDF or text)"),
          (b"{\\rtf", "an RTF document (save it as PDF or text)"),
          (b"\x89PNG", "a PNG image"), (b"GIF8", "a GIF image"), (b"\xff\xd8\xff", "a JPEG image"),
          (b"\x1f\x8b", "a gzip-compressed file"), (b"\x7fELF", "a program"), (b"\xfd7zXZ", "an xz archive"),
          (b"7z\xbc\xaf", "a 7-Zip archive"), (b"Rar!", "a RAR archive"))


def _what_it_is(raw: bytes) -> str:
    """What a file that is not what its name says really is, in words."""
    head = raw.lstrip()[:1024]
    for magic, words in _KINDS:
        if head.startswith(magic):
            return f"it is {words}"
    lowered = head.lower()
    if b"<html" in lowered or b"<!doctype html" in lowered:
        return "it is an HTML page (rename it to .html)"
    if not _looks_binary(raw):
        return "it is plain text (rename it to .txt or .md)"
    return "its bytes are binary data, not a document we can read"


def _read_regular_file(path: Path, within: Path | None = None) -> bytes:
    """The file's bytes; special files, broken links, unreadable and oversized files are refused.

    The size is checked on the open descriptor before reading, so a huge file costs nothing, and
    ``O_NONBLOCK`` keeps a named pipe from hanging the build.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        if path.is_symlink():
            raise Unreadable(f"broken link (points to {os.readlink(path)}, which does not exist)") from None
        raise Unreadable("disappeared while indexing") from None
    except PermissionError:
        raise Unreadable("permission denied (cannot be read)") from None
    except OSError as exc:
        raise Unreadable(f"cannot be opened ({exc.strerror or exc})") from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise Unreadable("is a folder, not a file")
        if not stat.S_ISREG(st.st_mode):
            raise Unreadable(f"not a regular file (a {_file_kind(st.st_mode)})")
        if st.st_size > MAX_FILE_BYTES:
            raise Unreadable(f"too large ({st.st_size / 1e6:.0f} MB; the limit is {MAX_FILE_BYTES // 2**20} MiB)")
        if within is not None and not _opened_within(fd, path, within):
            raise Unreadable(f"its real location is outside {within} (not read)")
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=False) as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:
            raise Unreadable(f"too large (over {MAX_FILE_BYTES // 2**20} MiB)")
        return raw
    except PermissionError:
        raise Unreadable("permission denied (cannot be read)") from None
    except OSError as exc:
        raise Unreadable(f"cannot be read ({exc.strerror or exc})") from None
    finally:
        os.close(fd)


def _opened_within(fd: int, path: Path, folder: Path) -> bool:
    """True when the file open as ``fd`` lies in ``folder`` (Linux: the kernel's own path of the fd)."""
    proc = f"/proc/self/fd/{fd}"
    real = os.readlink(proc) if os.path.islink(proc) else os.path.realpath(path)
    root = os.path.realpath(folder)
    return real == root or real.startswith(root.rstrip(os.sep) + os.sep)


def _file_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "named pipe"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    return "special file"


# Bytes that (almost) never occur in text: NUL and the C0 controls other than tab, line breaks, form feed, escape.
_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 12, 13, 27))
_BINARY_MAGIC = (b"%PDF-", b"PK\x03\x04", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"\x1f\x8b", b"\x7fELF",
                 b"\xfd7zXZ", b"7z\xbc\xaf", b"Rar!", b"\xd0\xcf\x11\xe0")


def _looks_binary(raw: bytes) -> bool:
    """True for images, archives, executables and random bytes; False for text in any common encoding."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False  # UTF-16 text is full of NUL bytes
    if raw.startswith(_BINARY_MAGIC):
        return True
    sample = raw[:65536].strip(b"\x00")  # some scraped pages are padded with NUL bytes
    # Random or compressed bytes have about 10% of these; text in any 8-bit encoding next to none
    # (Cyrillic or Greek in a single-byte encoding is mostly bytes above 0x7f, and still text).
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    return controls > max(2, len(sample) // 100)


def _reads_back_as(raw: bytes, text: str) -> bool:
    try:
        as_python_reads_it = raw.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError:
        return False
    return as_python_reads_it == text


def _decode(raw: bytes) -> str:
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = raw.decode("utf-16", errors="replace")
    else:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            try:
                text = raw.decode("cp1252")
            except UnicodeDecodeError:
                text = raw.decode("latin-1")
    return text.replace("\r\n", "\n").replace("\r", "\n")


# UTF-8 read as Mac Roman turns "é" into "√©": lead bytes C2..C5 become these characters.
_MAC_ROMAN_MOJIBAKE = re.compile(r"[¬√ƒ≈][^\s]")


def repair_text(text: str) -> str:
    """Fix mojibake (ftfy, plus the Mac Roman pattern ftfy leaves alone) and drop control chars."""
    if text.isascii() and "\x1b" not in text:
        return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "", text)  # nothing for ftfy to repair
    import ftfy

    fixed = ftfy.fix_text(
        text,
        uncurl_quotes=False,
        fix_line_breaks=False,
        fix_latin_ligatures=False,
        fix_character_width=False,
        unescape_html=False,
        normalization=None,
    )

    def _mac_roman(match: re.Match) -> str:
        try:
            return match.group(0).encode("mac_roman").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            return match.group(0)

    fixed = _MAC_ROMAN_MOJIBAKE.sub(_mac_roman, fixed)
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "", fixed)


def _looks_like_html(text: str) -> bool:
    head = text[:2000].lower()
    return "<html" in head or "<!doctype html" in head or ("<body" in head and "</" in head)


_BLOCK_TAGS = frozenset({"p", "li", "div", "section", "article", "main", "aside", "header", "footer", "br", "tr", "td",
                         "th", "dd", "dt", "dl", "ul", "ol", "table", "blockquote", "pre", "address", "figure",
                         "figcaption", "details", "summary", "hr", "h1", "h2", "h3", "h4", "h5", "h6"})
_SKIPPED_TAGS = frozenset({"script", "style", "noscript", "template", "iframe", "svg", "nav", "form", "head", "object",
                           "embed", "applet", "math", "title"})
MAX_HTML_DEPTH = 2048  # libxml2's own limit with huge_tree; real pages stay under a hundred levels


class HtmlTooDeep(Unreadable):
    """HTML nested deeper than ``MAX_HTML_DEPTH``: refused in a few milliseconds instead of read for minutes."""


def html_to_markdown(html: str) -> str:
    """Keep the words and headings of an HTML page; drop scripts, styles, navigation and markup.

    The page is parsed by lxml (libxml2, C) with the HTML rules for omitted end tags, so
    ``<p>one<p>two`` and ``<li>a<li>b`` are separate paragraphs and items, and the text is taken
    in one pass over the tree: time linear in the size of the page. Pages nested deeper than
    ``MAX_HTML_DEPTH`` are refused with ``HtmlTooDeep``.
    """
    root, title = _parse_html(html)
    lines: list[str] = []
    current: list[str] = []
    markers: list[str] = [""]  # the line prefix of each open block ("# " for h1, "* " for li)

    def flush() -> None:
        words = " ".join("".join(current).split())
        current.clear()
        if words:
            lines.append(markers[-1] + words)

    from lxml import etree

    body = root.find("body")
    walker = etree.iterwalk(body if body is not None else root, events=("start", "end"))
    for event, element in walker:
        tag = element.tag if isinstance(element.tag, str) else ""
        if event == "start":
            if tag in _SKIPPED_TAGS or not tag:
                walker.skip_subtree()
                continue
            if tag in _BLOCK_TAGS:
                flush()
                markers.append(_marker(tag, markers[-1]))
            if element.text:
                current.append(element.text)
        else:
            if tag in _BLOCK_TAGS and not (tag in _SKIPPED_TAGS):
                flush()
                markers.pop()
            if element.tail and element is not body:
                current.append(element.tail)
    flush()
    if title and not any(line.startswith("# ") for line in lines[:3]):
        lines.insert(0, "# " + title)
    return repair_text("\n\n".join(lines) + "\n") if lines else ""


def _marker(tag: str, outer: str) -> str:
    if tag[0] == "h" and tag[1:].isdigit():
        return "#" * int(tag[1]) + " "
    if tag == "li":
        return "* "
    return outer if outer == "* " and tag in ("p", "div", "br") else ""


def _parse_html(html: str):
    """The page's root element and its title; ``HtmlTooDeep`` past the depth budget."""
    import lxml.html
    from lxml import etree

    # lxml refuses str input with an XML encoding declaration, and NUL characters end its input.
    html = re.sub(r"^\s*<\?xml[^>]*>", "", html.replace("\x00", ""))
    if not html.strip():
        return etree.Element("html"), ""
    parser = lxml.html.HTMLParser(huge_tree=True, remove_comments=True, remove_pis=True)
    try:
        root = lxml.html.document_fromstring(html, parser=parser)
    except etree.ParserError:  # "Document is empty": only comments or whitespace
        return etree.Element("html"), ""
    if any("depth" in entry.message.lower() and entry.level_name == "FATAL" for entry in parser.error_log):
        raise HtmlTooDeep(f"HTML nested too deeply (more than {MAX_HTML_DEPTH:,} levels of tags inside each "
                          f"other); save the page as PDF or text and add that instead")
    title_element = root.find(".//title")
    title = " ".join((title_element.text_content() if title_element is not None else "").split())
    return root, title


def html_hints(html: str) -> DocumentHints:
    """Title, site name, canonical URL and modification date from an HTML page's head."""
    from bs4 import BeautifulSoup

    head = html[: html.lower().find("</head>") + 7] if "</head>" in html.lower() else html[:20000]
    soup = BeautifulSoup(head, "html.parser")

    def meta(*names: str) -> str | None:
        for name in names:
            tag = soup.find("meta", attrs={"property": name}) or soup.find("meta", attrs={"name": name})
            if tag and plain_name(tag.get("content", "")):
                return plain_name(tag["content"])
        return None

    canonical = soup.find("link", rel="canonical")
    title = plain_name(soup.title.get_text(" ", strip=True)) if soup.title else None
    return DocumentHints(
        title=title or meta("og:title"),
        site=meta("og:site_name", "application-name"),
        url=(canonical.get("href") if canonical else None) or meta("og:url"),
        date=_iso_date(meta("article:modified_time", "last-modified", "dcterms.modified", "date",
                            "article:published_time")),
    )


def plain_name(value: str) -> str:
    """A name or title from metadata as plain words: markup (``<b>Acme</b>``, escaped or not),
    character references and control characters removed, spaces collapsed."""
    import html

    text = value
    for _ in range(2):  # "&lt;b&gt;Acme&lt;/b&gt;" is markup once unescaped
        text = re.sub(r"<(script|style)\b.*?(</\1\s*>|$)", " ", html.unescape(text), flags=re.I | re.S)
        text = re.sub(r"<[^<>]*>?", " ", text)
    text = re.sub(r"[\x00-\x1f\x7f-\x9f<>]", " ", text)
    return " ".join(text.split())


def _iso_date(value: str | None) -> str | None:
    """``2020-03-04T...``, ``D:20200304...`` (PDF) or ``20200304`` to ``2020-03-04``."""
    if not value:
        return None
    match = re.search(r"(?:D:)?(\d{4})-?(\d{2})-?(\d{2})", value)
    if not match:
        return None
    year, month, day = (int(g) for g in match.groups())
    if not (1990 <= year <= 2100 and 1 <= month <= 12 and 1 <= day <= 31):
        return None
    return f"{year:04d}-{month:02d}-{day:02d}"


_PASSWORD_PDF = "a password-protected PDF (remove the password, or save it as text, and add it again)"


def _pdf_text(raw: bytes) -> tuple[str, DocumentHints]:
    import io

    try:
        from pypdf import PdfReader

        reader = PdfReader(io.BytesIO(raw))
        if reader.is_encrypted and not reader.decrypt(""):  # an owner password alone still lets it be read
            raise Unreadable(_PASSWORD_PDF)
        pages = [page.extract_text() or "" for page in reader.pages]
    except Unreadable:
        raise
    except Exception as exc:  # pypdf raises many types for damaged files
        if "decrypt" in type(exc).__name__.lower() or "password" in str(exc).lower():
            raise Unreadable(_PASSWORD_PDF) from None
        raise Unreadable("not a readable PDF: the file is damaged or incomplete (open it in a PDF viewer and "
                         "save it again, or save it as text)") from None
    paragraphs = []
    for page in pages:
        for block in re.split(r"\n\s*\n", page.replace("\r", "\n")):
            joined = " ".join(block.split())
            if joined:
                paragraphs.append(joined)
    text = repair_text("\n\n".join(paragraphs) + "\n") if paragraphs else ""
    return text, _pdf_hints(reader, paragraphs[0] if paragraphs else "")


def _pdf_hints(reader, first_paragraph: str) -> DocumentHints:
    """PDF metadata; a PDF without a /Title is titled by its first line when that names the policy."""
    try:
        info = reader.metadata or {}
        title = str(info.get("/Title") or "").strip() or None
        date = _iso_date(str(info.get("/ModDate") or "")) or _iso_date(str(info.get("/CreationDate") or ""))
    except Exception:  # damaged metadata is not worth losing the text over
        info, title, date = {}, None, None
    if not title and len(first_paragraph.split()) <= 12 and re.search(r"privacy|data protection", first_paragraph, re.I):
        title = first_paragraph
    return DocumentHints(title=" ".join(title.split()) if title else None, date=date)
