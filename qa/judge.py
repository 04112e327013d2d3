"""The answer judge: how likely a policy sentence answers a question, as a calibrated probability.

A cross-encoder trained by the project (``scripts/train_judge.py``) on the shipped all-MiniLM-L6-v2
weights: the base model's first layers with trained low-rank updates, biases and LayerNorms, and a
linear head on the mean of the last layer. ``qa/data/judge.safetensors`` holds only the trained
numbers; they are merged into a copy of the base model when it is loaded, which then runs with
int8 weights on the CPU (``POLICYQA_JUDGE=fp32`` keeps float weights, the reference).
``qa/data/judge.json`` holds how the judge's score combines with retrieval's (``qa.evidence``), fitted
on PolicyQA, and the thresholds the answer uses, calibrated on policies neither saw.
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from index.config import Config
from index.errors import ConfigError

DATA = Path(__file__).resolve().parent / "data"
WEIGHTS = DATA / "judge.safetensors"
CALIBRATION = DATA / "judge.json"
MAX_BATCH = 32

_lock = threading.Lock()
_loaded: dict[tuple, "Judge"] = {}


@dataclass(frozen=True)
class Calibration:
    """How a sentence's features become a probability (``qa.evidence.combine``: logistic weights,
    fitted by ``scripts/fit_judge.py``), and the probabilities the answer acts on."""

    weights: dict = field(default_factory=lambda: {"judge": 1.0})
    answers: float = 0.5  # the best sentence at least this likely: the policy answers the question
    lead: float = 0.8  # the best sentence at least this likely: a Yes/No lead may be given

    @classmethod
    def load(cls, path: Path = CALIBRATION) -> "Calibration":
        if not path.is_file():
            return cls()
        values = json.loads(path.read_text())
        return cls(weights={k: float(v) for k, v in values.get("weights", {"judge": 1.0}).items()},
                   **{k: float(values[k]) for k in ("answers", "lead") if k in values})


class Judge:
    """Scores (question, sentence) pairs; ``probabilities`` is the calibrated chance each answers."""

    def __init__(self, model_dir: str, weights: Path = WEIGHTS, int8: bool = True,
                 calibration: Calibration | None = None):
        import torch
        from safetensors import safe_open
        from transformers import AutoTokenizer, BertConfig, BertModel

        try:
            with safe_open(str(weights), framework="pt") as handle:
                meta = handle.metadata() or {}
                tensors = {key: handle.get_tensor(key).float() for key in handle.keys()}
        except Exception as exc:
            raise ConfigError(f"cannot read the answer judge {weights} ({type(exc).__name__}); "
                              "rebuild it with scripts/train_judge.py") from None
        config = BertConfig.from_pretrained(model_dir)
        config.num_hidden_layers = int(meta.get("layers", config.num_hidden_layers))
        model = BertModel.from_pretrained(model_dir, config=config, add_pooling_layer=False)
        params = dict(model.named_parameters())
        with torch.no_grad():
            for key, value in tensors.items():
                if not key.startswith("encoder.") or key.endswith((".lora_a", ".lora_b")):
                    continue
                params[key[len("encoder."):]].copy_(value)
            for key in [k for k in tensors if k.endswith(".lora_a")]:
                module = key[len("encoder."):-len(".lora_a")]
                params[f"{module}.weight"].add_(tensors[key[:-1] + "b"] @ tensors[key])
        self.head_weight = tensors["head.weight"].numpy()[0]
        self.head_bias = float(tensors["head.bias"].numpy()[0])
        model.eval()
        if int8:
            model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
        self.model = model
        self.tokenizer = AutoTokenizer.from_pretrained(model_dir)
        self.max_length = int(meta.get("max_length", 96))
        self.calibration = calibration or Calibration.load()

    def logits(self, question: str, sentences: list[str]) -> np.ndarray:
        """Raw scores, one per sentence (higher: more likely to answer the question)."""
        import torch

        out = []
        for i in range(0, len(sentences), MAX_BATCH):
            part = sentences[i:i + MAX_BATCH]
            batch = self.tokenizer([question] * len(part), part, truncation="only_second",
                                   max_length=self.max_length, padding=True, return_tensors="pt")
            with torch.inference_mode():
                hidden = self.model(**batch).last_hidden_state.numpy()
            mask = batch["attention_mask"].numpy()[..., None]
            pooled = (hidden * mask).sum(1) / np.maximum(mask.sum(1), 1)
            out.append(pooled @ self.head_weight + self.head_bias)
        return np.concatenate(out) if out else np.zeros(0)



def get_judge(config: Config) -> Judge:
    """The judge for ``config`` (loaded once per process and setting)."""
    from index.embedder import resolve_model_path

    weights = Path(config.judge_weights) if config.judge_weights else WEIGHTS
    key = (config.judge, str(weights))
    judge = _loaded.get(key)
    if judge is None:
        with _lock:
            judge = _loaded.get(key)
            if judge is None:
                judge = Judge(resolve_model_path("all-MiniLM-L6-v2"), weights=weights,
                              int8=config.judge != "fp32")
                _loaded[key] = judge
    return judge
