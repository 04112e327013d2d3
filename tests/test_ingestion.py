"""Real-world policy files read faithfully: structure, dates, lists and names (issue 16). No model needed."""
from __future__ import annotations

import pytest

from index.chunking import chunk_policy
from index.dates import date_label, dated_policy, parse_date, stated_date
from index.policies import parse_policy
from index.readers import DocumentHints, read_document
from index.retrieval import PolicyInfo
from index.structure import is_bare_heading, list_end, list_item
from qa.companies import resolve_company
from qa.question import Understood, find_companies
from qa.versions import is_change_question

PROSE = "We keep this short and plain so that every reader can follow what happens to the data we hold."


def _headings(text: str, name: str = "policy.txt") -> list[str]:
    return [s.heading for s in parse_policy(text, name).sections]


# --- structure -------------------------------------------------------------------------------------

def test_one_line_policy_finds_numbered_question_and_caps_headings():
    text = (f"Acme Widgets privacy policy. {PROSE} 5.1 Collecting Information. We collect your name and e-mail "
            f"address when you sign up. {PROSE} 5.2 Deleting your Information. You can delete your account at any "
            f"time by writing to us. {PROSE} What kinds of information do we share? We share nothing with "
            f"advertisers. {PROSE} INFORMATION SECURITY We protect your data with encryption. {PROSE}")
    assert "\n" not in text
    policy = parse_policy(text, "acme.txt")
    headings = [s.heading for s in policy.sections]
    assert headings == ["Introduction", "5.1 Collecting Information", "5.2 Deleting your Information",
                        "What kinds of information do we share?", "INFORMATION SECURITY"]
    section = policy.sections[2]
    assert text[section.start:].startswith("You can delete your account")
    # The heading is the section's name, not a sentence of its text.
    assert all(not is_bare_heading(policy.text[s.start:s.end]) for c in chunk_policy(policy) for s in c.sentences)


def test_title_case_heading_glued_to_its_sentence_in_one_line():
    text = f"{PROSE} Information We Collect We collect your name and address when you order. {PROSE} " * 3
    assert "Information We Collect" in _headings(text)


def test_heading_glued_to_the_text_when_line_breaks_were_dropped():
    text = (f"{PROSE} Please review our Privacy Policy regularly.Information CollectedBreaux Mart collects the "
            f"information which is provided by you on registration. {PROSE} {PROSE} {PROSE} Visit YouTube today. "
            f"{PROSE} {PROSE} Visit YouTube again.")
    policy = parse_policy(text, "breaux.txt")
    assert [s.heading for s in policy.sections] == ["Introduction", "Information Collected"]
    assert text[policy.sections[1].start:].startswith("Breaux Mart collects")


def test_caps_numbered_and_question_headings_glued_to_their_neighbours():
    # A page saved as text with its line breaks dropped: every heading touches both neighbours.
    text = (f"{PROSE}CONTENTSCONTACT US1. WHAT INFORMATION WE COLLECTWe collect your name and e-mail address "
            f"when you sign up. {PROSE}2. HOW WE USE INFORMATIONWe use it to send your orders. {PROSE} "
            f"This Agreement annuls all previous agreements.OVERVIEWThe Site is operated by Acme. {PROSE} "
            f"See the section Your rights.3. Personal Data we may collect and whyPersonal data is any "
            f"information which identifies you. {PROSE} Contact requests.Why do we store personal data?In order "
            f"to answer you we keep your e-mail address. {PROSE}")
    assert "\n" not in text and len(text) > 600
    assert _headings(text) == ["Introduction", "1. WHAT INFORMATION WE COLLECT", "2. HOW WE USE INFORMATION",
                               "OVERVIEW", "3. Personal Data we may collect and why",
                               "Why do we store personal data?"]
    # An acronym or a name glued to a word is no heading.
    assert _headings(f"{PROSE} We follow the GDPR.USAThe law applies. {PROSE} {PROSE}") == ["Introduction"]


