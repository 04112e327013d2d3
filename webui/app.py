"""The Gradio 6 chat: layout, event handlers and the named API endpoints ``/ask`` and ``/policy``.

Handlers are thin: ``qa.chat`` decides what to ask, ``qa.ask`` answers, ``webui.render`` escapes
and lays out the HTML.
"""
from __future__ import annotations

import re
from pathlib import Path

import gradio as gr

from index.config import Config, get_config
from index.errors import PolicyQAError
from index.retrieval import open_index
from qa.chat import ALL_COMPANIES, NEWEST, answer_turn, ask_in_context, company_choices, versions_of
from qa.safe import safe_call

from . import overview as overview_view
from . import render
from .citations import used_citations
from .upload import ALLOWED_SUFFIXES, MAX_UPLOAD_BYTES, BadUpload, add_uploads

# An answer is CPU-bound for tens of ms (one query embedding, BM25, a Chroma query), then spends
# ~0.25 s streaming while idle. Running many more at once than there are cores only slows each;
# a few more keeps the CPU busy during the streaming. The queue keeps the rest in order and shows
# their position. Indexing an upload saturates the CPU and holds the build lock, so uploads run
# one at a time in their own group.
CHAT_CONCURRENCY = 4
UPLOAD_CONCURRENCY = 1
QUEUE_MAX_SIZE = 64
# An answer is ready in one piece (about half a second), so it is shown in one piece: no typing effect.

# Three questions that show the three kinds of answer: one policy, across companies, across versions.
EXAMPLES = [
    "Does Comindware share data with Salesforce?",
    "Which companies share data with Salesforce?",
    "What changed in Azalead's privacy policy between 2014 and 2017?",
]
MAX_LANDING_COMPANIES = 12

CSS = (Path(__file__).with_name("style.css")).read_text(encoding="utf-8")

# Page-wide behaviour of our own markup: [n] links open their source card, the copy button copies.
PAGE_JS = """
() => {
  window.__pqPageScript = true;
  const openCard = (id) => {
    const tab = [...document.querySelectorAll('button[role="tab"]')].find(b => b.textContent.trim() === 'Sources');
    if (tab && tab.getAttribute('aria-selected') !== 'true') tab.click();
    const show = (tries) => {
      const card = document.getElementById(id);
      if (!card) { if (tries > 0) setTimeout(() => show(tries - 1), 50); return; }
      card.scrollIntoView({block: 'nearest', behavior: 'smooth'});
      card.classList.remove('pq-flash'); void card.offsetWidth; card.classList.add('pq-flash');
      // After the click has finished (the chat moves the focus back to the message on click).
      setTimeout(() => card.focus({preventScroll: true}), 120);
    };
    show(40);
  };
  const copyText = async (value, button) => {
    try { await navigator.clipboard.writeText(value); }
    catch (e) {
      const area = document.createElement('textarea');
      area.value = value; document.body.appendChild(area); area.select();
      document.execCommand('copy'); area.remove();
    }
    const label = button.textContent;
    button.textContent = 'Copied'; setTimeout(() => { button.textContent = label; }, 1500);
  };
  document.addEventListener('click', (event) => {
    const ref = event.target.closest('a.pq-ref');
    if (ref && (ref.getAttribute('href') || '').startsWith('#pq-cite-')) {
      event.preventDefault();
      openCard(ref.getAttribute('href').slice(1));
      return;
    }
    const copy = event.target.closest('button.pq-copy');
    const source = copy && copy.closest('.pq-answer') && copy.closest('.pq-answer').querySelector('.pq-copy-text');
    if (source) copyText(source.textContent, copy);
  });
  // A new answer is shown from its question down (not scrolled to its end, as the chat would).
  const scroller = (el) => {
    for (let node = el.parentElement; node; node = node.parentElement) {
      const style = getComputedStyle(node);
      if (/(auto|scroll)/.test(style.overflowY) && node.scrollHeight > node.clientHeight) return node;
    }
    return null;
  };
  let shown = 0;
  new MutationObserver(() => {
    // Gradio's file drop zone is named "Click to upload or drop files" while it shows other words;
    // its visible words make the better name (WCAG 2.5.3, checked by axe-core).
    for (const zone of document.querySelectorAll('.upload-container[aria-label]')) zone.removeAttribute('aria-label');
    const chat = document.getElementById('pq-chat');
    if (!chat) return;
    const answers = chat.querySelectorAll('.pq-answer');
    const count = answers.length;
    if (count === shown) return;
    shown = count;
    const users = chat.querySelectorAll('.pq-user');
    const last = users[users.length - 1];
    if (!last) return;
    requestAnimationFrame(() => {
      const box = scroller(last);
      if (!box) return;
      const top = last.getBoundingClientRect().top - box.getBoundingClientRect().top + box.scrollTop;
      box.scrollTop = Math.max(0, top - 12);
    });
  }).observe(document.body, {subtree: true, childList: true});
}
"""

