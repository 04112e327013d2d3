"""Fast CPU inference for BERT encoders: ONNX Runtime, int8 weights (per channel) or fp32.

Generic over any BERT-style encoder whose output is ``last_hidden_state`` given ``input_ids``,
``attention_mask`` and ``token_type_ids`` (MiniLM for the embedder; a cross-encoder judge built
on the same weights). Pooling is the caller's, in numpy: mean over tokens for the embedder, the
[CLS] row and a linear head for a judge. Running a model needs only onnxruntime, tokenizers and
numpy; producing one (``prepare``) needs torch, once, and the result is cached on disk::

    from index import engine

    path = engine.prepare("my-judge-v1", build=lambda: my_bert_model, sources=[weights_file],
                          cache_dir=get_config().cache_dir)           # torch only the first time
    encoder = engine.Encoder(path, tokenizer_file, max_length=256)    # no torch
    hidden, mask = encoder.hidden_states(questions, sentences)        # (batch, tokens, dim), (batch, tokens)
    logits = hidden[:, 0] @ head_weight.T + head_bias                 # [CLS] + a linear head

Nothing is downloaded: the model is exported from weights already on this machine.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import threading
from pathlib import Path
from typing import Callable, Iterable

from .errors import ConfigError

# Bump when the export or quantisation recipe changes: cached files and recorded encoder ids follow.
# v2: int8 per channel, but each layer's feed-forward output projection stays fp32 (see _quantize).
RECIPE = "onnx-int8pc-v2"
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
OPSET = 17
_SMALL = 16 << 20  # files up to this size are fingerprinted by content, larger ones by size and mtime

_lock = threading.Lock()
_sessions: dict[tuple[str, int], object] = {}
_tokenizers: dict[tuple[str, int], object] = {}


def fingerprint(sources: Iterable[Path | str]) -> str:
    """A short hash naming what a model is made from (file names, sizes, mtimes; small files' bytes)."""
    digest = hashlib.sha256(RECIPE.encode())
    for source in sources:
        path = Path(source)
        st = path.stat()
        digest.update(f"{path.resolve()}|{st.st_size}".encode())
        if st.st_size <= _SMALL:
            digest.update(path.read_bytes())
        else:
            digest.update(str(st.st_mtime_ns).encode())
    return digest.hexdigest()[:16]


def prepare(name: str, build: Callable[[], object], sources: Iterable[Path | str], cache_dir: Path,
            quantize: bool = True) -> Path:
    """The path of an ONNX model of ``build()``'s encoder, exported (and int8-quantised) on first use.

    ``build`` returns a torch module (a ``transformers`` BertModel, or anything whose
    ``forward(input_ids, attention_mask, token_type_ids)`` returns ``.last_hidden_state``); it is
    only called when the cache has no model for ``name`` and ``sources`` (the files it is made
    from), so later processes import no torch. Processes asking at once export it once.
    """
    cache_dir = Path(cache_dir)
    kind = "int8" if quantize else "fp32"
    path = cache_dir / f"{name}-{kind}-{fingerprint(sources)}.onnx"
    if path.is_file():
        return path
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        with open(cache_dir / ".export.lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            if not path.is_file():
                _export(build(), path, quantize)
    except OSError as exc:
        raise ConfigError(f"cannot write the inference model under {cache_dir} ({exc}); set POLICYQA_CACHE "
                          "to a writable folder, or POLICYQA_ENGINE=fp32") from None
    return path


def _export(module, path: Path, quantize: bool) -> None:
    import warnings

    import torch

    class LastHiddenState(torch.nn.Module):
        def __init__(self, encoder):
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                                token_type_ids=token_type_ids).last_hidden_state

    module = module.to("cpu").eval()
    # Eager attention traces to plain matrix products, whatever the model was loaded with.
    config = getattr(module, "config", None)
    if config is not None and hasattr(config, "_attn_implementation"):
        try:
            config._attn_implementation = "eager"
        except Exception:
            pass
    example = torch.tensor([[101, 2023, 2003, 1037, 3231, 102], [101, 2023, 102, 0, 0, 0]])
    mask = (example != 0).long()
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    fp32 = tmp.with_suffix(".fp32")
    axes = {name: {0: "batch", 1: "tokens"} for name in (*INPUTS, "last_hidden_state")}
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(LastHiddenState(module), (example, mask, torch.zeros_like(example)), str(fp32),
                              input_names=list(INPUTS), output_names=["last_hidden_state"], dynamic_axes=axes,
                              opset_version=OPSET, dynamo=False)
        if quantize:
            _quantize(fp32, tmp)
        else:
            os.replace(fp32, tmp)
        os.replace(tmp, path)
    finally:
        for leftover in (fp32, tmp):
            leftover.unlink(missing_ok=True)


def _quantize(source: Path, target: Path) -> None:
    """int8 weights per output channel (per-tensor loses far more: top-1 agreement 0.63), int8
    activations computed per input: ONNX Runtime's dynamic quantisation of the MatMuls, except each
    layer's feed-forward output projection (1536 -> 384, after GELU, whose outliers int8 clips).
    Measured on PolicyQA dev (bench/engines.py): keeping those fp32 raised top-1 agreement with
    fp32 from 0.69 to 0.84 (fp32's top-1 always in the top 5) for about a quarter of the speed."""
    import logging

    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load(str(source), load_external_data=False).graph
    keep_fp32 = [n.name for n in graph.node
                 if n.op_type == "MatMul" and "/output/dense/" in n.name and "/attention/" not in n.name]

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # the quantiser logs advice about pre-processing at WARNING
    try:
        quantize_dynamic(str(source), str(target), per_channel=True, weight_type=QuantType.QInt8,
                         op_types_to_quantize=["MatMul"], nodes_to_exclude=keep_fp32)
    finally:
        root.setLevel(level)


def session(path: Path | str, threads: int):
    """An ONNX Runtime CPU session for ``path`` using ``threads`` threads, created once per process."""
    key = (str(path), threads)
    found = _sessions.get(key)
    if found is not None:
        return found
    with _lock:
        if key not in _sessions:
            import onnxruntime as ort

            options = ort.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            options.log_severity_level = 3
            try:
                _sessions[key] = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
            except Exception as exc:  # a truncated or foreign file: say which, and how to get a new one
                raise ConfigError(f"cannot load the inference model {path} ({type(exc).__name__}: {exc}); "
                                  "delete it to have it made again") from None
        return _sessions[key]


def tokenizer(tokenizer_file: Path | str, max_length: int):
    """A fast tokenizer (``tokenizers``) from a model's ``tokenizer.json``, truncating to ``max_length``
    and padding each batch to its longest text."""
    key = (str(tokenizer_file), max_length)
    found = _tokenizers.get(key)
    if found is not None:
        return found
    from tokenizers import Tokenizer

    loaded = Tokenizer.from_file(str(tokenizer_file))
    loaded.enable_truncation(max_length)
    loaded.enable_padding()
    _tokenizers[key] = loaded
    return loaded


def last_hidden_state(onnx_session, input_ids, attention_mask, token_type_ids=None):
    """Run the encoder: int64 arrays of shape (batch, tokens) in, float32 (batch, tokens, dim) out."""
    import numpy as np

    input_ids = np.asarray(input_ids, dtype=np.int64)
    attention_mask = np.asarray(attention_mask, dtype=np.int64)
    token_type_ids = (np.zeros_like(input_ids) if token_type_ids is None
                      else np.asarray(token_type_ids, dtype=np.int64))
    return onnx_session.run(None, {"input_ids": input_ids, "attention_mask": attention_mask,
                                   "token_type_ids": token_type_ids})[0]


class Encoder:
    """A BERT encoder on ONNX Runtime with its tokenizer: text (or text pairs) in, hidden states out."""

    def __init__(self, model_path: Path | str, tokenizer_file: Path | str, max_length: int = 256, threads: int = 1):
        self.session = session(model_path, threads)
        self.tokenizer = tokenizer(tokenizer_file, max_length)

    def tokenize(self, texts: list[str], pairs: list[str] | None = None):
        """``(input_ids, attention_mask, token_type_ids)`` int64 arrays for ``texts`` (or ``(texts[i], pairs[i])``)."""
        import numpy as np

        encoded = self.tokenizer.encode_batch(list(zip(texts, pairs)) if pairs is not None else list(texts))
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
        types = np.array([e.type_ids for e in encoded], dtype=np.int64)
        return ids, mask, types

    def hidden_states(self, texts: list[str], pairs: list[str] | None = None):
        """``(last_hidden_state, attention_mask)`` for a batch: (batch, tokens, dim) float32 and (batch, tokens)."""
        ids, mask, types = self.tokenize(texts, pairs)
        return last_hidden_state(self.session, ids, mask, types), mask


def mean_pool(hidden, mask, normalize: bool = True):
    """Mean of the token vectors a mask keeps (sentence-transformers' pooling), unit length by default."""
    import numpy as np

    weights = mask[..., None].astype(np.float32)
    vectors = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
    if normalize:
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    return vectors.astype(np.float32)