def test_markdown_page_whose_only_heading_is_its_title():
    text = (f"Flickr Privacy Policy\n---------------------\n\nDate of Last Revision: November 23, 2020\n\n{PROSE}\n\n"
            f"Collection of Information\n\nWe collect the information you give us when you sign up. {PROSE}\n\n"
            f"Sharing of Information\n\nWe share information with our service providers. {PROSE}\n")
    assert _headings(text, "flickr.md") == ["Introduction", "Collection of Information", "Sharing of Information"]
    # A lone heading that does not name the document stays a section.
    assert _headings(f"## Sharing\n\nWe share data with payment processors. {PROSE}\n", "s.md") == ["Sharing"]


def test_plain_headings_inside_a_long_markdown_section():
    long_prose = " ".join([PROSE] * 55)  # over 1,000 words with no Markdown heading
    text = (f"## Cookies\n\n{long_prose}\n\nRequired cookies\n\nRequired cookies let you sign in and keep your "
            f"basket. {PROSE}\n\nAdvertising cookies\n\nOur partners use them to show you ads. {PROSE}\n\n"
            f"## Contact\n\nWrite to us. {PROSE}\n")
    assert _headings(text, "p.md") == ["Cookies", "Cookies > Required cookies", "Cookies > Advertising cookies",
                                       "Contact"]
    short = f"## Cookies\n\n{PROSE}\n\nRequired cookies\n\nRequired cookies let you sign in. {PROSE}\n"
    assert _headings(short, "p.md") == ["Cookies"]  # a short section keeps its lines as text


def test_bold_headings_between_script_fragments():
    # A page saved with its script: "'; Privacy02 += '" paragraphs between a heading and its text.
    text = (f"var Privacy01 = '\n\n**1\\. Purpose and Scope.**\n\n'; Privacy01 += '\n\n'; Privacy01 += '1.  This "
            f"privacy policy describes how Acme treats your information. {PROSE}\n'; Privacy01 += '\n\n'; var "
            f"Privacy02 = '\n\n**2\\. Collection of Information**\n\n'; Privacy02 += '\n\n'; Privacy02 += '1.  "
            f"Acme collects the information you give it. {PROSE}\n")
    assert _headings(text, "hearst.md") == ["Introduction", "1. Purpose and Scope.", "2. Collection of Information"]


def test_numbered_items_with_bold_titles_are_sections():
    over = (f"1.  **About Acme**\n    1.  Acme is a maker of widgets. {PROSE}\n\n"
            f"2.  **Your Controls**\n    1.  You can change your settings. {PROSE}\n\n"
            f"3.  **Changes**\n    1.  We may update this policy. {PROSE}\n")
    assert _headings(over, "verizon.md") == ["About Acme", "Your Controls", "Changes"]
    run_in = (f"1.  **Consent**: By using the site you agree to this policy. {PROSE}\n"
              f"2.  **Log data**: We receive information when you view pages. {PROSE}\n"
              f"3.  **Security:** You must keep your password safe. {PROSE}\n")
    policy = parse_policy(run_in, "letterboxd.md")
    assert [s.heading for s in policy.sections] == ["Consent", "Log data", "Security"]
    assert run_in[policy.sections[1].start:].startswith("2.  **Log data**: We receive")  # the title stays in the text
    # Two titled items are a list, not sections.
    assert _headings("\n".join(run_in.splitlines()[:2]) + "\n", "two.md") == ["Introduction"]


def test_bold_line_over_its_text_and_escaped_numbers():
    text = (f"Acme Privacy Policy\n\n**1.INTRODUCTION**  \na. Overview. Acme offers a comment platform. {PROSE}\n\n"
            f"**2.THE DATA WE COLLECT**  \na. We collect your name and your e-mail address. {PROSE}\n\n"
            f"3\\. **Who are we?**\n\nWe are Acme LLP and you can write to us at any time. {PROSE}\n")
    assert _headings(text, "disqus.md") == ["1.INTRODUCTION", "2.THE DATA WE COLLECT", "3. Who are we?"]


def _sentences(text: str) -> list[str]:
    from index.chunking import split_sentences

    return [text[s.start:s.end] for s in split_sentences(text, 0, len(text))]


