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


@pytest.fixture(scope="session")
def chat_app(seed_data_dir):
    """The real chat (`python app.py`) over the session's seed index, on a free loopback port."""
    from apprunner import start_app

    app = start_app({"POLICYQA_DATA": str(seed_data_dir), "POLICYQA_CORPUS": str(CORPUS)})
    yield app
    app.stop()
