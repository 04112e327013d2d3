"""Chat turns on the real seed index: follow-ups, the company filter, versions, streaming pieces."""
from __future__ import annotations

import pytest

from index.retrieval import open_index
from qa import ask
from qa.chat import ALL_COMPANIES, NEWEST, answer_turn, company_choices, growing_text, plan, versions_of
from qa.followup import Turn, resolve

SALESFORCE = "Does Comindware share data with Salesforce?"


@pytest.fixture
def policies(seed_index):
    return list(open_index().policies.values())


@pytest.mark.parametrize("message, expected", [
    ("What about Axosoft?", "Does Axosoft share data with Salesforce?"),
    ("what about axosoft", "Does Axosoft share data with Salesforce?"),
    ("And Azendoo?", "Does Azendoo share data with Salesforce?"),
    ("How about azalead.com?", "Does Azalead share data with Salesforce?"),
    ("Same question for Axosoft's policy", "Does Axosoft share data with Salesforce?"),
    ("Axosoft?", "Does Axosoft share data with Salesforce?"),
    ("What about Google?", "Does Comindware share data with Google?"),  # another party, not a company
])
def test_follow_up_swaps_the_one_thing_it_names(policies, message, expected):
    resolved = resolve(message, Turn(SALESFORCE, "Comindware"), policies)
    assert resolved.question == expected and resolved.rewritten


def test_follow_up_swaps_or_adds_a_year(policies):
    previous = Turn("Does Azalead use web beacons?", "Azalead")
    assert resolve("What about in 2014?", previous, policies).question == "Does Azalead use web beacons in 2014?"
    older = Turn("Did Azalead use web beacons in 2014?", "Azalead")
    assert resolve("And 2017?", older, policies).question == "Did Azalead use web beacons in 2017?"
    both = resolve("What about Axosoft in 2017?", older, policies)
    assert both.question == "Did Axosoft use web beacons in 2017?"


def test_follow_up_to_a_question_without_a_party_swaps_the_company(policies):
    resolved = resolve("What about Facebook?", Turn("Does Azalead sell my personal information?", "Azalead"),
                       policies)
    assert resolved.question == "Does Facebook sell my personal information?"


def test_new_questions_are_left_alone_and_back_references_keep_the_company(policies):
    previous = Turn(SALESFORCE, "Comindware")
    for question in ["Does Azalead sell my personal information?", "What does Azendoo use cookies for?",
                     "How long is data kept?"]:
        resolved = resolve(question, previous, policies)
        assert resolved == type(resolved)(question)
    assert resolve("Do they use cookies?", previous, policies).company == "Comindware"
    assert resolve("What about cookies?", previous, policies).company == "Comindware"
    first = resolve("What about Axosoft?", None, policies)
    assert first.question == "What about Axosoft?" and first.needs_previous
    assert not resolve(SALESFORCE, None, policies).needs_previous


def test_a_bare_follow_up_without_a_previous_question_asks_for_a_whole_question(seed_index):
    from index.errors import BadQuestion
    from qa.chat import ask_in_context

    for message in ["What about Axosoft?", "And in 2014?", "Axosoft"]:
        with pytest.raises(BadQuestion, match="follows up on an earlier question"):
            answer_turn(message)
    with pytest.raises(BadQuestion, match="Does Axosoft share data with advertisers"):
        ask_in_context("What about Axosoft?")


def test_salesforce_then_axosoft_is_answered_as_the_same_question(seed_index):
    first = answer_turn(SALESFORCE)
    assert first.answer.found and first.answer.citations[0].company == "Comindware"
    assert first.context == Turn(SALESFORCE, "Comindware")
    second = answer_turn("What about Axosoft?", first.context)
    assert second.request.rewritten and second.request.question == "Does Axosoft share data with Salesforce?"
    assert not second.answer.found and second.answer.text == "Axosoft's policy does not mention Salesforce."
    third = answer_turn("Do they use cookies?", second.context)
    assert third.answer.found and {c.company for c in third.answer.citations} == {"Axosoft"}


def test_company_filter_applies_only_to_questions_naming_no_company(policies):
    assert plan("Do you use cookies?", None, policies, "Azendoo").company == "Azendoo"
    named = plan(SALESFORCE, None, policies, "Azendoo")
    assert named.company is None and named.question == SALESFORCE
    assert plan("Do you use cookies?", None, policies, ALL_COMPANIES).company is None


def test_version_choice_is_passed_through_for_the_filtered_company(seed_index, policies):
    assert company_choices(policies) == ["All", "Axosoft", "Azalead", "Azendoo", "Comindware"]
    assert versions_of("Azalead", policies) == ["2017-12-31", "2014-06-25"]
    assert versions_of("Axosoft", policies) == ["2017-12-11"]
    assert versions_of(ALL_COMPANIES, policies) == []
    request = plan("Does Azalead use web beacons?", None, policies, "Azalead", "2014-06-25")
    assert request.policy_date == "2014-06-25"
    assert plan("Does Axosoft use cookies?", None, policies, "Azalead", "2014-06-25").policy_date is None
    assert plan("Does Azalead use web beacons?", None, policies, "Azalead", NEWEST).policy_date is None
    turn = answer_turn("Does Azalead use web beacons?", None, "Azalead", "2014-06-25")
    assert turn.answer.found and {c.policy_date for c in turn.answer.citations} == {"2014-06-25"}


def test_ask_policy_date_restricts_to_that_version(seed_index):
    newest = ask("Does Azalead use web beacons?")
    assert newest.citations[0].policy_date == "2017-12-31"
    old = ask("Does Azalead use web beacons?", policy_date="2014-06-25")
    assert old.found and {c.policy_date for c in old.citations} == {"2014-06-25"} and old.notes == []
    assert {c.policy_date for c in ask("Do they use cookies?", company="Azalead",
                                       policy_date="2017-12-31").citations} == {"2017-12-31"}
    missing = ask("Does Azalead use web beacons?", policy_date="2015-01-01")
    assert not missing.found and missing.citations == []
    assert "2015-01-01" in missing.text and "2014-06-25" in missing.text and "2017-12-31" in missing.text


def test_growing_text_streams_whole_words_and_ends_with_the_text():
    text = "Yes. Comindware's policy (2019-04-10) says: “we may share your data with Salesforce” [1]"
    pieces = list(growing_text(text, pieces=5))
    assert len(pieces) >= 4 and pieces[-1] == text
    for shorter, longer in zip(pieces, pieces[1:]):
        assert longer.startswith(shorter) and len(longer) > len(shorter)
    assert all(text[len(p):len(p) + 1] in ("", " ") for p in pieces)
    assert list(growing_text("")) == [""]


def test_company_filter_wins_over_the_company_carried_from_the_previous_turn(policies):
    previous = Turn("Does Axosoft share data with Salesforce?", "Axosoft")
    assert plan("Do they use web beacons?", previous, policies, "Azalead").company == "Azalead"
    assert plan("Do they use web beacons?", previous, policies, ALL_COMPANIES).company == "Axosoft"
