"""The running chat app, driven through `gradio_client` as any API user would."""
from __future__ import annotations

import re

import os
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest

from apprunner import PROJECT, free_port, http_status, start_app

CORPUS = PROJECT / "corpus"


@pytest.fixture(scope="module")
def client(chat_app):
    from gradio_client import Client

    return Client(chat_app.url, verbose=False)


def test_ask_endpoint_cites_comindware_with_salesforce_highlighted(client):
    answer = client.predict("Does Comindware share data with Salesforce?", api_name="/ask")
    assert answer["found"] is True and "[1]" in answer["text"]
    first = answer["citations"][0]
    assert first["company"] == "Comindware" and first["policy_date"] == "2019-04-10"
    assert "Salesforce" in first["highlight"] and first["highlight"] in first["excerpt"]
    assert first["section"] and "source" not in first  # no server paths leave the server
    text = (CORPUS / first["doc"]).read_text(encoding="utf-8")
    assert text[first["start"]:first["end"]] == first["excerpt"]
    assert text[first["highlight_start"]:first["highlight_end"]] == first["highlight"]


def test_ask_endpoint_answers_across_companies_without_server_paths(client):
    answer = client.predict("Which companies share data with Salesforce?", api_name="/ask")
    assert answer["kind"] == "companies"
    states = [f for f in answer["companies"] if f["status"] == "states"]
    assert [f["company"] for f in states] == ["Comindware"]
    assert "Salesforce" in states[0]["citations"][0]["highlight"]
    assert "source" not in _keys(answer) and str(PROJECT) not in repr(answer)


def test_ask_endpoint_compares_two_versions_with_both_dates(client):
    answer = client.predict("What changed in Azalead's privacy policy between 2014 and 2017?", api_name="/ask")
    assert answer["kind"] == "versions" and answer["versions"] == ["2014-06-25", "2017-12-31"]
    changed = [c for c in answer["changes"] if c["kind"] == "changed"]
    notice = next(c for c in changed if "thirty (30) business days" in c["old"]["highlight"])
    assert notice["old"]["policy_date"] == "2014-06-25" and notice["new"]["policy_date"] == "2017-12-31"
    assert "30 days after" in notice["new"]["highlight"]
    for change in answer["changes"]:
        assert (change["old"] is None) == (change["kind"] == "added")
        assert (change["new"] is None) == (change["kind"] == "removed")
    assert "source" not in _keys(answer)


def _keys(data) -> set[str]:
    if isinstance(data, dict):
        return set(data) | {k for v in data.values() for k in _keys(v)}
    if isinstance(data, list):
        return {k for v in data for k in _keys(v)}
    return set()


def test_ask_endpoint_says_plainly_when_the_policy_is_silent(client):
    answer = client.predict("Does Axosoft share data with Salesforce?", api_name="/ask")
    assert answer["found"] is False and answer["citations"] == []
    assert answer["text"] == "Axosoft's policy does not mention Salesforce."


def test_ask_endpoint_reads_a_follow_up_against_the_previous_question(client):
    answer = client.predict("What about Axosoft?", None, None, "Does Comindware share data with Salesforce?",
                            api_name="/ask")
    assert answer["question"] == "Does Axosoft share data with Salesforce?"
    assert answer["found"] is False and answer["text"] == "Axosoft's policy does not mention Salesforce."


def test_ask_endpoint_company_and_version(client):
    by_company = client.predict("Do they use cookies?", "azendoo.com", api_name="/ask")
    assert by_company["found"] and {c["company"] for c in by_company["citations"]} == {"Azendoo"}
    old = client.predict("Does Azalead use web beacons?", "Azalead", "2014-06-25", api_name="/ask")
    assert old["found"] and {c["policy_date"] for c in old["citations"]} == {"2014-06-25"}


def test_ask_endpoint_rejects_an_empty_question_clearly(client):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="empty"):
        client.predict("   ", api_name="/ask")


def test_policy_endpoint_marks_the_passage_and_escapes_the_text(client):
    cited = client.predict("Does Comindware share data with Salesforce?", api_name="/ask")["citations"][0]
    html = client.predict(cited["doc"], cited["start"], cited["end"], cited["highlight_start"],
                          cited["highlight_end"], api_name="/policy")
    assert '<span class="pq-passage">' in html
    marks = re.findall(r'<mark class="pq-highlight">(.*?)</mark>', html, re.S)
    assert "Salesforce" in " ".join(marks) and marks[0].startswith(cited["highlight"][:20])
    assert "<blockquote>" in html and "<em>The following text" in html  # the policy's "> *...*" formatted


@pytest.mark.parametrize("doc", [
    "../../../../../../etc/passwd",
    "/etc/passwd",
    "comindware-2019-04-10.md/../../../../etc/passwd",
    str(CORPUS / "comindware-2019-04-10.md"),
    "..%2F..%2Fetc%2Fpasswd",
    "",
])
def test_policy_endpoint_serves_only_indexed_policies(client, doc):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="No indexed policy has that id"):
        client.predict(doc, api_name="/policy")


def test_gradio_file_route_does_not_serve_policies_or_system_files(chat_app):
    for path in ["/etc/passwd", str(CORPUS / "comindware-2019-04-10.md"), "../../etc/passwd",
                 str(Path(CORPUS).parent / "pyproject.toml")]:
        url = chat_app.url + "gradio_api/file=" + urllib.parse.quote(path)
        assert http_status(url) in (400, 403, 404), path


def test_share_offline_prints_one_line_and_keeps_serving(seed_data_dir):
    from gradio_client import Client

    app = start_app({"POLICYQA_DATA": str(seed_data_dir), "POLICYQA_CORPUS": str(CORPUS)}, "--share")
    try:
        line = app.wait_for_line("share link", timeout=60)
        assert line is not None, app.output
        share_lines = [ln for ln in app.lines if "share" in ln.lower()]
        assert share_lines == [line], app.output
        # Offline here: the line says so and names the local address; online it would be the link.
        assert ("unavailable" in line and app.url.rstrip("/") in line) or "https://" in line
        assert app.process.poll() is None
        answer = Client(app.url, verbose=False).predict("Does Comindware share data with Salesforce?",
                                                         api_name="/ask")
        assert answer["citations"][0]["company"] == "Comindware"
    finally:
        app.stop()


def test_unusable_corpus_is_one_clear_error(tmp_path):
    env = {**os.environ, "POLICYQA_CORPUS": str(tmp_path / "no-such-folder"), "POLICYQA_DATA": str(tmp_path / "d")}
    run = subprocess.run([sys.executable, "app.py", "--port", str(free_port())], cwd=PROJECT, env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 1, run.stderr
    assert "error: the corpus folder" in run.stderr and "no-such-folder" in run.stderr
    assert "Traceback" not in run.stderr
