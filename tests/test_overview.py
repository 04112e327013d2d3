"""The overview grid: verdicts from the answering engine on small real policies, the cache, the
exports, the CLI, the HTTP endpoint on the running chat, and the scorer of labelled grids."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from index.build import build
from index.config import get_config
from index.errors import BadQuestion
from qa import Overview, ask, overview
from qa.overview import NOT_STATED, PRACTICES, decide, practice

PROJECT = Path(__file__).resolve().parent.parent

NOSELL = """# Nosell Privacy Policy

Effective date: March 1, 2021

## What we collect

We collect your name and email address when you create an account.

## Sale of data

We do not sell your personal information.

## Do Not Track

We do not respond to Do Not Track signals.

## Retention

We keep server logs for 30 days and then delete them.

## Children

We do not knowingly collect personal information from children under 13.
"""
MAYSELL = """# Maysell Privacy Policy

Effective date: June 5, 2020

## Sharing and sale

We may sell your personal information to marketing partners.

## Do Not Track

Our website honors Do Not Track signals sent by your browser.

## Retention

We retain your information for as long as necessary to provide the service.
"""
SILENT = """# Quietco Privacy Policy

Effective date: January 2, 2019

## About us

Quietco makes wooden toys in a small workshop. Our shop is open from Monday to Friday.
"""
POLICIES = {"nosell-2021-03-01.md": NOSELL, "maysell-2020-06-05.md": MAYSELL, "quietco-2019-01-02.md": SILENT}


@pytest.fixture(scope="module")
def small_index(tmp_path_factory):
    """Three small policies indexed once for the module (real model, real Chroma)."""
    folder = tmp_path_factory.mktemp("overview")
    corpus, data = folder / "corpus", folder / "data"
    corpus.mkdir()
    for name, text in POLICIES.items():
        (corpus / name).write_text(text, encoding="utf-8")
    old = dict(os.environ)
    os.environ.update({"POLICYQA_CORPUS": str(corpus), "POLICYQA_DATA": str(data)})
    try:
        build(get_config(), progress=False)
    finally:
        os.environ.clear()
        os.environ.update(old)
    return corpus, data


@pytest.fixture
def small(small_index, monkeypatch):
    corpus, data = small_index
    monkeypatch.setenv("POLICYQA_CORPUS", str(corpus))
    monkeypatch.setenv("POLICYQA_DATA", str(data))
    return corpus, data


def _cells(grid: Overview, company: str) -> dict:
    row = next(r for r in grid.rows if r.company == company)
    return {c.practice: c for c in row.cells}


def test_verdicts_quote_the_deciding_sentence(small):
    grid = overview()
    assert [p.id for p in grid.practices] == [p.id for p in PRACTICES] and len(PRACTICES) == 14
    cells = {"Nosell": _cells(grid, "Nosell"), "Maysell": _cells(grid, "Maysell")}
    nosell, maysell = cells["Nosell"], cells["Maysell"]
    expected = {
        ("Nosell", "sale"): ("does not sell", "We do not sell your personal information."),
        ("Nosell", "dnt"): ("does not honour", "We do not respond to Do Not Track signals."),
        ("Nosell", "retention"): ("a stated period", "We keep server logs for 30 days and then delete them."),
        ("Nosell", "children"): ("not directed at children",
                               "We do not knowingly collect personal information from children under 13."),
        ("Nosell", "collection"): ("collects", "We collect your name and email address when you create an account."),
        ("Maysell", "sale"): ("sells or may sell", "We may sell your personal information to marketing partners."),
        ("Maysell", "dnt"): ("honours", "Our website honors Do Not Track signals sent by your browser."),
        ("Maysell", "retention"): ("as long as needed",
                                 "We retain your information for as long as necessary to provide the service."),
    }
    for (company, practice_id), (verdict, sentence) in expected.items():
        cell = cells[company][practice_id]
        assert (cell.verdict, cell.citation and cell.citation.highlight) == (verdict, sentence), (company, practice_id)
        c = cell.citation
        text = Path(c.source).read_text(encoding="utf-8")
        assert text[c.highlight_start:c.highlight_end] == c.highlight and text[c.start:c.end] == c.excerpt
        assert c.doc and c.section and c.company == cell.citation.company
    assert nosell["sale"].citation.policy_date == "2021-03-01"
    # A policy that says nothing about a practice: not stated, and no sentence.
    assert all(c.verdict == NOT_STATED and c.citation is None for c in _cells(grid, "Quietco").values())
    assert maysell["children"].verdict == NOT_STATED and maysell["children"].citation is None


def test_a_verdict_is_the_engines_answer(small):
    """The cell's sentence and polarity are those ``qa.ask`` gives for the same question."""
    answer = ask(practice("dnt").question.format(company="Nosell"), company="Nosell")
    cell = _cells(overview("Nosell"), "Nosell")["dnt"]
    assert answer.text.startswith("No.") and answer.citations[0].highlight == cell.citation.highlight
    assert (answer.citations[0].start, answer.citations[0].end) == (cell.citation.start, cell.citation.end)


