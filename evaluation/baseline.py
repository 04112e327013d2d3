"""The naive baseline every evaluation is compared with: a plain "chat with your docs" retriever.

Paragraph chunks (blank-line separated; a paragraph under 30 words is joined to the next one),
embedded with the same MiniLM model, searched by cosine similarity (plain numpy), top-k, with
the question file's company as a filter. No keyword search, no sentence choice, no abstention:
its "highlight" is the whole paragraph and it always answers.

Embeddings are cached under ``<data>/baseline/`` keyed by the corpus content.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.build import corpus_files
from index.chunking import plain_text
from index.config import Config
from index.policies import parse_policy
from index.readers import Unreadable, read_document

from qa.records import Answer, Citation

MIN_PARAGRAPH_WORDS = 30
MAX_EXCERPT_CHARS = 1200


@dataclass(frozen=True)
class Paragraph:
    doc: str
    company: str
    domain: str | None
    policy_date: str
    source: str
    start: int
    end: int


def paragraphs(text: str, min_words: int = MIN_PARAGRAPH_WORDS) -> list[tuple[int, int]]:
    """Blank-line separated blocks of ``text`` as (start, end); short blocks join the next one."""
    blocks = [(m.start(), m.end()) for m in re.finditer(r"\S(?:.*\S)?(?:\n[ \t]*\S.*)*", text)]
    out: list[tuple[int, int]] = []
    start = None
    for block_start, block_end in blocks:
        start = block_start if start is None else start
        if len(plain_text(text[start:block_end]).split()) >= min_words:
            out.append((start, block_end))
            start = None
    if start is not None:
        if out:
            out[-1] = (out[-1][0], blocks[-1][1])
        else:
            out.append((start, blocks[-1][1]))
    return out


def _indexed_companies(config: Config) -> dict[str, str]:
    """The company the product's index gives each file: a harness names the unseen policies' companies
    when it indexes them (a DMOZ file's text names only its site), and the baseline's company filter must
    meet the same names. Empty when there is no index."""
    from index.errors import PolicyQAError
    from index.retrieval import open_index

    try:
        return {p.doc: p.company for p in open_index(config).policies.values()}
    except PolicyQAError:
        return {}


class NaiveBaseline:
    """Paragraphs + MiniLM + cosine top-k over one corpus folder."""

    def __init__(self, config: Config):
        from index.embedder import embed

        self.config = config
        self.paragraphs: list[Paragraph] = []
        texts: list[str] = []
        named = _indexed_companies(config)
        for path in corpus_files(config.corpus_dir):
            try:
                doc = read_document(path)
            except Unreadable:
                continue
            policy = parse_policy(doc.text, path.name)
            rel = path.relative_to(config.corpus_dir).as_posix()
            company = named.get(rel, policy.company)
            source = str(path) if doc.is_verbatim else self._write_source(path, doc.text)
            for start, end in paragraphs(doc.text):
                words = plain_text(doc.text[start:end])
                if not words:
                    continue
                self.paragraphs.append(Paragraph(rel, company,
                                                 policy.domain, policy.policy_date, source, start, end))
                texts.append(words)
        self._texts: dict[str, str] = {}
        key = hashlib.sha256(json.dumps([config.model, texts]).encode()).hexdigest()[:16]
        cache = config.data_dir / "baseline" / f"{key}.npy"
        if cache.exists():
            self.vectors = np.load(cache)
        else:
            self.vectors = embed(config.model, texts) if texts else np.zeros((0, 384), dtype="float32")
            cache.parent.mkdir(parents=True, exist_ok=True)
            np.save(cache, self.vectors)

    def _write_source(self, path: Path, text: str) -> str:
        copy = self.config.data_dir / "baseline" / "sources" / (path.stem + ".txt")
        copy.parent.mkdir(parents=True, exist_ok=True)
        if not copy.exists() or copy.read_text(encoding="utf-8") != text:
            copy.write_text(text, encoding="utf-8")
        return str(copy)

    def _text(self, source: str) -> str:
        if source not in self._texts:
            self._texts[source] = Path(source).read_text(encoding="utf-8")
        return self._texts[source]

    def ask(self, question: str, company: str | None = None, k: int = 5) -> Answer:
        """Top-``k`` paragraphs by cosine similarity, restricted to ``company`` (name or domain)."""
        from index.embedder import embed_query

        wanted = (company or "").lower()
        allowed = np.array([not wanted or wanted in (p.company.lower(), (p.domain or "").lower())
                            for p in self.paragraphs], dtype=bool)
        if not allowed.any():
            return Answer(question=question, text="No policy for that company.", found=False)
        similarity = self.vectors @ embed_query(self.config.model, question, adapter=False)  # plain MiniLM
        similarity = np.where(allowed, similarity, -np.inf)
        order = np.argsort(-similarity)[: min(k, int(allowed.sum()))]
        citations = []
        for n, i in enumerate(order, 1):
            p = self.paragraphs[i]
            text = self._text(p.source)
            end = min(p.end, p.start + MAX_EXCERPT_CHARS)
            excerpt = text[p.start:end]
            citations.append(Citation(n=n, company=p.company, policy_date=p.policy_date, section="",
                                      score=round(float(similarity[i]), 4), excerpt=excerpt, highlight=excerpt,
                                      source=p.source, start=p.start, end=end, highlight_start=p.start,
                                      highlight_end=end, doc=p.doc))
        return Answer(question=question, text=citations[0].excerpt if citations else "", found=bool(citations),
                      citations=citations)
