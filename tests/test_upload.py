"""The chat's upload control on a tiny corpus: checks, then `index.add`, then answerable at once."""
from __future__ import annotations

import pytest

from index.retrieval import open_index
from qa import ask
from qa.chat import company_choices
from webui.upload import MAX_UPLOAD_BYTES, BadUpload, add_uploads, check_file

TINY = """# Tinyco Privacy Policy

## Cookies

Tinyco uses cookies to remember the language you chose.
"""
UPLOAD = """# Uploadco Privacy Policy

Effective date: May 5, 2021

## Sharing

Uploadco shares your email address with Zendesk so that support staff can answer your requests.
"""


@pytest.fixture
def tiny_corpus(tmp_path, monkeypatch):
    corpus = tmp_path / "tiny-corpus"
    corpus.mkdir()
    (corpus / "tinyco-2020-01-01.md").write_text(TINY)
    monkeypatch.setenv("POLICYQA_CORPUS", str(corpus))
    return corpus


def test_check_file_refuses_wrong_types_large_and_empty_files(tmp_path):
    ok = tmp_path / "a.HTM"
    ok.write_text("<p>We never share data.</p>")
    assert check_file(ok) is None
    exe = tmp_path / "policy.exe"
    exe.write_bytes(b"MZ")
    assert "not a policy file type" in check_file(exe)
    big = tmp_path / "big.pdf"
    with open(big, "wb") as handle:
        handle.truncate(MAX_UPLOAD_BYTES + 1)
    assert "too large" in check_file(big) and "20 MB" in check_file(big)
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    assert check_file(empty) == "empty file"
    assert check_file(tmp_path / "gone.md") == "the upload could not be read"


def test_uploaded_policy_is_answerable_at_once(tiny_corpus, tmp_path):
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    good = uploads / "uploadco-privacy.md"
    good.write_text(UPLOAD)
    bad = uploads / "notes.exe"
    bad.write_bytes(b"MZ")
    assert ask("Does Tinyco use cookies?").found
    calls = []
    result = add_uploads([good, bad], progress=lambda done, total: calls.append((done, total)))
    assert result.added == [("uploadco-privacy.md", "Uploadco", "2021-05-05")]
    assert result.refused == [("notes.exe", "not a policy file type (.md, .txt, .html, .htm, .pdf)")]
    assert calls and calls[-1][0] == calls[-1][1]
    from index.config import get_config

    assert (get_config().added_dir / "uploadco-privacy.md").read_text() == UPLOAD
    assert not (tiny_corpus / "added").exists()
    assert "Uploadco" in company_choices(list(open_index().policies.values()))
    answer = ask("Does Uploadco share my email address with Zendesk?")
    assert answer.found and answer.citations[0].company == "Uploadco"
    assert "Zendesk" in answer.citations[0].highlight


def test_upload_overrides_and_bad_dates(tiny_corpus, tmp_path):
    policy = tmp_path / "some-file.txt"
    policy.write_text("Acme keeps server logs for thirty days and then deletes them.\n")
    with pytest.raises(BadUpload, match="2019-04-10"):
        add_uploads([policy], policy_date="last week")
    result = add_uploads([policy], company="Acme Rockets", policy_date="2022-02-02")
    assert result.added == [("some-file.txt", "Acme Rockets", "2022-02-02")]
    assert add_uploads([]).added == [] and add_uploads([]).refused == []


def test_upload_with_other_names_resolves_them_everywhere(tiny_corpus, tmp_path):
    from index.retrieval import search

    policy = tmp_path / "rockets.txt"
    policy.write_text("Acme keeps server logs for thirty days and then deletes them.\n")
    with pytest.raises(BadUpload, match="too long"):
        add_uploads([policy], company="Acme Rockets", aliases="x" * 201)
    result = add_uploads([policy], company="Acme Rockets", aliases=" Rocketeers ,, acme.io ")
    assert result.added == [("rockets.txt", "Acme Rockets", None)]
    info = next(p for p in open_index().policies.values() if p.company == "Acme Rockets")
    assert list(info.aliases) == ["Rocketeers", "acme.io"]
    # The question, qa.ask(company=) and index search(company=) resolve every form the same way.
    assert ask("How long does Rocketeers keep server logs?").citations[0].company == "Acme Rockets"
    for name in ("rocketeers", "acme.io", "acme", "ACME ROCKETS"):
        answer = ask("How long are server logs kept?", company=name)
        assert answer.found and answer.company == "Acme Rockets", name
        assert {h.company for h in search("server logs", company=name)} == {"Acme Rockets"}, name
    assert search("server logs", company="privacy policy inc") == []  # generic words name nobody
    assert not ask("How long are server logs kept?", company="privacy").found
