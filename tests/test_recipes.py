"""The fitting scripts' small decisions, on inline data (the scripts build the shipped weights; the product
does not import them)."""
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import fit_silence  # noqa: E402
import train_cross_encoder  # noqa: E402

# One answerable question judged unlikely, nineteen likely; half the unanswerable ones judged at 0.1, half at 0.2975.
ROWS = ([{"answerable": True, "p": 0.02}] + [{"answerable": True, "p": 0.2025}] * 19
        + [{"answerable": False, "p": 0.1}] * 5 + [{"answerable": False, "p": 0.2975}] * 5)


def test_silence_threshold_keeps_false_abstentions_within_five_percent():
    assert fit_silence.fit(ROWS) == 0.2
    assert fit_silence.rates(ROWS, 0.2) == (0.05, 0.5)


def test_silence_floor_raises_the_threshold_until_enough_questions_are_silent():
    assert fit_silence.fit(ROWS, min_silence=0.9) == 0.3
    assert fit_silence.fit(ROWS, min_silence=0.5) == 0.2  # already silent enough: the floor changes nothing


def test_a_silence_target_picks_the_smallest_threshold_that_meets_it():
    # half the unanswerable ones (at 0.1) are under 0.105, none under 0.1
    assert fit_silence.fit(ROWS, silence=0.5) == 0.105
    assert fit_silence.fit(ROWS, silence=1.0) == 0.3


def test_a_question_is_silent_only_when_the_second_reading_finds_nothing_either():
    rows = [{"answerable": True, "p": 0.05, "further": 0.4}, {"answerable": True, "p": None, "further": None},
            {"answerable": False, "p": 0.05, "further": 0.08}, {"answerable": False, "p": 0.3, "further": 0.0}]
    assert fit_silence.rates(rows, 0.1) == (0.5, 0.5)  # the second reading answers the first; the first the last
    assert fit_silence.rates(rows, 0.5) == (1.0, 1.0)
    assert fit_silence.rates(rows, 0.07) == (0.5, 0.0)


def test_default_batches_are_the_shipped_recipes():
    pairs = [(f"q{i}", "s" * i, 0.0) for i in range(100)]
    expected, kept = [], list(pairs)
    for epoch in range(2):  # the recipe shuffled one list in place, epoch after epoch
        random.Random(epoch).shuffle(kept)
        expected.append([kept[i:i + 32] for i in range(0, 100, 32)])
    mine = list(pairs)
    assert [train_cross_encoder.batches(mine, 32, epoch) for epoch in range(2)] == expected


def test_batches_by_length_hold_every_pair_once_and_pad_little():
    pairs = [(f"q{i}", "s" * random.Random(i).randrange(200), 0.0) for i in range(320)]
    batches = train_cross_encoder.batches(pairs, 32, 0, by_length=True)
    assert sorted(p for b in batches for p in b) == sorted(pairs)
    assert [len(b) for b in batches] == [32] * 10
    spread = [max(len(p[1]) for p in b) - min(len(p[1]) for p in b) for b in batches]
    assert max(spread) < 50  # sorted within the block: a batch's lengths are close


def test_relabel_makes_positives_only_of_the_sentences_a_reader_said_answer(tmp_path):
    labels = tmp_path / "labels.jsonl"
    labels.write_text("\n".join(json.dumps(r) for r in [
        {"set": "unseen-13.jsonl", "id": "u1", "question": "Do you sell data?", "sentence": "We never sell it.",
         "label": "yes"},
        {"set": "unseen-13.jsonl", "id": "u1", "question": "Do you sell data?", "sentence": "Sales are final.",
         "label": "partial"},
        {"set": "unseen-14.jsonl", "id": "u1", "question": "Do you sell data?", "sentence": "We use cookies.",
         "label": "yes"}]) + "\n")
    texts = ["We sell nothing.", "We never sell it.", "Sales are final.", "We use cookies.", "We never sell it."]
    questions = [{"set": "unseen-13.jsonl", "id": "u1", "question": "Do you sell data?", "texts": texts,
                  "labels": [True, False, False, False, False]}]
    assert train_cross_encoder.relabel(questions, labels) == 2  # the sentence each time it is a candidate
    assert questions[0]["labels"] == [True, True, False, False, True]  # another set's "u1" is another question
    pairs = train_cross_encoder.pairs_of(questions, negatives=6)
    assert sorted(t for _, t, y in pairs if y == 1.0) == ["We never sell it.", "We never sell it.", "We sell nothing."]


def test_the_practice_reader_learns_which_sentences_state_a_verdict_and_reads_as_scikit_learn():
    """``fit_practice_reader.fit`` on inline cells whose vectors tell a sale denial from other sentences;
    the shipped ``Model`` gives scikit-learn's probabilities, and the cell follows the reader's verdict."""
    import numpy as np

    import fit_practice_reader as fit
    from qa.overview import NOT_STATED
    from qa.practice_reader import Model, PracticeReader, features

    rng = np.random.default_rng(5)
    about_selling, elsewhere = np.eye(384)[0], np.eye(384)[1]

    def vector(direction):
        v = direction + 0.05 * rng.standard_normal(384)
        return v / np.linalg.norm(v)

    cells = []
    for n in range(40):
        denial = (0.6, "does not sell", vector(about_selling), "does not sell")
        other = (0.3, NOT_STATED, vector(elsewhere), "none")
        cells.append({"grid": n % 4, "practice": "sale", "label": "does not sell", "candidates": [other, denial]})
        cells.append({"grid": n % 4, "practice": "sale", "label": NOT_STATED, "candidates": [other]})
    model = fit.fit(cells, "sale")
    assert list(model.classes_) == ["does not sell", "none"]
    shipped = Model(tuple(model.classes_), model.coef_, model.intercept_)
    x = features(vector(about_selling), 0.6, "does not sell", ("sells or may sell", "does not sell", NOT_STATED))
    assert np.allclose(shipped.probabilities(x), model.predict_proba(x[None, :])[0])
    selling = [{"grid": 0, "practice": "sale", "label": "sells or may sell",
                "candidates": [(0.5, "sells or may sell", vector(np.eye(384)[2]), "sells or may sell")]}] * 10
    three = fit.fit(cells + selling, "sale")
    assert len(three.classes_) == 3
    assert np.allclose(Model(tuple(three.classes_), three.coef_, three.intercept_).probabilities(x),
                       three.predict_proba(x[None, :])[0])
    assert fit.verdict_of(cells[0], model, 0.1, 0.04, 0.085) == "does not sell"
    assert fit.verdict_of(cells[1], model, 0.1, 0.04, 0.085) == NOT_STATED
    reader = PracticeReader({"sale": shipped}, states=0.1)
    from qa.overview import practice

    assert reader.reads(practice("sale"), vector(about_selling), 0.6, "does not sell")[0] == "does not sell"
    assert reader.reads(practice("sale"), vector(elsewhere), 0.3, NOT_STATED)[0] is None
    assert reader.reads(practice("dnt"), vector(elsewhere), 0.3, NOT_STATED) == (None, 0.0)  # no model: no verdict


def test_grid_numbers_read_ranges_and_lists():
    import fit_practice_reader as fit

    assert fit.grid_numbers("1-3,7,9-10") == [1, 2, 3, 7, 9, 10]
