"""Evaluation of PolicyQA: question sets, scoring rules, the naive baseline and the harness.

Not part of the product (``qa`` and ``index`` never import it). ``python -m evaluation QUESTIONS.jsonl``
scores ``qa.ask`` against the baseline; ``python -m evaluation.across`` scores questions across policies.
"""
