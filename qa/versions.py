"""Policy versions: "What changed in Azalead's policy between 2014 and 2017?", and what older versions said.

``answer_changes`` compares two versions of one company's policy (see ``qa.policy_diff``) and
cites both sides; ``add_earlier_version_line`` adds one line to an ordinary answer when an
older version of the cited policy said something different.
"""
from __future__ import annotations

import hashlib
import os
import re
import textwrap
import threading
from dataclasses import replace

import numpy as np

from index.dates import date_label, dated_policy
from index.chunking import plain_text
from index.config import Config
from index.lexical import stems
from index.retrieval import IndexView, PolicyInfo

from .compose import MAX_EXCERPT_CHARS, quote
from .policy_diff import Difference, Statement, VersionDiff, diff_statements, terms
from .question import Understood, variants
from .retrieve import choose_versions
from .records import Answer, Change, Citation

_YEAR = re.compile(r"\b(19[89]\d|20[0-4]\d)\b")
_CHANGED = re.compile(
    r"\b(?:changed|differ|differs|differed|different|differences?|evolved?|compare|compared|comparison|"
    r"what'?s\s+new|what\s+is\s+new)\b", re.I)
# A change named as a thing ("notify users of revisions to its policy") asks for a comparison only with a time.
_CHANGES = re.compile(r"\b(?:changes?|updates?|updated|revised|revisions?)\b", re.I)
_OVER_TIME = re.compile(r"\b(?:since|between|over\s+time|versions?|earlier|previous|prior|older|newer|latest|"
                        r"from\s+(?:19|20)\d\d|(?:19|20)\d\d\s+(?:to|and|vs\.?|versus)\s+(?:19|20)\d\d)\b", re.I)
# "changed" inside a clause of time or condition describes the topic, it does not ask for a comparison.
_DEPENDENT_CHANGE = re.compile(r"\b(?:before|after|when|once|until|if|whenever)\b(?:\W+\w+){0,5}\W*$", re.I)
_POLICY_ITSELF = re.compile(r"\b(?:polic(?:y|ies)|notice|statement|terms|versions?|wording|text)\b", re.I)
_SINCE = re.compile(r"\b(?:since|after|from)\s+(?:19|20)\d\d\b", re.I)
# Question words that ask for a comparison, not about a topic.
_NOT_TOPIC = frozenset(stems("differ different difference differences evolve compare comparison version versions "
                             "since between time over earlier previous prior older newer latest new revision "
                             "revisions"))
MAX_CHANGED = 6
# Topics added and removed shown, each way: every one a pair of versions this far apart has (Azalead
# 2014 -> 2017: 12 and 15); a cap of 8 hid the removal of Flash cookies and of the credit card terms.
MAX_TOPICS = 20
# An older version's sentence counts as the same statement at this word similarity.
SAME_STATEMENT = 0.8


def is_change_question(understood: Understood) -> bool:
    """Asks what changed between versions of a policy ("What changed in X's policy since 2014?")."""
    question = understood.question
    if len(understood.companies) > 1:
        return False
    cue = _CHANGED.search(question)
    if cue and _DEPENDENT_CHANGE.search(question[:cue.start()]):
        return False  # "how much notice did they give before the policy changed?": about the notice
    if cue:
        # "across different devices" is about devices: the change asked about must be the policy's own.
        return bool(_OVER_TIME.search(question) or (re.search(r"\b(?:what|how)\b", question, re.I)
                                                     and _POLICY_ITSELF.search(question)))
    return bool(_CHANGES.search(question) and _OVER_TIME.search(question) and len(_YEAR.findall(question)) >= 1)


