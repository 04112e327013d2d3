"""Real-world policy files read faithfully: structure, dates, lists and names (issue 16). No model needed."""
from __future__ import annotations

import pytest

from index.chunking import chunk_policy
from index.dates import date_label, dated_policy, parse_date, stated_date
from index.policies import parse_policy
from index.readers import DocumentHints, read_document
from index.retrieval import PolicyInfo
from index.structure import is_bare_heading, list_end
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
])
def test_version_route_only_for_changes_of_the_policy(question, compare):
    assert is_change_question(Understood(question)) is compare
