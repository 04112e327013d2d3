"""The answer judge on small inline cases: negation, a user's right against the company's practice,
a definition, and silence. Real model, real judge weights, a real index of a tiny policy."""
from __future__ import annotations

import pytest

from qa import ask
from qa.polarity import states_own_practice

ACME = """# Acme Widgets privacy policy

Last updated: March 3, 2021

## Selling data

Acme does not sell your personal information to anyone.

California residents have the right to opt out of the sale of their personal information.

## Cookies

A cookie is a small text file stored on your device by a website.

## Your account

You can view your order history and download your invoices in your account.

## Keeping your data

We keep your order history for 30 days after you close your account, then delete it.

## Sharing

We share your email address with Mailchimp, which sends our newsletter.
"""


@pytest.fixture
def acme(tmp_path, monkeypatch):
    corpus = tmp_path / "acme-corpus"
    corpus.mkdir()
    (corpus / "acme.md").write_text(ACME, encoding="utf-8")
    monkeypatch.setenv("POLICYQA_CORPUS", str(corpus))
    return corpus


def test_a_denial_leads_with_no_and_quotes_it(acme):
    answer = ask("Does Acme sell my personal information?")
    assert answer.found
    assert "does not sell" in answer.citations[0].highlight
    assert answer.text.startswith("No.")


def test_a_users_right_is_not_the_companys_practice():
    assert not states_own_practice("California residents have the right to opt out of the sale of their data.")
    assert not states_own_practice("You have the right to ask us to delete your data.")
    assert states_own_practice("Acme does not sell your personal information to anyone.")


def test_a_definition_gives_no_lead(acme):
    assert not states_own_practice("A cookie is a small text file stored on your device by a website.")
    answer = ask("Does Acme put cookies on my computer?")
    assert not answer.text.startswith(("Yes", "No"))


def test_the_sentence_that_answers_is_the_highlight(acme):
    answer = ask("How long does Acme keep my order history?")
    assert answer.found
    assert "30 days" in answer.citations[0].highlight


def test_a_how_long_question_in_everyday_words_gets_the_period(acme):
    # "hang on to" is not the policy's word; the sentence that states a period beats the one that
    # repeats "order history" without saying how long.
    answer = ask("How long does Acme hang on to my order history?")
    assert answer.found
    assert "30 days" in answer.citations[0].highlight, answer.text


def test_words_read_in_context_meet_their_synonyms():
    import numpy as np

    from index.config import get_config
    from index.embedder import embed_words

    _, (question, sentence) = embed_words(get_config().model, [
        "Can I get my data erased?", "We delete your data when you ask. Cookies are small files."])
    erased = dict(question)["erased"]
    near = {word: float(np.dot(erased, vector)) for word, vector in sentence}
    assert near["delete"] > near["Cookies"] and near["delete"] > near["files"], near


def test_kept_word_vectors_are_the_ones_a_fresh_encoding_makes(monkeypatch):
    import numpy as np

    import index.embedder as embedder
    from index.config import get_config

    model = get_config().model
    texts = ["We keep your order history for 30 days.", "You may ask us to erase it.", "Cookies are small files."]
    embedder.forget_words()
    fresh_vectors, fresh_words = embedder.embed_words(model, texts)
    monkeypatch.setattr(embedder, "WORDS_KEPT", 2)
    embedder.forget_words()
    embedder.embed_words(model, texts[:2])
    assert set(embedder._words) == {(model, t) for t in texts[:2]}
    vectors, words = embedder.embed_words(model, [texts[2], texts[0], texts[2]])  # texts[1] is the oldest: dropped
    assert set(embedder._words) == {(model, texts[0]), (model, texts[2])}
    assert np.array_equal(vectors, fresh_vectors[[2, 0, 2]])
    for got, want in zip(words, [fresh_words[2], fresh_words[0], fresh_words[2]]):
        assert [w for w, _ in got] == [w for w, _ in want]
        assert all(np.array_equal(a, b) for (_, a), (_, b) in zip(got, want))
    embedder.forget_words()
    assert not embedder._words