def test_the_company_argument_is_read_as_qa_ask_reads_it(tmp_path, monkeypatch):
    """A given company is meant as a name, as ``qa.ask(company=...)`` takes it: "Reveal" (a word
    questions use as a verb) names the company Reveal, in any case."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "reveal.md").write_text(SILENT.replace("Quietco", "Reveal"), encoding="utf-8")
    monkeypatch.setenv("POLICYQA_CORPUS", str(corpus))
    monkeypatch.setenv("POLICYQA_DATA", str(tmp_path / "data"))
    build(get_config(), progress=False)
    for given in ("Reveal", "reveal", "REVEAL"):
        assert [r.company for r in overview(given).rows] == ["Reveal"], given
    with pytest.raises(BadQuestion, match="no indexed policy is from 'Nobody'"):
        overview("Nobody")


def test_unchanged_corpus_computes_nothing_and_a_changed_policy_only_itself(small, monkeypatch):
    import qa.overview  # noqa: F401  (the module, not the function qa.overview)

    module = sys.modules["qa.overview"]
    first = overview()
    again_cells = {}

    def refuse(*args, **kwargs):
        raise AssertionError("a cell was computed for an unchanged policy")

    with monkeypatch.context() as m:
        m.setattr(module, "_Asker", refuse)
        # Nor is the keyword index or the vector store opened: the manifest is enough.
        m.setattr("index.retrieval.IndexView.__init__", refuse)
        again = overview()
        again_cells = {r.doc: r.cells for r in again.rows}
    assert again.computed == 0 and again_cells == {r.doc: r.cells for r in first.rows}
    cache = json.loads((get_config().data_dir / module.CACHE_FILE).read_text())
    assert len(cache["policies"]) == 3


def test_update_after_an_unchanged_build_does_not_open_the_index(small, monkeypatch):
    import qa.overview  # noqa: F401  (the module, not the function qa.overview)

    module = sys.modules["qa.overview"]
    module.update_overview(get_config(), progress=False)

    def refuse(*args, **kwargs):
        raise AssertionError("the index was opened although nothing changed")

    with monkeypatch.context() as m:
        m.setattr("qa.retrieve.ensure_index", refuse)
        assert module.update_overview(get_config(), progress=False) == 0
    # A changed manifest (a build that changed something) is looked at again.
    manifest = get_config().manifest_path
    os.utime(manifest, ns=(manifest.stat().st_atime_ns, manifest.stat().st_mtime_ns + 1))
    with monkeypatch.context() as m:
        m.setattr("qa.retrieve.ensure_index", refuse)
        with pytest.raises(AssertionError, match="nothing changed"):
            module.update_overview(get_config(), progress=False)
    assert module.update_overview(get_config(), progress=False) == 0


def test_csv_and_json_exports_round_trip(small):
    grid = overview()
    assert Overview.from_dict(json.loads(json.dumps(grid.to_dict()))).rows == grid.rows
    back = Overview.from_csv(grid.to_csv())
    assert back.rows == grid.rows and [p.id for p in back.practices] == [p.id for p in grid.practices]
    import csv
    import io

    assert len(list(csv.DictReader(io.StringIO(grid.to_csv())))) == 3 * len(PRACTICES)


def test_cli_overview_as_json_csv_and_text(small):
    def run(*args):
        return subprocess.run([sys.executable, "-m", "qa", "overview", *args], capture_output=True, text=True,
                              cwd=PROJECT, env=dict(os.environ), timeout=300)

    done = run("--company", "nosell", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert [r["company"] for r in data["rows"]] == ["Nosell"]
    sale = next(c for c in data["rows"][0]["cells"] if c["practice"] == "sale")
    assert sale["verdict"] == "does not sell" and sale["citation"]["highlight"] == "We do not sell your personal information."
    done = run("--csv")
    assert done.returncode == 0 and Overview.from_csv(done.stdout).rows == overview().rows
    done = run("--company", "Maysell")
    assert done.returncode == 0 and "sells or may sell" in done.stdout and "honors Do Not Track" in done.stdout
    done = run("--company", "Nobody Inc")
    assert done.returncode == 2 and "Nobody Inc" in done.stderr and "Traceback" not in done.stderr


def test_decide_never_reads_a_denial_elsewhere_as_the_practices():
    """The opposite verdicts the grid must never give (docs/overview-practices.md)."""
    sale, dnt, ads, sharing = practice("sale"), practice("dnt"), practice("advertising"), practice("sharing")
    # A negation in another clause, or by another subject, denies nothing of the company's own.
    assert decide(sale, "No", "no", "Third parties do not sell personal information that the Guardian sold to them.",
                  company="The Guardian") == NOT_STATED
    assert decide(ads, "No", "no", "While we do not share your personal data with the ad network, it serves the ads.",
                  company="Acme") == NOT_STATED
    # A negation at the practice's own verb is a denial whatever the lead.
    assert decide(dnt, "Yes", "yes", "We do not alter our practices when the Service receives a DNT signal.") == \
        "does not honour"
    assert decide(sharing, "Yes", "yes", "We do not (and will never) sell, license or share any of the data.",
                  company="Acme") == "does not share"
    assert decide(sharing, "No", "no", "We do not share your data with third parties except with our service "
                                       "providers.", company="Acme") == \
        "shares only with service providers or when required by law"
    assert decide(sale, None, "yes", "We may sell your data.") == NOT_STATED  # no lead: undecided


def test_a_denial_needs_the_judges_own_threshold_other_verdicts_the_overviews():
    from qa.judge import Judge
    from qa.overview import _Asker

    class Judged(_Asker):
        """The cell's choice over given candidates (probability, verdict, citation), most probable first."""

        def __init__(self, judge, found):
            self.judge, self.found = judge, found

        def candidates(self, info, practice):
            yield from self.found

        def read(self, candidates, practice):
            yield from candidates  # the verdicts as given, without the learnt reader

    judge = Judge(answers=0.10, lead=0.25, overview=0.04)
    sale = practice("sale")
    assert Judged(judge, [(0.06, sale.no, None), (0.05, sale.yes, None)]).cell(None, sale).verdict == sale.yes
    assert Judged(judge, [(0.06, sale.no, None)]).cell(None, sale).verdict == NOT_STATED
    assert Judged(judge, [(0.12, sale.no, None)]).cell(None, sale).verdict == sale.no
    assert Judged(judge, [(0.08, NOT_STATED, None), (0.03, sale.yes, None)]).cell(None, sale).verdict == NOT_STATED
    # Without an overview threshold every verdict needs the judge's own.
    assert Judged(Judge(answers=0.10, lead=0.25), [(0.06, sale.yes, None)]).cell(None, sale).verdict == NOT_STATED


