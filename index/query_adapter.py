"""The query-side adapter: questions are embedded by a copy of MiniLM with trained biases.

Policies keep the base model's vectors (no index is re-embedded); only the question encoder
changes. The adapter is BitFit (every bias and LayerNorm weight of the transformer, about 30k
numbers) trained on the tune half of policyqa-dev by ``scripts/train_query_adapter.py``, which
rebuilds ``index/data/query_adapter.safetensors`` from ``../shared`` (docs/quality.md).
The file holds plain tensors (safetensors, no pickle) and names the base model it was trained on;
any other model gets no adapter.
"""
from __future__ import annotations

import copy
import threading
from pathlib import Path

from .config import DEFAULT_MODEL
from .errors import ConfigError

ADAPTER_PATH = Path(__file__).resolve().parent / "data" / "query_adapter.safetensors"

_lock = threading.Lock()
_adapted: dict[tuple[int, str], object] = {}


def trainable_names(model) -> list[str]:
    """The parameters BitFit trains: every bias and every LayerNorm weight."""
    return [name for name, _ in model.named_parameters() if name.endswith(".bias") or "LayerNorm" in name]


def save_adapter(model, path: Path, recipe: dict) -> None:
    """Write ``model``'s trainable parameters (the adapter) to ``path`` as safetensors."""
    from safetensors.torch import save_file

    params = dict(model.named_parameters())
    tensors = {name: params[name].detach().to("cpu").contiguous().clone() for name in trainable_names(model)}
    metadata = {"base_model": DEFAULT_MODEL, **{k: str(v) for k, v in recipe.items()}}
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(path), metadata=metadata)


def applies_to(name: str) -> bool:
    """Whether the shipped adapter fits the model ``name`` (it was trained on the default model)."""
    return name in (DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}") and ADAPTER_PATH.is_file()


def adapted_model(base, name: str, path: Path = ADAPTER_PATH):
    """A copy of ``base`` with the adapter's parameters; the frozen weight matrices are shared, not copied."""
    key = (id(base), str(path))
    model = _adapted.get(key)
    if model is not None:
        return model
    with _lock:
        if key not in _adapted:
            _adapted[key] = _load(base, name, path)
        return _adapted[key]


def _load(base, name: str, path: Path):
    import torch
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as handle:
            trained_on = (handle.metadata() or {}).get("base_model")
            tensors = {key: handle.get_tensor(key) for key in handle.keys()}
    except Exception as exc:  # a damaged file: say which, and how to do without it
        raise ConfigError(f"cannot read the query adapter {path} ({type(exc).__name__}: {exc}); "
                          "rebuild it with scripts/train_query_adapter.py or set POLICYQA_QUERY_ADAPTER=off") from None
    params = dict(base.named_parameters())
    wrong = [k for k, v in tensors.items() if k not in params or params[k].shape != v.shape]
    if trained_on not in (None, DEFAULT_MODEL) or wrong:
        raise ConfigError(f"the query adapter {path} does not fit the model '{name}' "
                          f"(trained on {trained_on}; {len(wrong)} parameters do not match)")
    shared = {id(p): p for k, p in params.items() if k not in tensors}
    model = copy.deepcopy(base, memo=shared)
    copied = dict(model.named_parameters())
    with torch.no_grad():
        for key, value in tensors.items():
            copied[key].copy_(value.to(copied[key].device, copied[key].dtype))
    model.eval()
    return model
