"""Against a real `chroma run` server on loopback: build, ask, the server going away and coming back."""
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from index import build, get_config
from index.errors import ServerUnavailable
from index.store import VectorStore, copy_vectors
from qa import ask

pytestmark = pytest.mark.server
PROJECT = Path(__file__).resolve().parent.parent

POLICIES = {
    "beta-2020-02-02.md": "# Beta Privacy Policy\n\n## Cookies\n\nWe use cookies to keep you signed in.\n\n"
                          "## Sharing\n\nWe share your shipping address with DHL to deliver parcels.\n",
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


def run_cli(module: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, cwd=PROJECT,
                          env=dict(os.environ), timeout=600)


def test_build_and_ask_against_the_server(chroma_server, small_corpus, tmp_path, monkeypatch):
    config = get_config()
    assert config.chroma_url == chroma_server.url
    first = build(config, progress=False)
    assert first.documents == 2 and first.embedded == first.chunks > 0
    assert VectorStore(config).count() == first.chunks
    assert not config.chroma_dir.exists()  # nothing went to an embedded store

    answer = ask("Does Beta share my address with DHL?")
    assert answer.found and answer.citations[0].company == "Beta" and "DHL" in answer.citations[0].highlight
    with monkeypatch.context() as m:  # unchanged: one count over HTTP; no client, no id listing
        m.setattr(VectorStore, "__init__", lambda *a, **k: pytest.fail("the Chroma client was opened"))
        assert build(config, progress=False).embedded == 0

    # A second machine with the same corpus and its own data folder embeds nothing.
    monkeypatch.setenv("POLICYQA_DATA", str(tmp_path / "second-machine"))
    joined = build(get_config(), progress=False)
    assert (joined.embedded, joined.reused) == (0, first.chunks)
    assert ask("How long does Gamma keep logs?").citations[0].company == "Gamma"


def test_seed_corpus_answers_the_same_from_the_server(chroma_server, seed_data_dir, tmp_path):
    # The session's embedded seed index is copied into the server: same vectors, no embedding.
    embedded = replace(get_config(), data_dir=seed_data_dir, chroma_url=None)
    assert copy_vectors(embedded, get_config()) > 50
    report = build(get_config(), progress=False)
    assert report.embedded == 0 and report.documents == 5
    answer = ask("Does Comindware share data with Salesforce?")
    assert answer.found and answer.citations[0].company == "Comindware"
    assert "Salesforce" in answer.citations[0].highlight
    assert not ask("Does Axosoft share data with Salesforce?").found


def test_server_down_is_one_clear_error(small_corpus, monkeypatch):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens here once the probe is closed
    url = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("POLICYQA_CHROMA_URL", url)
    with pytest.raises(ServerUnavailable, match=f"Chroma server at {url} is not reachable.*chroma run"):
        ask("Does Beta use cookies?")
    for module, args in (("index", ()), ("qa", ("Does Beta use cookies?",)), ("index", ("add", str(small_corpus)))):
        out = run_cli(module, *args)
        assert out.returncode == 1, (module, out.stdout, out.stderr)
        assert out.stderr.startswith(f"error: The Chroma server at {url} is not reachable")
        assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr


def test_a_hung_server_times_out_with_the_same_error(small_corpus, monkeypatch):
    with socket.socket() as silent:  # accepts connections (backlog) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        monkeypatch.setenv("POLICYQA_CHROMA_URL", f"http://127.0.0.1:{silent.getsockname()[1]}")
        started = time.monotonic()
        with pytest.raises(ServerUnavailable, match="is not answering"):
            build(get_config(), progress=False)
        assert time.monotonic() - started < 30


def test_questions_fail_clearly_while_the_server_is_down_and_succeed_once_it_is_back(chroma_server, small_corpus):
    build(get_config(), progress=False)
    assert ask("Does Beta use cookies?").found

    chroma_server.stop()
    with pytest.raises(ServerUnavailable, match="not reachable"):
        ask("Does Beta use cookies?")
    with pytest.raises(ServerUnavailable):
        ask("Does Beta share my address with DHL?")

    chroma_server.start()  # same port, same folder
    answer = ask("Does Beta share my address with DHL?")
    assert answer.found and "DHL" in answer.citations[0].highlight
    assert build(get_config(), progress=False).embedded == 0  # the vectors survived the restart


def test_vectors_wiped_from_the_server_are_one_clear_error_then_rebuilt(chroma_server, small_corpus):
    from index.errors import IndexDamaged

    build(get_config(), progress=False)
    assert ask("Does Beta use cookies?").found  # one company: its vectors are now cached here
    store = VectorStore(get_config())
    store.collection.delete(ids=sorted(store.all_ids()))  # another machine empties the collection
    with pytest.raises(IndexDamaged, match="vectors of the index are gone.*python -m index"):
        ask("Does Beta use cookies?")
    assert build(get_config(), progress=False).embedded > 0
    assert ask("Does Beta use cookies?").found
