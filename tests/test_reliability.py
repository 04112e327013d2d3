"""Reliability: bad questions, bad files, interrupted indexing, concurrent users, Chroma server faults.

Everything runs for real: the real model and Chroma, real files on disk (a FIFO, a broken link, a
file root cannot read), real subprocesses killed with SIGKILL, a real `chroma run` server.
Hostile text in a browser, path traversal and upload limits are tested with the chat app.
"""
from __future__ import annotations

import ctypes
import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from index.errors import BadQuestion, PolicyQAError, ServerUnavailable
from qa import Answer, SafeReply, ask, safe_ask, safe_call

PROJECT = Path(__file__).resolve().parent.parent
CORPUS = PROJECT / "corpus"
PYTHON = sys.executable


def run_cli(*args: str, env: dict | None = None, timeout: int = 300, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([PYTHON, *args], capture_output=True, text=True, cwd=PROJECT, timeout=timeout,
                          env=env or dict(os.environ), **kwargs)


def assert_no_traceback(out: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in out.stderr and "Traceback" not in out.stdout, out.stderr[-2000:]


def assert_round_trip(answer: Answer) -> None:
    for c in answer.citations:
        text = Path(c.source).read_text(encoding="utf-8")
        assert text[c.start:c.end] == c.excerpt
        assert text[c.highlight_start:c.highlight_end] == c.highlight


# --------------------------------------------------------------------------------------------
# Bad questions: ask(), the function the chat calls (safe_ask), and the CLI.
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("question", ["", "   ", "\n\t \r\n", "\u200b\u200b\ufeff"])
def test_empty_question_is_a_clear_error(seed_index, question):
    with pytest.raises(BadQuestion, match="the question is empty: ask something like"):
        ask(question)


def test_100k_character_question_is_refused_with_the_limit(seed_index):
    with pytest.raises(BadQuestion, match=r"too long \(100,000 characters; the limit is 2,000\)"):
        ask("Does Azalead sell my data? " * 3700 + "x" * (100_000 - 27 * 3700))
    with pytest.raises(BadQuestion, match=r"too long \(5,000,000 characters"):
        ask("a" * 5_000_000)  # refused before the text is even scanned


def test_control_characters_are_removed_and_the_question_answered(seed_index):
    clean = ask("Does Azalead sell my personal information?")
    dirty = ask("Does\x00 Azalead\x07 sell\x1b my\x7f personal\u202e information?\x08")
    assert dirty.question == clean.question == "Does Azalead sell my personal information?"
    assert dirty.found and dirty.text == clean.text
    assert [c.excerpt for c in dirty.citations] == [c.excerpt for c in clean.citations]
    with pytest.raises(BadQuestion, match="empty"):
        ask("\x00\x01\x02\x1b\x7f")


def test_undecodable_bytes_are_a_clear_error(seed_index):
    # What Python makes of invalid UTF-8 on a command line: lone surrogates.
    with pytest.raises(BadQuestion, match="not readable text"):
        ask(b"\xff\xfe\xfa".decode("utf-8", "surrogateescape"))
    answer = ask("Does Azalead sell my personal information?" + b"\xff".decode("utf-8", "surrogateescape"))
    assert answer.found and answer.citations[0].company == "Azalead"


@pytest.mark.parametrize("question, company", [
    ("Comindware 会与 Salesforce 共享数据吗？", "Comindware"),
    ("¿Comparte Comindware datos con Salesforce?", "Comindware"),
    ("Продаёт ли Azalead мои данные?", "Azalead"),
    ("Que fait Azendoo avec les cookies ?", "Azendoo"),
    ("Does Azendoo use cookies 🍪?", "Azendoo"),
    ("これは何ですか", None),
    ("مرحبا، هل تبيع بياناتي؟", None),
])
def test_non_english_and_emoji_get_an_answer_or_a_clear_not_found(seed_index, question, company):
    answer = ask(question)
    assert isinstance(answer, Answer) and answer.text.strip()
    if answer.found:
        assert answer.citations and "[1]" in answer.text
        assert_round_trip(answer)
    else:
        assert answer.citations == []
        assert "does not mention" in answer.text or "mentions" in answer.text or "Not stated" in answer.text
    if company:
        assert company in answer.text


def test_emoji_only_question_says_it_has_no_words(seed_index):
    with pytest.raises(BadQuestion, match="no words"):
        ask("🍪🔒🤖 ???")


def test_an_english_question_with_emoji_is_answered_normally(seed_index):
    answer = ask("Does Azendoo use cookies 🍪?")
    assert answer.found and {c.company for c in answer.citations} == {"Azendoo"}
    assert any("cookie" in c.highlight.lower() for c in answer.citations)


@pytest.mark.parametrize("question, name", [
    ("Does Facebook sell my data?", "Facebook"),
    ("What does netflix.com do with my data?", "netflix.com"),
    ("Is Initech's data retention policy strict?", "Initech"),
])
def test_unknown_company_names_it_and_lists_known_ones(seed_index, question, name):
    answer = ask(question)
    assert not answer.found and answer.citations == []
    assert answer.text.startswith(f"I have no privacy policy for {name}.")
    assert "The policies I know are: Axosoft, Azalead, Azendoo, Comindware." in answer.text


def test_company_argument_is_cleaned(seed_index):
    assert {c.company for c in ask("Do they use cookies?", company="  azendoo.com\x00 ").citations} == {"Azendoo"}
    assert ask("Does Axosoft use cookies?", company=" \t ").citations  # blank: no restriction, no crash
    with pytest.raises(BadQuestion, match="company"):
        ask("Do they use cookies?", company=["Azendoo"])
    assert "I have no privacy policy for Initech" in ask("Cookies?", company="Initech").text


@pytest.mark.parametrize("question", [None, 42, b"Does Azalead sell data?", ["a"]])
def test_a_question_that_is_not_text_is_a_clear_error(seed_index, question):
    with pytest.raises(BadQuestion, match="must be text"):
        ask(question)


# The chat calls safe_ask (or wraps its turn in safe_call): a message, never an exception.
@pytest.mark.parametrize("question, kind, message", [
    ("", "bad_question", "The question is empty"),
    ("x" * 100_000, "bad_question", "The question is too long (100,000 characters"),
    ("\x00\x07\x1b", "bad_question", "The question is empty"),
    ("🍪🍪", "bad_question", "The question has no words in it"),
    (None, "bad_question", "The question must be text"),
])
def test_safe_ask_turns_bad_questions_into_messages(seed_index, question, kind, message):
    reply = safe_ask(question)
    assert isinstance(reply, SafeReply) and not reply.ok and reply.answer is None
    assert reply.kind == kind and reply.message.startswith(message)


def test_safe_ask_answers_good_non_english_and_unknown_company_questions(seed_index):
    good = safe_ask("Does Comindware share data with Salesforce?")
    assert good.ok and good.kind == "answer" and good.answer.found
    assert "Salesforce" in good.answer.citations[0].highlight
    for question in ("Comindware 会与 Salesforce 共享数据吗？", "Does Azendoo use cookies 🍪?", "Does Facebook sell my data?"):
        reply = safe_ask(question)
        assert reply.ok and reply.answer.text


def test_safe_call_logs_a_bug_and_shows_a_short_message(caplog):
    def broken_turn(question):
        return {}[question]  # a real KeyError, as a bug in a chat turn would raise

    reply = safe_call(broken_turn, "Does Azalead sell data?")
    assert reply.kind == "failure" and not reply.ok
    assert "Something went wrong on our side" in reply.message and "Traceback" not in reply.message
    assert "KeyError" not in reply.message
    assert any(r.exc_info and r.exc_info[0] is KeyError for r in caplog.records)


def test_safe_ask_reports_an_empty_index_as_unavailable(tmp_path, monkeypatch):
    empty = tmp_path / "empty-corpus"
    empty.mkdir()
    (empty / "notes.docx").write_bytes(b"PK\x03\x04")
    monkeypatch.setenv("POLICYQA_CORPUS", str(empty))
    reply = safe_ask("Does Azalead sell data?")
    assert reply.kind == "unavailable" and "is empty: run `python -m index`" in reply.message


CLI_CASES = [
    # (arguments, exit status, text expected on stderr)
    (["   "], 2, "error: The question is empty"),
    (["x" * 100_000], 2, "error: The question is too long (100,000 characters; the limit is 2,000)"),
    (["\x07\x1b\x7f"], 2, "error: The question is empty"),
    (["🍪🍪🍪"], 2, "error: The question has no words in it"),
    ([os.fsdecode(b"\xff\xfe")], 2, "error: The question is not readable text"),
    ([], 2, "the following arguments are required: question"),
    (["Does Azalead sell data?", "-k", "abc"], 2, "argument -k: invalid int value: 'abc'"),
    (["Does Azalead sell data?", "-k", "0"], 2, "-k must be at least 1"),
    (["Does Azalead sell data?", "--no-such-option"], 2, "unrecognized arguments: --no-such-option"),
]


@pytest.mark.parametrize("args, status, message", CLI_CASES)
def test_cli_bad_questions_exit_2_with_a_message(seed_index, args, status, message):
    out = run_cli("-m", "qa", *args)
    assert out.returncode == status, out.stderr
    assert message in out.stderr and out.stdout == ""
    assert_no_traceback(out)


def test_cli_answers_control_characters_non_english_and_unknown_companies(seed_index):
    runs = []
    out = run_cli("-m", "qa", "Does\x07 Azalead\x1b sell my personal information? 🍪", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["question"] == "Does Azalead sell my personal information? 🍪" and data["found"]
    runs.append(out)
    # Another language, on a terminal that cannot show it: "?" in place, not a UnicodeEncodeError.
    out = run_cli("-m", "qa", "Comindware 会与 Salesforce 共享数据吗？", env={**os.environ, "PYTHONIOENCODING": "ascii"})
    assert out.returncode == 0 and "Comindware" in out.stdout and "?" in out.stdout
    runs.append(out)
    out = run_cli("-m", "qa", "Does Facebook sell my data?")
    assert out.returncode == 0 and out.stdout.startswith("I have no privacy policy for Facebook.")
    runs.append(out)
    for out in runs:
        assert_no_traceback(out)


@pytest.mark.parametrize("args, message", [
    (["--bogus"], "unrecognized arguments: --bogus"),
    (["add"], "the following arguments are required: PATH"),
    (["add", "policy.md", "--date", "yesterday"], "'yesterday' is not a date like 2017-12-31"),
])
def test_index_cli_usage_errors_exit_2(args, message):
    out = run_cli("-m", "index", *args)
    assert out.returncode == 2 and message in out.stderr
    assert_no_traceback(out)


def test_cli_server_or_index_failures_exit_1(tmp_path):
    env = {**os.environ, "POLICYQA_CORPUS": str(tmp_path / "no-such-folder")}
    out = run_cli("-m", "qa", "Does Azalead sell data?", env=env)
    assert out.returncode == 1 and "error: The corpus folder" in out.stderr and "does not exist" in out.stderr
    assert_no_traceback(out)


# --------------------------------------------------------------------------------------------
# Bad files: one real `python -m index --json` run over a corpus of every kind of bad file.
# --------------------------------------------------------------------------------------------

LATIN1_POLICY = """# Café Lumière privacy policy

Effective date: May 1, 2020

## What we collect

Café Lumière collects your name, your e-mail address and the café you visit. We keep the records
of your visits to the Crêperie Côté Jardin for twelve months.

## Sharing

We never sell your data to résumé brokers. Card payments are handled by Société Générale à Paris.
"""

CP1252_POLICY = """Brasserie Œuvre privacy policy

We don’t share your “loyalty card” data – ever. Refunds of €5 or more are confirmed by e-mail… within 30 days.

Questions? Write to the Brasserie Œuvre data officer — we answer every letter.
"""

MOJIBAKE_ORIGINAL = """# Zürich Bäckerei privacy policy

## Cookies

We don’t use advertising cookies. The café’s Wi-Fi logs your device’s address for 7 days.
"""

HOSTILE_HTML = """<!DOCTYPE html><html><head><title>Gizmo Works privacy policy</title>
<style>body { background: url(javascript:alert(1)) } .secret { color: red }</style>
<script>alert("head script"); document.cookie = "stolen";</script>
<script src="https://evil.example/x.js"></script></head>
<body onload="alert('onload')">
<noscript>Enable JavaScript for the best tracking experience</noscript>
<h1>Gizmo Works privacy policy</h1>
<h2>Shipping</h2>
<p>We store your shipping address to deliver your orders.<script>alert("inline")</script></p>
<p><a href="javascript:alert('link')">Opt out of marketing e-mails</a> at any time.</p>
<p><img src="x" onerror="alert('img')">We keep order records for six years.</p>
<style>.x { display: none }</style>
<svg><script>alert("svg")</script></svg>
<iframe src="https://evil.example/frame"></iframe>
</body></html>
"""

SCRIPTS_ONLY_HTML = "<html><head><script>alert(1)</script><style>p{}</style></head><body><script>x()</script></body></html>"


def _drop_file_permission_override() -> None:
    """In a child process: give up root's right to read any file (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH)."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) refused")


@dataclass
class BadCorpusRun:
    corpus: Path
    data: Path
    report: dict
    stderr: str
    permission_enforced: bool


def _write_bad_corpus(corpus: Path, outside: Path) -> None:
    corpus.mkdir(parents=True)
    axosoft = (CORPUS / "axosoft-2017-12-11.md").read_bytes()
    (corpus / "axosoft-2017-12-11.md").write_bytes(axosoft)
    (corpus / "copy-of-axosoft.md").write_bytes(axosoft)
    (corpus / "axosoft-windows.txt").write_bytes(axosoft.replace(b"\n", b"\r\n"))
    (corpus / "empty.md").write_bytes(b"")
    (corpus / "blank.txt").write_bytes(b"  \n\n\t \n")
    (corpus / "image.md").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40)
    (corpus / "random.txt").write_bytes(random.Random(6).randbytes(20_000).replace(b"\x00", b"\x01"))
    (corpus / "folder.md").mkdir()
    locked = corpus / "locked.md"
    locked.write_text("# Locked privacy policy\n\nWe collect nothing at all, ever, from anyone.\n")
    locked.chmod(0)
    os.symlink(corpus / "deleted-policy.md", corpus / "broken-link.md")
    os.mkfifo(corpus / "pipe.md")
    (outside / "secret.md").write_text("# Secret\n\nThis file lives outside the corpus folder.\n")
    os.symlink(outside / "secret.md", corpus / "outside-link.md")
    (corpus / "notes.docx").write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    (corpus / "README").write_text("This folder holds privacy policies.\n")
    with open(corpus / "huge.md", "wb") as handle:  # a real 50 MiB file, not a sparse one
        line = b"We collect data about everything you do, all the time, for ever and ever.\n" * 1000
        for _ in range(50 * 2**20 // len(line) + 1):
            handle.write(line)
    (corpus / "cafe-lumiere-2020-05-01.md").write_bytes(LATIN1_POLICY.encode("latin-1"))
    (corpus / "brasserie-oeuvre.txt").write_bytes(CP1252_POLICY.encode("cp1252"))
    (corpus / "zurich-baeckerei.md").write_text(MOJIBAKE_ORIGINAL.encode("utf-8").decode("cp1252"), encoding="utf-8")
    (corpus / "gizmo-works.html").write_text(HOSTILE_HTML)
    (corpus / "scripts-only.html").write_text(SCRIPTS_ONLY_HTML)
    (corpus / "utf16-policy.txt").write_bytes(
        "# Kettle Co privacy policy\n\nKettle Co keeps your order history for two years.\n".encode("utf-16"))


@pytest.fixture(scope="module")
def bad_corpus_run(tmp_path_factory) -> BadCorpusRun:
    """`python -m index --json` over a corpus of bad files, as root without its file-permission override."""
    base = tmp_path_factory.mktemp("bad-files")
    corpus, data, outside = base / "corpus", base / "data", base / "outside"
    outside.mkdir()
    _write_bad_corpus(corpus, outside)
    preexec = _drop_file_permission_override if os.geteuid() == 0 else None
    probe = subprocess.run([PYTHON, "-c", f"open({str(corpus / 'locked.md')!r}).read()"], capture_output=True,
                           preexec_fn=preexec)
    env = {**os.environ, "POLICYQA_CORPUS": str(corpus), "POLICYQA_DATA": str(data)}
    env.pop("POLICYQA_CHROMA_URL", None)
    out = subprocess.run([PYTHON, "-m", "index", "--json"], capture_output=True, text=True, cwd=PROJECT, env=env,
                         timeout=600, preexec_fn=preexec)
    assert out.returncode == 0, out.stderr
    assert_no_traceback(out)
    return BadCorpusRun(corpus, data, json.loads(out.stdout), out.stderr, probe.returncode != 0)


EXPECTED_SKIPS = {
    "empty.md": "empty file",
    "blank.txt": "empty file",
    "image.md": "binary file, not text: it is a PNG image",
    "random.txt": "binary file, not text: its bytes are binary data, not a document we can read",
    "folder.md": "is a folder, not a file",
    "broken-link.md": "broken link (points to {corpus}/deleted-policy.md, which does not exist)",
    "pipe.md": "not a regular file (a named pipe)",
    "outside-link.md": "a link to a file outside the corpus folder (not followed)",
    "notes.docx": "unsupported file type '.docx' (use .md, .txt, .html or .pdf)",
    "README": "unsupported file type '(none)' (use .md, .txt, .html or .pdf)",
    "huge.md": "too large (52 MB; the limit is 20 MiB)",
    "copy-of-axosoft.md": "duplicate of axosoft-2017-12-11.md",
    "axosoft-windows.txt": "duplicate of axosoft-2017-12-11.md",
    "scripts-only.html": "no text found in the document",
}
EXPECTED_DOCUMENTS = {"axosoft-2017-12-11.md", "cafe-lumiere-2020-05-01.md", "brasserie-oeuvre.txt",
                      "zurich-baeckerei.md", "gizmo-works.html", "utf16-policy.txt"}


def test_bad_files_are_skipped_and_reported_by_name_and_reason(bad_corpus_run):
    skipped = dict(bad_corpus_run.report["skipped"])
    expected = {name: reason.format(corpus=bad_corpus_run.corpus) for name, reason in EXPECTED_SKIPS.items()}
    locked = skipped.pop("locked.md", None)
    assert skipped == expected
    if bad_corpus_run.permission_enforced:
        assert locked == "permission denied (cannot be read)"
    assert bad_corpus_run.report["documents"] == len(EXPECTED_DOCUMENTS)
    manifest = json.loads((bad_corpus_run.data / "manifest.json").read_text())
    indexed = set(manifest["documents"])
    assert indexed == EXPECTED_DOCUMENTS | ({"locked.md"} if not bad_corpus_run.permission_enforced else set())


def test_unreadable_file_is_reported_as_permission_denied(bad_corpus_run):
    if not bad_corpus_run.permission_enforced:
        pytest.skip("this machine lets the test's user read a mode-000 file, so 'permission denied' cannot happen")
    assert bad_corpus_run.report["skipped"]["locked.md"] == "permission denied (cannot be read)"


def test_skipped_files_do_not_make_the_index_stale(bad_corpus_run, monkeypatch):
    from index.build import is_stale
    from index.config import get_config

    monkeypatch.setenv("POLICYQA_CORPUS", str(bad_corpus_run.corpus))
    monkeypatch.setenv("POLICYQA_DATA", str(bad_corpus_run.data))
    assert is_stale(get_config()) is False  # else every question would trigger a rebuild


def _document(run: BadCorpusRun, name: str) -> tuple[dict, str]:
    entry = json.loads((run.data / "manifest.json").read_text())["documents"][name]
    return entry, Path(entry["source"]).read_text(encoding="utf-8")


@pytest.mark.parametrize("name, original", [
    ("cafe-lumiere-2020-05-01.md", LATIN1_POLICY),
    ("brasserie-oeuvre.txt", CP1252_POLICY),
    ("zurich-baeckerei.md", MOJIBAKE_ORIGINAL),
])
def test_other_encodings_and_mojibake_are_indexed_as_the_original_text(bad_corpus_run, name, original):
    entry, source = _document(bad_corpus_run, name)
    assert source == original  # Latin-1 / cp1252 decoded, mojibake repaired with ftfy
    assert Path(entry["source"]).parent == bad_corpus_run.data / "sources"  # a UTF-8 copy is what we cite
    for chunk in entry["chunks"]:
        assert source[chunk["start"]:chunk["end"]].strip()
        for start, end in chunk["sentences"]:
            assert chunk["start"] <= start < end <= chunk["end"]


@pytest.mark.parametrize("name, question, expected", [
    ("cafe-lumiere-2020-05-01.md", "Does Cafe Lumiere sell my data to brokers?", "résumé brokers"),
    ("brasserie-oeuvre.txt", "Does Brasserie Oeuvre share loyalty card data?", "We don’t share your “loyalty card” data"),
    ("zurich-baeckerei.md", "How long are device addresses logged?", "The café’s Wi-Fi logs your device’s address"),
])
def test_citations_from_re_encoded_files_round_trip(bad_corpus_run, monkeypatch, name, question, expected):
    monkeypatch.setenv("POLICYQA_CORPUS", str(bad_corpus_run.corpus))
    monkeypatch.setenv("POLICYQA_DATA", str(bad_corpus_run.data))
    entry, _ = _document(bad_corpus_run, name)
    answer = ask(question, company=entry["company"])
    assert answer.citations, answer.text
    assert any(expected in c.excerpt for c in answer.citations)
    assert_round_trip(answer)
    assert all("Ã" not in c.excerpt and "â€" not in c.excerpt for c in answer.citations)


def test_html_scripts_and_styles_are_dropped_and_the_text_kept(bad_corpus_run):
    entry, source = _document(bad_corpus_run, "gizmo-works.html")
    assert entry["kind"] == "html" and entry["company"] == "Gizmo Works"
    for kept in ("# Gizmo Works privacy policy", "## Shipping", "We store your shipping address to deliver your orders.",
                 "Opt out of marketing e-mails at any time.", "We keep order records for six years."):
        assert kept in source
    for dropped in ("alert", "script", "document.cookie", "onerror", "onload", "javascript:", "color: red",
                    "display: none", "evil.example", "Enable JavaScript", "<", ">"):
        assert dropped not in source


def test_utf16_with_a_byte_order_mark_is_indexed(bad_corpus_run):
    _, source = _document(bad_corpus_run, "utf16-policy.txt")
    assert "Kettle Co keeps your order history for two years." in source


def test_a_50_mb_file_is_refused_without_being_read(tmp_path):
    from index.readers import Unreadable, read_document

    huge = tmp_path / "huge.md"
    with open(huge, "wb") as handle:
        handle.write(b"We collect data.\n" * (50 * 2**20 // 17 + 1))
    io_file = Path("/proc/self/io")
    if not io_file.exists():
        pytest.skip("needs /proc/self/io to count the bytes this process reads")

    def bytes_read() -> int:
        return int(dict(line.split(": ") for line in io_file.read_text().splitlines())["rchar"])

    before = bytes_read()
    with pytest.raises(Unreadable, match=r"too large \(52 MB; the limit is 20 MiB\)"):
        read_document(huge)
    assert bytes_read() - before < 64 * 1024  # the size came from fstat, not from reading the file


def test_a_named_pipe_does_not_hang_the_reader(tmp_path):
    from index.readers import Unreadable, read_document

    os.mkfifo(tmp_path / "pipe.md")
    result: list = []
    worker = threading.Thread(target=lambda: result.append(_reason(read_document, tmp_path / "pipe.md")), daemon=True)
    worker.start()
    worker.join(30)
    assert result == ["not a regular file (a named pipe)"]


def _reason(fn, *args) -> str:
    from index.readers import Unreadable

    try:
        fn(*args)
    except Unreadable as exc:
        return str(exc)
    return "read"


def test_nul_padded_scraped_text_is_text_and_real_binaries_are_not(tmp_path):
    from index.readers import read_document

    padded = tmp_path / "padded.txt"
    padded.write_bytes(b"\x00" * 40 + b"https://example.com/privacy\r\nExample privacy policy\r\nWe keep logs for a year.\r\n")
    assert "We keep logs for a year." in read_document(padded).text
    for name, raw in {"a.md": b"\x7fELF\x02\x01\x01" + bytes(500), "b.txt": b"PK\x03\x04" + b"x" * 500,
                      "c.md": bytes(range(256)) * 4}.items():
        (tmp_path / name).write_bytes(raw)
        assert _reason(read_document, tmp_path / name).startswith("binary file, not text: ")


def test_terminal_escape_sequences_in_a_policy_never_reach_the_index(tmp_path):
    """A policy cannot clear the CLI user's screen or write their clipboard (ESC, BEL, C1 controls)."""
    from index.readers import read_document

    hostile = tmp_path / "hostile.md"
    hostile.write_text("# Hostile privacy policy\n\nWe \x1b[2Jclear \x1b]52;c;ZXZpbA==\x07screens \x9b2J and "
                       "keep your data for \x1b[31mone year\x1b[0m.\n", encoding="utf-8")
    doc = read_document(hostile)
    assert not any(ch in doc.text for ch in "\x1b\x07\x9b")
    assert "keep your data for one year." in doc.text and not doc.is_verbatim  # ftfy drops colour codes


def test_a_file_that_breaks_the_parser_is_skipped_not_fatal(corpus_copy, monkeypatch):
    """The build goes on when one file raises something unexpected, and names it.

    No real policy we know of breaks the parser, so the fault is injected into the chunker.
    """
    import importlib

    from index import build, get_config

    build_py = importlib.import_module("index.build")  # the module; `index.build` is also the function

    real = build_py.chunk_policy

    def chunk_or_fail(policy):
        if policy.company == "Axosoft":
            raise RecursionError("maximum recursion depth exceeded")  # as a pathological document would
        return real(policy)

    for extra in ("azalead-2014-06-25.md", "azalead-2017-12-31.md", "comindware-2019-04-10.md"):
        (corpus_copy / extra).unlink()
    monkeypatch.setattr(build_py, "chunk_policy", chunk_or_fail)
    report = build(get_config(), progress=False)
    assert report.skipped == {"axosoft-2017-12-11.md":
                              "could not be processed (RecursionError: maximum recursion depth exceeded)"}
    assert report.documents == 1 and report.chunks > 0


# --------------------------------------------------------------------------------------------
# Damaged index files and a killed build.
# --------------------------------------------------------------------------------------------

def _copy_index(seed_data_dir: Path, target: Path) -> Path:
    import shutil

    shutil.copytree(seed_data_dir, target)
    return target


def _state(data: Path) -> dict:
    """Everything that must match a clean build: chunk ids per document, Chroma ids and count, BM25 ids."""
    import chromadb
    from chromadb.config import Settings

    manifest = json.loads((data / "manifest.json").read_text())
    client = chromadb.PersistentClient(path=str(data / "chroma"), settings=Settings(anonymized_telemetry=False))
    collection = client.get_collection("policyqa")
    got = collection.get(include=["embeddings"])
    vectors = dict(zip(got["ids"], got["embeddings"]))
    lexical_ids = json.loads((data / "lexical" / "ids.json").read_text())
    return {
        "documents": {rel: [c["id"] for c in e["chunks"]] for rel, e in manifest["documents"].items()},
        "chroma_ids": Counter(got["ids"]),
        "chroma_count": collection.count(),
        "lexical_ids": Counter(lexical_ids),
        "vectors": vectors,
    }


def _assert_same_index(resumed: dict, clean: dict) -> None:
    import numpy as np

    assert resumed["documents"] == clean["documents"]
    wanted = Counter(cid for ids in clean["documents"].values() for cid in ids)
    assert resumed["chroma_ids"] == clean["chroma_ids"] == wanted  # no duplicates, nothing missing
    assert resumed["chroma_count"] == clean["chroma_count"] == sum(wanted.values())
    assert resumed["lexical_ids"] == clean["lexical_ids"] == wanted
    for cid, vector in clean["vectors"].items():
        assert np.allclose(resumed["vectors"][cid], vector, atol=1e-5), cid


@pytest.mark.parametrize("damage", ["truncated manifest", "deleted manifest", "half-written lexical index",
                                    "lexical index gone", "leftover temp files"])
def test_a_damaged_index_is_repaired_without_re_embedding(seed_data_dir, tmp_path, monkeypatch, damage):
    from index import build, get_config

    data = _copy_index(seed_data_dir, tmp_path / "data")
    monkeypatch.setenv("POLICYQA_DATA", str(data))
    clean = _state(data)
    if damage == "truncated manifest":
        text = (data / "manifest.json").read_text()
        (data / "manifest.json").write_text(text[: len(text) // 2])
    elif damage == "deleted manifest":
        (data / "manifest.json").unlink()
    elif damage == "half-written lexical index":
        (data / "lexical" / "ids.json").write_text('["abc", "de')
    elif damage == "lexical index gone":
        import shutil
        shutil.rmtree(data / "lexical")
    else:
        (data / "manifest.json.tmp").write_text('{"version": 1, "docu')
        (data / "lexical.tmp").mkdir()
        (data / "lexical.tmp" / "ids.json").write_text("[")
    answer = ask("Does Comindware share data with Salesforce?")  # repairs itself on first use
    assert answer.found and "Salesforce" in answer.citations[0].highlight
    report = build(get_config(), progress=False)
    assert report.embedded == 0 and report.removed == 0
    _assert_same_index(_state(data), clean)


def _chroma_rows(data: Path) -> int:
    """Embeddings Chroma has written so far, read from its SQLite file without disturbing the writer."""
    db = data / "chroma" / "chroma.sqlite3"
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            return conn.execute("SELECT count(*) FROM embeddings").fetchone()[0]
    except sqlite3.Error:
        return 0


@pytest.mark.slow
def test_sigkill_in_the_middle_of_a_build_then_the_next_run_completes_it_exactly(seed_data_dir, tmp_path):
    """A real `python -m index` over the real corpus, SIGKILLed once its first chunks are in Chroma.

    The session's seed index is the clean build of the same corpus in another data folder.
    """
    killed_data = tmp_path / "killed"
    env = {**os.environ, "POLICYQA_CORPUS": str(CORPUS), "POLICYQA_DATA": str(killed_data)}
    env.pop("POLICYQA_CHROMA_URL", None)
    clean = _state(seed_data_dir)

    indexer = subprocess.Popen([PYTHON, "-m", "index", "--json"], cwd=PROJECT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 300
        while _chroma_rows(killed_data) == 0 and indexer.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert indexer.poll() is None, "the build finished before it could be killed"
        indexer.send_signal(signal.SIGKILL)
        assert indexer.wait(30) == -signal.SIGKILL
    finally:
        if indexer.poll() is None:
            indexer.kill()
            indexer.wait()
    stored_when_killed = _chroma_rows(killed_data)
    assert 0 < stored_when_killed < clean["chroma_count"]  # killed in the middle: some chunks stored, not all

    resumed = run_cli("-m", "index", "--json", env=env, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    report = json.loads(resumed.stdout)
    assert report["documents"] == 5 and report["skipped"] == {} and report["chunks"] == clean["chroma_count"]
    # It picked up where it stopped: what was stored is reused, only the rest is embedded.
    assert report["reused"] == stored_when_killed and report["embedded"] == report["chunks"] - stored_when_killed
    _assert_same_index(_state(killed_data), clean)


@pytest.mark.slow
def test_two_indexers_at_once_build_the_index_once(seed_data_dir, tmp_path):
    """Two `python -m index` started together on one data folder: one builds, the other waits and reuses."""
    data = tmp_path / "data"
    env = {**os.environ, "POLICYQA_CORPUS": str(CORPUS), "POLICYQA_DATA": str(data)}
    env.pop("POLICYQA_CHROMA_URL", None)
    runs = [subprocess.Popen([PYTHON, "-m", "index", "--json"], cwd=PROJECT, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [run.communicate(timeout=600) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], [err[-2000:] for _, err in outputs]
    reports = sorted((json.loads(out) for out, _ in outputs), key=lambda r: r["embedded"])
    clean = _state(seed_data_dir)
    assert reports[0]["embedded"] == 0 and reports[0]["reused"] == clean["chroma_count"]
    assert reports[1]["embedded"] == clean["chroma_count"]
    _assert_same_index(_state(data), clean)


# --------------------------------------------------------------------------------------------
# Concurrent users: ask() from many threads at once.
# --------------------------------------------------------------------------------------------

CONCURRENT_QUESTIONS = [
    "Does Comindware share data with Salesforce?",
    "What does Azendoo use cookies for?",
    "Does Azalead sell my personal information?",
    "Did Azalead use web beacons in 2014?",
    "Does Axosoft share data with Salesforce?",
    "How long does Comindware keep my data?",
    "Does Facebook sell my data?",
    "Can I delete my Azendoo account?",
    "Comindware 会与 Salesforce 共享数据吗？",
    "Does axosoft.com use cookies?",
    "Which companies share data with Salesforce?",
    "What changed about cookies in Azalead's policy between 2014 and 2017?",
]


def test_ask_is_thread_safe_20_threads_x_10_questions(seed_index):
    serial = {q: ask(q).to_dict() for q in CONCURRENT_QUESTIONS}
    results: list[tuple[str, dict]] = []
    errors: list[BaseException] = []
    start = threading.Barrier(20)

    def client(offset: int) -> None:
        try:
            start.wait()
            for i in range(10):
                question = CONCURRENT_QUESTIONS[(offset + i) % len(CONCURRENT_QUESTIONS)]
                results.append((question, ask(question).to_dict()))
        except BaseException as exc:  # collected and reported below
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(600)
    assert not errors, errors[:3]
    assert len(results) == 200
    for question, answer in results:
        assert answer == serial[question], question


def test_stemmer_is_one_per_thread():
    from index.lexical import _stemmer

    seen = []
    threads = [threading.Thread(target=lambda: seen.append(id(_stemmer()))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(seen)) == 4 and id(_stemmer()) not in seen


# --------------------------------------------------------------------------------------------
# The chat app (`python app.py`) through its API, as the browser and any API user reach it.
# --------------------------------------------------------------------------------------------

def _load_bench():
    import importlib.util

    spec = importlib.util.spec_from_file_location("policyqa_load_bench", PROJECT / "bench" / "load.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def api(chat_app):
    from gradio_client import Client

    return Client(chat_app.url, verbose=False)


@pytest.mark.parametrize("question, message", [
    ("   ", "The question is empty: ask something like"),
    ("x" * 100_000, "The question is too long (100,000 characters; the limit is 2,000)"),
    ("\x00\x07\x1b\x7f", "The question is empty"),
    ("🍪🍪🍪", "The question has no words in it"),
])
def test_chat_api_gives_one_clear_sentence_for_bad_questions(api, question, message):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError) as info:
        api.predict(question, None, None, None, api_name="/ask")
    assert str(info.value).startswith(message) and "Traceback" not in str(info.value)


@pytest.mark.parametrize("question", [
    "Does\x07 Azalead\x1b sell my personal information?",
    "Comindware 会与 Salesforce 共享数据吗？",
    "Does Azendoo use cookies 🍪?",
    "Does Facebook sell my data?",
])
def test_chat_api_answers_control_characters_other_languages_emoji_and_unknown_companies(api, seed_index, question):
    got = api.predict(question, None, None, None, api_name="/ask")
    expected = ask(question)
    assert got["text"] == expected.text and got["found"] == expected.found
    assert [c["excerpt"] for c in got["citations"]] == [c.excerpt for c in expected.citations]


def test_concurrent_clients_through_the_chat_api_have_no_errors(chat_app, seed_index):
    """A small run of bench/load.py (the full 20 x 10 is the benchmark): every answer right."""
    bench = _load_bench()
    result = bench.run_load(chat_app.url, clients=6, per_client=4)
    assert result.errors == [] and result.requests == 24
    assert bench.check_answers(result) == []
    serial = {q: ask(q).text for q in {q for q, _ in result.answers}}
    for question, answer in result.answers:
        assert answer["text"] == serial[question], question


# --------------------------------------------------------------------------------------------
# Chroma server faults: a real `chroma run` process.
# --------------------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ChromaServer:
    """A real `chroma run` on loopback, startable and stoppable."""

    def __init__(self, path: Path, port: int):
        self.path, self.port, self.process = path, port, None
        self.url = f"http://127.0.0.1:{port}"

    def start(self) -> None:
        binary = Path(PYTHON).with_name("chroma")
        self.process = subprocess.Popen([str(binary), "run", "--path", str(self.path), "--host", "127.0.0.1",
                                         "--port", str(self.port)], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                assert self.process.poll() is None, "chroma run exited"
                time.sleep(0.1)
        raise RuntimeError("chroma run did not start")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def chroma_server(tmp_path):
    if not Path(PYTHON).with_name("chroma").exists():
        pytest.skip("the `chroma` command is not installed next to this Python")
    server = ChromaServer(tmp_path / "chroma-server", _free_port())
    yield server
    server.stop()


@pytest.mark.server
def test_server_down_at_start_is_a_clear_error(tmp_path, monkeypatch):
    url = f"http://127.0.0.1:{_free_port()}"
    monkeypatch.setenv("POLICYQA_CHROMA_URL", url)
    with pytest.raises(ServerUnavailable) as info:
        ask("Does Comindware share data with Salesforce?")
    message = str(info.value)
    assert f"The Chroma server at {url} is not reachable" in message and "chroma run" in message
    reply = safe_ask("Does Comindware share data with Salesforce?")
    assert reply.kind == "unavailable" and reply.message.startswith(f"The Chroma server at {url} is not reachable")
    out = run_cli("-m", "qa", "Does Comindware share data with Salesforce?", env=dict(os.environ))
    assert out.returncode == 1 and f"error: The Chroma server at {url} is not reachable" in out.stderr
    assert_no_traceback(out)


@pytest.mark.server
def test_server_goes_down_and_comes_back(chroma_server, monkeypatch, corpus_copy):
    for extra in ("azalead-2014-06-25.md", "azalead-2017-12-31.md", "azendoo-2013-06-30.md"):
        (corpus_copy / extra).unlink()  # a small corpus: this test is about the server, not the policies
    chroma_server.start()
    monkeypatch.setenv("POLICYQA_CHROMA_URL", chroma_server.url)
    question = "Does Comindware share data with Salesforce?"
    before = ask(question)
    assert before.found and "Salesforce" in before.citations[0].highlight

    chroma_server.stop()
    with pytest.raises(ServerUnavailable, match=f"The Chroma server at {chroma_server.url} is not reachable"):
        ask(question)
    reply = safe_ask(question)
    assert reply.kind == "unavailable" and "not reachable" in reply.message

    chroma_server.start()
    after = ask(question)
    assert after.to_dict() == before.to_dict()


@pytest.mark.server
def test_server_back_on_an_empty_folder_says_so_until_the_index_is_rebuilt(chroma_server, monkeypatch, corpus_copy,
                                                                            tmp_path):
    from index import build, get_config

    for extra in ("azalead-2014-06-25.md", "azalead-2017-12-31.md", "azendoo-2013-06-30.md"):
        (corpus_copy / extra).unlink()
    chroma_server.start()
    monkeypatch.setenv("POLICYQA_CHROMA_URL", chroma_server.url)
    question = "Does Comindware share data with Salesforce?"
    before = ask(question)
    assert before.found

    chroma_server.stop()
    chroma_server.path = tmp_path / "empty-chroma-folder"
    chroma_server.start()
    for _ in range(2):  # not a silent "not found" on the second try either
        reply = safe_ask(question)
        assert reply.kind == "unavailable", reply
        assert reply.message == (f"The vectors of the index are gone from the Chroma server at {chroma_server.url} "
                                 "(was it restarted on an empty folder?): run `python -m index` to rebuild them")
    manifest = json.loads(get_config().manifest_path.read_text())
    report = build(get_config(), progress=False)  # `python -m index`, as the message says
    assert report.embedded == report.chunks == sum(len(e["chunks"]) for e in manifest["documents"].values())
    assert ask(question).to_dict() == before.to_dict()


def test_threads_opening_one_embedded_store_at_once(tmp_path):
    """The chat's first question and the overview's background work open the store at once."""
    import threading
    from dataclasses import replace

    from index.config import get_config
    from index.store import _client

    config = replace(get_config(), data_dir=tmp_path)
    errors = []

    def open_store(fresh):
        try:
            _client(config, fresh=fresh).heartbeat()
        except Exception as exc:  # noqa: BLE001 - any failure is the finding
            errors.append(repr(exc))

    for _ in range(5):
        threads = [threading.Thread(target=open_store, args=(i % 2 == 0,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []
