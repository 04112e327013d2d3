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


def read_document(path: Path) -> ReadDocument:
    """Read one policy file. Raises ``Unreadable`` with a short reason when it must be skipped."""
    suffix = path.suffix.lower()
    if path.is_dir():
        raise Unreadable("is a folder, not a file")
    if suffix not in SUPPORTED_SUFFIXES:
        raise Unreadable(f"unsupported file type '{suffix or '(none)'}' (use .md, .txt, .html or .pdf)")
    raw = _read_regular_file(path)
    if not raw.strip():
        raise Unreadable("empty file")
    sha = hashlib.sha256(raw).hexdigest()

    hints = DocumentHints()
    if suffix == ".pdf":
        (text, hints), kind = _pdf_text(raw), "pdf"
    else:
        if _looks_binary(raw):
            raise Unreadable("binary file, not text")
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
    return ReadDocument(path=path, text=text, kind=kind, raw_sha256=sha, is_verbatim=verbatim, hints=hints)


def _read_regular_file(path: Path) -> bytes:
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


_BLOCK_TAGS = ("p", "li", "div", "section", "article", "br", "tr", "td", "th", "dd", "dt", "blockquote", "pre")


def html_to_markdown(html: str) -> str:
    """Keep the words and headings of an HTML page; drop scripts, styles, navigation and markup."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    for tag in soup(["script", "style", "noscript", "template", "iframe", "svg", "nav", "form", "head",
                     "object", "embed", "applet"]):
        tag.decompose()
    lines: list[str] = []
    body = soup.body or soup
    for element in body.find_all(["h1", "h2", "h3", "h4", "h5", "h6", *_BLOCK_TAGS]):
        if element.find(["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "div", "section", "article", "table", "tr"]):
            continue  # a container: its children are visited on their own
        words = " ".join(element.get_text(" ", strip=True).split())
        if not words:
            continue
        if element.name[0] == "h" and element.name[1:].isdigit():
            lines.append("#" * int(element.name[1]) + " " + words)
        elif element.name == "li":
            lines.append("* " + words)
        else:
            lines.append(words)
    if not lines:
        words = " ".join(body.get_text(" ", strip=True).split())
        lines = [words] if words else []
    if title and not any(line.startswith("# ") for line in lines[:3]):
        lines.insert(0, "# " + " ".join(title.split()))
    return repair_text("\n\n".join(lines) + "\n") if lines else ""


def html_hints(html: str) -> DocumentHints:
    """Title, site name, canonical URL and modification date from an HTML page's head."""
    from bs4 import BeautifulSoup

    head = html[: html.lower().find("</head>") + 7] if "</head>" in html.lower() else html[:20000]
    soup = BeautifulSoup(head, "html.parser")

    def meta(*names: str) -> str | None:
        for name in names:
            tag = soup.find("meta", attrs={"property": name}) or soup.find("meta", attrs={"name": name})
            if tag and tag.get("content", "").strip():
                return " ".join(tag["content"].split())
        return None

    canonical = soup.find("link", rel="canonical")
    title = " ".join(soup.title.get_text(" ", strip=True).split()) if soup.title else None
    return DocumentHints(
        title=title or meta("og:title"),
        site=meta("og:site_name", "application-name"),
        url=(canonical.get("href") if canonical else None) or meta("og:url"),
        date=_iso_date(meta("article:modified_time", "last-modified", "dcterms.modified", "date",
                            "article:published_time")),
    )


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


def _pdf_text(raw: bytes) -> tuple[str, DocumentHints]:
    import io

    try:
        from pypdf import PdfReader

        reader = PdfReader(io.BytesIO(raw))
        pages = [page.extract_text() or "" for page in reader.pages]
    except Exception as exc:  # pypdf raises many types for damaged files
        raise Unreadable(f"not a readable PDF ({type(exc).__name__})") from None
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