def answer_changes(understood: Understood, view: IndexView, config: Config) -> Answer:
    """Compare the two versions the question names (see module docstring) and cite both sides."""
    answer = Answer(question=understood.question, text="", found=False, kind="versions")
    policies = list(view.policies.values())
    company = _company(understood, policies, answer)
    if company is None:
        return answer
    answer.company = company
    versions = sorted((p for p in policies if p.company == company), key=lambda p: p.version_key)
    if len(versions) < 2:
        answer.text = (f"I have only one version of {company}'s privacy policy (of {date_label(versions[0].policy_date)}), "
                       f"so there is nothing to compare it with.")
        return answer
    old, new = _pick_versions(understood, versions, policies)
    answer.versions = (old.policy_date, new.policy_date)
    answer.policy_date = new.policy_date
    if old.doc == new.doc:
        answer.text = (f"The years asked about fall under the same version of {company}'s privacy policy "
                       f"({date_label(new.policy_date)}). Versions I have: {', '.join(date_label(p.policy_date) for p in versions)}.")
        return answer
    diff = version_diff(view, config, old.doc, new.doc)
    topic = _topic_stems(understood)
    changed, added, removed = diff.changed, diff.added, diff.removed
    if topic:
        changed, added, removed = (_about(items, topic) for items in (changed, added, removed))
    changed, added, removed = changed[:MAX_CHANGED], added[:MAX_TOPICS], removed[:MAX_TOPICS]

    citations: list[Citation] = []
    for item in changed + added + removed:
        old_cite = _cite(view, item.old, len(citations) + 1, item.weight) if item.old else None
        if old_cite:
            citations.append(old_cite)
        new_cite = _cite(view, item.new, len(citations) + 1, item.weight) if item.new else None
        if new_cite:
            citations.append(new_cite)
        answer.changes.append(Change(item.kind, _topic_label(item), old_cite, new_cite, item.similarity, item.signals))
    answer.citations = citations
    answer.found = bool(citations)
    if len(versions) > 2:
        answer.notes.append(f"{company} has {len(versions)} policy versions: "
                            f"{', '.join(date_label(p.policy_date) for p in versions)}; this compares {date_label(old.policy_date)} "
                            f"with {date_label(new.policy_date)}.")
    answer.text = _changes_text(company, old, new, answer.changes, diff, topic, understood)
    return answer


def _company(understood: Understood, policies: list[PolicyInfo], answer: Answer) -> str | None:
    if understood.companies:
        return understood.companies[0]
    counts: dict[str, int] = {}
    for p in policies:
        counts[p.company] = counts.get(p.company, 0) + 1
    several = sorted(c for c, n in counts.items() if n > 1)
    if len(several) == 1:
        return several[0]
    if several:
        answer.text = (f"Which company's policy should I compare? These have several versions: "
                       f"{', '.join(several)}.")
    else:
        answer.text = "None of the indexed companies has more than one version of its privacy policy."
    return None


def _pick_versions(understood: Understood, versions: list[PolicyInfo],
                   policies: list[PolicyInfo]) -> tuple[PolicyInfo, PolicyInfo]:
    """(older, newer): the versions in force in the two years named; since one year, that year's
    and the newest; in one year, that year's and the one before it; else the last two."""
    years = sorted({int(y) for y in _YEAR.findall(understood.question)})
    if not years:
        return versions[-2], versions[-1]
    first = _in_force(understood, versions, policies, years[0])
    if len(years) >= 2:
        return first, _in_force(understood, versions, policies, years[-1])
    if _SINCE.search(understood.question):
        return first, versions[-1]
    position = versions.index(first)
    return (versions[position - 1], first) if position > 0 else (first, versions[min(1, len(versions) - 1)])


def _in_force(understood: Understood, versions: list[PolicyInfo], policies: list[PolicyInfo], year: int) -> PolicyInfo:
    """The version the one-company answer would use for ``year`` (shared rule: ``choose_versions``)."""
    _, chosen, _ = choose_versions(replace(understood, companies=[versions[0].company], year=year), policies)
    doc = next(iter(chosen))
    return next(p for p in versions if p.doc == doc)


def _topic_words(understood: Understood) -> list[str]:
    """What the question asks about besides "what changed": "... about notice of changes" → notice, changes."""
    words = list(understood.content_words)
    cue = _CHANGED.search(understood.question) or _CHANGES.search(understood.question)
    if cue and cue.group(0).lower() in words:
        words.remove(cue.group(0).lower())  # the word asking for the comparison, not its topic
    return [w for w in words if not (stems(w) and set(stems(w)) <= _NOT_TOPIC)]


def _topic_stems(understood: Understood) -> set[str]:
    return {s for w in _topic_words(understood) for s in variants(w)} - _NOT_TOPIC


def _about(items: list[Difference], topic: set[str]) -> list[Difference]:
    def mentions(s: Statement | None) -> bool:
        return bool(s) and bool(topic & (set(stems(s.text)) | set(stems(s.section))))

    return [d for d in items if mentions(d.old) or mentions(d.new)]


def _topic_label(item: Difference) -> str:
    return f"{item.topic} ({', '.join(item.names)})" if item.names else item.topic


# --- the diff, computed once per pair of versions -------------------------------------------------

_diff_cache: dict[tuple, VersionDiff] = {}
_vector_cache: dict[tuple[str, str], np.ndarray] = {}
_cache_lock = threading.Lock()


def version_diff(view: IndexView, config: Config, old_doc: str, new_doc: str) -> VersionDiff:
    """The differences between two indexed versions (cached until the index changes)."""
    key = (view.policies[old_doc].source, view.policies[new_doc].source, view.manifest_mtime, config.model)
    with _cache_lock:
        if key in _diff_cache:
            return _diff_cache[key]
    diff = diff_statements(statements(view, old_doc), statements(view, new_doc),
                           lambda texts: _embed_cached(config, texts))
    with _cache_lock:
        if len(_diff_cache) > 64:
            _diff_cache.clear()
        _diff_cache[key] = diff
    return diff