_OPEN_CITATION_JS = """
element.addEventListener('click', (event) => {
  const button = event.target.closest('button.pq-open');
  if (!button || !element.contains(button)) return;
  const d = button.dataset;
  trigger('click', {doc: d.doc, start: Number(d.start), end: Number(d.end),
                    highlight_start: Number(d.hs), highlight_end: Number(d.he)});
});
"""

# Scroll the policy box to the passage once it is laid out (the tab may still be hidden).
_SCROLL_TO_PASSAGE_JS = render.scroll_policy_js((".pq-passage",), 5)


def _policies(config: Config):
    return list(open_index(config).policies.values())


def _header(config: Config) -> str:
    policies = _policies(config)
    companies = len({p.company for p in policies})
    return ('<div class="pq-header"><h1>PolicyQA</h1><p>Ask about website privacy policies. Every answer '
            'quotes the policy word for word, with the company, policy date and section, so you can check it.'
            f'</p><p class="pq-count">{len(policies)} policies from {companies} companies indexed.</p></div>')


def _md_text(value: str) -> str:
    """Text safe inside Gradio's Markdown: HTML escaped, Markdown punctuation backslash-escaped."""
    return "".join("\\" + ch if ch in "\\`*_{}[]()#+-.!|<>~" else ch for ch in str(value)).replace("&", "&amp;")


def landing(config: Config) -> str:
    """The empty chat's text: what is indexed, what to ask, how to add a policy (Markdown)."""
    policies = _policies(config)
    dates: dict[str, list[str]] = {}
    for p in policies:
        dates.setdefault(p.company, []).append(p.policy_date)
    names = sorted(dates, key=str.lower)
    listed = [f"{_md_text(name)} ({', '.join(sorted(dates[name]))})" for name in names[:MAX_LANDING_COMPANIES]]
    if len(names) > len(listed):
        listed.append(f"and {len(names) - len(listed)} more")
    return ("### Ask a question about a privacy policy\n\n"
            f"**Indexed:** {len(policies)} policies from {len(names)} companies: {'; '.join(listed)}.\n\n"
            "**Try** one of the three example questions under the box: one policy, every company, or two "
            "versions of a policy compared. Follow up with a company or a year: “What about Axosoft?”\n\n"
            "**Your own policy:** open *Add your own policies* below (.md, .txt, .html, .pdf), or run "
            "`python -m index add file.pdf`.")


def refresh_page(config: Config):
    """What the page shows about the index, read again (on every page load and after an upload)."""
    return (_header(config), gr.Dropdown(choices=company_choices(_policies(config))),
            gr.Chatbot(placeholder=landing(config)))


def _version_update(company: str | None, config: Config):
    dates = versions_of(company, _policies(config))
    if len(dates) < 2:
        return gr.Dropdown(choices=[("Newest", NEWEST)], value=NEWEST, visible=False)
    choices = [(f"Newest ({dates[0]})", NEWEST)] + [(d, d) for d in dates[1:]]
    return gr.Dropdown(choices=choices, value=NEWEST, visible=True)


def ask_endpoint(question: str, company: str | None = None, policy_date: str | None = None,
                 previous: str | None = None) -> dict:
    """Answer a question from the indexed privacy policies.

    Args:
        question: e.g. "Does Comindware share data with Salesforce?"
        company: restrict the answer to this company (name or domain); empty for all.
        policy_date: answer from this policy version (ISO date); empty for the newest.
        previous: the question asked before, so that "What about Axosoft?" can be answered.

    Returns:
        The answer as JSON: question (the question answered), text, found, company, policy_date,
        notes and citations (n, company, policy_date, section, score, excerpt, highlight, doc,
        start, end, highlight_start, highlight_end).
    """
    company = _optional_text(company, "company", "a company name or domain", MAX_COMPANY_CHARS)
    policy_date = _optional_text(policy_date, "policy_date", "a date like 2014-06-25", 10)
    if policy_date and not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", policy_date):
        raise gr.Error("policy_date must be a date like 2014-06-25 (or a year like 2014), or empty for the newest.")
    previous = _optional_text(previous, "previous", "the question asked before", MAX_PREVIOUS_CHARS)
    reply = safe_call(ask_in_context, question, company=company, policy_date=policy_date, previous=previous)
    if not reply.ok:  # a bad question, an unusable index or server, or a bug (logged): one sentence
        raise gr.Error(reply.message)
    return _without_source_paths(reply.answer.to_dict())


