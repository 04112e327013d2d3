"""The chat in a real browser: Debian's chromium driven by Playwright (never `playwright install`)."""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from apprunner import PROJECT, start_app

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking"]
# Screenshots for docs/ are refreshed only on request, so a test run leaves the tree clean.
SCREENSHOTS = PROJECT / "docs" / "screenshots" if os.environ.get("POLICYQA_SCREENSHOTS") else None
SALESFORCE = "Does Comindware share data with Salesforce?"

# Set before the page loads: records whether an answer was seen streaming (a partial message with
# a cursor) and gives hostile payloads a flag to set, should any of them ever run.
WATCH_JS = """
window.__pqSawStreaming = false;
new MutationObserver(() => {
  if (document.querySelector('#pq-chat .pq-cursor')) window.__pqSawStreaming = true;
}).observe(document, {subtree: true, childList: true, characterData: true});
"""

HOSTILE_POLICY = """# EvilCorp Privacy Policy

Effective date: January 1, 2020

## Sharing <img src=y onerror="window.__pwned='heading'">

We share your data with Acme Analytics <script>window.__pwned = 'script'; alert('script')</script> for reporting.
Our partner list: <img src=x onerror="window.__pwned = 'img'; alert('img')"> and others.
To opt out, click [here](javascript:window.__pwned='md-link';alert('md-link'))
or <a href="javascript:window.__pwned='a';alert('a')">this link</a>.
Also ![logo](x" onerror="window.__pwned='md-img') and <iframe src="javascript:alert('iframe')"></iframe>
and <svg onload="window.__pwned='svg'"></svg> and **bold** and $$\\alert{x}$$ and &lt;b&gt;escaped&lt;/b&gt;.

## Cookies

EvilCorp uses cookies to remember the language you chose.
"""
UPLOADED_POLICY = """# Uploadco Privacy Policy

Effective date: May 5, 2021

## Sharing

Uploadco shares your email address with Zendesk so that support staff can answer your requests.
"""


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium; `make test` does it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.add_init_script(WATCH_JS)
    page = context.new_page()
    page.dialogs = []

    def on_dialog(dialog):
        page.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    yield page
    context.close()


def ask_in_page(page, question: str) -> None:
    """Type a question, send it, and wait until the answer has finished streaming."""
    answers_before = page.locator("#pq-chat .pq-answer").count()
    box = page.locator("#pq-question textarea")
    box.fill(question)
    box.press("Enter")
    page.wait_for_function(
        """n => {
            const answers = document.querySelectorAll('#pq-chat .pq-answer');
            return answers.length > n && !document.querySelector('#pq-chat .pq-cursor')
                && !answers[answers.length - 1].classList.contains('pq-pending');
        }""", arg=answers_before, timeout=60_000)
    page.wait_for_timeout(300)  # the sources panel arrives with the last streamed message


def squash(text: str) -> str:
    return " ".join(text.split())


def _screenshot(page, name: str) -> None:
    if SCREENSHOTS is not None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / name))


def _side_by_side(page, left, right) -> None:
    """``left`` and ``right`` are drawn next to each other: left of it, overlapping vertically."""
    a, b = left.bounding_box(), right.bounding_box()
    assert a and b and a["width"] > 100 and b["width"] > 100
    assert a["x"] + a["width"] <= b["x"] + 1, (a, b)
    assert a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"], (a, b)


VERSIONS_QUESTION = "What changed in Azalead's privacy policy between 2014 and 2017?"
ACROSS_QUESTION = "Which companies share data with Salesforce?"
YEAR_QUESTION = "Did Azalead use Flash cookies in 2014?"