def _embed_cached(config: Config, texts: list[str]) -> np.ndarray:
    """Embeddings of ``texts``: from memory, else from the index folder's cache, else the model.

    Sentence vectors of two versions take seconds to compute on a CPU; the cache file (named by
    a hash of the model and the texts) makes every later comparison of the same versions instant,
    in this process and the next.
    """
    model = config.model
    with _cache_lock:
        known = all((model, t) in _vector_cache for t in texts)
        if known:
            return np.array([_vector_cache[(model, t)] for t in texts], dtype="float32")
    digest = hashlib.sha256("\x00".join([model, *texts]).encode("utf-8")).hexdigest()[:32]
    path = config.data_dir / "diff-cache" / f"{digest}.npy"
    vectors = None
    try:
        vectors = np.load(path)
        if vectors.shape[0] != len(texts):
            vectors = None
    except (OSError, ValueError):
        vectors = None
    if vectors is None:
        from index.embedder import embed

        unique = list(dict.fromkeys(texts))
        by_text = dict(zip(unique, embed(model, unique)))
        vectors = np.array([by_text[t] for t in texts], dtype="float32")
        _save_quietly(path, vectors)
    with _cache_lock:
        if len(_vector_cache) > 50_000:
            _vector_cache.clear()
        _vector_cache.update({(model, t): v for t, v in zip(texts, vectors)})
    return vectors


def _save_quietly(path, vectors: np.ndarray) -> None:
    """Write the cache file atomically; a read-only index folder just means no cache."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npy")
        np.save(tmp, vectors)
        os.replace(tmp, path)
    except OSError:
        pass


def statements(view: IndexView, doc: str) -> list[Statement]:
    """The sentences of one indexed policy version, in order, from the index's manifest."""
    text = view.source_text(doc)
    out = []
    for rel, chunk in view.chunks.values():
        if rel != doc:
            continue
        for start, end in chunk["sentences"]:
            out.append(Statement(doc, chunk["section"], start, end, plain_text(text[start:end])))
    return sorted(out, key=lambda s: s.start)


def _cite(view: IndexView, statement: Statement, n: int, score: float) -> Citation:
    """A citation of one statement: the chunk around it as the excerpt, the sentence highlighted."""
    info = view.policies[statement.doc]
    text = view.source_text(statement.doc)
    start, end = statement.start, statement.end
    for rel, chunk in view.chunks.values():
        if rel == statement.doc and chunk["start"] <= statement.start and statement.end <= chunk["end"]:
            start, end = chunk["start"], chunk["end"]
            break
    if end - start > MAX_EXCERPT_CHARS:
        start = max(start, min(statement.start, statement.end - MAX_EXCERPT_CHARS))
        end = min(end, max(statement.end, start + MAX_EXCERPT_CHARS))
        start = max(start, end - MAX_EXCERPT_CHARS)
    return Citation(n=n, company=info.company, policy_date=info.policy_date, section=statement.section,
                    score=round(score, 4), excerpt=text[start:end], highlight=text[statement.start:statement.end],
                    source=info.source, start=start, end=end, highlight_start=statement.start,
                    highlight_end=statement.end, doc=statement.doc)


# --- words -----------------------------------------------------------------------------------------

def _changes_text(company: str, old: PolicyInfo, new: PolicyInfo, changes: list[Change], diff: VersionDiff,
                  topic: set[str], understood: Understood) -> str:
    changed = [c for c in changes if c.kind == "changed"]
    added = [c for c in changes if c.kind == "added"]
    removed = [c for c in changes if c.kind == "removed"]
    head = f"{company}'s privacy policy, {date_label(old.policy_date)} → {date_label(new.policy_date)}"
    if topic and not changes:
        return f"{head}: I found no change about “{' '.join(_topic_words(understood))}”."
    lines = [f"{head}: {_count(len(diff.changed), 'statement')} changed in numbers, negation or timing, "
             f"{_count(len(diff.added), 'topic')} added, {len(diff.removed)} removed; "
             f"{_count(diff.reworded, 'other statement')} reworded."
             + (f" Shown: those about “{' '.join(_topic_words(understood))}”." if topic else "")]
    if changed:
        lines.append("Changed:")
        lines += [f"- {c.topic}: {date_label(old.policy_date)} “{_short(c.old.highlight)}” [{c.old.n}] → {date_label(new.policy_date)} "
                  f"“{_short(c.new.highlight)}” [{c.new.n}]" for c in changed]
    if added:
        lines.append(f"Added in {date_label(new.policy_date)}:")
        lines += [f"- {c.topic}: “{_short(c.new.highlight)}” [{c.new.n}]" for c in added]
    if removed:
        lines.append(f"Removed since {date_label(old.policy_date)}:")
        lines += [f"- {c.topic}: “{_short(c.old.highlight)}” [{c.old.n}]" for c in removed]
    return "\n".join(lines)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _short(text: str, limit: int = 220) -> str:
    quoted = quote(text)
    return quoted if len(quoted) <= limit else quoted[: limit - 1].rsplit(" ", 1)[0] + "…"


