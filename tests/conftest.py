"""Shared fixtures. Every test gets its own empty data folder unless it asks for the seed index."""
from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

PROJECT = Path(__file__).resolve().parent.parent
CORPUS = PROJECT / "corpus"
# ../shared next to the checkout (or next to the folder of worktrees); POLICYQA_SHARED points elsewhere.
SHARED = Path(os.environ.get("POLICYQA_SHARED") or next(
    (p for p in (PROJECT.parent / "shared", PROJECT.parent.parent / "shared") if p.is_dir()), PROJECT.parent / "shared"))
# Set by .ci/run's second pass: run the tests against that Chroma server instead of the embedded
# store. Each test gets its own collection, so tests cannot disturb each other's vectors.
TEST_SERVER = os.environ.get("POLICYQA_TEST_CHROMA_URL")
SEED_COLLECTION = f"seed-{uuid.uuid4().hex[:12]}"


def _use_store(setenv, delenv, collection: str) -> None:
    if TEST_SERVER:
        setenv("POLICYQA_CHROMA_URL", TEST_SERVER)
        setenv("POLICYQA_COLLECTION", collection)
    else:
        delenv("POLICYQA_CHROMA_URL")
        delenv("POLICYQA_COLLECTION")


@pytest.fixture(autouse=True)
def isolated_config(tmp_path, monkeypatch):
    """Point configuration at a private temp folder; the real corpus stays the default corpus."""
    monkeypatch.setenv("POLICYQA_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("POLICYQA_CORPUS", str(CORPUS))
    _use_store(monkeypatch.setenv, lambda name: monkeypatch.delenv(name, raising=False), f"t-{uuid.uuid4().hex[:12]}")
    monkeypatch.delenv("POLICYQA_MODEL", raising=False)
    yield tmp_path


@pytest.fixture(scope="session")
def seed_data_dir(tmp_path_factory) -> Path:
    """The real seed corpus, indexed once per test session with the real model and Chroma."""
    from index.build import build
    from index.config import get_config

    data = tmp_path_factory.mktemp("seed-index")
    old = dict(os.environ)
    os.environ["POLICYQA_DATA"] = str(data)
    os.environ["POLICYQA_CORPUS"] = str(CORPUS)
    _use_store(os.environ.__setitem__, lambda name: os.environ.pop(name, None), SEED_COLLECTION)
    try:
        build(get_config(), progress=False)
    finally:
        os.environ.clear()
        os.environ.update(old)
    return data


@pytest.fixture
def seed_index(seed_data_dir, monkeypatch) -> Path:
    """Use the session's seed index (read-only: do not add or change files in it)."""
    monkeypatch.setenv("POLICYQA_DATA", str(seed_data_dir))
    if TEST_SERVER:
        monkeypatch.setenv("POLICYQA_COLLECTION", SEED_COLLECTION)
    return seed_data_dir


@pytest.fixture
def corpus_copy(tmp_path, monkeypatch) -> Path:
    """A writable copy of the seed corpus, used as POLICYQA_CORPUS."""
    folder = tmp_path / "corpus"
    shutil.copytree(CORPUS, folder)
    monkeypatch.setenv("POLICYQA_CORPUS", str(folder))
    return folder


@pytest.fixture(scope="session")
def chat_app(seed_data_dir):
    """The real chat (`python app.py`) over the session's seed index, on a free loopback port."""
    from apprunner import start_app

    app = start_app({"POLICYQA_DATA": str(seed_data_dir), "POLICYQA_CORPUS": str(CORPUS)})
    yield app
    app.stop()


class ChromaServer:
    """A real `chroma run` on a free loopback port, serving a folder; stop and start it at will."""

    def __init__(self, path: Path, log: Path):
        import socket

        self.path, self.log = path, log
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = None

    def start(self, timeout: float = 60) -> None:
        import subprocess
        import sys
        import time
        import urllib.request

        chroma = Path(sys.executable).parent / "chroma"
        assert chroma.exists(), f"{chroma} is missing: chromadb installs it with the project"
        env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [str(chroma), "run", "--path", str(self.path), "--host", "127.0.0.1", "--port", str(self.port)],
                stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"chroma run exited ({self.process.returncode}): {self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/v2/heartbeat", timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"chroma run did not answer within {timeout} s: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        import subprocess

        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


@pytest.fixture
def chroma_server(tmp_path, monkeypatch):
    """A real Chroma server in a temp folder, and POLICYQA_CHROMA_URL pointing at it; stopped afterwards."""
    server = ChromaServer(tmp_path / "chroma-server", tmp_path / "chroma-server.log")
    server.start()
    monkeypatch.setenv("POLICYQA_CHROMA_URL", server.url)
    try:
        yield server
    finally:
        server.stop()