def test_the_three_comparison_questions_in_the_chat(chat_app, page, seed_index):
    from qa import ask

    page.goto(chat_app.url)
    page.wait_for_selector("#pq-question textarea")

    # Two versions, older left and newer right, each statement quoted with its citation.
    expected = ask(VERSIONS_QUESTION)
    old, new = expected.versions
    ask_in_page(page, VERSIONS_QUESTION)
    view = page.locator("#pq-chat .pq-answer").last.locator(".pq-versions")
    head = view.locator(".pq-compare-head")
    assert f"policy of {old}" in head.locator(".pq-old").inner_text()
    assert f"policy of {new}" in head.locator(".pq-new").inner_text()
    changed = view.locator(".pq-compare-row.pq-changed").first
    before, after = changed.locator(".pq-old"), changed.locator(".pq-new")
    assert "thirty (30) business days" in before.inner_text()
    assert "30 days after they are initially posted" in after.inner_text()
    _side_by_side(page, before, after)
    statement = next(c for c in expected.changes if c.kind == "changed" and "thirty (30)" in c.old.highlight)
    assert f"[{statement.old.n}]" in before.inner_text() and f"[{statement.new.n}]" in after.inner_text()
    added = view.locator(".pq-compare-row.pq-added")
    assert added.count() == sum(c.kind == "added" for c in expected.changes) > 0
    assert f"Not in the policy of {old}" in added.first.locator(".pq-old").inner_text()
    removed = view.locator(".pq-compare-row.pq-removed")
    assert removed.count() == sum(c.kind == "removed" for c in expected.changes) > 0
    assert f"Not in the policy of {new}" in removed.first.locator(".pq-new").inner_text()
    cards = page.locator("#pq-sources .pq-card")
    assert cards.count() == len(expected.citations)
    dates = {squash(cards.nth(i).locator(".pq-date").inner_text()) for i in range(cards.count())}
    assert dates == {f"policy of {old}", f"policy of {new}"}
    changed.scroll_into_view_if_needed()
    _screenshot(page, "versions.png")

    # Companies side by side: Comindware states it, with evidence; the other three are silent.
    ask_in_page(page, ACROSS_QUESTION)
    columns = page.locator("#pq-chat .pq-answer").last.locator(".pq-company-col")
    assert columns.count() == 4
    first = columns.nth(0)
    assert "Comindware" in first.inner_text() and "States it" in first.inner_text()
    assert "Salesforce" in first.locator(".pq-quote").inner_text()
    for i, name in enumerate(["Axosoft", "Azalead", "Azendoo"], start=1):
        assert name in columns.nth(i).inner_text() and "Not mentioned" in columns.nth(i).inner_text()
    _side_by_side(page, columns.nth(0), columns.nth(1))
    page.locator("#pq-chat .pq-answer").last.scroll_into_view_if_needed()
    _screenshot(page, "companies.png")
    card = page.locator("#pq-sources .pq-card")
    assert card.count() == 1 and "Comindware" in card.first.inner_text()

    # A year picks the version in force then.
    ask_in_page(page, YEAR_QUESTION)
    answer = page.locator("#pq-chat .pq-answer").last.inner_text()
    assert "2014-06-25" in answer and "Flash" in answer
    first_card = page.locator("#pq-sources .pq-card").first
    assert "policy of 2014-06-25" in first_card.inner_text()
    assert "Flash" in first_card.locator("mark.pq-highlight").inner_text()
    assert page.dialogs == []


def test_salesforce_answer_sources_full_policy_and_follow_up(chat_app, page, seed_index):
    from qa import ask

    expected = ask(SALESFORCE).citations[0]
    page.goto(chat_app.url)
    page.wait_for_selector("#pq-question textarea")
    ask_in_page(page, SALESFORCE)
    assert page.evaluate("window.__pqSawStreaming"), "the answer did not stream in"

    answer = page.locator("#pq-chat .pq-answer").last
    assert "[1]" in answer.inner_text() and "Comindware" in answer.inner_text()
    card = page.locator("#pq-sources .pq-card").first
    card_text = squash(card.inner_text())
    assert "Comindware" in card_text and "policy of 2019-04-10" in card_text
    assert squash(expected.section) in card_text
    assert squash(expected.excerpt) in card_text
    mark = card.locator("mark.pq-highlight")
    assert squash(mark.inner_text()) == squash(expected.highlight) and "Salesforce" in mark.inner_text()
    _screenshot(page, "chat.png")

    card.locator("button.pq-open").click()
    page.wait_for_selector("#pq-policy mark.pq-highlight", state="visible", timeout=30_000)
    viewer = page.locator("#pq-policy")
    assert squash(viewer.locator("mark.pq-highlight").inner_text()) == squash(expected.highlight)
    assert squash(viewer.locator(".pq-passage").inner_text()) == squash(expected.excerpt)
    whole = Path(expected.source).read_text(encoding="utf-8")
    assert len(viewer.locator(".pq-policy-text").inner_text()) > 0.9 * len(whole)  # the whole policy
    page.wait_for_function("""() => {
        const box = document.querySelector('#pq-policy .pq-policy-text');
        const mark = document.querySelector('#pq-policy mark.pq-highlight');
        if (!box || !mark || box.scrollTop === 0) return false;
        const b = box.getBoundingClientRect(), m = mark.getBoundingClientRect();
        return m.top >= b.top && m.top < b.bottom;
    }""", timeout=10_000)  # scrolled so that the highlighted passage is in view

    ask_in_page(page, "What about Axosoft?")
    follow_up = squash(page.locator("#pq-chat .pq-answer").last.inner_text())
    assert "Does Axosoft share data with Salesforce?" in follow_up
    assert "Axosoft's policy does not mention Salesforce." in follow_up
    assert page.dialogs == []