def test_a_named_third_party_is_found(acme):
    answer = ask("Does Acme share my email with Mailchimp?")
    assert answer.found
    assert "Mailchimp" in answer.citations[0].highlight


@pytest.mark.parametrize("question", [
    "Does Acme use facial recognition on my photos?",
    "Does Acme share my data with Salesforce?",
])
def test_silence_is_said_and_nothing_is_cited(acme, question):
    answer = ask(question)
    assert not answer.found
    assert answer.citations == []
    assert "Acme" in answer.text


def test_another_partys_practice_in_a_relative_clause_gives_no_lead():
    from qa.polarity import read_lead
    from qa.question import Understood

    understood = Understood(question="Does Acme sell my data?", companies=["Acme"], content_words=["sell"])
    assert read_lead(understood, "We receive orders from the stores that sell our widgets.") is None
    assert read_lead(understood, "We sell your data to advertisers.").said == "Yes"
    assert read_lead(understood, "We do not sell your data.").said == "No"


def test_do_not_track_in_lower_case_is_a_name_by_the_thing_it_names():
    from qa.polarity import read_lead, without_named_nots
    from qa.question import Understood

    assert without_named_nots("We honor do not track signals.") == "We honor dnt signals."
    assert without_named_nots("Our site ignores do-not-track requests.") == "Our site ignores dnt requests."
    assert without_named_nots("We do not track you across sites.") == "We do not track you across sites."
    understood = Understood(question="Does Acme honor Do Not Track signals?", companies=["Acme"],
                            content_words=["honor", "track", "signals"])
    assert read_lead(understood, "We honor do not track signals sent by your browser.").said == "Yes"
    assert read_lead(understood, "We do not honor do not track signals.").said == "No"


def test_a_hedged_negation_is_neither_yes_nor_no():
    from qa.polarity import read_lead, sentence_stance
    from qa.question import Understood

    understood = Understood(question="Does Acme delete my data?", companies=["Acme"], content_words=["delete", "data"])
    hedged = "We may not immediately delete your data from our backup systems."
    assert read_lead(understood, hedged) is None and sentence_stance(understood, hedged) is None
    assert read_lead(understood, "We do not delete your data.").said == "No"


def test_a_question_after_a_lead_in_or_naming_a_condition_can_be_answered_yes_or_no():
    from qa.polarity import read_lead
    from qa.question import Understood

    iffy = Understood(question="If I close my account, will Acme delete my data?", companies=["Acme"],
                      content_words=["close", "account", "delete", "data"])
    assert read_lead(iffy, "When you close your account we delete your data within 30 days.").said == "Yes"
    consent = Understood(question="Will Acme sell my health information without my permission?", companies=["Acme"],
                         content_words=["sell", "health", "information", "permission"])
    reading = read_lead(consent, "We will not sell your health information without your prior written authorization.")
    assert reading.said == "No" and reading.speaks
    negative = Understood(question="Doesn't Acme sell my data?", companies=["Acme"], content_words=["sell", "data"])
    assert read_lead(negative, "We do not sell your data.") is None


def test_boilerplate_nots_deny_nothing_and_a_denied_verb_after_and_is_its_own_clause():
    from qa.polarity import read_lead
    from qa.question import Understood

    ssn = Understood(question="Does Acme collect my social security number?", companies=["Acme"],
                     content_words=["collect", "social", "security", "number"])
    listed = "This would include, but is not limited to, your full name, postal address and social security number."
    assert read_lead(ssn, listed).said == "Yes"
    mask = Understood(question="Does Acme mask IP addresses in Google Analytics?", companies=["Acme"],
                      content_words=["mask", "ip", "addresses", "google", "analytics"])
    assert read_lead(mask, "We mask IP-addresses and do not allow Google to share this data with others.").said == "Yes"
    share = Understood(question="Does Acme share my data?", companies=["Acme"], content_words=["share", "data"])
    assert read_lead(share, "We collect your data and do not share it with anyone.").said == "No"
    assert read_lead(share, "We collect your data and share it with our partners.").said == "Yes"


