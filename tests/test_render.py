"""HTML rendering: everything from users and policies is escaped; the markup is ours alone."""
from __future__ import annotations

import re

from qa.records import Answer, Citation
from webui import render

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


OURS = {"div", "span", "p", "mark", "blockquote", "button", "ol", "li", "ul"}


def test_sources_panel_escapes_policy_text_and_marks_the_highlight():
    excerpt = "Before. " + HOSTILE + " After."
    citation = _citation(excerpt, (8, 8 + len(HOSTILE)))
    html = render.sources_panel(Answer("q", "We share [1].", True, [citation]))
    assert _tags(html) <= OURS
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "onerror=&quot;alert(2)&quot;" in html
    assert 'href="javascript' not in html and "<img" not in html
    marked = html.split('<mark class="pq-highlight">', 1)[1].split("</mark>", 1)[0]
    assert marked.startswith("&lt;script&gt;") and marked.endswith("{{value}}")
    assert 'data-doc="evil&quot;&gt;&lt;script&gt;.md"' in html  # attribute cannot be broken out of
    assert "Evil&lt;Corp&gt;" in html and "&lt;b onmouseover=&quot;x()&quot;&gt;" in html


def test_answer_and_user_messages_are_text():
    citation = _citation("x" * 20, (0, 5))
    answer = Answer("q", f"Yes. Says: “{HOSTILE}” [1]", True, [citation], notes=["<i>note</i>"])
    html = render.answer_message(answer, asked="<img src=x onerror=alert(1)>?")
    assert _tags(html) <= OURS
    assert '<span class="pq-ref">[1]</span>' in html and "&lt;i&gt;note&lt;/i&gt;" in html
    assert _tags(render.user_message(HOSTILE)) == {"span"}
    assert _tags(render.partial_answer(HOSTILE)) <= OURS
    silent = render.answer_message(Answer("q", "Axosoft's policy does not mention Salesforce.", False))
    assert "pq-silent" in silent and "Axosoft&#x27;s policy does not mention Salesforce." in silent


def test_long_answers_keep_their_lines_and_cap_the_footnotes():
    citations = [_citation("x" * 20, (0, 5), section=f"Section {i}") for i in range(9)]
    citations = [type(c)(**{**c.to_dict(), "n": i + 1}) for i, c in enumerate(citations)]
    html = render.answer_message(Answer("q", "Stated in 1 of 4:\n- A [1]\n- B [9]", True, citations))
    assert "Stated in 1 of 4:\n- A" in html and '<span class="pq-ref">[9]</span>' in html
    assert html.count("<li>") == render.MAX_FOOTNOTES + 1 and "3 more citations: see Sources" in html


def test_policy_view_marks_the_passage_and_clamps_offsets():
    text = "Intro <b>bold</b>.\nShared with <script>x()</script> partners. Outro & more."
    start, hs = text.index("Shared"), text.index("<script>")
    he = text.index(" partners") + len(" partners.")
    html = render.policy_view("Evil", "2020-01-01", "<title>", "evil.md", text,
                              render.Passage(start, len(text) - 6, hs, he))
    assert _tags(html) <= OURS
    assert '<span class="pq-passage">Shared with <mark class="pq-highlight">&lt;script&gt;x()&lt;/script&gt; ' \
           'partners.</mark>' in html
    assert "Intro &lt;b&gt;bold&lt;/b&gt;." in html and "&lt;title&gt;" in html
    wild = render.Passage(-50, 10_000, 9_000, 5).clamp(len(text))
    assert 0 == wild.start <= wild.highlight_start <= wild.highlight_end <= wild.end == len(text)
    assert render.policy_view("E", "d", "", "e.md", text, render.Passage(-5, 10**6, 10**6, 10**7))


def test_upload_status_escapes_file_names():
    result = render.UploadResult([("<img src=x onerror=alert(1)>.md", "Co", "2020-01-01")],
                                 [("a<script>.exe", "not a policy file type")])
    html = render.upload_status(result)
    assert _tags(html) <= OURS and "&lt;img src=x onerror=alert(1)&gt;.md" in html


def _rows(html: str) -> list[str]:
    """The side-by-side rows of a version comparison, head first, each as its HTML."""
    return re.split(r'(?=<div class="pq-compare-row )', html.split('<div class="pq-compare pq-versions">', 1)[1])[1:]


def _side(row: str, css: str) -> str:
    return row.split(f'<div class="pq-side {css}', 1)[1].split("</div>", 1)[0]


def test_version_changes_sit_side_by_side_older_left(seed_index):
    from qa import ask

    answer = ask("What changed in Azalead's privacy policy between 2014 and 2017?")
    old, new = answer.versions
    html = render.answer_message(answer)
    assert _tags(html) <= OURS
    rows = _rows(html)
    head, rows = rows[0], rows[1:]
    assert f"policy of {old}" in _side(head, "pq-old") and f"policy of {new}" in _side(head, "pq-new")
    assert head.index("pq-old") < head.index("pq-new")  # older on the left
    assert len(rows) == len(answer.changes)
    for row, change in zip(rows, sorted(answer.changes, key=lambda c: ("changed", "added", "removed").index(c.kind))):
        assert row.startswith(f'<div class="pq-compare-row pq-{change.kind}"')
        for css, cited, date in (("pq-old", change.old, old), ("pq-new", change.new, new)):
            side = _side(row, css)
            if cited is None:
                assert "pq-absent" in side and f"Not in the policy of {date}" in side
            else:
                assert f'data-date="{date}"' in side and f"[{cited.n}]" in side
                assert render.text(cited.highlight) in side
    changed = next(r for r in rows if "pq-changed" in r[:60])
    assert "thirty (30) business days" in _side(changed, "pq-old")
    assert "30 days after they are initially posted" in _side(changed, "pq-new")
    assert "pq-footnotes" not in html  # each side names its own section
    assert render.streamed_text(answer) == answer.text.split("\n", 1)[0]


def test_companies_sit_side_by_side_evidence_first(seed_index):
    from qa import ask

    answer = ask("Which companies share data with Salesforce?")
    html = render.answer_message(answer)
    assert _tags(html) <= OURS
    columns = html.split('<div class="pq-company-col ')[1:]
    assert len(columns) == 4
    assert columns[0].startswith("pq-co-states") and "Comindware" in columns[0] and "Salesforce" in columns[0]
    assert "States it" in columns[0] and "[1]" in columns[0]
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
    assert _tags(html) <= OURS
    assert html.count('<div class="pq-company-col ') == 1 and "Evil&lt;Corp&gt;" in html
    assert "Not mentioned in the policies of Quiet 0 &lt;b&gt; (2021-01-01)" in html and "Quiet 9" in html