@pytest.fixture(scope="module")
def hostile_app(tmp_path_factory):
    corpus = tmp_path_factory.mktemp("hostile-corpus")
    (corpus / "evilcorp-2020-01-01.md").write_text(HOSTILE_POLICY)
    shutil.copy(PROJECT / "corpus" / "axosoft-2017-12-11.md", corpus)
    data = tmp_path_factory.mktemp("hostile-data")
    app = start_app({"POLICYQA_CORPUS": str(corpus), "POLICYQA_DATA": str(data)})
    yield app
    app.stop()


def test_hostile_policy_and_question_stay_inert_text(hostile_app, page, tmp_path):
    assert "building it now" in hostile_app.output  # no index yet: the app built it at start-up
    page.goto(hostile_app.url)
    page.wait_for_selector("#pq-question textarea")

    ask_in_page(page, """<img src=x onerror="window.__pwned='question'"> <b>Hi</b> [x](javascript:alert(1))""")
    user = page.locator("#pq-chat .pq-user").last
    assert "<img src=x onerror=" in user.inner_text() and "<b>Hi</b>" in user.inner_text()

    ask_in_page(page, "Does EvilCorp share data with Acme Analytics?")
    card = page.locator("#pq-sources .pq-card").first
    assert "EvilCorp" in card.inner_text()  # the company as its policy title writes it
    assert "<script>window.__pwned = 'script'" in card.inner_text()
    card.locator("button.pq-open").click()
    page.wait_for_selector("#pq-policy mark.pq-highlight", state="visible", timeout=30_000)
    policy_text = page.locator("#pq-policy .pq-policy-text").inner_text()
    for visible in ["## Sharing <img src=y onerror=", "<img src=x onerror=", "[here](javascript:", '<a href="javascript:', "<svg onload=",
                    "<iframe src=", "**bold**", "$$\\alert{x}$$", "&lt;b&gt;escaped&lt;/b&gt;"]:
        assert visible in policy_text

    # A forged citation button cannot open anything outside the index.
    page.evaluate("""() => {
        const b = document.querySelector('#pq-sources button.pq-open');
        b.dataset.doc = '../../../../../../etc/passwd';
        b.click();
    }""")
    page.wait_for_function("() => document.querySelector('#pq-policy').innerText.includes('No indexed policy')",
                           timeout=30_000)
    assert "root:" not in page.locator("#pq-policy").inner_text()

    page.wait_for_timeout(500)
    assert page.dialogs == [], page.dialogs
    assert page.evaluate("window.__pwned") is None
    assert page.evaluate("""() => document.querySelectorAll(
        'a[href^="javascript"], iframe, svg[onload], [onerror], [onload], #pq-chat img, #pq-sources img,'
        + ' #pq-policy img, #pq-chat script, #pq-sources script, #pq-policy script').length""") == 0
    assert card.locator(".pq-section").inner_text().startswith("Sharing")


def test_upload_control_adds_a_policy_that_is_answerable_at_once(hostile_app, page, tmp_path):
    upload = tmp_path / "uploadco-policy.md"
    upload.write_text(UPLOADED_POLICY)
    page.goto(hostile_app.url)
    page.wait_for_selector("#pq-question textarea")
    page.get_by_text("Add your own policies").click()
    page.locator("input[type=file]").set_input_files(str(upload))
    page.wait_for_selector("text=uploadco-policy.md", timeout=30_000)
    page.get_by_role("button", name="Add to the index").click()
    page.wait_for_selector(".pq-upload-ok", timeout=120_000)
    assert "Uploadco" in page.locator(".pq-upload-ok").inner_text()
    assert re.search(r"3 policies from 3 companies", page.locator(".pq-header").inner_text())

    ask_in_page(page, "Does Uploadco share my email address with Zendesk?")
    card = page.locator("#pq-sources .pq-card").first
    assert "Uploadco" in card.inner_text() and "Zendesk" in card.locator("mark.pq-highlight").inner_text()
