"""The chat in a real browser: Debian's chromium driven by Playwright (never `playwright install`)."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
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
AXE = PROJECT / "node_modules" / "axe-core" / "axe.min.js"
DESKTOP = {"width": 1400, "height": 1000}
PHONE = {"width": 390, "height": 844}

# Set before the page loads: records every distinct text an answer bubble showed (a simulated
# typing effect would show growing prefixes) and gives hostile payloads a flag to set, should any run.
WATCH_JS = """
window.__pqAnswerTexts = [];
new MutationObserver(() => {
  for (const a of document.querySelectorAll('#pq-chat .pq-answer:not(.pq-pending)')) {
    const t = a.textContent;
    if (!window.__pqAnswerTexts.includes(t)) window.__pqAnswerTexts.push(t);
  }
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


def _new_page(browser, viewport=DESKTOP):
    context = browser.new_context(viewport=viewport)
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    context.add_init_script(WATCH_JS)
    page = context.new_page()
    page.dialogs = []

    def on_dialog(dialog):
        page.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return context, page


@pytest.fixture
def page(browser):
    context, page = _new_page(browser)
    yield page
    context.close()


@pytest.fixture
def phone(browser):
    context, page = _new_page(browser, PHONE)
    yield page
    context.close()


def open_chat(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("#pq-question textarea")
    page.wait_for_function("() => document.querySelector('#pq-chat') !== null")
    page.wait_for_timeout(500)  # the page-load refresh of the header, companies and landing text


def ask_in_page(page, question: str) -> None:
    """Type a question, send it, and wait until its answer is shown."""
    answers_before = page.locator("#pq-chat .pq-answer").count()
    box = page.locator("#pq-question textarea")
    box.fill(question)
    box.press("Enter")
    page.wait_for_function(
        """n => {
            const answers = document.querySelectorAll('#pq-chat .pq-answer');
            return answers.length > n && !answers[answers.length - 1].classList.contains('pq-pending');
        }""", arg=answers_before, timeout=60_000)
    page.wait_for_timeout(400)  # the sources panel arrives with the answer


def axe_violations(page) -> list[str]:
    """Serious and critical WCAG 2 A/AA violations axe-core finds on the page as it is now."""
    if not AXE.exists():
        pytest.skip("axe-core is not installed (npm ci; `make test` does it)")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
                                           resultTypes: ['violations']});
        return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
            .map(v => v.id + ' (' + v.impact + '): ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '));
    }""")
    return result


def assert_accessible(page, state: str) -> None:
    # An output Gradio is still updating is drawn at a fifth of its opacity (".pending"): its text
    # would fail the contrast check for a moment that no reader sees. Check the settled page.
    page.wait_for_function("() => !document.querySelector('.pending')", timeout=60_000)
    # After ".pending" goes, Gradio fades the output back in (CSS opacity transitions of 0.2-0.5 s): a
    # check inside the fade saw the header's policy count at partial opacity once in CI. A real
    # violation is still there a second later; a fade is not.
    for _ in range(3):
        found = axe_violations(page)
        if not found:
            return
        page.wait_for_timeout(600)
    assert found == [], f"axe-core, {state}: {found}"


def no_raw_markdown(text: str) -> None:
    """Text as shown has none of Markdown's markup: headings, bold, link syntax, bullets."""
    assert not re.search(r"(^|\n)\s*#{1,6} |\*\*|\]\(https?:|(^|\n)\s*\* ", text), text[:500]