def test_the_shipped_reader_reads_every_practice_in_its_own_verdicts():
    from qa.practice_reader import NONE, get_reader

    reader = get_reader()
    assert set(reader.models) == {p.id for p in PRACTICES} and reader.states == 0.1
    for p in PRACTICES:
        assert NONE in reader.models[p.id].classes and set(reader.models[p.id].classes) <= set(p.verdicts) | {NONE}


def test_the_readers_verdict_decides_and_its_denial_needs_the_words_denial_too(monkeypatch):
    from qa import practice_reader
    from qa.overview import _Asker

    def Reader(verdict):
        """The shipped reader's rules around a reading fixed to ``verdict``."""
        class Fixed(practice_reader.PracticeReader):
            def reads(self, practice, vector, probability, words):
                return verdict, 0.9

        return Fixed()

    sale = practice("sale")
    asker = _Asker.__new__(_Asker)
    read = lambda reader, found: (monkeypatch.setattr(practice_reader, "get_reader", lambda: reader),
                                  [v for _, v, _ in asker.read(found, sale)])[1]
    assert read(Reader(sale.yes), [(0.5, NOT_STATED, None, None)]) == [sale.yes]  # the words missed it
    assert read(Reader(None), [(0.5, sale.yes, None, None)]) == [NOT_STATED]  # the reader finds no verdict
    assert read(Reader(sale.no), [(0.5, sale.yes, None, None), (0.5, NOT_STATED, None, None)]) == [NOT_STATED] * 2
    assert read(Reader(sale.no), [(0.5, sale.no, None, None)]) == [sale.no]


