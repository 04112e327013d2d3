"""HTML rendering: everything from users and policies is escaped; the markup is ours alone."""
from __future__ import annotations

import re

from qa.records import Answer, Citation
from webui import markdown, render
from webui.citations import used_citations

HOSTILE = ('<script>alert(1)</script> <img src=x onerror="alert(2)"> <a href="javascript:alert(3)">x</a> '
           '[y](javascript:alert(4)) "quotes" & ampersands ${value} {{value}}')


def _citation(excerpt: str, highlight: tuple[int, int], **kw) -> Citation:
    base = 100
    return Citation(n=1, company=kw.get("company", "Evil<Corp>"), policy_date="2020-01-01",
                    section=kw.get("section", 'Sharing <b onmouseover="x()">'), score=1.0, excerpt=excerpt,
                    highlight=excerpt[highlight[0]:highlight[1]], source="/nowhere", start=base,
                    end=base + len(excerpt), highlight_start=base + highlight[0], highlight_end=base + highlight[1],
                    doc='evil"><script>.md')


def _tags(html: str) -> set[str]:
    return {t.lower() for t in re.findall(r"<\s*([a-zA-Z][\w-]*)", html)}


OURS = {"div", "span", "p", "mark", "blockquote", "button", "ol", "li", "ul", "a", "section", "strong", "em",
        "h1", "h2", "h3", "h4", "h5", "h6", "code", "pre", "table", "thead", "tbody", "tr", "th", "td", "s",
        "details", "summary", "br", "hr"}


def _inert(html: str) -> None:
    assert _tags(html) <= OURS, _tags(html) - OURS
    assert not re.search(r"<[^>]*\son\w+\s*=", html) and 'href="javascript' not in html.lower()
    assert "<img" not in html and "<script" not in html


def test_sources_panel_renders_markdown_escapes_html_and_marks_the_highlight():
    excerpt = "Before **bold**. " + HOSTILE + " After."
    citation = _citation(excerpt, (17, 17 + len(HOSTILE)))
    html = render.sources_panel(Answer("q", "We share [1].", True, [citation]))
    _inert(html)
    assert "<strong>bold</strong>" in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    marked = "".join(re.findall(r'<mark class="pq-highlight">(.*?)</mark>', html))
    assert marked.startswith("&lt;script&gt;") and "{{value}}" in marked and "Before" not in marked
    assert 'data-doc="evil&quot;&gt;&lt;script&gt;.md"' in html  # attribute cannot be broken out of
    assert "Evil&lt;Corp&gt;" in html and "&lt;b onmouseover=&quot;x()&quot;&gt;" in html


def test_highlight_is_placed_by_offsets_across_markdown_structure():
    source = ("## Is My Data Secure?\n\n* **The Team:** see [click here](http://example.com/" + "x" * 80
              + ") now.\n* Second item\n\n| a | b |\n|---|---|\n| 1 | 2 |\n")
    hs, he = source.index("The Team"), source.index("Second") + len("Second")
    html = markdown.render(source, [(0, len(source), '<span class="pq-passage">'), (hs, he, '<mark class="pq-highlight">')])
    assert "<h2>" in html and "<li><strong>" in html and "<table>" in html and "##" not in html
    assert 'target="_blank" rel="noopener noreferrer"' in html and "http://example.com/" in html
    marked = re.sub(r"<[^>]+>", "", "".join(re.findall(r'<mark class="pq-highlight">(.*?)</mark>', html)))
    assert marked == "The Team: see click here now.Second"  # both list items, the markup between left out
    # Marks never straddle a tag: every <mark> closes before the next tag opens.
    assert not re.search(r"<mark[^>]*>[^<]*<(?!/mark>)", html)
    # An offset inside a link's address lands after the link; a table keeps its rule row.
    at = source.index("example.com")
    assert "pq-x" not in markdown.render(source, [(at, at + 5, '<mark class="pq-x">')])
    row = source.index("|---")
    assert "<table>" in markdown.render(source, [(row + 2, len(source), "<mark>")])


def test_plain_text_sources_are_not_read_as_markdown():
    html = markdown.render("# not a heading\n**x**", [(0, 5, "<mark>")], markdown=False)
    assert html == "<mark># not</mark> a heading\n**x**"


def test_answer_and_user_messages_are_text():
    citation = _citation("x" * 20, (0, 5))
    answer = Answer("q", f"Yes. Says: “{HOSTILE}” [1]", True, [citation], notes=["<i>note</i>"])
    html = render.answer_message(answer, asked="<img src=x onerror=alert(1)>?")
    _inert(html)
    key = render.answer_key(answer)
    assert f'<a class="pq-ref" href="#pq-cite-{key}-1"' in html and "&lt;i&gt;note&lt;/i&gt;" in html
    assert f'id="pq-cite-{key}-1"' in render.sources_panel(answer)  # the link's target
    assert _tags(render.user_message(HOSTILE)) == {"span"}
    silent = render.answer_message(Answer("q", "Axosoft's policy does not mention Salesforce.", False))
    assert "pq-silent" in silent and "Axosoft's policy does not mention Salesforce." in silent


def test_copy_text_is_the_answer_and_its_citations():
    citation = _citation("We share with Acme. More.", (0, 19), company="Acme")
    answer = Answer("q", "Acme says: “We share with Acme.” [1]", True, [citation])
    plain = render.plain_text(answer)
    assert plain.startswith("Acme says:") and "Sources:\n[1] Acme, policy of 2020-01-01" in plain
    assert "“We share with Acme.”" in plain
    assert '<div class="pq-copy-text" hidden>' in render.answer_message(answer)


