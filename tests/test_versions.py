"""Questions across versions: what changed between two policy versions, and what older versions said."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from qa import ask

PROJECT = Path(__file__).resolve().parent.parent
OLD, NEW = "2014-06-25", "2017-12-31"


def _notice_change(answer):
    return next((c for c in answer.changes if c.kind == "changed" and "thirty (30) business days" in c.old.highlight
                 and "30 days after they are initially posted" in c.new.highlight), None)


@pytest.mark.parametrize("question", [
    "What changed in Azalead's privacy policy between 2014 and 2017?",
    "What changed in Azalead's privacy policy since 2014?",
])
def test_what_changed_cites_both_versions(seed_index, question):
    answer = ask(question)
    assert answer.kind == "versions" and answer.found and answer.versions == (OLD, NEW)
    assert {c.policy_date for c in answer.citations} == {OLD, NEW}
    change = _notice_change(answer)
    assert change is not None, [(c.kind, c.topic) for c in answer.changes]
    assert change.old.policy_date == OLD and change.new.policy_date == NEW and change.signals
    kinds = {c.kind for c in answer.changes}
    assert kinds == {"changed", "added", "removed"}
    for c in answer.changes:
        if c.kind == "added":
            assert c.old is None and c.new.policy_date == NEW
        if c.kind == "removed":
            assert c.new is None and c.old.policy_date == OLD
    for c in answer.citations:
        assert open(c.source).read()[c.start:c.end] == c.excerpt and c.highlight in c.excerpt
        assert f"[{c.n}]" in answer.text
    topics = " ".join(c.topic for c in answer.changes)
    assert "Do Not Track" in topics  # a section only the 2017 version has
    assert "Contacting us" in topics or "International transfer" in topics  # sections only 2014 has
    json.dumps(answer.to_dict())


def test_a_topic_narrows_the_changes(seed_index):
    answer = ask("What changed about cookies in Azalead's policy between 2014 and 2017?")
    assert answer.changes and any("Flash" in c.topic for c in answer.changes if c.kind == "removed")
    for c in answer.changes:
        side = c.new or c.old
        assert any(w in (side.highlight + side.section).lower() for w in ("cookie", "beacon", "pixel", "track"))


def test_one_version_only_is_said(seed_index):
    answer = ask("What changed in Comindware's privacy policy since 2018?")
    assert answer.kind == "versions" and not answer.found and not answer.citations
    assert "only one version" in answer.text and "2019-04-10" in answer.text


def test_questions_about_changes_are_not_diffs(seed_index):
    assert ask("How will Comindware notify me of changes?").kind == "policy"
    assert ask("Can I change my personal data at Comindware?").kind == "policy"
    # "changed" in a clause of time describes the topic: this asks about the notice, in 2014.
    answer = ask("Back in 2014, how much warning did Azalead promise before its privacy rules changed?")
    assert answer.kind == "policy" and answer.citations[0].policy_date == OLD


def test_cli_shows_the_two_sides_next_to_each_other(seed_index):
    env = dict(os.environ, POLICYQA_DATA=str(seed_index))
    out = subprocess.run([sys.executable, "-m", "qa", "What changed in Azalead's privacy policy between 2014 and 2017?"],
                         cwd=PROJECT, env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    header = next(line for line in lines if OLD in line and "│" in line)
    assert header.index(OLD) < header.index("│") < header.index(NEW)
    body = "\n".join(lines)
    assert "thirty (30) business" in body and "30 days after" in body and "REMOVED since" in body


# --- versions everywhere ---------------------------------------------------------------------------

def test_year_answers_from_the_version_in_force(seed_index):
    answer = ask("Did Azalead use Flash cookies in 2014?")
    assert answer.found and {c.policy_date for c in answer.citations} == {OLD}
    assert "Flash" in answer.citations[0].highlight


def test_newest_silent_older_speaks(seed_index):
    answer = ask("Does Azalead use Flash cookies?")
    assert answer.found and answer.citations[0].policy_date == OLD and "Flash" in answer.citations[0].highlight
    assert f"current policy ({NEW}) does not say this directly" in answer.text


def test_older_version_said_something_different(seed_index):
    answer = ask("When do changes to Azalead's policy take effect?")
    first = answer.citations[0]
    assert first.policy_date == NEW and "30 days after" in first.highlight
    line = answer.text.splitlines()[-1]
    assert line.startswith(f"In its 2014 policy ({OLD}), Azalead said:")
    earlier = next(c for c in answer.citations if f"[{c.n}]" in line)
    assert earlier.policy_date == OLD and "thirty (30) business days" in earlier.highlight


# --- the diff itself, on a policy edited in known places -------------------------------------------

def test_diff_finds_exactly_the_edits(seed_index):
    from index.config import get_config
    from index.embedder import embed
    from qa.policy_diff import diff_statements, statements_from_text

    old = (PROJECT / "corpus" / "comindware-2019-04-10.md").read_text()
    new = old.replace("within 30 days of you asking", "within 90 days of you asking")
    cut = new.index("## Is My Personal Data Secure?"), new.index("## How Long do Comindware Keep")
    new = new[:cut[0]] + new[cut[1]:]
    new = new.replace("## Contact Information", "## Children\n\nOur services are not directed to children under the "
                      "age of 16. If we learn that we have collected personal data from a child under 16, we will "
                      "delete it.\n\n## Contact Information")
    new = new.replace("We will alert you to material changes by placing a notice on our Website, when we are required",
                      "We will not alert you to material changes by placing a notice on our Website, unless we are "
                      "required")
    new = new.replace("You can opt-out of receiving certain marketing communications from us at any time, by using "
                      "the unsubscribe link in the emails communications we send.",
                      "You may unsubscribe from our marketing emails whenever you like, using the link at the bottom "
                      "of every email.")
    model = get_config().model
    diff = diff_statements(statements_from_text(old, "old.md"), statements_from_text(new, "new.md"),
                           lambda texts: embed(model, texts))
    changed = {(c.old.text, c.new.text): c.signals for c in diff.changed}
    assert len(changed) == 2
    assert any("30 days" in o and "90 days" in n and "numbers" in s for (o, n), s in changed.items())
    assert any("will alert" in o and "will not alert" in n and "negation" in s for (o, n), s in changed.items())
    assert [d.topic for d in diff.added] == ["Children"]
    assert [d.topic for d in diff.removed] == ["Is My Personal Data Secure?"]
    assert diff.reworded == 1  # the unsubscribe sentence, said in other words


def test_a_clearly_better_older_answer_comes_first_and_says_so(seed_index):
    # Only the 2014 policy writes "third-party advertising networks that collect IP addresses";
    # the judge holds it far more likely than anything of 2017's, so it answers first, and the
    # answer says the current policy does not say this directly; the 2017 version follows.
    answer = ask("Is Azalead working with ad networks that collect IP addresses?")
    first = answer.citations[0]
    assert first.policy_date == "2014-06-25" and "advertising networks" in first.highlight, answer.text
    assert "current policy (2017-12-31) does not say this directly" in answer.text
    assert any(c.policy_date == "2017-12-31" for c in answer.citations)


def test_the_newest_version_answers_when_it_holds_half_the_topic(seed_index):
    # Azalead 2017: "Your information is stored on our servers located in the United States." (no "country");
    # 2014 writes "other countries" in a sentence that does not say where data is kept.
    answer = ask("Which country does Azalead store my information in?")
    assert answer.citations[0].policy_date == "2017-12-31", answer.text
    assert "United States" in answer.citations[0].highlight and "does not say this directly" not in answer.text


@pytest.mark.xfail(strict=True, reason="round 46's cross-encoder finds 2014's 'Azalead uses robust security measures to "
                   "protect Customer Data ...' 0.60 likely against 2017's encryption sentence 0.20, beyond NEWEST_MARGIN; "
                   "the older version answers, labelled as such (seed-style version accuracy 31 -> 32 of 32; "
                   "docs/quality.md, round 46)")
def test_a_phrase_alone_does_not_outrank_the_newest_answer(seed_index):
    # Only 2014 writes "security measures", but 2017 names its tools (encryption, passwords): the
    # newest version answers, since its best sentence does not merely hold the phrase's words apart.
    answer = ask("Which security measures keep my information safe at Azalead?")
    assert answer.citations[0].policy_date == NEW and "encryption" in answer.citations[0].highlight, answer.text


def test_an_older_version_with_the_wanted_time_limit_answers(seed_index):
    # 2017 speaks of deleting cookies, not of how soon a request is handled; 2014 gives "within 30 days".
    answer = ask("If I ask Azalead to erase my data, how long will that take?")
    assert answer.citations[0].policy_date == OLD and "within 30 days" in answer.citations[0].highlight, answer.text