def test_a_condition_states_no_practice_and_a_question_s_without_meets_the_sentence_s():
    from qa.polarity import read_lead
    from qa.question import Understood

    child = Understood(question="Can a child under 13 living in the United States open an Acme account?",
                       companies=["Acme"], content_words=["child", "13", "living", "united", "states", "open", "account"])
    sentence = "You cannot open an account if you are under the age of 13 and you live in the United States."
    assert read_lead(child, sentence).said == "No"
    notice = Understood(question="Can Acme change its privacy policy without telling me?", companies=["Acme"],
                        content_words=["change", "privacy", "policy", "telling"])
    assert read_lead(notice, "We may change this Privacy Policy at any time without notice.").said == "Yes"
    unasked = Understood(question="Does Acme sell my data?", companies=["Acme"], content_words=["sell", "data"])
    assert read_lead(unasked, "We never sell your data without your consent.").said == "No"


def test_a_reason_states_no_practice_and_a_denied_introduction_denies_its_list():
    from qa.polarity import read_lead
    from qa.question import Understood

    dnt = Understood(question="Does Acme respond to Do Not Track browser signals?", companies=["Acme"],
                     content_words=["respond", "dnt", "browser", "signals"])
    reason = ("Because the \u201cDo Not Track\u201d browser-based standard signal has yet to gain widespread "
              "acceptance, we don\u2019t currently respond to those signals.")
    assert read_lead(dnt, reason).said == "No"
    assert read_lead(dnt, "Because our partners asked us to, we respond to Do Not Track browser signals.").said == "Yes"
    cookies = Understood(question="Can I opt out of Acme's required cookies?", companies=["Acme"],
                         content_words=["opt", "required", "cookies"])
    essential = ("Because required cookies are essential to operate the Services, there is no option to opt out "
                 "of these cookies.")
    assert read_lead(cookies, essential).said == "No"  # the reason ends at its comma and decides nothing
    sell = Understood(question="Does Acme sell my data to other companies?", companies=["Acme"],
                      content_words=["sell", "data", "companies"])
    assert read_lead(sell, "At Acme we undertake not to: \u2026 Sell or share your data to any other companies").said == "No"
    assert read_lead(sell, "At Acme we undertake to: \u2026 Sell your data only to other companies we trust").said == "Yes"
    numbered = "At Acme we undertake not to:\n\n3.  Sell or share your data to any other companies"
    assert read_lead(sell, numbered).said == "No"  # the list number's full stop ends nothing


def test_a_concession_states_a_practice():
    from qa.polarity import read_lead
    from qa.question import Understood

    dnt = Understood(question="Does Acme respond to Do Not Track requests?", companies=["Acme"],
                     content_words=["respond", "dnt", "requests"])
    concession = ('Although our servers currently don\'t respond to "do-not-track" requests, you can block '
                  "tracking in other ways.")
    assert read_lead(dnt, concession).said == "No"
    sell = Understood(question="Does Acme sell my data?", companies=["Acme"], content_words=["sell", "data"])
    assert read_lead(sell, "Although we never sell your data, we may provide it to our service providers.").said == "No"
    assert read_lead(sell, "Though we sell your data to partners, we never rent it.") is None  # clauses disagree


def test_the_reading_says_whether_the_sentence_speaks_to_the_whole_question():
    from dataclasses import replace

    from qa.compose import _lead
    from qa.judge import get_judge
    from qa.polarity import read_lead
    from qa.question import Understood

    understood = Understood(question="Will Acme pass my personal info to advertisers?", companies=["Acme"],
                            content_words=["pass", "personal", "info", "advertisers"])
    sentence = "We will never share your personal information with advertisers."
    reading = read_lead(understood, sentence)
    assert reading.said == "No" and not reading.speaks  # "pass" is not written: the strict reading gives no lead
    strict = replace(get_judge(), lead_gate={})  # the overview's judge: no gate, so the strict reading decides
    assert _lead(understood, sentence, 0.9, strict) is None
    assert _lead(understood, "We will never pass your personal info to advertisers.", 0.9, strict) == "No"


