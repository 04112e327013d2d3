"""Sentence splitting against hand-labelled boundaries in real policy text, and its speed.

Two samples of ToS;DR and DMOZ passages (held-back companies excepted; ``bench/data/sentences-*.json``:
the file, the passage's offsets, and where each sentence, list item, heading or line of its own
begins) score the product's splitter (``index.chunking``: paragraphs, list items and headings
first, then sentences) and, when installed, pysbd, sentencex and blingfire run inside the same
paragraphs. Speed is CPU time over 60 shared policies.

    nice -n 10 .venv/bin/python bench/sentences.py [--code DIR] [--errors]

``--code DIR`` measures the ``index`` package of another checkout (how docs/ingestion.md measures
"before"). The libraries are not dependencies: ``pip install --target DIR pysbd sentencex
blingfire`` and ``PYTHONPATH=DIR`` to include them.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from ingestion import SHARED, held_back  # noqa: E402

SAMPLES = ("sentences-tune.json", "sentences-check.json")


def load(name: str, shared: Path) -> list[dict]:
    """The passages of one sample with their text read from the shared corpora."""
    data = json.loads((ROOT / "bench" / "data" / name).read_text())
    for item in data["passages"]:
        text = (shared / "corpora" / item["source"]).read_text(errors="replace")
        item["text"] = text[item["start"]:item["end"]]
    return data["passages"]


def splitters() -> dict:
    """name -> function(text, start, end) giving the start offsets of the sentences of one paragraph."""
    from index import chunking

    systems = {"index.chunking": lambda t, a, b: [s.start for s in chunking._block_sentences(t, chunking.Span(a, b))]}
    try:
        import pysbd

        segmenter = pysbd.Segmenter(language="en", clean=False, char_span=True)
        systems["pysbd"] = lambda t, a, b: [a + s.start for s in segmenter.segment(t[a:b])]
    except ImportError:
        pass
    try:
        from sentencex import segment

        systems["sentencex"] = lambda t, a, b: _located(t, a, b, segment("en", t[a:b]))
    except ImportError:
        pass
    try:
        from blingfire import text_to_sentences_and_offsets

        systems["blingfire"] = lambda t, a, b: [a + s for s, _ in text_to_sentences_and_offsets(t[a:b])[1]] \
            if t[a:b].strip() else []
    except ImportError:
        pass
    return systems


def _located(text: str, start: int, end: int, pieces) -> list[int]:
    out, pos = [], start
    for piece in (p.strip() for p in pieces):
        found = text.find(piece, pos, end) if piece else -1
        if found >= 0:
            out.append(found)
            pos = found + len(piece)
    return out


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    return pos


def score(split, passages: list[dict], errors: bool = False) -> dict:
    """Boundary precision, recall and F1, and passages split exactly right."""
    from index.chunking import _blocks

    tp = fp = fn = exact = 0
    for item in passages:
        text = item["text"]
        starts = [p for block in _blocks(text, 0, len(text)) for p in split(text, block.start, block.end)]
        predicted = {_skip_space(text, p) for p in starts} - {_skip_space(text, 0), len(text)}
        gold = set(item["boundaries"])
        tp, fp, fn = tp + len(predicted & gold), fp + len(predicted - gold), fn + len(gold - predicted)
        exact += predicted == gold
        if errors:
            for kind, positions in (("extra", predicted - gold), ("missed", gold - predicted)):
                for p in sorted(positions):
                    print(f"    {kind} {item['source']}: {text[max(0, p - 40):p]!r} | {text[p:p + 30]!r}")
    precision, recall = tp / max(tp + fp, 1), tp / max(tp + fn, 1)
    return {"boundaries": tp + fn, "precision": round(precision, 3), "recall": round(recall, 3),
            "f1": round(2 * precision * recall / max(precision + recall, 1e-9), 3),
            "passages_exact": f"{exact}/{len(passages)}"}


def speed(split, shared: Path, files: int = 60) -> dict:
    """CPU seconds and characters per second over a fixed draw of shared policies."""
    from index.chunking import _blocks

    paths = [p for folder in ("tosdr", "dmoz-2000") for p in sorted((shared / "corpora" / folder).iterdir())
             if not held_back(p.name)]
    random.Random(7).shuffle(paths)
    texts = [p.read_text(errors="replace") for p in paths[:files]]
    started = time.process_time()
    for text in texts:
        for block in _blocks(text, 0, len(text)):
            split(text, block.start, block.end)
    seconds = time.process_time() - started
    chars = sum(map(len, texts))
    return {"chars": chars, "cpu_s": round(seconds, 2), "k_chars_per_s": round(chars / seconds / 1000)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", type=Path, default=ROOT, help="checkout whose index package is measured")
    parser.add_argument("--shared", type=Path, default=SHARED)
    parser.add_argument("--errors", action="store_true", help="print each wrong boundary")
    args = parser.parse_args()
    sys.path.insert(0, str(args.code.resolve()))
    samples = {name: load(name, args.shared) for name in SAMPLES}
    result = {}
    for name, split in splitters().items():
        result[name] = {sample: score(split, passages, args.errors) for sample, passages in samples.items()}
        result[name]["speed"] = speed(split, args.shared)
    result["code"] = str(args.code)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
