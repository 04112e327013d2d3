"""Parsing policies into sections: the quirks of the real seed files, and .txt/.html input."""
from pathlib import Path

from index.chunking import chunk_policy, plain_text, split_sentences
from index.policies import parse_policy
from index.readers import read_document

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


def parsed(name):
    doc = read_document(CORPUS / name)
    return doc, parse_policy(doc.text, name)


def headings(policy):
    return [s.heading for s in policy.sections]


def test_metadata_from_archive_note_and_stated_dates():
    _, azalead = parsed("azalead-2014-06-25.md")
    assert (azalead.company, azalead.domain, azalead.policy_date) == ("Azalead", "azalead.com", "2014-06-25")
    assert azalead.effective_date == "2014-01-27"
    _, comindware = parsed("comindware-2019-04-10.md")
    assert comindware.effective_date == "2018-05-24"
    _, azendoo = parsed("azendoo-2013-06-30.md")
    assert azendoo.effective_date == "2012-02-01"  # "Last updated on February 01, 2012"


def test_wrapped_heading_is_joined():
    _, policy = parsed("comindware-2019-04-10.md")
    assert "How do We Share and Disclose Data to Third Parties?" in headings(policy)
    assert "How Long do Comindware Keep Your Personal Data?" in headings(policy)
    assert not any(h.startswith("to Third") for h in headings(policy))


def test_bold_headings_with_escaped_numbers():
    _, policy = parsed("azalead-2014-06-25.md")
    assert "Privacy Statement > 1. Information collected" in headings(policy)
    assert "Privacy Statement > 3. Web Site Navigational Information > Web Beacons" in headings(policy)


def test_paragraph_heading_and_basically_summaries_are_not_sections():
    doc, policy = parsed("azendoo-2013-06-30.md")
    assert not any("founded on the principles" in h for h in headings(policy))
    assert not any(h.startswith("Basically") for h in headings(policy))
    collected = next(s for s in policy.sections if s.heading == "Information collected")
    # The "Basically," summary stays with the section it summarises.
    assert "We mainly collect information to make Azendoo services accessible" in doc.text[collected.start:collected.end]


def test_repeated_headings_keep_their_own_text():
    doc, policy = parsed("comindware-2019-04-10.md")
    under = [s for s in policy.sections if s.path[0] == "Transferring Your Personal Data"]
    # The first such heading only holds sub-sections; the second holds its own text.
    assert [s.heading for s in under][:2] == ["Transferring Your Personal Data > What Choices Do I Have?",
                                               "Transferring Your Personal Data > What Choices Do I Have? > Marketing Communications"]
    last = under[-1]
    assert last.heading == "Transferring Your Personal Data"
    assert "Personal data you submit on the website may be sent to the United States" in doc.text[last.start:last.end]


def test_mojibake_is_repaired_and_cited_from_a_clean_copy():
    doc, policy = parsed("azendoo-2013-06-30.md")
    assert "Rue de Condé" in doc.text and "√" not in doc.text
    assert not doc.is_verbatim  # the citation source is a repaired copy, not the raw file


def test_cookie_table_rows_become_sentences_without_pipes():
    doc, policy = parsed("azalead-2014-06-25.md")
    texts = [c.text for c in chunk_policy(policy)]
    assert any("Required cookies enable you to navigate" in t for t in texts)
    assert not any("---|" in t or t.startswith("|") for t in texts)


def test_inline_links_keep_their_words_only():
    assert plain_text("See our [Cookies Policy](https://example.com/c) and **bold** \\*") == "See our Cookies Policy and bold *"


def test_sentences_do_not_break_on_abbreviations():
    text = "We use vendors (e.g. JivoChat), CRM providers (e.g., Salesforce) and others. We may share data."
    spans = split_sentences(text, 0, len(text))
    assert [text[s.start:s.end] for s in spans] == [
        "We use vendors (e.g. JivoChat), CRM providers (e.g., Salesforce) and others.", "We may share data."]


def test_plain_text_policy(tmp_path):
    path = tmp_path / "acme-privacy.txt"
    path.write_text("ACME PRIVACY POLICY\n\nLast updated: March 3, 2020\n\nWe never sell your data. We keep logs.\n")
    doc = read_document(path)
    policy = parse_policy(doc.text, path.name)
    assert doc.is_verbatim and policy.company == "Acme" and policy.policy_date == "2020-03-03"
    assert any("We never sell your data." in c.text for c in chunk_policy(policy))


def test_a_page_body_over_a_lone_dash_is_text_not_its_title():
    """A shop page saved as text: its whole body on one line, then cart lines and a lone "-", which
    Markdown reads as the underline of one long heading. That body is the policy, not a title."""
    body = ("TERMS OF SERVICE----OVERVIEW This website is operated by Acme Knits. " +
            "Your submission of personal information through the store is governed by our Privacy Policy. " * 3 +
            "Credit card information is always encrypted during transfer over networks.")
    text = f"http://www.acmeknits.com/pages/terms-of-service\nSkip to content\n{body}\nClose Cart\n-\nSubtotal\n"
    policy = parse_policy(text, "acmeknits.txt")
    sentence = "Credit card information is always encrypted during transfer over networks."
    assert any(sentence in text[s.start:s.end] for s in policy.sections)
    assert any(sentence in plain_text(text[c.start:c.end]) for c in chunk_policy(policy))


def test_plain_text_headings_become_sections(tmp_path):
    prose = "We may collect your name and email address when you sign up for an account on our website."
    path = tmp_path / "acme.txt"
    path.write_text("Acme Privacy Policy\n\nInformation We Collect\n\n" + prose + "\n\n4. Cookies and Tracking\n\n"
                    "We use cookies to remember your preferences and to measure how visitors use our pages.\n\n"
                    "This line ends like a sentence.\n\nSharing of the details you give us with the partners we work with"
                    " in many countries of the world and beyond\n\n" + prose + "\n")
    policy = parse_policy(read_document(path).text, path.name)
    assert headings(policy)[-2:] == ["Information We Collect", "4. Cookies and Tracking"]
    chunk = next(c for c in chunk_policy(policy) if "cookies to remember" in c.text)
    assert chunk.section.heading == "4. Cookies and Tracking"


def test_markdown_headings_are_not_joined_by_plain_heading_lines():
    # The seed policies have Markdown headings: a short line of their own stays prose there.
    _, azendoo = parsed("azendoo-2013-06-30.md")
    assert headings(azendoo) == ["Introduction", "Information collected", "Use of information", "Sharing your Information",
                                 "Cookies", "Improvements of our web sites and services", "Limitation of responsibility",
                                 "Contact Us"]


def test_html_policy_drops_scripts_and_keeps_headings(tmp_path):
    path = tmp_path / "widgets.html"
    path.write_text("<html><head><title>Widgets Privacy</title><script>alert(1)</script></head><body>"
                    "<nav>Home | About</nav><h2>Sharing</h2><p>We share data with <b>payment</b> processors.</p>"
                    "<style>p{}</style><ul><li>We keep logs for 30 days.</li></ul></body></html>")
    doc = read_document(path)
    assert doc.kind == "html" and "alert" not in doc.text and "p{}" not in doc.text
    policy = parse_policy(doc.text, path.name)
    assert [s.heading for s in policy.sections] == ["Sharing"]
    assert "We share data with payment processors." in doc.text