def fits_width(page, selector: str) -> None:
    """Nothing inside ``selector`` is wider than it (no horizontal overflow)."""
    overflow = page.evaluate("""sel => [...document.querySelectorAll(sel)].map(e => e.scrollWidth - e.clientWidth)""",
                             selector)
    assert overflow and max(overflow) <= 1, overflow


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
SILENT_QUESTION = "Does Axosoft share data with Salesforce?"


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_landing_teaches_and_the_question_box_is_in_view(chat_app, browser, viewport):
    context, page = _new_page(browser, DESKTOP if viewport == "desktop" else PHONE)
    try:
        open_chat(page, chat_app.url)
        landing = page.locator("#pq-chat")
        text = squash(landing.inner_text())
        assert "5 policies from 4 companies" in text
        assert "Azalead (2014-06-25, 2017-12-31)" in text and "Comindware (2019-04-10)" in text
        assert "Add your own policies" in text and "python -m index add" in text
        examples = page.locator(".pq-examples button:not(.pq-clear)")
        assert examples.count() == 3
        box = page.locator("#pq-question textarea").bounding_box()
        height = DESKTOP["height"] if viewport == "desktop" else PHONE["height"]
        assert box and box["y"] + box["height"] <= height, box  # no scrolling needed to reach it
        assert page.get_by_label("Your question").count() == 1  # an accessible name
        fits_width(page, "body")
        assert_accessible(page, f"landing ({viewport})")
        _screenshot(page, "landing.png" if viewport == "desktop" else "landing-phone.png")
    finally:
        context.close()


def test_answer_links_sources_copies_and_opens_the_formatted_policy(chat_app, page, seed_index):
    from qa import ask

    from webui.citations import used_citations

    expected = used_citations(ask(SALESFORCE))
    open_chat(page, chat_app.url)
    ask_in_page(page, SALESFORCE)
    shown = page.evaluate("window.__pqAnswerTexts")
    assert len(shown) == 1, shown  # shown once, whole: no simulated typing

    answer = page.locator("#pq-chat .pq-answer").last
    assert "Comindware" in answer.inner_text()
    cited = set(re.findall(r"\[(\d+)\]", expected.text))
    cards = page.locator("#pq-sources .pq-card")
    assert cards.count() == len(expected.citations) == len(cited)  # only the citations the answer uses
    spans = [(c.doc, c.start, c.end) for c in expected.citations]
    assert all(not (a[0] == b[0] and a[1] < b[2] and b[1] < a[2]) for a in spans for b in spans if a != b)
    card = cards.first
    card_text = card.inner_text()
    assert "Comindware" in card_text and "policy of 2019-04-10" in card_text
    no_raw_markdown(card_text)
    mark = card.locator("mark.pq-highlight")
    assert "Salesforce" in " ".join(mark.all_inner_texts())
    assert_accessible(page, "answer")
    _screenshot(page, "chat.png")

    # [n] opens its source card, from the Full policy tab too.
    page.get_by_role("tab", name="Full policy").click()
    answer.locator("a.pq-ref").first.click()
    page.wait_for_function("() => document.activeElement && document.activeElement.classList.contains('pq-card')")
    assert page.evaluate("document.activeElement.id").endswith("-1")
    assert card.is_visible()

    # Copy gives the answer and its citations as plain text.
    answer.locator("button.pq-copy").click()
    page.wait_for_timeout(300)
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith(expected.text.split("[")[0].strip()[:40]) and "Sources:" in copied
    assert "[1] Comindware, policy of 2019-04-10" in copied and "<" not in copied

    # The whole policy, formatted, scrolled to the passage, the evidence highlighted.
    card.locator("button.pq-open").click()
    page.wait_for_selector("#pq-policy mark.pq-highlight", state="visible", timeout=30_000)
    viewer = page.locator("#pq-policy")
    highlight = squash(" ".join(viewer.locator("mark.pq-highlight").all_inner_texts()))
    assert "Salesforce" in highlight and squash(expected.citations[0].highlight).endswith(highlight[-30:])
    policy = viewer.locator(".pq-policy-text")
    assert policy.locator("h1, h2, h3").count() >= 3  # headings rendered, not "## ..."
    no_raw_markdown(policy.inner_text())
    links = policy.locator("a")
    for i in range(links.count()):
        assert links.nth(i).get_attribute("target") == "_blank"
        assert links.nth(i).get_attribute("rel") == "noopener noreferrer"
    fits_width(page, "#pq-policy .pq-policy-text")
    page.wait_for_function("""() => {
        const box = document.querySelector('#pq-policy .pq-policy-text');
        const mark = document.querySelector('#pq-policy mark.pq-highlight');
        if (!box || !mark || box.scrollTop === 0) return false;
        const b = box.getBoundingClientRect(), m = mark.getBoundingClientRect();
        return m.top >= b.top && m.top < b.bottom;
    }""", timeout=10_000)
    assert_accessible(page, "full policy")
    _screenshot(page, "policy.png")

    ask_in_page(page, "What about Axosoft?")
    follow_up = squash(page.locator("#pq-chat .pq-answer").last.inner_text())
    assert "Does Axosoft share data with Salesforce?" in follow_up
    assert "Axosoft's policy does not mention Salesforce." in follow_up
    assert page.locator("#pq-chat .pq-answer.pq-silent").count() == 1
    assert_accessible(page, "silence")
    _screenshot(page, "silence.png")
    assert page.dialogs == []


