"""Adding users' own policies (HTML, PDF, text) and asking about them at once: the real model and Chroma."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from index import add, get_config
from index.build import load_manifest
from qa import ask

PROJECT = Path(__file__).resolve().parent.parent

WIDGETLY_HTML = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Widgetly Privacy Policy</title>
  <link rel="canonical" href="https://www.widgetly.example/legal/privacy">
  <meta property="og:site_name" content="Widgetly">
  <style>body { font-family: sans-serif; } .nav a { color: #333; }</style>
  <script>window.dataLayer = window.dataLayer || []; function gtag(){dataLayer.push(arguments);}</script>
</head>
<body>
  <nav class="nav"><a href="/">Home</a> <a href="/pricing">Pricing</a> <a href="/blog">Blog</a></nav>
  <header><ul>
    <li><a href="/features">Features</a></li><li><a href="/customers">Customers</a></li>
    <li><a href="/careers">Careers</a></li><li><a href="/contact">Contact</a></li>
  </ul></header>
  <main>
    <h1>Privacy Policy</h1>
    <p><em>Last updated: March 3, 2021</em></p>
    <h2>Information we collect</h2>
    <p>We collect your name, email address and billing address when you create an account.</p>
    <h2>How we share information</h2>
    <p>We share your email address with Mailchimp so that we can send you our newsletter.
       We never sell your personal information to data brokers.</p>
    <h2>Retention</h2>
    <p>We keep invoices for seven years because tax law requires it.</p>
  </main>
  <footer><p>&copy; 2021 Widgetly Inc.</p></footer>
</body>
</html>
"""


def write_pdf(path: Path, title: str | None, paragraphs: list[str]) -> Path:
    """A real PDF (ReportLab): text laid out in lines on a page, with /Title metadata."""
    pytest.importorskip("reportlab", reason="the PDF tests need reportlab (the test extra)")
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    styles = getSampleStyleSheet()
    story = []
    for text in paragraphs:  # "## " marks a heading
        heading = text.startswith("## ")
        story += [Paragraph(text.removeprefix("## "), styles["Heading2" if heading else "BodyText"]), Spacer(1, 12)]
    SimpleDocTemplate(str(path), pagesize=A4, title=title or "", author="Legal team").build(story)
    return path