def test_lines_of_plain_text_are_sentences_unless_hard_wrapped():
    # One line a paragraph, heading, list item or address line: each stands alone.
    lines = ("Newsletter Policy\nLeerburg Enterprises, Inc. sends out a newsletter to:\nCustomers who purchase products "
             "from Leerburg Enterprises, Inc.\nPeople who write and ask for a catalog\n835 McClintock Drive\n"
             "Burr Ridge, IL 60527")
    assert _sentences(lines) == ["Newsletter Policy", "Leerburg Enterprises, Inc. sends out a newsletter to:",
                                 "Customers who purchase products from Leerburg Enterprises, Inc.",
                                 "People who write and ask for a catalog", "835 McClintock Drive", "Burr Ridge, IL 60527"]
    # Hard-wrapped: a line nearly as wide as the widest goes on; so does one that stops on "and" or a comma.
    wrapped = ("IP addresses are not linked to personally identifiable information, and we may share demographic\n"
               "information with our partners and advertisers. This is generally not linked to any personal\n"
               "information that can identify any individual person. Tropic Trailers uses an outside company\n"
               "to ship orders.")
    assert _sentences(wrapped) == [
        "IP addresses are not linked to personally identifiable information, and we may share demographic\n"
        "information with our partners and advertisers.",
        "This is generally not linked to any personal\ninformation that can identify any individual person.",
        "Tropic Trailers uses an outside company\nto ship orders."]
    assert _sentences("This web site uses TLS 1.2 to encrypt the communication between your browser and\nour server.") \
        == ["This web site uses TLS 1.2 to encrypt the communication between your browser and\nour server."]


def test_a_line_in_lower_case_goes_on_from_a_long_line_menus_stay_apart():
    # Lines cut at odd widths (not hard-wrapped: too few reach the widest) still make one sentence.
    text = ("Use\nfeatures of our websites that may ask you to\ngrant us access to the camera.\n"
            "Postal address, phone number, or date of birth. When you contact us\n"
            "by phone, your call may be monitored or recorded and you are notified\nof such at the time of your call.")
    assert _sentences(text) == [
        "Use\nfeatures of our websites that may ask you to\ngrant us access to the camera.",
        "Postal address, phone number, or date of birth.",
        "When you contact us\nby phone, your call may be monitored or recorded and you are notified\n"
        "of such at the time of your call."]
    # Short lines of a menu or a list stay apart, whatever their case.
    assert _sentences("View\ntrademarkclaim.ca (sold)\nabout us\nrandom posts") == [
        "View", "trademarkclaim.ca (sold)", "about us", "random posts"]


def test_a_cited_article_or_section_number_ends_no_sentence():
    assert _sentences("Processing is based on Art. 6 para. 1 lit. f GDPR. See Sec. 4 below. It is state of the art. "
                      "Write to Dept. T, Weilerweg 13.") == [
        "Processing is based on Art. 6 para. 1 lit. f GDPR.", "See Sec. 4 below.", "It is state of the art.",
        "Write to Dept. T, Weilerweg 13."]


def test_a_stop_glued_to_the_next_sentence_still_ends_one():
    # Copied text often loses the space: "networks.You" would join a "not" to the encryption sentence.
    assert _sentences("Credit card information is always encrypted during transfer over networks.You agree not to "
                      "resell the Service.") == ["Credit card information is always encrypted during transfer over networks.",
                                                 "You agree not to resell the Service."]
    # Not inside a web address, after an abbreviation's dots or a short title.
    assert _sentences("Visit www.Example.com for more, e.g.The Guide. We are in St.Louis now.") == [
        "Visit www.Example.com for more, e.g.The Guide.", "We are in St.Louis now."]
    # A stop glued to a site's name after a lower-case word ends one; a site's name with a dot in it does not.
    assert _sentences("We use cookies.QuranReading.com privacy policy does not cover other sites. Copies go to "
                      "Public.Resource.org today.") == [
        "We use cookies.", "QuranReading.com privacy policy does not cover other sites.",
        "Copies go to Public.Resource.org today."]


def test_abbreviations_numbers_and_company_forms_in_sentences():
    assert _sentences("This is the web site of Solutionz, Inc. Our postal address is 901 Bringham Ave., Los Angeles. "
                      "We use services (e.g. Google Analytics) and cookies, etc. to count visits.") == [
        "This is the web site of Solutionz, Inc.", "Our postal address is 901 Bringham Ave., Los Angeles.",
        "We use services (e.g. Google Analytics) and cookies, etc. to count visits."]
    assert _sentences("JUSTIA is a trademark of Justia Inc. (the \"Marks\"). Version 2.1 applies.") == [
        "JUSTIA is a trademark of Justia Inc. (the \"Marks\").", "Version 2.1 applies."]
    # The number of a heading or an item is not a sentence of its own.
    assert _sentences("24. NOTICE\nJustia may send you notices by email.") == ["24. NOTICE",
                                                                               "Justia may send you notices by email."]


