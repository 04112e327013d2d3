"""The chat's "Overview" tab: companies as rows, practices as columns, each cell a verdict that
opens its evidence and the whole policy at the deciding sentence.

The grid is ``qa.overview``'s, rendered here as escaped HTML; sorting and filtering happen in
the page (``GRID_JS``), opening a cell asks the server for its evidence (``cell_view``).
"""
from __future__ import annotations

from html import escape

import gradio as gr

from index.dates import date_label
from qa.overview import NOT_STATED, Cell, Overview, OverviewRow, practice

from . import render

# How a verdict reads for the person whose data it is (a colour, nothing more): "bad" where the
# policy allows what people usually mind, "good" where it rules it out or grants a right.
_GOOD = {"does not sell", "does not share", "honours", "not directed at children", "describes measures",
         "notifies users", "a stated period"}
_BAD = {"sells or may sell", "shares", "does not honour"}
_INFO = {"collects"}
_BY_PRACTICE = {("advertising", "yes"): "bad", ("advertising", "no"): "good", ("transfer", "yes"): "mid",
                ("transfer", "no"): "good", ("deletion", "no"): "bad"}


def tone(practice_id: str, verdict: str) -> str:
    """``good``, ``bad``, ``mid``, ``info`` or ``none`` (not stated): the colour of a verdict."""
    if verdict == NOT_STATED:
        return "none"
    if (practice_id, verdict) in _BY_PRACTICE:
        return _BY_PRACTICE[(practice_id, verdict)]
    if verdict in _INFO:
        return "info"
    return "bad" if verdict in _BAD else "good" if verdict in _GOOD or verdict == "yes" else "mid"


def _t(value) -> str:
    return escape(str(value), quote=True)


def grid_html(grid: Overview) -> str:
    """The grid as a table: a filter box, sortable column heads, one button per cell."""
    if not grid.rows:
        return '<div class="pq-empty">No policies are indexed yet.</div>'
    heads = ['<th scope="col" aria-sort="ascending"><button type="button" class="pq-ov-sort" data-col="0">'
             'Company</button></th>']
    options = ['<option value="">every verdict</option>', '<option value="changed">changed since the previous '
               'version</option>']
    for i, p in enumerate(grid.practices, 1):
        heads.append(f'<th scope="col" aria-sort="none"><button type="button" class="pq-ov-sort" data-col="{i}" '
                     f'title="{_t(p.question.format(company="the company"))}">{_t(p.name)}</button></th>')
        options += [f'<option value="{_t(p.id)}={_t(v)}">{_t(p.name)}: {_t(v)}</option>' for v in p.verdicts]
    body = [_row_html(row, grid) for row in grid.rows]
    changed = sum(c.changed for r in grid.rows for c in r.cells)
    counts = (f'{len(grid.rows)} polic{"y" if len(grid.rows) == 1 else "ies"}'
              + (f", {changed} cell{'s' if changed != 1 else ''} changed since the previous version" if changed else ""))
    return (f'<div class="pq-ov">'
            f'<div class="pq-ov-tools"><input type="search" class="pq-ov-filter" placeholder="Filter companies…" '
            f'aria-label="Filter companies"><select class="pq-ov-only" aria-label="Show only rows with">'
            f'{"".join(options)}</select><span class="pq-ov-count" role="status">{_t(counts)}</span></div>'
            f'<div class="pq-ov-scroll"><table class="pq-ov-grid"><thead><tr>{"".join(heads)}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>'
            f'<p class="pq-note">Each cell is the answer to the question in its column head, from that policy alone; '
            f'open a cell for the sentence behind it. <span class="pq-ov-changed">changed</span> marks a verdict that '
            f'differs from the company\'s previous policy version.</p></div>')


def _row_html(row: OverviewRow, grid: Overview) -> str:
    changed = any(c.changed for c in row.cells)
    cells = []
    for p, cell in zip(grid.practices, row.cells):
        rank = p.verdicts.index(cell.verdict) if cell.verdict in p.verdicts else len(p.verdicts)
        mark = ""
        label = f"{cell.verdict}: {p.name}, {row.company}"  # the visible words first (WCAG 2.5.3)
        if cell.changed:
            mark = ' <span class="pq-ov-changed">changed</span>'
            label = (f"{cell.verdict} changed: {p.name}, {row.company}; was {cell.previous} in the policy of "
                     f"{date_label(row.previous_date)}")
        cells.append(f'<td data-rank="{rank}" data-verdict="{_t(p.id)}={_t(cell.verdict)}">'
                     f'<button type="button" class="pq-ov-cell pq-tone-{tone(p.id, cell.verdict)}" '
                     f'data-doc="{_t(row.doc)}" data-practice="{_t(p.id)}" aria-label="{_t(label)}" '
                     f'title="{_t(label)}">{_t(cell.verdict)}{mark}</button></td>')
    version = _t(date_label(row.policy_date))
    return (f'<tr data-company="{_t(row.company.lower())}" data-changed="{int(changed)}">'
            f'<th scope="row" data-rank="0"><span class="pq-company">{_t(row.company)}</span>'
            f'<span class="pq-date">policy of {version}</span></th>{"".join(cells)}</tr>')