def test_used_citations_only_and_no_overlapping_excerpts():
    def cite(n, start, end, doc="a.md"):
        return Citation(n=n, company="A", policy_date="2020-01-01", section=f"S{n}", score=1.0, excerpt="x",
                        highlight="x", source="/a", start=start, end=end, highlight_start=start,
                        highlight_end=start + 1, doc=doc)

    answer = Answer("q", "Yes [2]. See also [3], [4].", True,
                    [cite(1, 0, 10), cite(2, 100, 200), cite(3, 150, 250), cite(4, 300, 400), cite(5, 500, 600)])
    shown = used_citations(answer)
    assert shown.text == "Yes [1]. See also [2]."  # [3] overlaps [2]; [1] and [5] are not cited
    assert [(c.n, c.start) for c in shown.citations] == [(1, 100), (2, 300)]
    assert used_citations(Answer("q", "No markers.", True, [cite(1, 0, 5)])).citations[0].n == 1


def test_policy_view_marks_the_passage_and_clamps_offsets():
    text = "Intro <b>bold</b>.\nShared with <script>x()</script> partners. Outro & more."
    start, hs = text.index("Shared"), text.index("<script>")
    he = text.index(" partners") + len(" partners.")
    html = render.policy_view("Evil", "2020-01-01", "<title>", "evil.md", text,
                              render.Passage(start, len(text) - 6, hs, he))
    _inert(html)
    assert ('<span class="pq-passage">Shared with </span><span class="pq-passage"><mark class="pq-highlight">'
            '&lt;script&gt;x()&lt;/script&gt; partners.</mark></span>') in html
    assert "Intro &lt;b&gt;bold&lt;/b&gt;." in html and "&lt;title&gt;" in html
    wild = render.Passage(-50, 10_000, 9_000, 5).clamp(len(text))
    assert 0 == wild.start <= wild.highlight_start <= wild.highlight_end <= wild.end == len(text)
    assert render.policy_view("E", "d", "", "e.md", text, render.Passage(-5, 10**6, 10**6, 10**7))


def test_upload_status_escapes_file_names():
    result = render.UploadResult([("<img src=x onerror=alert(1)>.md", "Co", "2020-01-01")],
                                 [("a<script>.exe", "not a policy file type")])
    html = render.upload_status(result)
    assert _tags(html) <= OURS and "&lt;img src=x onerror=alert(1)&gt;.md" in html


def test_version_changes_by_topic_older_left(seed_index):
    from qa import ask

    answer = ask("What changed in Azalead's privacy policy between 2014 and 2017?")
    old, new = answer.versions
    html = render.answer_message(answer)
    _inert(html)
    topics = html.split('<details class="pq-topic"')[1:]
    assert len(topics) == len({render.topic_of(c) for c in answer.changes})
    assert [t.startswith(" open>") for t in topics] == [i < render.OPEN_TOPICS for i in range(len(topics))]
    assert html.count('<div class="pq-compare-row pq-') == len(answer.changes) + 1  # + the head
    head = html.split('pq-compare-head', 1)[1]
    assert head.index(f"policy of {old}") < head.index(f"policy of {new}")  # older on the left
    changed = html.split('<div class="pq-compare-row pq-changed"', 1)[1]
    assert changed.index("thirty (30) business days") < changed.index("30 days after they are initially posted")
    assert f"Not in the policy of {old}" in html and f"Not in the policy of {new}" in html
    assert "pq-footnotes" not in html  # each side names its own section
    assert "Collection of Information (IDs)" not in re.findall(r'pq-topic-name">([^<]*)', html)


def test_companies_sit_side_by_side_evidence_first(seed_index):
    from qa import ask

    answer = ask("Which companies share data with Salesforce?")
    html = render.answer_message(answer)
    _inert(html)
    columns = html.split('<div class="pq-company-col ')[1:]
    assert len(columns) == 4
    assert columns[0].startswith("pq-co-states") and "Comindware" in columns[0] and "Salesforce" in columns[0]
    assert "States it" in columns[0] and "[1]</a>" in columns[0]
    for column, name in zip(columns[1:], ["Axosoft", "Azalead", "Azendoo"]):
        assert column.startswith("pq-co-silent") and name in column and "Not mentioned" in column

    flash = render.answer_message(ask("Which policies mention Flash cookies?"))
    azalead = next(c for c in flash.split('<div class="pq-company-col ')[1:] if "Azalead" in c)
    assert "Earlier, in the policy of 2014-06-25" in azalead and "Flash" in azalead


def test_many_silent_companies_share_one_line_and_hostile_text_is_escaped():
    from qa.records import CompanyFinding

    cited = _citation("We share with Acme. " + HOSTILE, (0, 19))
    findings = [CompanyFinding("Evil<Corp>", "2020-01-01", "states", (cited,))]
    findings += [CompanyFinding(f"Quiet {i} <b>", "2021-01-01", "silent") for i in range(10)]
    answer = Answer("q", "Stated in 1 of 11 companies' policies:\n- ...", True, [cited], kind="companies",
                    companies=findings)
    html = render.answer_message(answer)
    _inert(html)
    assert html.count('<div class="pq-company-col ') == 1 and "Evil&lt;Corp&gt;" in html
    assert "Not mentioned in the policies of Quiet 0 &lt;b&gt; (2021-01-01)" in html and "Quiet 9" in html
