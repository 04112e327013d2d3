"""The query-side adapter (index.query_adapter): loads offline over the base model, leaves the
base model and its document vectors alone, and ranks held-out PolicyQA evidence better."""
from __future__ import annotations

import hashlib

import numpy as np
import pytest

from conftest import SHARED
from index.config import DEFAULT_MODEL
from index.embedder import embed, embed_query, load_model, query_model
from index.errors import ConfigError
from index.query_adapter import ADAPTER_PATH, adapted_model

pytestmark = pytest.mark.skipif(not ADAPTER_PATH.is_file(), reason="no query adapter file (scripts/train_query_adapter.py)")


def test_adapter_is_small_plain_and_names_its_base_model():
    from safetensors import safe_open

    assert ADAPTER_PATH.stat().st_size < 2 * 1024 * 1024
    with safe_open(str(ADAPTER_PATH), framework="pt") as handle:
        meta = handle.metadata()
        keys = list(handle.keys())
    assert meta["base_model"] == DEFAULT_MODEL and meta["recipe"] == "scripts/train_query_adapter.py"
    assert int(meta["seed"]) == 0 and float(meta["level"]) > 0 and keys


def test_questions_use_the_adapter_documents_the_base_model():
    base = load_model(DEFAULT_MODEL)
    adapted = query_model(DEFAULT_MODEL)
    assert adapted is not base and query_model(DEFAULT_MODEL) is adapted  # loaded once
    assert query_model(DEFAULT_MODEL, adapter=False) is base
    question = "Do you share my information with advertisers?"
    plain, tuned = embed_query(DEFAULT_MODEL, question, adapter=False), embed_query(DEFAULT_MODEL, question)
    assert abs(float(np.linalg.norm(tuned)) - 1) < 1e-4
    assert 0.2 < float(plain @ tuned) < 0.999  # changed, but still in the same space
    # documents (and the baseline) keep the base model's vectors
    assert np.allclose(embed(DEFAULT_MODEL, [question])[0], plain, atol=1e-5)
    # frozen weights are shared with the base model, not copied (the word embeddings: 12 MB)
    name = next(n for n, _ in base.named_parameters() if n.endswith("word_embeddings.weight"))
    assert dict(base.named_parameters())[name] is dict(adapted.named_parameters())[name]


def test_the_adapter_can_be_switched_off(monkeypatch):
    from index.config import get_config

    assert get_config().query_adapter
    monkeypatch.setenv("POLICYQA_QUERY_ADAPTER", "off")
    assert not get_config().query_adapter


def test_another_adapter_file_can_be_named_for_comparisons(monkeypatch, tmp_path):
    from index.config import get_config
    from index.embedder import embed_query

    monkeypatch.setenv("POLICYQA_QUERY_ADAPTER", str(ADAPTER_PATH))
    named = get_config().query_adapter
    assert named == str(ADAPTER_PATH)
    question = "Do you sell my data?"
    assert np.allclose(embed_query(DEFAULT_MODEL, question, named), embed_query(DEFAULT_MODEL, question, True), atol=1e-6)
    with pytest.raises(ConfigError, match="not a file"):
        embed_query(DEFAULT_MODEL, question, str(tmp_path / "missing.safetensors"))


def test_a_damaged_adapter_is_a_clear_error(tmp_path):
    bad = tmp_path / "adapter.safetensors"
    bad.write_bytes(b"not a safetensors file")
    with pytest.raises(ConfigError, match="POLICYQA_QUERY_ADAPTER=off"):
        adapted_model(load_model(DEFAULT_MODEL), DEFAULT_MODEL, bad)


@pytest.mark.slow
@pytest.mark.skipif(not (SHARED / "eval" / "policyqa-dev").is_dir(), reason="needs ../shared/eval/policyqa-dev")
def test_adapter_ranks_evidence_better_on_companies_it_never_saw():
    """Report-half companies were never trained on: over their questions, the adapted question
    vector puts a passage holding the evidence higher than the plain one does (dense only)."""
    from index.chunking import chunk_policy
    from index.policies import parse_policy
    from index.readers import read_document
    from evaluation.scoring import load_questions, normalise, split_of

    dev = SHARED / "eval" / "policyqa-dev"
    questions = [q for q in load_questions(dev / "questions.jsonl") if split_of(q) == "report" and q.answerable]
    chosen = sorted({q.company for q in questions}, key=lambda c: hashlib.sha1(c.encode()).hexdigest())[:3]
    ranks = {False: [], True: []}
    for company in chosen:
        doc = read_document(dev / "corpus" / f"{company}.md")
        chunks = list(chunk_policy(parse_policy(doc.text, f"{company}.md")))
        vectors = embed(DEFAULT_MODEL, [c.embed_text for c in chunks])
        texts = [normalise(c.text) for c in chunks]
        for q in (q for q in questions if q.company == company):
            positives = [i for i, t in enumerate(texts) if any(normalise(e) in t for e in q.evidence)]
            if not positives:
                continue
            for adapter in (False, True):
                order = np.argsort(-(vectors @ embed_query(DEFAULT_MODEL, q.question, adapter=adapter)))
                ranks[adapter].append(min(int(np.where(order == p)[0][0]) for p in positives) + 1)
    assert len(ranks[True]) >= 100
    mrr = {a: float(np.mean([1 / r for r in ranks[a]])) for a in ranks}
    hit3 = {a: float(np.mean([r <= 3 for r in ranks[a]])) for a in ranks}
    assert mrr[True] > mrr[False] and hit3[True] >= hit3[False], (mrr, hit3)