def test_a_heading_line_opens_the_chunk_after_it():
    long = " ".join(["We collect the address you give us when you order and keep it for delivery."] * 7)
    text = f"# Acme privacy policy\n\n## Delivery\n\n{long}\nContact Us\n{long}\nFollow us\n"
    chunks = chunk_policy(parse_policy(text, "acme.md"))
    assert len(chunks) >= 2
    assert all(not is_bare_heading(c.text) for c in chunks)
    assert any(c.text.startswith("Contact Us") for c in chunks)
    assert chunks[-1].text.endswith("Follow us")  # a footer line stays with the text before it


def test_heading_lines_in_hard_wrapped_text():
    text = ("Holy Nativity operates a website and may operate other websites. It\n"
            "is our policy to respect your privacy.\n"
            "Website Visitors\n"
            "Like most website operators, we collect non-personally-identifying information of the\n"
            "sort that web browsers and servers typically make available.\n"
            "Gathering of Personally-Identifying Information\n"
            "Certain visitors choose to interact with us in ways that require us to gather\n"
            "personally-identifying information such as a name and an e-mail address.\n")
    assert _headings(text) == ["Introduction", "Website Visitors", "Gathering of Personally-Identifying Information"]


def test_html_headings_become_sections(tmp_path):
    page = tmp_path / "policy.html"
    page.write_text(f"<html><head><title>Acme Privacy Policy</title></head><body><h2>Cookies</h2><p>{PROSE}</p>"
                    f"<h2>Your Rights</h2><p>{PROSE}</p></body></html>")
    doc = read_document(page)
    assert _headings(doc.text, page.name) == ["Cookies", "Your Rights"]


@pytest.mark.parametrize("sentence, bare", [
    ("5.2 Deleting your Information.", True), ("What kinds of information do we collect?", True),
    ("INFORMATION WE COLLECT", True), ("Sharing of Information with Third Parties", True),
    ("We collect your name.", False), ("We may share:", False), ("Do you sell my data? No, we never do.", False),
    # The common template's headings, often over an empty section; not a list item opened by "When".
    ("How we protect your data", True), ("What data breach procedures we have in place", True),
    ("When necessary for scientific or historical research", False), ("What we collect depends on you.", False),
])
def test_bare_heading_shapes(sentence, bare):
    assert is_bare_heading(sentence) is bare


def test_list_items_follow_their_lead_in_marked_and_unmarked():
    marked = "We collect the following:\n* your name\n* your e-mail address\n* your order history\n\nNext paragraph."
    text = marked
    lead_end = text.index(":") + 1
    following = [(text.index(w), text.index(w) + len(w)) for w in ("* your name", "* your e-mail address",
                                                                    "* your order history", "Next paragraph.")]
    assert text[:list_end(text, lead_end, following, 1200)].endswith("order history")
    plain = "We collect the following:\nName\nE-mail address\nPhone number\n" + PROSE * 4
    lead_end = plain.index(":") + 1
    following = [(plain.index(w), plain.index(w) + len(w)) for w in ("Name", "E-mail address", "Phone number")]
    following.append((plain.index(PROSE), plain.index(PROSE) + len(PROSE)))
    assert plain[:list_end(plain, lead_end, following, 1200)].endswith("Phone number")
    assert list_end(plain, lead_end, following, 3) == lead_end  # past the limit: no item
    # Each sentence's kind: a line of its own, or on a marked (numbered) line.
    mixed = ("Browsers explain their cookie settings at the following websites:\nMozilla Firefox: mozilla.org\n"
             "5. Links to other Websites. Parts of our site link to other sites.")
    spans = [(mixed.index(w), mixed.index(w) + len(w)) for w in
             ("Mozilla Firefox: mozilla.org", "5. Links to other Websites.", "Parts of our site link to other sites.")]
    assert [list_item(mixed, a, *b) for a, b in zip((mixed.index(":") + 1, spans[0][1], spans[1][1]), spans)] == [
        "line", "marked", "marked"]