def test_the_lead_gate_trusts_a_plain_denial_more_than_a_hedged_exception():
    from qa.judge import get_judge
    from qa.polarity import lead_features, read_lead
    from qa.question import Understood

    judge = get_judge()
    assert judge.lead_gate, "qa/data/judge.json has no lead gate"
    sell = Understood(question="Does Acme sell my data?", companies=["Acme"], content_words=["sell", "data"])
    plain = "We do not sell your data."
    hedged = "We may sell your data to partners only if you agree, except where the law says otherwise."

    def gate(sentence, probability):
        return judge.lead_probability(lead_features(sell, sentence, read_lead(sell, sentence), probability))

    assert gate(plain, 0.9) >= judge.lead_gate_at
    assert gate(hedged, 0.9) < gate(plain, 0.9)
    assert gate(plain, 0.3) < gate(plain, 0.9)  # a surer sentence makes a surer lead


def test_a_lead_needs_the_judge_and_the_gate(acme):
    from dataclasses import replace

    from qa.compose import _lead
    from qa.judge import get_judge
    from qa.question import Understood

    judge = get_judge()
    sell = Understood(question="Does Acme sell my data?", companies=["Acme"], content_words=["sell", "data"])
    assert _lead(sell, "We do not sell your data.", 0.9, judge) == "No"
    assert _lead(sell, "We do not sell your data.", judge.answers / 2, judge) is None  # the sentence does not answer
    assert _lead(sell, "We do not sell your data.", None, judge) is None
    # Without a gate (the overview's strict reading) a sentence needs ``lead`` before its reading counts.
    strict = replace(judge, lead_gate={})
    assert _lead(sell, "We do not sell your data.", judge.lead, strict) == "No"
    assert _lead(sell, "We do not sell your data.", (judge.answers + judge.lead) / 2, strict) is None


def test_the_shortlist_keeps_a_late_candidate_that_writes_the_questions_words():
    """Only the shortlisted candidates are encoded and judged: one that writes the question's topic
    is kept even from the last passage; without shortlist weights every candidate is read."""
    from qa.judge import Judge, get_judge

    rows = [{"lexical": 0.3, "coverage": 0.0, "names": 1.0, "duration": 0.0, "position": i / 16} for i in range(16)]
    rows[14].update(lexical=0.9, coverage=1.0)
    judge = get_judge()
    kept = judge.shortlisted_rows(rows)
    assert len(kept) == judge.shortlisted < len(rows)
    assert 14 in kept and kept == sorted(kept) and 15 not in kept
    assert Judge().shortlisted_rows(rows) == list(range(16))


TOPICS = ["orders", "newsletters", "support tickets", "reviews", "wish lists", "gift cards"]


def _many_sections_policy(tmp_path, monkeypatch, extra: str = "") -> None:
    """Acme's policy of one four-sentence section per topic of ``TOPICS`` (and ``extra``), as the corpus."""
    sections = [f"## {t.title()}\n\nWe store your {t} on our servers in Ireland. Staff read your {t} only to help you. "
                f"You can export your {t} from your account page. Your {t} are kept while your account is open.\n"
                for t in TOPICS]
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "acme.md").write_text("# Acme privacy policy\n\n" + "\n".join(sections) + extra)
    monkeypatch.setenv("POLICYQA_CORPUS", str(corpus))