def test_keyboard_only(chat_app, page):
    open_chat(page, chat_app.url)
    page.locator("#pq-question textarea").focus()
    page.keyboard.insert_text(SALESFORCE)
    page.keyboard.press("Enter")
    page.wait_for_selector("#pq-chat .pq-answer:not(.pq-pending)", timeout=60_000)
    page.wait_for_timeout(400)
    for _ in range(80):  # Tab through the page until the first [n] link has the focus
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.matches('#pq-chat a.pq-ref')"):
            break
    else:
        pytest.fail("no [n] link can be reached with Tab")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.activeElement && document.activeElement.classList.contains('pq-card')")
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.matches('button.pq-open')"):
            break
    page.keyboard.press("Enter")
    page.wait_for_selector("#pq-policy mark.pq-highlight", state="visible", timeout=30_000)


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_versions_summary_topics_and_width(chat_app, browser, seed_index, viewport):
    from qa import ask

    from webui.render import OPEN_TOPICS, topic_of

    context, page = _new_page(browser, DESKTOP if viewport == "desktop" else PHONE)
    try:
        expected = ask(VERSIONS_QUESTION)
        old, new = expected.versions
        open_chat(page, chat_app.url)
        ask_in_page(page, VERSIONS_QUESTION)
        view = page.locator("#pq-chat .pq-answer").last.locator(".pq-versions")
        chips = squash(view.locator(".pq-chips").inner_text())
        counts = {k: sum(c.kind == k for c in expected.changes) for k in ("changed", "added", "removed")}
        assert f"Changed: {counts['changed']}" in chips and f"Added in {new}: {counts['added']}" in chips
        assert f"Removed since {old}: {counts['removed']}" in chips
        topics = view.locator("details.pq-topic")
        assert topics.count() == len({topic_of(c) for c in expected.changes}) < len(expected.changes)
        opened = [topics.nth(i).get_attribute("open") is not None for i in range(topics.count())]
        assert opened == [i < OPEN_TOPICS for i in range(topics.count())]
        changed = view.locator(".pq-compare-row.pq-changed").first
        before, after = changed.locator(".pq-old"), changed.locator(".pq-new")
        assert "thirty (30) business days" in before.inner_text()
        assert "30 days after they are initially posted" in after.inner_text()
        if viewport == "desktop":
            _side_by_side(page, before, after)
        else:  # stacked, each side labelled with its version
            a, b = before.bounding_box(), after.bounding_box()
            assert a["y"] + a["height"] <= b["y"] + 1 and old in before.inner_text() and new in after.inner_text()
        # A collapsed topic opens by keyboard.
        closed = topics.nth(OPEN_TOPICS)
        closed.locator("summary").focus()
        page.keyboard.press("Enter")
        assert closed.get_attribute("open") is not None and closed.locator(".pq-compare-row").first.is_visible()
        assert view.evaluate("e => getComputedStyle(e.querySelector('.pq-compare-head')).position") != "sticky"
        fits_width(page, "#pq-chat .pq-answer")
        fits_width(page, "body")
        changed.scroll_into_view_if_needed()
        assert_accessible(page, f"versions ({viewport})")
        _screenshot(page, "versions.png" if viewport == "desktop" else "versions-phone.png")
    finally:
        context.close()


