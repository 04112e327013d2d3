"""Keyword search: BM25 (bm25s) over stemmed words, saved as plain arrays and JSON (no pickles)."""
from __future__ import annotations

import json
import re
import shutil
import threading
from pathlib import Path

import numpy as np

STOPWORDS = frozenset("""
a about above after again against all am an and any are as at be because been before being below between both
but by can could did do does doing down during each few for from further had has have having he her here hers
herself him himself his how i if in into is it its itself just me more most my myself no nor not of off on once
only or other our ours ourselves out over own same she should so some such than that the their theirs them
themselves then there these they this those through to too under until up very was we were what when where which
while who whom why will with would you your yours yourself yourselves s t don may might must shall also us
""".split())
_WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")


_local = threading.local()


def _stemmer():
    """One stemmer per thread: PyStemmer's stemmers are not thread-safe."""
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:
        import Stemmer

        stemmer = _local.stemmer = Stemmer.Stemmer("english")
    return stemmer


def tokens(text: str) -> list[str]:
    """Lower-case words of ``text`` in order, without accents ("Zürich": zurich), stop words included (not stemmed)."""
    if not text.isascii():
        text = fold_accents(text)
    return [m.group(0).replace("’", "'").split("'")[0] for m in _WORD.finditer(text.lower())]


def fold_accents(text: str) -> str:
    """``text`` without accents: "Crème Brûlée" is "Creme Brulee" (names typed either way agree)."""
    import unicodedata

    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    """Lower-case words of ``text`` without stop words (not stemmed)."""
    return [w for w in tokens(text) if w not in STOPWORDS]


def stem_pairs(text: str) -> frozenset:
    """Stems of the words written side by side in ``text`` (no word between them, not even a stop word)."""
    stemmed = _stemmer().stemWords(tokens(text))
    return frozenset(zip(stemmed, stemmed[1:]))


def stems(text: str) -> list[str]:
    """Stemmed, stop-word-free tokens used for keyword matching."""
    return _stemmer().stemWords(words(text))


def stem_word(word: str) -> str:
    return _stemmer().stemWord(word.lower())


TOKENS_VOCAB = "chunk_tokens.json"  # our own cache of each chunk's stems, so a rebuild need not
TOKENS_IDS = "chunk_tokens.npy"  # re-read and re-stem the chunks that did not change
TOKENS_OFFSETS = "chunk_offsets.npy"


class LexicalIndex:
    """BM25 over chunk texts, addressed by chunk id."""

    def __init__(self, retriever, ids: list[str], tokens: list[list[str]] | None = None):
        self._retriever = retriever
        self.ids = ids
        self.position = {cid: i for i, cid in enumerate(ids)}
        self.tokens = tokens

    @classmethod
    def build(cls, ids: list[str], texts: list[str]) -> "LexicalIndex":
        return cls.build_from_tokens(ids, [stems(t) or ["_"] for t in texts])

    @classmethod
    def build_from_tokens(cls, ids: list[str], tokens: list[list[str]]) -> "LexicalIndex":
        """From each chunk's stems (``stems(text)``), e.g. reused from ``load_tokens``."""
        import bm25s

        retriever = bm25s.BM25()
        retriever.index(tokens or [["_"]], show_progress=False)
        return cls(retriever, list(ids), tokens)

    @staticmethod
    def load_tokens(folder: Path) -> dict[str, list[str]]:
        """Chunk id -> stems, as saved with the index; empty when there is no usable cache."""
        try:
            vocab = json.loads((folder / TOKENS_VOCAB).read_text())
            flat = np.load(folder / TOKENS_IDS)
            offsets = np.load(folder / TOKENS_OFFSETS)
            ids = json.loads((folder / "ids.json").read_text())
            if len(offsets) != len(ids) + 1:
                return {}
        except (OSError, ValueError):
            return {}
        words_of = [vocab[i] for i in flat.tolist()]
        bounds = offsets.tolist()
        return {cid: words_of[bounds[i]:bounds[i + 1]] for i, cid in enumerate(ids)}

    def save(self, folder: Path) -> None:
        """Write atomically: a temporary folder renamed over the old one."""
        tmp = folder.with_name(folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        self._retriever.save(str(tmp), show_progress=False)
        (tmp / "ids.json").write_text(json.dumps(self.ids))
        if self.tokens is not None:
            self._save_tokens(tmp)
        old = folder.with_name(folder.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if folder.exists():
            folder.rename(old)
        tmp.rename(folder)
        shutil.rmtree(old, ignore_errors=True)

    def _save_tokens(self, folder: Path) -> None:
        number: dict[str, int] = {}
        flat = [number.setdefault(word, len(number)) for chunk in self.tokens for word in chunk]
        offsets = np.cumsum([0] + [len(chunk) for chunk in self.tokens], dtype=np.int64)
        (folder / TOKENS_VOCAB).write_text(json.dumps(list(number), ensure_ascii=False))
        np.save(folder / TOKENS_IDS, np.asarray(flat, dtype=np.int32))
        np.save(folder / TOKENS_OFFSETS, offsets)

    @classmethod
    def load(cls, folder: Path) -> "LexicalIndex":
        import bm25s

        retriever = bm25s.BM25.load(str(folder))
        ids = json.loads((folder / "ids.json").read_text())
        return cls(retriever, ids)

    def idf(self, stem: str) -> float:
        """Inverse document frequency of a stem over chunks (rare words weigh more)."""
        import math

        n = max(len(self.ids), 1)
        token = self._retriever.vocab_dict.get(stem)
        indptr = self._retriever.scores["indptr"]
        df = 0 if token is None or token + 1 >= len(indptr) else int(indptr[token + 1] - indptr[token])
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def scores(self, query_stems: list[str]) -> np.ndarray:
        """BM25 score of every chunk, in ``self.ids`` order."""
        if not query_stems or not self.ids:
            return np.zeros(len(self.ids), dtype="float32")
        return np.asarray(self._retriever.get_scores(query_stems), dtype="float32")[: len(self.ids)]