def cell_view(row: OverviewRow, cell: Cell) -> str:
    """A cell opened: the practice, its verdict, the question asked, and the deciding sentence in its excerpt."""
    p = practice(cell.practice)
    was = ""
    if cell.changed:
        was = (f'<p class="pq-ov-was">Changed: the policy of {_t(date_label(row.previous_date))} said '
               f'<strong>{_t(cell.previous)}</strong>.</p>')
    head = (f'<div class="pq-ov-evidence"><div class="pq-card-head"><span class="pq-company">{_t(row.company)}</span> '
            f'<span class="pq-date">policy of {_t(date_label(row.policy_date))}</span></div>'
            f'<h3 class="pq-ov-practice">{_t(p.name)}: <span class="pq-ov-verdict pq-tone-{tone(p.id, cell.verdict)}">'
            f'{_t(cell.verdict)}</span></h3>{was}'
            f'<p class="pq-ov-question">Asked of this policy: “{_t(p.question.format(company=row.company))}”</p>')
    if cell.citation is None:
        return head + ('<p class="pq-ov-silent">Not stated: no sentence of this policy answers it.</p></div>')
    from qa.records import Answer

    card = render.sources_panel(Answer(question=p.question, text=cell.verdict, found=True, citations=[cell.citation]))
    return head + card + "</div>"


def evidence_placeholder() -> str:
    return '<div class="pq-empty">Open a cell to see the sentence behind its verdict, highlighted in the whole policy.</div>'


# The whole policy scrolled to the highlighted sentence (the chat scrolls to the passage; here the
# one sentence is what the cell is about).
SCROLL_TO_SENTENCE_JS = render.scroll_policy_js((".pq-policy-text mark.pq-highlight", ".pq-passage"), 4)

# Sorting (by a column's verdict order, then company), filtering (company name, one verdict or
# changed rows) and opening a cell, all in the page; opening asks the server through `trigger`.
GRID_JS = """
const rowsOf = () => [...element.querySelectorAll('.pq-ov-grid tbody tr')];
const refilter = () => {
  const text = (element.querySelector('.pq-ov-filter') || {}).value || '';
  const only = (element.querySelector('.pq-ov-only') || {}).value || '';
  const needle = text.trim().toLowerCase();
  let shown = 0;
  for (const row of rowsOf()) {
    let keep = !needle || row.dataset.company.includes(needle);
    if (keep && only === 'changed') keep = row.dataset.changed === '1';
    else if (keep && only) keep = !!row.querySelector(`td[data-verdict="${CSS.escape(only)}"]`);
    row.hidden = !keep;
    if (keep) shown += 1;
  }
  const count = element.querySelector('.pq-ov-count');
  if (count) count.dataset.shown = String(shown);
};
element.addEventListener('input', (event) => {
  if (event.target.closest('.pq-ov-filter, .pq-ov-only')) refilter();
});
element.addEventListener('change', (event) => {
  if (event.target.closest('.pq-ov-only')) refilter();
});
element.addEventListener('click', (event) => {
  const sort = event.target.closest('button.pq-ov-sort');
  if (sort && element.contains(sort)) {
    const col = Number(sort.dataset.col);
    const head = sort.closest('th');
    const ascending = head.getAttribute('aria-sort') !== 'ascending';
    for (const th of element.querySelectorAll('.pq-ov-grid thead th')) th.setAttribute('aria-sort', 'none');
    head.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
    const key = (row) => {
      const cell = row.children[col];
      return [col === 0 ? 0 : Number(cell.dataset.rank), row.dataset.company];
    };
    const body = element.querySelector('.pq-ov-grid tbody');
    const sorted = rowsOf().sort((a, b) => {
      const [ra, ca] = key(a), [rb, cb] = key(b);
      const order = ra !== rb ? ra - rb : ca.localeCompare(cb);
      return ascending ? order : -order;
    });
    for (const row of sorted) body.appendChild(row);
    return;
  }
  const cell = event.target.closest('button.pq-ov-cell');
  if (!cell || !element.contains(cell)) return;
  for (const open of element.querySelectorAll('button.pq-ov-cell.pq-ov-open')) open.classList.remove('pq-ov-open');
  cell.classList.add('pq-ov-open');
  trigger('click', {doc: cell.dataset.doc, practice: cell.dataset.practice});
  const below = document.getElementById('pq-ov-evidence');
  if (below) below.scrollIntoView({block: 'start', behavior: 'smooth'});
});
watch('value', refilter);
"""


