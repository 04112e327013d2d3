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


LOW_RANK_SUFFIXES = (".lora_a", ".lora_b")


def trainable_names(model) -> list[str]:
    """The parameters the adapter trains: every bias and LayerNorm weight (BitFit), and the low-rank
    factors added by ``add_low_rank`` when there are any."""
    return [name for name, _ in model.named_parameters()
            if name.endswith(".bias") or "LayerNorm" in name or name.endswith(LOW_RANK_SUFFIXES)]


def add_low_rank(model, rank: int) -> None:
    """Give every linear layer of the transformer's encoder a trainable low-rank update ``B @ A``
    (B starts at zero, so the model starts as the base model). Used in training only; a saved
    adapter's factors are merged into the weights when it is loaded."""
    import torch

    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Linear) and ".encoder." in f".{name}.":
            a = torch.nn.Parameter(torch.randn(rank, module.in_features) / module.in_features ** 0.5)
            b = torch.nn.Parameter(torch.zeros(module.out_features, rank))
            module.register_parameter("lora_a", a)
            module.register_parameter("lora_b", b)
            module.register_forward_hook(lambda m, inputs, out: out + (inputs[0] @ m.lora_a.T) @ m.lora_b.T)


def save_adapter(model, path: Path, recipe: dict) -> None:
    """Write ``model``'s trainable parameters (the adapter) to ``path`` as safetensors."""
    from safetensors.torch import save_file

    params = dict(model.named_parameters())
    tensors = {name: params[name].detach().to("cpu").contiguous().clone() for name in trainable_names(model)}
    metadata = {"base_model": DEFAULT_MODEL, **{k: str(v) for k, v in recipe.items()}}
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(path), metadata=metadata)


def applies_to(name: str, adapter: bool | str = True) -> bool:
    """Whether the adapter (True: the shipped file; a path: that file) fits the model ``name``:
    adapters are trained on the default model. A path that is not a file is a ``ConfigError``."""
    if adapter is not True and not Path(adapter).is_file():
        raise ConfigError(f"POLICYQA_QUERY_ADAPTER names {adapter}, which is not a file "
                          "(use on, off, or the path of an adapter file)")
    path = ADAPTER_PATH if adapter is True else Path(adapter)
    return name in (DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}") and path.is_file()


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
    low_rank = {k.rsplit(".", 1)[0]: None for k in tensors if k.endswith(LOW_RANK_SUFFIXES)}
    low_rank = {k: (tensors.pop(k + ".lora_a", None), tensors.pop(k + ".lora_b", None)) for k in low_rank}
    wrong = [k for k, v in tensors.items() if k not in params or params[k].shape != v.shape]
    wrong += [k for k, (a, b) in low_rank.items() if a is None or b is None or k + ".weight" not in params
              or params[k + ".weight"].shape != (b.shape[0], a.shape[1])]
    if trained_on not in (None, DEFAULT_MODEL) or wrong:
        raise ConfigError(f"the query adapter {path} does not fit the model '{name}' "
                          f"(trained on {trained_on}; {len(wrong)} parameters do not match)")
    changed = set(tensors) | {k + ".weight" for k in low_rank}
    shared = {id(p): p for k, p in params.items() if k not in changed}
    model = copy.deepcopy(base, memo=shared)
    copied = dict(model.named_parameters())
    with torch.no_grad():
        for key, value in tensors.items():
            copied[key].copy_(value.to(copied[key].device, copied[key].dtype))
        for key, (a, b) in low_rank.items():  # merged: W + B @ A, so a query costs what it did
            weight = copied[key + ".weight"]
            weight.add_((b.float() @ a.float()).to(weight.device, weight.dtype))
    model.eval()
    return model
