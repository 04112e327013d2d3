"""The answer judge: how likely a policy sentence answers a question, as a calibrated probability.

A logistic model over what a sentence shows of the question (``qa.evidence.sentence_features``):
its own meaning's closeness to the question (the sentence embedded alone by the index's model),
its passage's keyword score, the share of the question's rare words it writes, whether it writes
the names the question asks about, how closely its words in context meet the question's topic
words (on average, and the least-met one), and for "how long" questions whether it states a
period; each feature alone and every product of two (``terms``). ``qa/data/judge.json`` holds the
weights, fitted by ``scripts/fit_judge.py`` on PolicyQA dev and the development question sets, and
the probability under which the policy is taken to be silent, chosen on those sets with each
company scored by weights fitted without it (docs/quality.md, rounds 9-11).
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from index.config import Config
from index.errors import ConfigError

CALIBRATION = Path(__file__).resolve().parent / "data" / "judge.json"
FEATURES = ("similarity", "lexical", "coverage", "names", "align", "weakest", "duration", "ce")
# The cross-encoder ("ce", qa.cross_encoder) costs 3-4 ms a sentence: a screening model over the other
# features picks the sentences it reads; the rest get a low score. Out of fold, reading the 6 likeliest
# of 16 lost nothing (silence 72.1 -> 73.5 %, best sentence 70.2 -> 70.5 %; docs/quality.md, round 14).
SCREEN = FEATURES[:-1]
# Before any encoding, a shortlist model over what costs nothing (the passage's keyword score, the
# topic and names a sentence writes, a stated period, its place among the candidates) picks the
# sentences read at all: encoding 8 of 16 (and cross-encoding 4 of them) cut a warm answer by a third,
# and out of fold lost little (silence 71.9 -> 73.2 %, best sentence 70.5 -> 70.1 %; docs/quality.md, round 15).
SHORTLIST = ("lexical", "coverage", "names", "duration", "position")
# The model also weighs every product of two features (a square included): "close in meaning" counts
# for more when the rare words are met too. Out of fold this raised silence at the same false
# abstentions from 59 to 65 % (docs/quality.md, round 11).
@lru_cache(maxsize=None)
def terms(features: tuple[str, ...] = FEATURES) -> tuple[str, ...]:
    """The model's terms: ``features``, then every product of two of them."""
    return features + tuple(f"{a}*{b}" for i, a in enumerate(features) for b in features[i:])


_lock = threading.Lock()
_loaded: dict[str, "Judge"] = {}