def test_companies_side_by_side_coloured_by_meaning(chat_app, page):
    open_chat(page, chat_app.url)
    ask_in_page(page, ACROSS_QUESTION)
    columns = page.locator("#pq-chat .pq-answer").last.locator(".pq-company-col")
    assert columns.count() == 4
    first = columns.nth(0)
    assert "Comindware" in first.inner_text() and "States it" in first.inner_text()
    assert "Salesforce" in first.locator(".pq-quote").inner_text()
    for i, name in enumerate(["Axosoft", "Azalead", "Azendoo"], start=1):
        assert name in columns.nth(i).inner_text() and "Not mentioned" in columns.nth(i).inner_text()
    _side_by_side(page, columns.nth(0), columns.nth(1))
    card = page.locator("#pq-sources .pq-card")
    assert card.count() == 1 and "Comindware" in card.first.inner_text()
    page.locator("#pq-chat .pq-answer").last.scroll_into_view_if_needed()
    assert_accessible(page, "across companies")
    _screenshot(page, "companies.png")

    # A year picks the version in force then.
    ask_in_page(page, YEAR_QUESTION)
    answer = page.locator("#pq-chat .pq-answer").last.inner_text()
    assert "2014-06-25" in answer and "Flash" in answer
    first_card = page.locator("#pq-sources .pq-card").first
    assert "policy of 2014-06-25" in first_card.inner_text()
    assert "Flash" in " ".join(first_card.locator("mark.pq-highlight").all_inner_texts())


def test_says_it_does_not_is_not_drawn_as_a_warning():
    """Verdict colours by meaning: a denial ("we do not sell") is often good news, never amber/red."""
    css = (PROJECT / "webui" / "style.css").read_text()
    rule = re.search(r"\.pq-co-states-not \.pq-verdict \{([^}]*)\}", css).group(1)
    colours = re.findall(r"#([0-9a-f]{6})", rule)
    for colour in colours:
        r, g, b = (int(colour[i:i + 2], 16) for i in (0, 2, 4))
        assert not (r > g and r > b), f"#{colour} reads as a warning"


@pytest.fixture(scope="module")
def hostile_app(tmp_path_factory):
    corpus = tmp_path_factory.mktemp("hostile-corpus")
    (corpus / "evilcorp-2020-01-01.md").write_text(HOSTILE_POLICY)
    shutil.copy(PROJECT / "corpus" / "axosoft-2017-12-11.md", corpus)
    data = tmp_path_factory.mktemp("hostile-data")
    app = start_app({"POLICYQA_CORPUS": str(corpus), "POLICYQA_DATA": str(data)}, port_by_env=True)
    app.data = data
    app.corpus = corpus
    yield app
    app.stop()


def test_hostile_policy_and_question_stay_inert_text(hostile_app, page, tmp_path):
    assert "building it now" in hostile_app.output  # no index yet: the app built it at start-up
    assert hostile_app.url.rstrip("/").rsplit(":", 1)[1] in hostile_app.output  # GRADIO_SERVER_PORT honoured
    open_chat(page, hostile_app.url)

    ask_in_page(page, """<img src=x onerror="window.__pwned='question'"> <b>Hi</b> [x](javascript:alert(1))""")
    user = page.locator("#pq-chat .pq-user").last
    assert "<img src=x onerror=" in user.inner_text() and "<b>Hi</b>" in user.inner_text()

    ask_in_page(page, "Does EvilCorp share data with Acme Analytics?")
    card = page.locator("#pq-sources .pq-card").first
    assert "EvilCorp" in card.inner_text()  # the company as its policy title writes it
    assert "<script>window.__pwned = 'script'" in card.inner_text()
    card.locator("button.pq-open").click()
    page.wait_for_selector("#pq-policy mark.pq-highlight", state="visible", timeout=30_000)
    policy = page.locator("#pq-policy .pq-policy-text")
    policy_text = policy.inner_text()
    for visible in ["<img src=y onerror=", "<img src=x onerror=", "[here](javascript:", '<a href="javascript:',
                    "<svg onload=", "<iframe src=", "$$\\alert{x}$$", "<b>escaped</b>"]:
        assert visible in policy_text
    assert policy.locator("h2").first.inner_text().startswith("Sharing <img")  # a heading, its tag as text
    assert policy.locator("strong").inner_text() == "bold"

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


