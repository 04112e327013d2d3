"""The judge's cross-encoder (``qa.cross_encoder``): the shipped weights, run as ONNX, int8 and fp32."""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from index.config import get_config
from qa import cross_encoder

QUESTION = "Does Acme sell my personal information?"
SENTENCES = [
    "Acme does not sell your personal information to anyone.",
    "A cookie is a small text file stored on your device by a website.",
    "You can view your order history and download your invoices in your account.",
    "We keep your order history for 30 days after you close your account, then delete it.",
]


def test_the_sentence_that_answers_scores_highest():
    scores = cross_encoder.scores(QUESTION, SENTENCES, get_config())
    assert scores.shape == (4,)
    assert int(np.argmax(scores)) == 0 and scores[0] > 0 > max(scores[1:])


def test_int8_agrees_with_fp32():
    config = get_config()
    int8 = cross_encoder.scores(QUESTION, SENTENCES, replace(config, engine="int8"))
    fp32 = cross_encoder.scores(QUESTION, SENTENCES, replace(config, engine="fp32"))
    assert int(np.argmax(int8)) == int(np.argmax(fp32)) == 0
    assert np.abs(int8 - fp32).max() < 0.5


def test_a_pairs_score_does_not_depend_on_its_neighbours():
    config = get_config()
    together = cross_encoder.scores(QUESTION, SENTENCES, config)
    alone = [cross_encoder.scores(QUESTION, [s], config)[0] for s in SENTENCES]
    assert np.allclose(together, alone, atol=1e-5)


def test_no_sentences_no_scores():
    assert cross_encoder.scores(QUESTION, [], get_config()).shape == (0,)


def test_the_weights_file_holds_only_what_training_changed():
    from safetensors.numpy import load_file

    names = set(load_file(str(cross_encoder.WEIGHTS)))
    assert {"head.weight", "head.bias"} <= names
    assert not any(n.startswith(("embeddings.", "encoder.layer.0.", "encoder.layer.1.", "encoder.layer.2.")) for n in names)
    assert cross_encoder.WEIGHTS.stat().st_size < 12_000_000
