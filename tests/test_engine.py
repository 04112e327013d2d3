"""The int8 engine (index.engine): close to fp32, keeps the query adapter's effect, generic over a
BERT encoder's hidden states, records which encoder made an index, and keeps one-shot commands light."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from index.config import DEFAULT_MODEL, get_config
from index.embedder import embed, embed_queries, embed_query, encoder_id, resolve_model_path
from index.errors import ConfigError, EncoderMismatch, IndexDamaged

PROJECT = Path(__file__).resolve().parent.parent
PASSAGES = [
    "We may share your data with CRM service providers such as Salesforce.",
    "Cookies are small text files stored on your device when you visit our site.",
    "We keep server logs for thirty days and then delete them.",
    "You can ask us to delete your account at any time by writing to privacy@example.com.",
    "We do not sell your personal information to third parties.",
    "Our payment processor receives your card number, expiry date and billing address.",
]
QUESTIONS = ["Do they share data with Salesforce?", "What are cookies?", "How long are logs kept?",
             "How do I delete my account?", "Do they sell my data?", "Who gets my credit card details?"]


def test_int8_stays_close_to_fp32_and_ranks_alike():
    fp32 = embed(DEFAULT_MODEL, PASSAGES, engine="fp32")
    int8 = embed(DEFAULT_MODEL, PASSAGES, engine="int8")
    assert (fp32 * int8).sum(axis=1).min() > 0.97
    for adapter in (False, True):
        q32 = embed_queries(DEFAULT_MODEL, QUESTIONS, adapter, engine="fp32")
        q8 = embed_queries(DEFAULT_MODEL, QUESTIONS, adapter, engine="int8")
        assert (q32 * q8).sum(axis=1).min() > 0.97
        # each question finds the passage fp32 finds (its own, but for MiniLM's blind spot: "do not sell")
        best = list((q8 @ int8.T).argmax(axis=1))
        assert best == list((q32 @ fp32.T).argmax(axis=1))
        assert sum(b == i for i, b in enumerate(best)) >= 5


def test_int8_query_path_keeps_the_adapters_effect():
    """The adapter changes biases and LayerNorm weights: the int8 model is exported from the adapted
    copy, so the adapter moves int8 question vectors as it moves fp32 ones."""
    moved = {}
    for engine in ("fp32", "int8"):
        plain = embed_queries(DEFAULT_MODEL, QUESTIONS, False, engine=engine)
        tuned = embed_queries(DEFAULT_MODEL, QUESTIONS, True, engine=engine)
        assert (plain * tuned).sum(axis=1).max() < 0.995  # the adapter did change them
        moved[engine] = tuned - plain
    cosine = (moved["fp32"] * moved["int8"]).sum(axis=1) / (
        np.linalg.norm(moved["fp32"], axis=1) * np.linalg.norm(moved["int8"], axis=1))
    assert cosine.min() > 0.8, cosine


def test_one_question_and_a_batch_agree():
    one = embed_query(DEFAULT_MODEL, QUESTIONS[0])
    assert np.allclose(one, embed_queries(DEFAULT_MODEL, QUESTIONS)[0], atol=1e-4)
    assert embed_queries(DEFAULT_MODEL, []).shape == (0, 384)


def test_engine_runs_any_bert_encoder_on_text_pairs(tmp_path):
    """What a cross-encoder judge needs: a BertModel exported once (fp32 here, to compare exactly),
    run on question/sentence pairs without torch, its [CLS] row pooled by the caller."""
    import torch
    from transformers import BertModel

    from index import engine

    folder = Path(resolve_model_path(DEFAULT_MODEL))
    built = []

    def build():
        built.append(1)
        return BertModel.from_pretrained(str(folder))

    sources = [folder / "model.safetensors", folder / "config.json"]
    path = engine.prepare("judge-test", build, sources, tmp_path / "cache", quantize=False)
    assert engine.prepare("judge-test", build, sources, tmp_path / "cache", quantize=False) == path
    assert built == [1] and path.is_file()  # exported once, then found in the cache
    encoder = engine.Encoder(path, folder / "tokenizer.json", max_length=64)
    hidden, mask = encoder.hidden_states(QUESTIONS[:3], PASSAGES[:3])
    ids, _, types = encoder.tokenize(QUESTIONS[:3], PASSAGES[:3])
    assert hidden.shape == (3, ids.shape[1], 384) and mask.shape == ids.shape and types.max() == 1
    with torch.no_grad():
        reference = build()(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask),
                            token_type_ids=torch.tensor(types)).last_hidden_state.numpy()
    cls = hidden[:, 0]
    assert np.allclose(cls, reference[:, 0], atol=1e-3)
    pooled = engine.mean_pool(hidden, mask)
    assert np.allclose(np.linalg.norm(pooled, axis=1), 1, atol=1e-5)


def test_a_damaged_model_file_is_a_clear_error(tmp_path):
    from index import engine

    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not an onnx model")
    with pytest.raises(ConfigError, match="delete it"):
        engine.session(bad, 1)


def test_engine_setting(monkeypatch):
    assert get_config().engine == "int8"
    monkeypatch.setenv("POLICYQA_ENGINE", "FP32")
    assert get_config().engine == "fp32"
    monkeypatch.setenv("POLICYQA_ENGINE", "int4")
    with pytest.raises(ConfigError, match="POLICYQA_ENGINE must be one of int8, fp32"):
        get_config()
    assert encoder_id(DEFAULT_MODEL, "fp32") == DEFAULT_MODEL != encoder_id(DEFAULT_MODEL, "int8")


def test_switching_engines_re_embeds_never_mixes(corpus_copy, monkeypatch):
    from index import build
    from index.retrieval import open_index
    from index.store import VectorStore
    from qa import ask

    for extra in sorted(corpus_copy.iterdir())[1:]:
        extra.unlink()
    first = build(get_config(), progress=False)
    manifest = json.loads(get_config().manifest_path.read_text())
    assert manifest["encoder"] == encoder_id(DEFAULT_MODEL, "int8") and first.embedded == first.chunks > 0
    monkeypatch.setenv("POLICYQA_ENGINE", "fp32")
    config = get_config()
    with pytest.raises(IndexDamaged, match="python -m index"):
        open_index(config)  # a question is never compared with the other engine's vectors
    if not config.chroma_url:  # the same store, asked for with the other encoder, refuses
        with pytest.raises(EncoderMismatch, match="never mix"):
            VectorStore(config).count()
    answer = ask("Do they use cookies?", config=config)  # ... and asking rebuilds with this engine
    assert answer.citations
    manifest = json.loads(config.manifest_path.read_text())
    assert manifest["encoder"] == DEFAULT_MODEL
    assert VectorStore(config).count() == first.chunks
    again = build(config, progress=False)
    assert again.embedded == 0 and again.reused == first.chunks


def test_server_collection_of_another_encoder_is_refused(chroma_server, monkeypatch):
    from index.store import VectorStore

    monkeypatch.setenv("POLICYQA_COLLECTION", "shared-vectors")
    store = VectorStore(get_config())
    store.add(["a"], [[0.1] * 384], [{"doc": "x.md", "company": "x", "policy_date": ""}])
    monkeypatch.setenv("POLICYQA_ENGINE", "fp32")
    with pytest.raises(EncoderMismatch, match="another POLICYQA_COLLECTION"):
        VectorStore(get_config()).count()


def _imports(args: list[str], env: dict) -> tuple[subprocess.CompletedProcess, set[str]]:
    out = subprocess.run([sys.executable, "-X", "importtime", *args], capture_output=True, text=True, env=env,
                         cwd=PROJECT, timeout=300)
    modules = {line.split("|")[-1].strip().split(".")[0] for line in out.stderr.splitlines()
               if line.startswith("import time:")}
    return out, modules


def test_one_shot_commands_import_no_torch(seed_index, tmp_path):
    """`python -m qa` and `python -m index add` with the int8 engine load neither torch nor
    sentence-transformers (the int8 models exist by now: the seed index made them)."""
    embed_query(DEFAULT_MODEL, "made once, here: the question model")
    env = {k: v for k, v in os.environ.items() if k != "POLICYQA_ENGINE"}
    out, modules = _imports(["-m", "qa", "Does Comindware share data with Salesforce?"], env)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "Salesforce" in out.stdout
    assert "onnxruntime" in modules and not {"torch", "sentence_transformers", "transformers"} & modules

    policy = tmp_path / "acme.md"
    policy.write_text("# Acme Privacy Policy\n\nLast updated: 2021-03-01\n\n## Sharing\n\n"
                      "We never sell your personal data. We share it with our hosting provider only.\n")
    corpus = tmp_path / "corpus"
    (corpus / "seed").mkdir(parents=True)
    for path in sorted((PROJECT / "corpus").iterdir())[:1]:
        (corpus / "seed" / path.name).write_bytes(path.read_bytes())
    env = {**env, "POLICYQA_CORPUS": str(corpus), "POLICYQA_DATA": str(tmp_path / "data")}
    out, modules = _imports(["-m", "index", "add", str(policy), "--json"], env)
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout)["added"][0]["company"] == "Acme"
    assert not {"torch", "sentence_transformers", "transformers"} & modules
