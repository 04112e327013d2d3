"""Re-indexing does only the work that changed: proven by making everything else impossible."""
import importlib
from pathlib import Path

import pytest

from index import build, get_config
from index.store import VectorStore

build_module = importlib.import_module("index.build")  # the package's `build` attribute is the function

POLICIES = {
    "alpha.md": "# Alpha Privacy Policy\n\n## Sharing\n\nWe share purchase history with our payment processor.\n",
    "beta.md": "# Beta Privacy Policy\n\n## Cookies\n\nWe use cookies to keep you signed in.\n\n"
               "## Retention\n\nWe delete inactive accounts after two years.\n",
    "gamma.txt": "Gamma privacy notice.\n\nWe never sell personal data. We keep logs for 14 days.\n",
}


@pytest.fixture
def small_corpus(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    for name, text in POLICIES.items():
        (folder / name).write_text(text)
    monkeypatch.setenv("POLICYQA_CORPUS", str(folder))
    return folder


def forbid(monkeypatch, target, name):
    def refuse(*args, **kwargs):
        raise AssertionError(f"{name} must not be called")

    monkeypatch.setattr(target, name, refuse)


def test_unchanged_corpus_reads_no_file_and_asks_chroma_nothing(small_corpus, monkeypatch):
    first = build(get_config(), progress=False)
    assert first.documents == 3 and first.embedded == first.chunks
    with monkeypatch.context() as m:
        forbid(m, build_module, "read_document")
        forbid(m, build_module, "_parse_file")
        forbid(m, VectorStore, "__init__")  # the embedded store is not even opened
        forbid(m, build_module, "load_manifest")  # its small summary is enough
        manifest_before = get_config().manifest_path.stat().st_mtime_ns
        again = build(get_config(), progress=False)
    assert (again.embedded, again.reused, again.removed, again.chunks) == (0, first.chunks, 0, first.chunks)
    assert get_config().manifest_path.stat().st_mtime_ns == manifest_before  # not even rewritten


def test_one_changed_file_is_the_only_one_read_and_ids_are_not_listed(small_corpus, monkeypatch):
    first = build(get_config(), progress=False)
    read = []
    original = build_module.read_document
    monkeypatch.setattr(build_module, "read_document", lambda path, **kw: read.append(path.name) or original(path, **kw))
    forbid(monkeypatch, VectorStore, "all_ids")  # the manifest and a count vouch for the store
    texts_of = []  # documents whose chunk texts are rebuilt for the keyword index
    all_texts = build_module._all_chunk_texts
    monkeypatch.setattr(build_module, "_all_chunk_texts",
                        lambda config, docs, parsed: texts_of.extend(docs) or all_texts(config, docs, parsed))
    (small_corpus / "beta.md").write_text(POLICIES["beta.md"] + "\n## Children\n\nWe do not serve children.\n")
    changed = build(get_config(), progress=False)
    assert read == ["beta.md"] and texts_of == ["beta.md"]  # the others' stems come from the cache
    assert changed.embedded == 1 and changed.chunks == first.chunks + 1 and changed.removed == 0


def test_a_build_killed_half_way_is_finished_by_the_next(small_corpus, monkeypatch):
    first = build(get_config(), progress=False)
    (small_corpus / "delta.md").write_text("# Delta Privacy Policy\n\nWe share nothing with anyone, ever.\n")
    with monkeypatch.context() as m:
        def killed(self, ids, embeddings, metadatas):
            raise KeyboardInterrupt

        m.setattr(VectorStore, "add", killed)
        with pytest.raises(KeyboardInterrupt):
            build(get_config(), progress=False)
    assert (get_config().data_dir / build_module.PENDING_MARK).exists()
    finished = build(get_config(), progress=False)
    assert finished.embedded == finished.chunks - first.chunks == 1
    assert VectorStore(get_config()).count() == finished.chunks
    assert not (get_config().data_dir / build_module.PENDING_MARK).exists()


def test_lost_vectors_are_noticed_and_restored(small_corpus):
    first = build(get_config(), progress=False)
    store = VectorStore(get_config())
    store.delete(sorted(store.all_ids())[:2])
    (small_corpus / "gamma.txt").write_text(POLICIES["gamma.txt"] + "\nWe answer requests within 30 days.\n")
    repaired = build(get_config(), progress=False)
    assert VectorStore(get_config()).count() == repaired.chunks
    assert repaired.embedded >= 2


def test_a_duplicate_stays_skipped_without_being_read_until_its_original_goes(small_corpus, monkeypatch):
    (small_corpus / "alpha-copy.md").write_bytes((small_corpus / "alpha.md").read_bytes())
    first = build(get_config(), progress=False)
    assert first.skipped == {"alpha.md": "duplicate of alpha-copy.md"}
    with monkeypatch.context() as m:
        forbid(m, build_module, "read_document")
        assert build(get_config(), progress=False).skipped == first.skipped
    (small_corpus / "alpha-copy.md").unlink()
    after = build(get_config(), progress=False)
    assert after.skipped == {} and after.documents == 3


def test_new_parsing_rules_read_every_file_again_but_embed_nothing_new(small_corpus, monkeypatch):
    (small_corpus / "notes.docx").write_bytes(b"PK\x03\x04 not a policy")
    first = build(get_config(), progress=False)
    read = []
    original = build_module.read_document
    monkeypatch.setattr(build_module, "read_document", lambda path, **kw: read.append(path.name) or original(path, **kw))
    monkeypatch.setattr(build_module, "parser_signature", lambda: "rules-of-a-new-release")
    from index.build import is_stale

    assert is_stale(get_config())
    again = build(get_config(), progress=False)
    assert sorted(read) == sorted(POLICIES) + ["notes.docx"]  # skipped files are tried again too
    assert (again.embedded, again.reused, again.removed) == (0, first.chunks, 0)
    assert not is_stale(get_config())