def build_tab(config, tab, open_policy) -> None:
    """The Overview tab's components and events (inside ``gr.Blocks`` and the tab ``tab``).

    ``open_policy`` is the chat's ``/policy`` function: the whole policy as HTML, a passage marked."""
    from qa.chat import ALL_COMPANIES, NEWEST, company_choices, versions_of
    from qa.overview import overview, version_row
    from qa.safe import safe_call

    from .app import _OPEN_CITATION_JS, _int, _policies

    with gr.Row():
        company = gr.Dropdown(company_choices(_policies(config)), value=ALL_COMPANIES, label="Company",
                              interactive=True, elem_id="pq-ov-company", scale=3)
        version = gr.Dropdown([("Newest", NEWEST)], value=NEWEST, label="Policy version", visible=False,
                              interactive=True, elem_id="pq-ov-version", scale=2)
    grid = gr.HTML('<div class="pq-empty">Loading the overview…</div>', elem_id="pq-overview", js_on_load=GRID_JS)
    with gr.Row(equal_height=False):
        with gr.Column(scale=5, min_width=360):
            evidence = gr.HTML(evidence_placeholder(), elem_id="pq-ov-evidence", js_on_load=_OPEN_CITATION_JS)
        with gr.Column(scale=6, min_width=380):
            viewer = gr.HTML("", elem_id="pq-ov-policy", js_on_load=SCROLL_TO_SENTENCE_JS)

    def show(company_name, version_choice, progress=gr.Progress()):
        def report(done: int, total: int) -> None:
            progress((done, total), desc="Reading the policies", unit="policies")

        name = None if company_name in (None, "", ALL_COMPANIES) else company_name
        date = None if version_choice in (None, "", NEWEST) else version_choice
        reply = safe_call(overview, name, date, config=config, progress=report)
        if not reply.ok:
            return render.error_message(reply.message)
        return grid_html(reply.answer)

    def choose_company(company_name):
        dates = versions_of(company_name, _policies(config))
        if len(dates) < 2:
            return gr.Dropdown(choices=[("Newest", NEWEST)], value=NEWEST, visible=False)
        return gr.Dropdown(choices=[(f"Newest ({dates[0]})", NEWEST)] + [(d, d) for d in dates[1:]], value=NEWEST,
                           visible=True)

    def open_cell(evt: gr.EventData):
        data = evt._data if isinstance(evt._data, dict) else {}
        reply = safe_call(version_row, str(data.get("doc", "")), config)
        if not reply.ok:
            return render.error_message(reply.message), gr.skip()
        row = reply.answer
        cell = next((c for c in row.cells if c.practice == data.get("practice")), None)
        if cell is None:
            return render.error_message("That practice is not in the overview."), gr.skip()
        c = cell.citation
        try:
            policy = open_policy(row.doc, *((c.start, c.end, c.highlight_start, c.highlight_end) if c else ()))
        except gr.Error as exc:
            policy = render.error_message(str(exc.message))
        return cell_view(row, cell), policy

    def open_citation(evt: gr.EventData):
        data = evt._data if isinstance(evt._data, dict) else {}
        try:
            return open_policy(str(data.get("doc", "")), _int(data.get("start")), _int(data.get("end")),
                               _int(data.get("highlight_start")), _int(data.get("highlight_end")))
        except gr.Error as exc:
            return render.error_message(str(exc.message))

    tab.select(show, [company, version], grid, api_visibility="private")
    company.change(choose_company, company, version, api_visibility="private").then(
        show, [company, version], grid, api_visibility="private")
    version.input(show, [company, version], grid, api_visibility="private")
    grid.click(open_cell, None, [evidence, viewer], api_visibility="private")
    evidence.click(open_citation, None, viewer, api_visibility="private")