def test_only_shortlisted_sentences_are_judged(tmp_path, monkeypatch):
    from index.config import get_config
    from index.embedder import embed_query
    from qa.answer import ensure_index
    from qa.evidence import candidate_sentences, judge_sentences
    from qa.judge import get_judge
    from qa.question import understand
    from qa.retrieve import query_stems

    _many_sections_policy(tmp_path, monkeypatch,
                          "\n## Selling data\n\nAcme does not sell your personal information to anyone.\n")
    config = get_config()
    view = ensure_index(config, progress=False)
    understood = understand("Does Acme sell my data?", list(view.policies.values()))
    vector = embed_query(config.model, understood.question, config.query_adapter)
    hits = view.hits(vector, query_stems(understood), list(view.policies), k=15)
    shortlisted = get_judge(config).shortlisted
    assert len(candidate_sentences(view, hits)) > shortlisted
    judged = judge_sentences(view, understood, hits, config, vector)
    assert len(judged) == shortlisted
    assert judged[0].text == "Acme does not sell your personal information to anyone."
    every = judge_sentences(view, understood, hits, config, vector, shortlisted=len(candidate_sentences(view, hits)))
    assert len(every) == len(candidate_sentences(view, hits))


def test_before_saying_not_stated_the_judge_reads_every_further_candidate(tmp_path, monkeypatch):
    """The first reading judges the shortlist; the second, made before the answer says "not stated", encodes
    and judges every candidate of the passages it reads (``further_shortlisted`` of qa/data/judge.json): an
    answer in other words than the question's is what the shortlist drops (docs/quality.md, round 42)."""
    import qa.evidence as evidence
    from qa.evidence import FURTHER_PASSAGES, FURTHER_SENTENCES
    from qa.judge import get_judge

    _many_sections_policy(tmp_path, monkeypatch)
    judge = get_judge()
    assert judge.further_shortlisted >= FURTHER_SENTENCES > judge.shortlisted
    real, readings = evidence.judge_sentences, []

    def reading(*args, **kwargs):
        readings.append(real(*args, **kwargs))
        return readings[-1]

    monkeypatch.setattr(evidence, "judge_sentences", reading)
    answer = ask("Does Acme use facial recognition on my photos?")
    assert not answer.found and len(readings) == 2
    assert len(readings[0]) == judge.shortlisted
    assert len(readings[1]) == min(len(TOPICS) * 4, FURTHER_SENTENCES)  # every sentence of the further passages


def test_a_quoted_do_not_track_is_a_name_not_a_negation():
    from qa.polarity import sentence_stance
    from qa.question import understand

    understood = understand("Does JBS honour Do Not Track signals?", [])
    assert sentence_stance(understood, "If you turn on the “do not track” setting in your web browser, JBS will honor that setting.") == "yes"
    assert sentence_stance(understood, "We do not track you across websites, and we do not honor Do Not Track signals.") == "no"


def test_the_judge_reads_further_before_saying_not_stated(seed_index):
    """Azalead's 2017 policy lists a merger among the cases it discloses data in, past the sentences
    the judge reads first: before answering "not stated" it reads further down the retrieved passages."""
    from index.config import get_config
    from index.embedder import embed_query
    from qa import ask
    from qa.answer import ensure_index
    from qa.evidence import judge_sentences
    from qa.judge import get_judge
    from qa.question import search_text, understand
    from qa.retrieve import RETRIEVED, choose_versions, query_stems

    question = "Does Azalead disclose my information if it merges with another company?"
    config = get_config()
    view = ensure_index(config, progress=False)
    policies = list(view.policies.values())
    understood = understand(question, policies)
    docs, _, _ = choose_versions(understood, policies)
    named = [p for p in policies if p.company in understood.companies]
    vector = embed_query(config.model, search_text(question, named), config.query_adapter)
    hits = view.hits(vector, query_stems(understood), docs, k=RETRIEVED)
    first = judge_sentences(view, understood, hits, config, vector)
    assert first[0].probability < get_judge(config).answers  # the first look alone says "not stated"

    answer = ask(question)
    assert answer.found
    assert "should we plan to merge with, or be acquired by, that business entity" in answer.citations[0].highlight


