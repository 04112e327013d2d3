"""Building the index for real: the real model, a real Chroma in a temp folder, the real corpus."""
import json
import os
from pathlib import Path

from index import build, get_config
from index.chunking import chunk_policy
from index.embedder import load_model
from index.policies import parse_policy
from index.readers import read_document

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


def test_no_chunk_exceeds_the_model_sequence_length():
    model = load_model(get_config().model)
    limit = model.max_seq_length
    lengths = []
    for path in sorted(CORPUS.iterdir()):
        doc = read_document(path)
        for chunk in chunk_policy(parse_policy(doc.text, path.name)):
            lengths.append(len(model.tokenizer(chunk.embed_text)["input_ids"]))
    assert lengths and max(lengths) <= limit, (max(lengths), limit)


def test_build_is_idempotent_and_incremental(corpus_copy):
    config = get_config()
    first = build(config, progress=False)
    assert (first.documents, first.skipped) == (5, {})
    assert first.embedded == first.chunks > 50 and first.reused == 0

    again = build(config, progress=False)
    assert (again.embedded, again.reused, again.removed) == (0, first.chunks, 0)

    manifest = json.loads(config.manifest_path.read_text())
    assert manifest["model"] == "all-MiniLM-L6-v2"
    assert set(manifest["documents"]) == {p.name for p in CORPUS.iterdir()}

    # A changed file re-embeds only what changed.
    axosoft = corpus_copy / "axosoft-2017-12-11.md"
    axosoft.write_text(axosoft.read_text() + "\n## Children\n\nWe do not knowingly collect data from children under 13.\n")
    changed = build(config, progress=False)
    assert 1 <= changed.embedded <= 2 and changed.chunks == first.chunks + changed.embedded - changed.removed

    # A deleted file's chunks are removed.
    n_azendoo = len(manifest["documents"]["azendoo-2013-06-30.md"]["chunks"])
    (corpus_copy / "azendoo-2013-06-30.md").unlink()
    removed = build(config, progress=False)
    assert removed.removed == n_azendoo and removed.embedded == 0 and removed.documents == 4

    from index.store import VectorStore
    assert VectorStore(config).count() == removed.chunks


def test_corpus_and_data_folders_moved_together_still_answer(tmp_path, monkeypatch):
    import shutil

    from qa import ask

    old = tmp_path / "old"
    shutil.copytree(CORPUS, old / "corpus")
    (old / "corpus" / "acme.html").write_text(
        "<html><body><h1>Acme privacy policy</h1><h2>Sale</h2><p>Acme does not sell your personal data.</p>"
        "</body></html>")
    monkeypatch.setenv("POLICYQA_CORPUS", str(old / "corpus"))
    monkeypatch.setenv("POLICYQA_DATA", str(old / "data"))
    first = build(get_config(), progress=False)
    assert first.embedded == first.chunks > 50

    new = tmp_path / "new"
    shutil.move(old, new)  # the cited files (and the HTML's extracted text) were recorded under old/
    monkeypatch.setenv("POLICYQA_CORPUS", str(new / "corpus"))
    monkeypatch.setenv("POLICYQA_DATA", str(new / "data"))
    for question, words in [("Does Comindware share data with Salesforce?", "Salesforce"),
                            ("Does Acme sell my personal data?", "does not sell")]:
        answer = ask(question)
        assert answer.found and words in answer.citations[0].highlight, answer.text
        assert str(new) in answer.citations[0].source and str(old) not in answer.citations[0].source
    again = build(get_config(), progress=False)
    assert (again.embedded, again.reused) == (0, first.chunks)  # no vector was made again


def test_model_change_rebuilds(corpus_copy, monkeypatch):
    for extra in list(corpus_copy.iterdir())[1:]:
        extra.unlink()
    build(get_config(), progress=False)
    from index.embedder import resolve_model_path
    monkeypatch.setenv("POLICYQA_MODEL", resolve_model_path("all-MiniLM-L6-v2"))  # same weights, new name
    report = build(get_config(), progress=False)
    assert report.embedded == report.chunks > 0


def test_cli_reports_json(corpus_copy, tmp_path):
    import subprocess
    import sys

    (corpus_copy / "notes.docx").write_bytes(b"PK\x03\x04 not a policy")
    (corpus_copy / "empty.md").write_text("")
    env = dict(os.environ)
    out = subprocess.run([sys.executable, "-m", "index", "--json"], capture_output=True, text=True, env=env,
                         cwd=Path(__file__).resolve().parent.parent, timeout=300)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["documents"] == 5 and report["chunks"] == report["embedded"] + report["reused"]
    assert set(report) >= {"documents", "sections", "chunks", "embedded", "reused", "skipped", "seconds"}
    assert report["skipped"] == {"empty.md": "empty file",
                                 "notes.docx": "unsupported file type '.docx' (use .md, .txt, .html or .pdf)"}
