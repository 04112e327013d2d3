"""Answers on the real seed corpus: citations, offsets, silence, companies and versions."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from qa import Answer, Citation, ask

PROJECT = Path(__file__).resolve().parent.parent


def test_salesforce_question_cites_comindware(seed_index):
    answer = ask("Does Comindware share data with Salesforce?")
    assert isinstance(answer, Answer) and answer.found
    first = answer.citations[0]
    assert isinstance(first, Citation)
    assert first.company == "Comindware" and first.policy_date == "2019-04-10"
    assert "Salesforce" in first.excerpt and "Salesforce" in first.highlight
    assert first.highlight in first.excerpt and len(first.excerpt) <= 1200
    assert "[1]" in answer.text and "Salesforce" in answer.text


def test_citation_offsets_round_trip(seed_index):
    answer = ask("What does Azendoo use cookies for?")
    assert answer.citations
    for c in answer.citations:
        text = open(c.source).read()
        assert text[c.start:c.end] == c.excerpt
        assert text[c.highlight_start:c.highlight_end] == c.highlight
        assert c.start <= c.highlight_start < c.highlight_end <= c.end


@pytest.mark.parametrize("question", [
    "How does Azalead figure out what company I work for?",  # once "**Managing Settings**"
    "In 2014, how long did Azalead keep customer data after an account was closed?",  # once "Service Providers"
    "How can I refuse cookies from Azendoo?",
])
def test_no_highlight_is_a_bare_heading(seed_index, question):
    from index.structure import is_bare_heading

    answer = ask(question, k=5)
    assert answer.citations
    assert [c.highlight for c in answer.citations if is_bare_heading(c.highlight)] == []
    for c in answer.citations:
        assert c.start <= c.highlight_start < c.highlight_end <= c.end


def test_silent_policy_says_so(seed_index):
    answer = ask("Does Axosoft share data with Salesforce?")
    assert not answer.found and answer.citations == []
    assert answer.text == "Axosoft's policy does not mention Salesforce."


def test_off_topic_question_is_not_answered(seed_index):
    assert not ask("What is the capital of Australia?").found


def test_company_in_question_restricts_retrieval(seed_index):
    answer = ask("does AXOSOFT.COM use cookies?")
    assert answer.found and {c.company for c in answer.citations} == {"Axosoft"}


def test_company_argument_and_unknown_company(seed_index):
    assert {c.company for c in ask("Do they use cookies?", company="azendoo.com").citations} == {"Azendoo"}
    unknown = ask("Does Facebook sell my data?")
    assert not unknown.found
    assert "Facebook" in unknown.text
    for name in ("Axosoft", "Azalead", "Azendoo", "Comindware"):
        assert name in unknown.text
    assert "Comindware" in ask("Anything?", company="Initech").text


def test_newest_version_by_default_and_year_selects_older(seed_index):
    newest = ask("Does Azalead use web beacons?")
    assert newest.found and newest.citations[0].policy_date == "2017-12-31"
    assert any("2014-06-25" in note for note in newest.notes)
    older = ask("Did Azalead use web beacons in 2014?")
    assert older.found and {c.policy_date for c in older.citations} == {"2014-06-25"}


def test_negation_is_not_read_as_yes(seed_index):
    answer = ask("Does Azalead sell my personal information?")
    assert answer.found and answer.text.startswith("No.")


@pytest.mark.parametrize("bad", ["", "   \n\t", "\x00\x01"])
def test_empty_question_is_a_clear_error(seed_index, bad):
    from index.errors import BadQuestion

    with pytest.raises(BadQuestion, match="empty|no words"):
        ask(bad)


def test_cli_json_and_text(seed_index):
    run = lambda *args: subprocess.run([sys.executable, "-m", "qa", *args], capture_output=True, text=True,
                                       cwd=PROJECT, timeout=300)
    out = run("Does Comindware share data with Salesforce?", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["found"] and data["citations"][0]["company"] == "Comindware"
    assert "Salesforce" in data["citations"][0]["highlight"]
    text = run("Does Axosoft share data with Salesforce?")
    assert text.returncode == 0 and "Axosoft's policy does not mention Salesforce" in text.stdout
    assert run("   ").returncode == 2
