"""Shared fixtures. Every test gets its own empty data folder unless it asks for the seed index."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

PROJECT = Path(__file__).resolve().parent.parent
CORPUS = PROJECT / "corpus"
SHARED = PROJECT.parent / "shared"


@pytest.fixture(autouse=True)
def isolated_config(tmp_path, monkeypatch):
    """Point configuration at a private temp folder; the real corpus stays the default corpus."""
    monkeypatch.setenv("POLICYQA_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("POLICYQA_CORPUS", str(CORPUS))
    monkeypatch.delenv("POLICYQA_CHROMA_URL", raising=False)
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
    os.environ.pop("POLICYQA_CHROMA_URL", None)
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
    return seed_data_dir


@pytest.fixture
def corpus_copy(tmp_path, monkeypatch) -> Path:
    """A writable copy of the seed corpus, used as POLICYQA_CORPUS."""
    folder = tmp_path / "corpus"
    shutil.copytree(CORPUS, folder)
    monkeypatch.setenv("POLICYQA_CORPUS", str(folder))
    return folder


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