def test_an_item_of_an_unmarked_list_is_quoted_and_read_with_the_sentence_introducing_it(tmp_path, monkeypatch):
    # Plain text without list markers: the items are short lines of their own after a sentence ending with
    # ':'. "Sale of your information" alone reads as a practice; its introduction denies it.
    corpus = tmp_path / "clinic-corpus"
    corpus.mkdir()
    (corpus / "acme.txt").write_text(
        "Acme Clinic notice of privacy practices\n\n"
        "We use your health information to treat you and to run our clinic.\n"
        "In these cases we never share your information unless you give us written permission:\n"
        "Marketing purposes\nSale of your information\nMost sharing of psychotherapy notes\n"
        "We keep your records for seven years after your last visit.\n", encoding="utf-8")
    monkeypatch.setenv("POLICYQA_CORPUS", str(corpus))
    answer = ask("Does Acme sell my personal information?")
    assert answer.found
    assert answer.citations[0].highlight == "Sale of your information"
    assert "“In these cases we never share your information unless you give us written permission: … Sale of your information”" in answer.text
    assert not answer.text.startswith("Yes")


def test_a_list_introduction_reaches_its_item_through_items_of_its_kind_and_is_no_label():
    from types import SimpleNamespace

    from qa.compose import _list_intro

    lines = ["Browsers explain their cookie settings at the following websites:", "Mozilla Firefox: mozilla.org",
             "5. Links to other Websites.", "Parts of our site link to other sites.", "Mailchimp:",
             "We use Mailchimp for our newsletters.", "We collect:", "Your name", "Your e-mail address"]
    text = "\n".join(lines[:3]) + " " + "\n".join(lines[3:]) + "\n"
    spans = [[text.index(s), text.index(s) + len(s)] for s in lines]
    view = SimpleNamespace(source_text=lambda doc: text,
                           doc_chunks={"acme": [{"section": ("Privacy",), "sentences": spans}]})

    def intro(sentence):
        start = text.index(sentence)
        return _list_intro(view, SimpleNamespace(doc="acme", section=("Privacy",), highlight_start=start,
                                                 highlight_end=start + len(sentence)))

    assert intro("Your e-mail address") == "We collect:"
    assert intro("Mozilla Firefox: mozilla.org") == lines[0]
    assert intro("Parts of our site link to other sites.") is None  # the unmarked line is no numbered item
    assert intro("We use Mailchimp for our newsletters.") is None  # a label introduces nothing


def test_the_leads_second_reader_reads_yes_and_no():
    from index.config import get_config
    from qa.cross_encoder import yes_probability

    config = get_config()
    assert yes_probability("Does Acme sell my data?", "Acme never sells your personal data to anyone.", config) < 0.1
    assert yes_probability("Does Acme use cookies?", "We use cookies to remember your preferences.", config) > 0.9
    assert yes_probability("Will Acme pass my email address on to other companies?",
                           "Such addresses are not used for any other purpose and are not shared with outside parties.",
                           config) < 0.5


def test_the_second_reader_drops_a_lead_it_doubts_and_gives_one_the_gate_withholds(monkeypatch):
    import qa.cross_encoder
    from index.config import get_config
    from qa.compose import _lead
    from qa.judge import get_judge
    from qa.question import Understood

    judge, config = get_judge(), get_config()
    assert judge.polarity_veto is not None and judge.polarity_adds is not None
    sell = Understood(question="Does Acme sell my data?", companies=["Acme"], content_words=["sell", "data"])
    denial = "Acme does not sell your personal data to anyone."
    assert _lead(sell, denial, 0.9, judge) == "No"  # no config: the gate alone
    assert _lead(sell, denial, 0.9, judge, config) == "No"  # the reader agrees
    monkeypatch.setattr(qa.cross_encoder, "yes_probability", lambda question, sentence, config: 0.99)
    assert _lead(sell, denial, 0.9, judge, config) is None  # it finds "No" 1 % likely: dropped
    withheld = "We may share or sell aggregated information about our visitors with partners, except where you opt out."
    assert _lead(sell, withheld, 0.9, judge) is None  # the gate does not trust a hedged "may ... except"
    assert _lead(sell, withheld, 0.9, judge, config) == "Yes"
    assert _lead(sell, withheld, judge.polarity_floor - 0.01, judge, config) is None  # the sentence is too unlikely