MAX_COMPANY_CHARS = 200
MAX_PREVIOUS_CHARS = 2000


def overview_endpoint(company: str | None = None, policy_date: str | None = None) -> dict:
    """The overview grid: each company's policy, practice by practice, each verdict with its sentence.

    Args:
        company: this company only (name or domain); empty for every company.
        policy_date: the policy version of this date (ISO date) instead of each company's newest.

    Returns:
        JSON: practices (id, name, question, verdicts) and rows (company, policy_date, version, doc,
        previous_date and cells: practice, verdict, previous (the previous version's verdict when it
        differs), changed and citation, whose doc and offsets open the policy through /policy).
    """
    from qa.overview import overview

    company = _optional_text(company, "company", "a company name or domain", MAX_COMPANY_CHARS)
    policy_date = _optional_text(policy_date, "policy_date", "a date like 2014-06-25", 10)
    if policy_date and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", policy_date):
        raise gr.Error("policy_date must be a date like 2014-06-25, or empty for the newest.")
    reply = safe_call(overview, company, policy_date, config=get_config())
    if not reply.ok:
        raise gr.Error(reply.message)
    return _without_source_paths(reply.answer.to_dict())


def _optional_text(value, name: str, what: str, limit: int) -> str | None:
    """An optional text argument of the API, checked; the message never repeats the value given."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise gr.Error(f"{name} must be text ({what}), or empty.")
    value = value.strip()
    if len(value) > limit:
        raise gr.Error(f"{name} is too long ({len(value):,} characters; the limit is {limit:,}).")
    return value or None


def _whole_number(value, name: str) -> int:
    """An offset argument of ``/policy``: a whole number (text of one is accepted), -1 when absent."""
    if value is None or value == "":
        return -1
    if isinstance(value, bool):
        raise gr.Error(f"{name} must be a whole number (a character offset, or -1 for none).")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d{1,12}\s*", value):
        return int(value)
    raise gr.Error(f"{name} must be a whole number (a character offset, or -1 for none).")


def _without_source_paths(data):
    """The answer's JSON without citations' ``source``: a path on the server, of no use to a remote caller."""
    if isinstance(data, dict):
        return {k: _without_source_paths(v) for k, v in data.items() if not (k == "source" and "excerpt" in data)}
    if isinstance(data, list):
        return [_without_source_paths(v) for v in data]
    return data


def policy_endpoint(doc: str, start: int = -1, end: int = -1, highlight_start: int = -1,
                    highlight_end: int = -1) -> str:
    """A whole indexed policy as escaped HTML, the passage [start, end) marked when given.

    Args:
        doc: a policy's id, as in a citation's ``doc``; only indexed policies are served.
        start: where the cited excerpt starts (-1 for none).
        end: where it ends.
        highlight_start: where the evidence sentence starts.
        highlight_end: where it ends.

    Returns:
        HTML of the policy, every character of the policy escaped.
    """
    start, end = _whole_number(start, "start"), _whole_number(end, "end")
    highlight_start = _whole_number(highlight_start, "highlight_start")
    highlight_end = _whole_number(highlight_end, "highlight_end")
    config = get_config()
    view = open_index(config)
    info = view.policies.get(doc) if isinstance(doc, str) else None
    if info is None:
        raise gr.Error("No indexed policy has that id. Open a policy from a citation's button.")
    try:
        policy_text = view.source_text(doc)
    except (OSError, PolicyQAError):
        raise gr.Error("That policy's file cannot be read any more; rebuild the index with `python -m index`.") from None
    passage = None
    if start >= 0 and end > start:
        hs, he = (highlight_start, highlight_end) if 0 <= highlight_start < highlight_end else (start, start)
        passage = render.Passage(int(start), int(end), int(hs), int(he))
    return render.policy_view(info.company, info.policy_date, info.title, doc, policy_text, passage)


def build_demo(config: Config | None = None) -> gr.Blocks:
    """The chat app (not yet launched). The index must exist: see ``qa.answer.ensure_index``."""
    config = config or get_config()
    policies = _policies(config)

    with gr.Blocks(title="PolicyQA") as demo:
        context = gr.State(None)
        header = gr.HTML(_header(config))
        with gr.Tabs(selected="chat", elem_id="pq-views"):
            with gr.Tab("Chat", id="chat"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=6, min_width=420):
                        with gr.Row():
                            company = gr.Dropdown(company_choices(policies), value=ALL_COMPANIES, label="Company",
                                                  info="Used when the question names no company", interactive=True)
                            version = gr.Dropdown([("Newest", NEWEST)], value=NEWEST, label="Policy version",
                                                  info="This company has several policy versions", visible=False,
                                                  interactive=True)
                        # Messages are HTML built by webui.render with every user and policy string escaped;
                        # Markdown, LaTeX and custom tags are off so nothing in them is interpreted.
                        chatbot = gr.Chatbot(
                            label="Chat", show_label=False, elem_id="pq-chat", height=520, render_markdown=False, autoscroll=False,
                            sanitize_html=True, allow_tags=False, latex_delimiters=[], buttons=[], feedback_options=None,
                            placeholder=landing(config),
                        )
                        question = gr.Textbox(placeholder="Ask a question, e.g. Does Comindware share data with Salesforce?",
                                              label="Your question", show_label=False, submit_btn="Ask",
                                              elem_id="pq-question", autofocus=True, max_lines=4)
                        with gr.Row(elem_classes="pq-examples"):
                            example_buttons = [gr.Button(q, size="sm", variant="secondary") for q in EXAMPLES]
                            clear = gr.Button("↺ New conversation", size="sm", variant="secondary",
                                              elem_classes="pq-clear")
                        with gr.Accordion("Add your own policies", open=False):
                            files = gr.File(label=f"Policy files ({' '.join(ALLOWED_SUFFIXES)}, up to "
                                                  f"{MAX_UPLOAD_BYTES // (1024 * 1024)} MB each)",
                                            file_count="multiple", file_types=list(ALLOWED_SUFFIXES), type="filepath")
                            with gr.Row():
                                upload_company = gr.Textbox(label="Company (optional)", placeholder="read from the document")
                                upload_date = gr.Textbox(label="Policy date (optional)", placeholder="YYYY-MM-DD")
                            upload_aliases = gr.Textbox(label="Other names of the company (optional)",
                                                        placeholder="comma-separated: Acme, acme.io, ACME Corp.")
                            add_button = gr.Button("Add to the index", variant="primary")
                            upload_status = gr.HTML()
                    with gr.Column(scale=5, min_width=380):
                        with gr.Tabs(selected="sources") as tabs:
                            with gr.Tab("Sources", id="sources"):
                                sources = gr.HTML(render.sources_panel(None), elem_id="pq-sources",
                                                  js_on_load=_OPEN_CITATION_JS)
                            with gr.Tab("Full policy", id="policy"):
                                viewer = gr.HTML(render.policy_placeholder(), elem_id="pq-policy",
                                                 js_on_load=_SCROLL_TO_PASSAGE_JS)
            with gr.Tab("Overview", id="overview") as overview_tab:
                overview_view.build_tab(config, overview_tab, policy_endpoint)

        def respond(message, history, previous, company_filter, version_choice):
            history = list(history or [])
            if not (message or "").strip():
                yield gr.skip(), gr.skip(), gr.skip(), gr.skip()
                return
            history.append({"role": "user", "content": render.user_message(message)})
            history.append({"role": "assistant", "content": render.pending_message()})
            yield history, gr.skip(), gr.skip(), ""
            reply = safe_call(answer_turn, message, previous, company_filter, version_choice, config=config)
            if not reply.ok:  # never a traceback: bugs are logged, the user gets one sentence
                history[-1] = {"role": "assistant", "content": render.error_message(reply.message)}
                yield history, gr.skip(), gr.skip(), ""
                return
            turn = reply.answer
            answer = used_citations(turn.answer)
            asked = turn.request.question if turn.request.rewritten else None
            history[-1] = {"role": "assistant", "content": render.answer_message(answer, asked)}
            yield history, render.sources_panel(answer), turn.context, ""

        chat_inputs = [question, chatbot, context, company, version]
        chat_outputs = [chatbot, sources, context, question]
        question.submit(respond, chat_inputs, chat_outputs, api_visibility="private")
        for button in example_buttons:
            button.click(respond, [button, chatbot, context, company, version], chat_outputs,
                         api_visibility="private")

        def start_over():
            return [], render.sources_panel(None), None, render.policy_placeholder()

        clear.click(start_over, None, [chatbot, sources, context, viewer], api_visibility="private")
        chatbot.clear(start_over, None, [chatbot, sources, context, viewer], api_visibility="private")
        company.change(lambda c: _version_update(c, config), company, version, api_visibility="private")

        def open_citation(evt: gr.EventData):
            data = evt._data if isinstance(evt._data, dict) else {}
            try:
                html = policy_endpoint(str(data.get("doc", "")), _int(data.get("start")), _int(data.get("end")),
                                       _int(data.get("highlight_start")), _int(data.get("highlight_end")))
            except gr.Error as exc:
                html = render.error_message(str(exc.message))
            return html, gr.Tabs(selected="policy")

        sources.click(open_citation, None, [viewer, tabs], api_visibility="private")

        def add_files(paths, company_name, date, aliases, progress=gr.Progress()):
            def report(done: int, total: int) -> None:
                progress((done, total), desc="Embedding the new policies", unit="chunks")

            try:
                result = add_uploads(paths or [], company_name, date, progress=report, config=config,
                                     aliases=aliases)
            except BadUpload as exc:
                return render.error_message(str(exc)), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            except PolicyQAError as exc:
                return render.error_message(f"Indexing failed: {exc}"), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            if result.added:  # the new policies' overview cells, computed now (the rest are cached)
                from qa.overview import update_overview

                safe_call(update_overview, config, progress=False)
            page_header, choices, placeholder = refresh_page(config)
            return (render.upload_status(result), choices, page_header, placeholder,
                    None if result.added else gr.skip())

        add_button.click(add_files, [files, upload_company, upload_date, upload_aliases],
                         [upload_status, company, header, chatbot, files],
                         concurrency_limit=UPLOAD_CONCURRENCY, concurrency_id="index", api_visibility="private")
        # Another process (`python -m index add`, another browser) may have changed the index.
        demo.load(lambda: refresh_page(config), None, [header, company, chatbot], api_visibility="private")

        gr.api(ask_endpoint, api_name="ask")
        gr.api(policy_endpoint, api_name="policy")
        gr.api(overview_endpoint, api_name="overview")

    _optional_api_arguments(demo, {"ask": 1, "policy": 1, "overview": 0})
    demo.queue(default_concurrency_limit=CHAT_CONCURRENCY, max_size=QUEUE_MAX_SIZE)
    return demo


def _optional_api_arguments(demo: gr.Blocks, required: dict[str, int]) -> None:
    """Let raw HTTP callers of the named endpoints leave out trailing optional arguments (as
    ``gradio_client`` does), and answer too few arguments with a plain sentence: Gradio's own
    message repeats every value received (a 30 MB question came back whole)."""
    check = demo.validate_inputs

    def validate_inputs(block_fn, inputs):
        name = getattr(block_fn, "api_name", None)
        if name in required and isinstance(inputs, list) and len(inputs) < len(block_fn.inputs):
            if len(inputs) < required[name]:
                raise gr.Error(f"/{name} needs at least {required[name]} argument(s): see the API page.")
            inputs.extend([None] * (len(block_fn.inputs) - len(inputs)))
        try:
            return check(block_fn, inputs)
        except ValueError:
            raise gr.Error("The request does not have the arguments this endpoint takes: see the API page.") from None

    demo.validate_inputs = validate_inputs


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


# Soft's subdued greys fail WCAG AA contrast on its light backgrounds; these pass (axe-core checks them).
THEME = gr.themes.Soft(primary_hue="indigo", neutral_hue="slate").set(
    body_text_color_subdued="#475569", body_text_color_subdued_dark="#cbd5e1",
    block_info_text_color="#475569", block_info_text_color_dark="#cbd5e1", block_label_text_color="*primary_700",
    button_primary_background_fill="*primary_600", button_primary_background_fill_hover="*primary_700",
)