def format_changes(answer: Answer) -> str:
    """CLI rendering: changed statements side by side (older left, newer right), then added and removed."""
    if not answer.changes:
        return answer.text
    width = 44
    old_date, new_date = (date_label(d) for d in answer.versions)
    lines = [answer.text.split("\n", 1)[0]]
    for note in answer.notes:
        lines.append(f"  note: {note}")
    for change in answer.changes:
        lines.append("")
        if change.kind == "changed":
            lines.append(f"CHANGED · {change.topic}")
            left = _column(change.old, width)
            right = _column(change.new, width)
            lines.append(f"  {old_date + ' [' + str(change.old.n) + ']':<{width}} │ {new_date} [{change.new.n}]")
            for i in range(max(len(left), len(right))):
                a = left[i] if i < len(left) else ""
                b = right[i] if i < len(right) else ""
                lines.append(f"  {a:<{width}} │ {b}")
            if change.signals:
                lines.append(f"  ({', '.join(change.signals)} differ)")
        else:
            cite = change.new if change.kind == "added" else change.old
            label = f"ADDED in {new_date}" if change.kind == "added" else f"REMOVED since {old_date}"
            lines.append(f"{label} · {change.topic} [{cite.n}]")
            lines += ["  " + line for line in textwrap.wrap(f"“{quote(cite.highlight)}”", 2 * width + 3)]
    lines.append("")
    for c in answer.citations:
        lines.append(f"[{c.n}] {c.company} · policy of {date_label(c.policy_date)} · {c.section} · {c.source}:{c.start}-{c.end}")
    return "\n".join(lines)


def _column(citation: Citation, width: int) -> list[str]:
    return textwrap.wrap(f"“{quote(citation.highlight)}”", width)


# --- versions everywhere: one line about what an older version said -------------------------------

def add_earlier_version_line(answer: Answer, understood: Understood, view: IndexView, ranked: list,
                             newest: set[str], answers: float = 0.5) -> None:
    """When the answer cites a company's newest policy and an older version said something
    different on the question's topic, add one line saying what, with its citation."""
    if understood.year or not answer.citations or not understood.companies:
        return
    first = answer.citations[0]
    if first.doc not in newest:
        return
    older = [s for s in ranked if s.hit.company == first.company and s.hit.doc not in newest
             and s.probability >= answers]
    if not older:
        return
    text = view.source_text(older[0].hit.doc)
    best = next((s for s in older if _is_sentence(text[s.sentence[0]:s.sentence[1]])), None)
    if best is None:
        return
    sentence = text[best.sentence[0]:best.sentence[1]]
    if _said_in(sentence, view, first.doc):
        return
    cited = next((c for c in answer.citations if c.doc == best.hit.doc and c.highlight_start == best.sentence[0]), None)
    if cited is None:
        from .compose import cite

        shown = cite(view, [best], 1)
        if not shown:
            return  # headings only: nothing to quote
        cited = replace(shown[0], n=len(answer.citations) + 1)
        if any(c.doc == cited.doc and c.start < cited.end and cited.start < c.end for c in answer.citations):
            return  # its passage is already shown, in another citation's excerpt
        answer.citations.append(cited)
    answer.text += (f"\nIn its {dated_policy(cited.policy_date)}, {cited.company} said: "
                    f"“{_short(cited.highlight)}” [{cited.n}]")


def _is_sentence(markdown: str) -> bool:
    """A full statement, not a bold label or table heading ("Cookies, Web Beacons and IP Addresses")."""
    words = plain_text(markdown)
    return bool(re.search(r"[.!?;:][\"'”’)]*$", words)) or len(words.split()) >= 12


def _said_in(sentence: str, view: IndexView, doc: str) -> bool:
    """Whether ``doc`` contains ``sentence`` almost word for word."""
    wanted = terms(plain_text(sentence))
    if not wanted:
        return True
    wanted_set = set(wanted)
    for s in statements(view, doc):
        got = set(terms(s.text))
        if got and len(wanted_set & got) / len(wanted_set | got) >= SAME_STATEMENT:
            return True
    return False