def _git_status() -> str:
    """The checkout's changes, screenshots aside (POLICYQA_SCREENSHOTS=1 rewrites them on purpose)."""
    out = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=PROJECT,
                         capture_output=True, text=True, check=True).stdout
    return "\n".join(line for line in out.splitlines() if "docs/screenshots/" not in line)


def test_upload_refreshes_the_page_and_leaves_the_checkout_clean(hostile_app, page, browser, tmp_path):
    before = _git_status()
    upload = tmp_path / "uploadco-policy.md"
    upload.write_text(UPLOADED_POLICY)
    open_chat(page, hostile_app.url)
    assert "2 policies from 2 companies" in page.locator(".pq-header").inner_text()
    page.get_by_role("button", name=re.compile("Add your own policies")).click()
    page.locator("input[type=file]").set_input_files(str(upload))
    page.wait_for_selector("text=uploadco-policy.md", timeout=30_000)
    page.get_by_label("Other names of the company (optional)").fill("Upco, uploadco.example")
    page.get_by_role("button", name="Add to the index").click()
    page.wait_for_selector(".pq-upload-ok", timeout=120_000)
    assert "Uploadco" in page.locator(".pq-upload-ok").inner_text()
    assert "3 policies from 3 companies" in page.locator(".pq-header").inner_text()
    assert "Uploadco (2021-05-05)" in page.locator("#pq-chat").inner_text()  # the landing text too
    assert (hostile_app.data / "added" / "uploadco-policy.md").read_text() == UPLOADED_POLICY
    assert not (hostile_app.corpus / "added").exists() and _git_status() == before
    assert_accessible(page, "upload")
    _screenshot(page, "upload.png")

    ask_in_page(page, "Does Upco share my email address with Zendesk?")  # the other name given at upload
    card = page.locator("#pq-sources .pq-card").first
    assert "Uploadco" in card.inner_text() and "Zendesk" in card.locator("mark.pq-highlight").inner_text()

    # Added from the command line while the chat runs: a page opened afterwards knows it.
    other = tmp_path / "othercorp.md"
    other.write_text(UPLOADED_POLICY.replace("Uploadco", "Othercorp"))
    env = {**os.environ, "POLICYQA_DATA": str(hostile_app.data), "POLICYQA_CORPUS": str(hostile_app.corpus)}
    out = subprocess.run([sys.executable, "-m", "index", "add", str(other)], cwd=PROJECT, env=env,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    assert _git_status() == before
    context, fresh = _new_page(browser)
    try:
        open_chat(fresh, hostile_app.url)
        assert "4 policies from 4 companies" in fresh.locator(".pq-header").inner_text()
        assert "Othercorp (2021-05-05)" in fresh.locator("#pq-chat").inner_text()
        fresh.locator("#pq-chat").page.get_by_label("Company").first.click()
        assert fresh.get_by_role("option", name="Othercorp").count() == 1
    finally:
        context.close()


def test_busy_port_names_both_ways_to_choose_another(chat_app, seed_data_dir):
    port = chat_app.url.rstrip("/").rsplit(":", 1)[1]
    env = {**os.environ, "GRADIO_SERVER_PORT": port, "POLICYQA_DATA": str(seed_data_dir)}
    out = subprocess.run([sys.executable, "app.py"], cwd=PROJECT, env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 1
    assert f"cannot serve on 127.0.0.1:{port}" in out.stderr
    assert "make run PORT=" in out.stderr and "GRADIO_SERVER_PORT=" in out.stderr and "--port" in out.stderr
    dry = subprocess.run(["make", "-n", "run", "PORT=8000"], cwd=PROJECT, capture_output=True, text=True)
    assert "app.py --port 8000" in dry.stdout


def test_overview_tab_sorts_filters_and_opens_a_cell_in_the_full_policy(chat_app, page):
    open_chat(page, chat_app.url)
    page.get_by_role("tab", name="Overview").click()
    rows = page.locator("#pq-overview .pq-ov-grid tbody tr")
    rows.first.wait_for(timeout=120_000)  # computed on first use, then cached

    def companies():
        return [row.get_attribute("data-company") for row in rows.all() if row.is_visible()]

    assert companies() == ["axosoft", "azalead", "azendoo", "comindware"]
    heads = page.locator("#pq-overview .pq-ov-sort")
    assert heads.count() == 15 and "Do Not Track" in heads.all_inner_texts()
    _screenshot(page, "overview.png")

    # Sorting by a practice puts its verdicts in the order of its vocabulary, "not stated" last.
    dnt = page.locator("#pq-overview .pq-ov-sort", has_text="Do Not Track")
    dnt.click()
    assert companies()[0] == "azalead"
    assert page.locator("#pq-overview th[aria-sort='ascending']").inner_text().startswith("Do Not Track")
    dnt.click()
    assert companies()[-1] == "azalead"
    page.locator("#pq-overview .pq-ov-sort", has_text="Company").click()
    assert companies() == ["axosoft", "azalead", "azendoo", "comindware"]

    # Filtering by name, and by a verdict.
    page.locator("#pq-overview .pq-ov-filter").fill("AZA")
    assert companies() == ["azalead"]
    page.locator("#pq-overview .pq-ov-filter").fill("")
    page.locator("#pq-overview .pq-ov-only").select_option("dnt=does not honour")
    assert companies() == ["azalead"]
    page.locator("#pq-overview .pq-ov-only").select_option("")
    assert len(companies()) == 4

    # Azalead's newest policy answers Do Not Track where its 2014 policy did not: the cell says so.
    cell = page.locator('#pq-overview button.pq-ov-cell[data-practice="dnt"][data-doc="azalead-2017-12-31.md"]')
    assert squash(cell.inner_text()) == "does not honour changed"
    cell.click()
    evidence = page.locator("#pq-ov-evidence")
    evidence.locator(".pq-ov-practice").wait_for(timeout=30_000)
    assert squash(evidence.locator(".pq-ov-practice").inner_text()) == "Do Not Track: does not honour"
    assert "2014-06-25" in evidence.locator(".pq-ov-was").inner_text()
    assert "do not currently respond to browser DNT signals" in evidence.locator("mark.pq-highlight").inner_text()
    mark = page.locator("#pq-ov-policy .pq-policy-text mark.pq-highlight")
    mark.wait_for(timeout=30_000)
    assert "do not currently respond to browser DNT signals" in mark.inner_text()
    assert "azalead-2017-12-31.md" in page.locator("#pq-ov-policy .pq-policy-doc").inner_text()
    page.wait_for_function("""() => {
        const box = document.querySelector('#pq-ov-policy .pq-policy-text');
        const mark = box && box.querySelector('mark.pq-highlight');
        if (!mark || box.scrollTop === 0) return false;
        const a = box.getBoundingClientRect(), b = mark.getBoundingClientRect();
        return b.top >= a.top && b.top + 20 <= a.bottom;
    }""", timeout=10_000)  # the whole policy is scrolled to the sentence
    assert_accessible(page, "overview with a cell open")
    page.locator("#pq-ov-evidence").scroll_into_view_if_needed()
    _screenshot(page, "overview-cell.png")