def test_the_not_in_do_not_track_denies_nothing():
    """The name "Do Not Track" (capitalised or quoted) holds a "not" that is no denial (grid 7's JBS cell)."""
    dnt = practice("dnt")
    assert decide(dnt, "Yes", "yes", "When we receive a Do Not Track signal from your browser, we honor it.") == "honours"
    assert decide(dnt, "Yes", "yes", "If you turn on the “do not track” setting in your web browser, JBS will honor "
                                     "that setting.", company="JBS") == "honours"
    assert decide(dnt, "Yes", "yes", "We do not honor Do Not Track signals.") == "does not honour"
    assert decide(dnt, None, "no", "At this time we do not respond to browser do not track signals.") == "does not honour"


def test_overview_endpoint_on_the_running_chat(chat_app):
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    client = Client(chat_app.url, verbose=False)
    grid = client.predict(api_name="/overview")
    assert sorted(r["company"] for r in grid["rows"]) == ["Axosoft", "Azalead", "Azendoo", "Comindware"]
    assert [p["id"] for p in grid["practices"]] == [p.id for p in PRACTICES]
    azalead = next(r for r in grid["rows"] if r["company"] == "Azalead")
    assert azalead["policy_date"] == "2017-12-31" and azalead["previous_date"] == "2014-06-25"
    dnt = next(c for c in azalead["cells"] if c["practice"] == "dnt")
    assert dnt["verdict"] == "does not honour" and dnt["changed"] and dnt["previous"] == NOT_STATED
    assert "source" not in dnt["citation"] and dnt["citation"]["doc"] == "azalead-2017-12-31.md"
    policy = client.predict(dnt["citation"]["doc"], dnt["citation"]["start"], dnt["citation"]["end"],
                            dnt["citation"]["highlight_start"], dnt["citation"]["highlight_end"], api_name="/policy")
    assert '<mark class="pq-highlight">' in policy and "DNT" in policy
    old = client.predict("Azalead", "2014-06-25", api_name="/overview")
    assert [(r["company"], r["policy_date"], r["previous_date"]) for r in old["rows"]] == [("Azalead", "2014-06-25", None)]
    with pytest.raises(AppError, match="2014-06-25|2017-12-31"):
        client.predict("Azalead", "2001-01-01", api_name="/overview")