# --- dates -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, iso", [
    ("Last updated: January 1st, 2020", "2020-01-01"),
    ("Effective 1 January 2020. We care.", "2020-01-01"),
    ("Last modified: 01/02/2020", "2020-01-02"),
    ("Revised 2020-01-01", "2020-01-01"),
    ("Updated on March 3, 2019", "2019-03-03"),
    ("_Effective: January 1, 2012_", "2012-01-01"),
    ("**Last Updated:** Monday, 4th of May 2020", "2020-05-04"),
    ("Effective Date: 24.05.2018", "2018-05-24"),
    ("Effective as of May 25, 2018", "2018-05-25"),
])
def test_stated_date_forms(text, iso):
    assert stated_date(f"Acme privacy policy\n\n{text}\n\n{PROSE}") == iso


@pytest.mark.parametrize("text", ["We updated our cookie banner in 2019.", "Last updated: 31/02/2020",
                                  "Effective: January 1, 1970", "Call us at 01/02/2020 extension 4",
                                  "Last revised May 2018"])
def test_no_date_where_none_is_stated(text):
    assert stated_date(text) is None


def test_undated_policy_is_none_everywhere_shown_as_undated():
    policy = parse_policy(f"Acme privacy policy\n\n{PROSE}\n", "acme.txt")
    assert policy.policy_date is None
    assert date_label(policy.policy_date) == "undated" and dated_policy(None) == "undated policy"
    assert parse_date("2021-02-30") is None


def test_date_sources_in_order_text_then_metadata_then_file_name():
    hinted = DocumentHints(date="2019-05-05")
    assert parse_policy(f"Last updated: June 1, 2020\n\n{PROSE}", "acme-2018-01-01.txt", hints=hinted).policy_date \
        == "2020-06-01"
    assert parse_policy(PROSE, "acme-2018-01-01.txt", hints=hinted).policy_date == "2019-05-05"
    assert parse_policy(PROSE, "acme-2018-01-01.txt").policy_date == "2018-01-01"
    assert parse_policy(PROSE, "acme-20180101999.txt").policy_date is None


# --- names -----------------------------------------------------------------------------------------

def _info(company: str, domain: str | None = None, aliases: tuple[str, ...] = ()) -> PolicyInfo:
    return PolicyInfo(f"{company}.md", company, domain, None, None, "", "", 1, aliases)


POLICIES = [_info("Acme Widgets", "acme-widgets.com"), _info("Comindware", "comindware.com"),
            _info("Privacy Policy Inc"), _info("Bill Track 50"), _info("Globex", aliases=("Globex Corporation", "GX"))]


@pytest.mark.parametrize("question, company", [
    ("How long does Acme keep my order records?", "Acme Widgets"),
    ("Who does Acme share my address with?", "Acme Widgets"),
    ("does acme widgets sell data?", "Acme Widgets"),
    ("What does acme-widgets.com collect?", "Acme Widgets"),
    ("Does Comindwre share data with Salesforce?", "Comindware"),
    ("Does GX use cookies?", "Globex"),
])
def test_name_forms_resolve(question, company):
    assert find_companies(question, POLICIES) == [company]


@pytest.mark.parametrize("question", ["What does the privacy policy say about data?", "How do they track me?",
                                      "Is my information sold?", "Does the policy change?"])
def test_generic_words_never_name_a_company(question):
    assert find_companies(question, POLICIES) == []


def test_company_argument_resolves_by_the_same_function():
    assert resolve_company("acme", POLICIES) == "Acme Widgets"
    assert resolve_company("ACME WIDGETS", POLICIES) == "Acme Widgets"
    assert resolve_company("globex corporation", POLICIES) == "Globex"
    assert resolve_company("privacy", POLICIES) is None


# --- routes ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("question, compare", [
    ("How are privacy preferences managed across different devices?", False),
    ("How is data handled differently for children?", False),
    ("What changed in Azalead's privacy policy between 2014 and 2017?", True),
    ("What is new in Azalead's policy?", True),
    ("How does Snapchat notify users of revisions to its Privacy Policy?", False),  # about the notice
    ("What revisions did Azalead make to its policy since 2014?", True),
])
def test_version_route_only_for_changes_of_the_policy(question, compare):
    assert is_change_question(Understood(question)) is compare