@pytest.fixture
def empty_corpus(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    monkeypatch.setenv("POLICYQA_CORPUS", str(folder))
    return folder


def test_html_policy_is_answerable_at_once(empty_corpus, tmp_path):
    page = tmp_path / "downloads" / "privacy.html"
    page.parent.mkdir()
    page.write_text(WIDGETLY_HTML)
    added, report = add([page], progress=False)
    assert added == ["@added/privacy.html"] and report.embedded == report.chunks > 0 and not report.skipped
    entry = load_manifest(get_config())["documents"]["@added/privacy.html"]
    assert (entry["company"], entry["policy_date"], entry["domain"]) == ("Widgetly", "2021-03-03", "widgetly.example")

    answer = ask("Does Widgetly share my email address with Mailchimp?")
    assert answer.found, answer.text
    first = answer.citations[0]
    assert first.company == "Widgetly" and first.policy_date == "2021-03-03"
    assert "Mailchimp" in first.highlight
    assert Path(first.source).read_text(encoding="utf-8")[first.start:first.end] == first.excerpt
    # Navigation, styles and scripts are not part of what is cited.
    text = Path(first.source).read_text(encoding="utf-8")
    assert "dataLayer" not in text and "font-family" not in text
    assert not ask("Does Widgetly use the Stripe payment processor?").found


def test_pdf_policy_with_metadata_is_answerable(empty_corpus, tmp_path):
    pdf = write_pdf(tmp_path / "scan-0042.pdf", "Gadgetron Privacy Notice", [
        "Effective date: 5 January 2020",
        "## Children",
        "Gadgetron does not knowingly collect personal information from children under the age of 13.",
        "## Security",
        "We protect your data with encryption at rest and in transit, and we review access every quarter.",
    ])
    added, report = add([pdf], progress=False)
    assert added == ["@added/scan-0042.pdf"] and report.chunks > 0
    entry = load_manifest(get_config())["documents"]["@added/scan-0042.pdf"]
    assert (entry["company"], entry["policy_date"], entry["kind"]) == ("Gadgetron", "2020-01-05", "pdf")

    answer = ask("Does Gadgetron collect information from children?")
    assert answer.found and answer.citations[0].company == "Gadgetron"
    assert "children under the age of 13" in answer.citations[0].excerpt
    c = answer.citations[0]
    assert Path(c.source).read_text(encoding="utf-8")[c.start:c.end] == c.excerpt


def test_flags_name_a_policy_the_document_does_not(empty_corpus, tmp_path):
    pdf = write_pdf(tmp_path / "document.pdf", None, [
        "We use cookies to remember your language and to measure which pages are read.",
        "You can delete your account at any time from the settings page.",
    ])
    added, _ = add([pdf], company="Initrode", policy_date="2018-07-01", progress=False)
    entry = load_manifest(get_config())["documents"][added[0]]
    assert (entry["company"], entry["policy_date"]) == ("Initrode", "2018-07-01")
    answer = ask("Does Initrode use cookies?")
    assert answer.found and answer.citations[0].company == "Initrode"

    # Without flags the file name names it; a policy that states no date is undated, never the file's time.
    plain = tmp_path / "hooli-privacy.txt"
    plain.write_text("We keep server logs for 30 days and then delete them.\n")
    added, _ = add([plain], progress=False, aliases=["Hooli XYZ", "HX"])
    entry = load_manifest(get_config())["documents"][added[0]]
    assert entry["company"] == "Hooli" and entry["policy_date"] is None
    assert entry["aliases"] == ["Hooli XYZ", "HX"]


def test_adding_twice_changes_nothing_and_flags_correct_a_guess(empty_corpus, tmp_path):
    page = tmp_path / "privacy.html"
    page.write_text(WIDGETLY_HTML)
    first_added, first = add([page], progress=False)

    again_added, again = add([page], progress=False)
    assert again_added == first_added and again.embedded == 0 and again.reused == first.chunks
    # The same bytes under another name, in a folder: recognised, not copied.
    folder = tmp_path / "batch"
    folder.mkdir()
    (folder / "copy-of-privacy.html").write_bytes(page.read_bytes())
    (folder / "notes.docx").write_bytes(b"PK\x03\x04 not a policy")
    batch_added, batch = add([folder], progress=False)
    assert batch_added == first_added and batch.embedded == 0
    assert "unsupported file type" in batch.skipped[str(folder / "notes.docx")]
    assert sorted(p.name for p in get_config().added_dir.iterdir()) == ["privacy.html"]
    assert not (empty_corpus / "added").exists()  # the corpus folder is never written to

    # Given again with a company, the policy is renamed (and re-embedded under its new name).
    _, renamed = add([page], company="Widgetly Labs", progress=False)
    assert renamed.embedded == first.chunks
    assert load_manifest(get_config())["documents"]["@added/privacy.html"]["company"] == "Widgetly Labs"
    assert ask("Does Widgetly Labs share data with Mailchimp?").citations[0].company == "Widgetly Labs"


def test_a_policy_already_in_the_corpus_is_indexed_in_place(empty_corpus):
    inside = empty_corpus / "acme-2020-05-01.md"
    inside.write_text("# Acme Privacy Policy\n\nWe never share location data with advertisers.\n")
    added, report = add([inside], progress=False)
    assert added == ["acme-2020-05-01.md"] and report.documents == 1
    assert not (empty_corpus / "added").exists() and not get_config().added_dir.exists()


def test_cli_add_reports_each_policy(empty_corpus, tmp_path):
    page = tmp_path / "privacy.html"
    page.write_text(WIDGETLY_HTML)
    run = lambda *args: subprocess.run([sys.executable, "-m", "index", "add", *args], capture_output=True,
                                       text=True, cwd=PROJECT, env=dict(os.environ), timeout=600)
    out = run(str(page), "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["added"] == [{"name": "@added/privacy.html", "company": "Widgetly", "policy_date": "2021-03-03"}]
    assert data["embedded"] == data["chunks"] > 0

    text = run(str(page))
    assert text.returncode == 0 and "added: @added/privacy.html  company: Widgetly  date: 2021-03-03" in text.stdout
    assert "embedded: 0" in text.stdout

    missing = run(str(tmp_path / "nope.pdf"))
    assert missing.returncode == 1 and "no such file or folder" in missing.stdout
    bad_date = run(str(page), "--date", "2021-02-30")
    assert bad_date.returncode == 2 and "not a date like" in bad_date.stderr


def test_bad_date_from_python_is_a_clear_error(empty_corpus, tmp_path):
    from index.errors import BadInput

    page = tmp_path / "privacy.html"
    page.write_text(WIDGETLY_HTML)
    with pytest.raises(BadInput, match="2019-04-10"):
        add([page], policy_date="03/04/2021", progress=False)
    assert not get_config().added_dir.exists()


def _git_status() -> str:
    return subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=PROJECT,
                          capture_output=True, text=True, check=True).stdout


def test_cli_add_to_the_shipped_corpus_leaves_the_checkout_clean(tmp_path, monkeypatch):
    """The repository's own corpus/ is the corpus: the added copy lands in POLICYQA_DATA, not in git."""
    if not (PROJECT / ".git").exists():
        pytest.skip("not a git checkout")
    monkeypatch.setenv("POLICYQA_CORPUS", str(PROJECT / "corpus"))
    before = _git_status()
    page = tmp_path / "privacy.html"
    page.write_text(WIDGETLY_HTML)
    out = subprocess.run([sys.executable, "-m", "index", "add", str(page), "--json"], capture_output=True,
                         text=True, cwd=PROJECT, env=dict(os.environ), timeout=600)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["added"][0]["name"] == "@added/privacy.html"
    assert (get_config().added_dir / "privacy.html").read_text() == WIDGETLY_HTML
    assert _git_status() == before and not (PROJECT / "corpus" / "added").exists()
    assert ask("Does Widgetly share data with Mailchimp?").citations[0].company == "Widgetly"


def test_policyqa_added_names_another_folder(empty_corpus, tmp_path, monkeypatch):
    elsewhere = tmp_path / "my-policies"
    monkeypatch.setenv("POLICYQA_ADDED", str(elsewhere))
    page = tmp_path / "privacy.html"
    page.write_text(WIDGETLY_HTML)
    added, _ = add([page], progress=False)
    assert added == ["@added/privacy.html"] and (elsewhere / "privacy.html").exists()
    from index.build import is_stale

    assert not is_stale(get_config())
    (elsewhere / "privacy.html").unlink()
    assert is_stale(get_config())  # a policy removed from the folder leaves the index at the next build