def test_scorer_counts_correct_and_opposite_cells(seed_index, tmp_path):
    from evaluation.overview import format_report, is_opposite, read_grid, score

    grid = tmp_path / "grid.jsonl"
    grid.write_text("\n".join(json.dumps(line) for line in [
        {"company": "Azalead", "policy_date": "2017-12-31", "practice": "dnt", "verdict": "does not honour"},
        {"company": "Azalead", "policy_date": "2017-12-31", "practice": "sale", "verdict": "sells or may sell"},
        {"company": "Axosoft", "labels": {"dnt": "not stated", "children": "not stated",
                                          "sale": {"verdict": "does not sell"}}},
        {"company": "Comindware", "practice": "nonsense", "verdict": "yes"},
    ]) + "\nnot json\n")
    labels, problems = read_grid(grid)
    assert len(labels) == 6 and problems == ["line 5: not JSON (Expecting value: line 1 column 1 (char 0))"]
    report = score(labels, get_config())
    # Axosoft's sale cell is "not stated" since round 47 (test_axosoft_denies_selling_in_the_overview).
    assert (report.cells, report.correct) == (5, 3) and report.accuracy == 0.6
    assert [(m["company"], m["practice"], m["verdict"]) for m in report.opposite] == [("Azalead", "sale", "does not sell")]
    assert report.per_practice["dnt"] == [2, 2] and any("nonsense" in p for p in report.problems)
    assert "accuracy: 60.0%" in format_report(report) and "OPPOSITE Azalead" in format_report(report)
    assert is_opposite("yes", "no") and is_opposite("honours", "does not honour")
    assert not is_opposite("shares", "shares only with service providers or when required by law")


@pytest.mark.xfail(strict=True, reason="round 47: the lead's second reader finds 'Yes' 0.19 likely for Axosoft's "
                   "'We may share information as mentioned below but we do not sell it to third parties', over its "
                   "veto of 0.1, so the denial decides nothing (docs/quality.md)")
def test_axosoft_denies_selling_in_the_overview(seed_index):
    from qa.overview import overview

    cell = overview("Axosoft", config=get_config()).rows[0].cell("sale")
    assert cell.verdict == "does not sell" and "we do not sell it to third parties" in cell.citation.highlight


def test_index_commands_compute_the_new_policies_cells_once(tmp_path):
    corpus, data = tmp_path / "corpus", tmp_path / "data"
    corpus.mkdir()
    (corpus / "nosell-2021-03-01.md").write_text(NOSELL, encoding="utf-8")
    env = {**os.environ, "POLICYQA_CORPUS": str(corpus), "POLICYQA_DATA": str(data)}

    def index(*args):
        done = subprocess.run([sys.executable, "-m", "index", *args, "--json"], capture_output=True, text=True,
                              cwd=PROJECT, env=env, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        return json.loads(done.stdout)

    assert index()["overview_cells"] == len(PRACTICES)
    assert index()["overview_cells"] == 0  # unchanged: nothing computed
    (tmp_path / "maysell.md").write_text(MAYSELL, encoding="utf-8")
    added = index("add", str(tmp_path / "maysell.md"))
    assert added["overview_cells"] == len(PRACTICES) and added["added"][0]["company"] == "Maysell"
    cache = json.loads((data / "overview.json").read_text())
    assert sorted(p["company"] for p in cache["policies"].values()) == ["Maysell", "Nosell"]


def test_a_yes_no_verdict_needs_a_sentence_at_least_the_overviews_lead_floor(small, tmp_path):
    """Sale takes its verdict only from the engine's strict Yes/No (``needs_lead``), read from a sentence at least
    ``overview_lead`` likely: with the floor out of reach, Maysell's "We may sell your personal information"
    decides nothing; with the shipped floor it says the policy may sell."""
    from dataclasses import replace

    from qa.judge import CALIBRATION
    from qa.overview import _Asker
    from qa.retrieve import ensure_index

    config = get_config()
    view = ensure_index(config, progress=False)
    info = next(p for p in view.policies.values() if p.company.lower() == "maysell")
    sale = practice("sale")

    def verdicts(floor):
        judge = json.loads(CALIBRATION.read_text())
        judge["overview_lead"] = floor
        path = tmp_path / f"judge-{floor}.json"
        path.write_text(json.dumps(judge))
        return {v for _, v, _, _ in _Asker(view, replace(config, judge=path)).candidates(info, sale)}

    shipped = json.loads(CALIBRATION.read_text())["overview_lead"]
    assert sale.yes in verdicts(shipped)
    assert sale.yes not in verdicts(1.0)