@dataclass(frozen=True)
class Judge:
    """Feature weights, and the probabilities the answer acts on."""

    weights: dict = field(default_factory=dict)
    answers: float = 0.5  # the best sentence at least this likely: the policy answers the question
    lead: float = 0.8  # a sentence at least this likely joins a highlight beside it; without a gate, may lead
    screen: dict = field(default_factory=dict)  # weights over SCREEN; empty: every sentence is cross-encoded
    cross_encoded: int = 16  # how many of the screen's likeliest sentences the cross-encoder reads
    ce_fill: float = 0.0  # the "ce" feature of a sentence it does not read
    shortlist: dict = field(default_factory=dict)  # weights over SHORTLIST; empty: every candidate is read
    shortlisted: int = 16  # how many of the shortlist's likeliest candidates are encoded and judged
    # Before the answer says the policy is silent (``qa.answer.ask``'s second reading): how many candidates
    # are encoded and judged, and how many cross-encoded (None: ``shortlisted``, ``cross_encoded``).
    further_shortlisted: int | None = None
    further_cross_encoded: int | None = None
    overview: float | None = None  # the overview's cells: the sentence at least this likely (None: ``answers``)
    overview_lead: float | None = None  # ... and its Yes/No read (no gate) from one this likely (None: ``lead``)
    denies: float | None = None  # ... and a cell that denies the practice: at least this likely (None: ``answers``)
    lead_gate: dict = field(default_factory=dict)  # weights over qa.polarity.LEAD_FEATURES; empty: the reading decides
    lead_gate_at: float = 0.5  # the gate's probability a Yes/No lead needs
    lead_gate_speaks_at: float = 0.5  # ... or, from a sentence that speaks to the whole question, this one
    # The lead's second reader (qa.cross_encoder.yes_probability; None: not used): a lead the gate trusts is
    # dropped when the reader finds it under ``polarity_veto`` likely; one the gate withholds is given when the
    # reader finds it at least ``polarity_adds`` likely, from a sentence at least ``polarity_floor`` likely.
    polarity_veto: float | None = None
    polarity_adds: float | None = None
    polarity_floor: float | None = None

    @classmethod
    def load(cls, path: Path = CALIBRATION) -> "Judge":
        """The judge of ``path`` (``qa/data/judge.json``); a damaged file is a ``ConfigError``."""
        try:
            values = json.loads(path.read_text())
            weights = {k: float(v) for k, v in values["weights"].items()}
            screen = {k: float(v) for k, v in values.get("screen", {}).items()}
            shortlist = {k: float(v) for k, v in values.get("shortlist", {}).items()}
            return cls(weights=weights, answers=float(values["answers"]), lead=float(values["lead"]), screen=screen,
                       cross_encoded=int(values.get("cross_encoded", 16)), ce_fill=float(values.get("ce_fill", 0.0)),
                       shortlist=shortlist, shortlisted=int(values.get("shortlisted", 16)),
                       further_shortlisted=_optional(values, "further_shortlisted", int),
                       further_cross_encoded=_optional(values, "further_cross_encoded", int),
                       overview=_optional(values, "overview", float), denies=_optional(values, "denies", float),
                       overview_lead=_optional(values, "overview_lead", float),
                       lead_gate={k: float(v) for k, v in values.get("lead_gate", {}).items()},
                       lead_gate_at=float(values.get("lead_gate_at", 0.5)),
                       lead_gate_speaks_at=float(values.get("lead_gate_speaks_at", values.get("lead_gate_at", 0.5))),
                       polarity_veto=_optional(values, "polarity_veto", float),
                       polarity_adds=_optional(values, "polarity_adds", float),
                       polarity_floor=_optional(values, "polarity_floor", float))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ConfigError(f"cannot read the answer judge {path} ({type(exc).__name__}); "
                              "rebuild it with scripts/fit_judge.py") from None

    def probabilities(self, rows: list[dict]) -> np.ndarray:
        """Calibrated probability that each sentence (a feature row) answers the question."""
        if not rows:
            return np.zeros(0)
        return probabilities(rows, self.weights)

    def screened(self, rows: list[dict], limit: int | None = None) -> list[int]:
        """Indices of the rows (features without "ce") whose sentences the cross-encoder reads: the judge's own
        number, or ``limit``."""
        return screened(rows, self.screen, limit or self.cross_encoded)

    def lead_probability(self, features: dict) -> float:
        """How likely a Yes/No lead read from a sentence (``qa.polarity.lead_features``) is the right one."""
        from .polarity import LEAD_FEATURES

        score = sum(self.lead_gate.get(f, 0.0) * features[f] for f in LEAD_FEATURES) + self.lead_gate.get("bias", 0.0)
        return float(1.0 / (1.0 + np.exp(-score)))

    def trusts(self, features: dict) -> bool:
        """Whether the lead gate gives the reading of ``features``: ``lead_probability`` at least ``lead_gate_at``,
        or ``lead_gate_speaks_at`` where the sentence speaks to the whole question."""
        return self.lead_probability(features) >= (self.lead_gate_speaks_at if features["speaks"] else self.lead_gate_at)

    @property
    def states(self) -> float:
        """The probability an overview cell's sentence needs (``overview``, else ``answers``)."""
        return self.answers if self.overview is None else self.overview

    @property
    def states_denial(self) -> float:
        """The probability an overview cell that denies the practice needs (``denies``, else ``answers``)."""
        return self.answers if self.denies is None else self.denies

    def shortlisted_rows(self, rows: list[dict], limit: int | None = None) -> list[int]:
        """Indices of the candidates (rows of SHORTLIST features) that are encoded and judged: the judge's own
        number, or ``limit``."""
        return screened(rows, self.shortlist, limit or self.shortlisted, SHORTLIST)


def _optional(values: dict, key: str, kind: type):
    """``values[key]`` as ``kind``, None where it is missing or null."""
    return None if values.get(key) is None else kind(values[key])


def screened(rows: list[dict], weights: dict, limit: int, features: tuple[str, ...] = SCREEN) -> list[int]:
    """The ``limit`` rows that ``weights`` over ``features`` find likeliest (all rows without weights), in order."""
    if not weights or len(rows) <= limit:
        return list(range(len(rows)))
    return sorted(int(i) for i in np.argsort(-probabilities(rows, weights, features), kind="stable")[:limit])


def probabilities(rows: list[dict], weights: dict, features: tuple[str, ...] = FEATURES) -> np.ndarray:
    """The logistic model of ``weights`` (term -> weight, and ``bias``) over ``features`` applied to feature rows."""
    w = np.array([weights.get(t, 0.0) for t in terms(features)])
    return 1.0 / (1.0 + np.exp(-(design(rows, features) @ w + weights.get("bias", 0.0))))


def design(rows: list[dict], features: tuple[str, ...] = FEATURES) -> np.ndarray:
    """The model's inputs for feature rows: the features, then their pairwise products (``terms``)."""
    x = np.array([[row[f] for f in features] for row in rows], dtype="float64").reshape(len(rows), len(features))
    i, j = np.triu_indices(len(features))
    return np.hstack([x, x[:, i] * x[:, j]])


def get_judge(config: Config | None = None) -> Judge:
    """The configured judge (``Config.judge``, default the shipped one), read once per process."""
    path = (config.judge if config is not None else None) or CALIBRATION
    key = str(path)
    with _lock:
        if key not in _loaded:
            _loaded[key] = Judge.load(path)
        return _loaded[key]
