"""The overview's learnt reader: which verdict of a practice a judged sentence states, if any.

One logistic model per practice over what the overview already has for a sentence: its vector (the
index model's, as the judge encodes it), the judge's probability that it answers the practice's
question (and its logarithm), and the verdict the practice's words read from it
(``qa.overview.decide``, one-hot over the practice's verdicts). Its classes are the verdicts the
labellers of the blind grids quoted a sentence for, and ``none``. ``qa/data/practice_reader.json``
holds the weights and the probability a verdict needs (``states``), fitted by
``scripts/fit_practice_reader.py`` on the spent grids (docs/overview-practices.md, round 50).
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from index.errors import ConfigError

WEIGHTS = Path(__file__).resolve().parent / "data" / "practice_reader.json"
NONE = "none"  # the class of a sentence that states none of the practice's verdicts


# The words' verdict enters at this scale: the regularisation then spares it more than one of the 384
# dimensions of the vector, which says what a sentence is about far better than which way it reads.
VERDICT_SCALE = 5.0


def features(vector, probability: float, verdict: str, verdicts: tuple[str, ...]) -> np.ndarray:
    """The model's inputs for one sentence (``verdicts``: the practice's vocabulary, in order)."""
    return np.concatenate([np.asarray(vector, dtype=np.float64).ravel(), [probability, np.log(probability + 1e-4)],
                           [VERDICT_SCALE * (verdict == v) for v in verdicts]])


@dataclass(frozen=True)
class Model:
    """One practice's model: its classes, and the weights of each (one row for two classes)."""

    classes: tuple[str, ...]
    coef: np.ndarray
    intercept: np.ndarray

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """Each class's probability for the inputs ``x`` (as scikit-learn's ``predict_proba``)."""
        scores = self.coef @ x + self.intercept
        if len(self.classes) == 2:
            p = 1.0 / (1.0 + np.exp(-scores[0]))
            return np.array([1.0 - p, p])
        scores = np.exp(scores - scores.max())
        return scores / scores.sum()


@dataclass(frozen=True)
class PracticeReader:
    """The models by practice id, and the probability a verdict needs (``states``)."""

    models: dict = field(default_factory=dict)
    states: float = 0.1

    @classmethod
    def load(cls, path: Path = WEIGHTS) -> "PracticeReader":
        """The reader of ``path``; a damaged file is a ``ConfigError``."""
        try:
            values = json.loads(path.read_text())
            models = {pid: Model(tuple(m["classes"]), np.array(m["coef"], dtype=np.float64),
                                 np.array(m["intercept"], dtype=np.float64)) for pid, m in values["models"].items()}
            return cls(models, float(values["states"]))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"cannot read the overview's reader {path} ({type(exc).__name__}); "
                              "rebuild it with scripts/fit_practice_reader.py") from None

    def reads(self, practice, vector, probability: float, verdict: str) -> tuple[str | None, float]:
        """The verdict of ``practice`` (a ``qa.overview.Practice``) that a sentence states, and how likely:
        None where the likeliest verdict is under ``states`` (or the practice has no model)."""
        model = self.models.get(practice.id)
        if model is None:
            return None, 0.0
        p = model.probabilities(features(vector, probability, verdict, practice.verdicts))
        stated = [i for i, c in enumerate(model.classes) if c != NONE]
        if not stated:
            return None, 0.0
        best = max(stated, key=lambda i: p[i])
        return (model.classes[best], float(p[best])) if p[best] >= self.states else (None, float(p[best]))

    def verdict(self, practice, vector, probability: float, verdict: str) -> str:
        """The verdict a sentence gives ``practice``'s cell: the one it ``reads``, else ``NOT_STATED``. Its
        "no" stands only where the practice's words read the same denial (``verdict``, which the lead's
        second reader confirmed): the reader alone mistakes what a sentence is about for which way it reads."""
        from .overview import NOT_STATED

        read, _ = self.reads(practice, vector, probability, verdict)
        if read is None or (read == practice.no and practice.no != practice.yes and verdict != practice.no):
            return NOT_STATED
        return read


_lock = threading.Lock()
_loaded: dict[Path, PracticeReader] = {}


def get_reader(path: Path = WEIGHTS) -> PracticeReader:
    """The shipped reader, read once per process."""
    with _lock:
        if path not in _loaded:
            _loaded[path] = PracticeReader.load(path)
        return _loaded[path]
