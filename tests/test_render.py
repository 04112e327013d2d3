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
