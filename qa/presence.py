"""What a whole set of policies mentions, computed once per set and index version.

Checking that a question's words appear in the searched policies is cheap for one company's
policy and costly for all of them: a question that names no company searches every policy, and
re-reading every text for each such question grows with the corpus. The union over a set of
policies is kept (a few sets at a time), so every later question over the same set reuses it.
"""
from __future__ import annotations

import threading
from typing import Callable, TypeVar

from index.retrieval import IndexView

T = TypeVar("T")
MAX_SETS = 4
SMALL_SET = 8  # unions of this few policies are cheap from their own caches; keep the slots for big ones

_lock = threading.Lock()
_unions: dict[tuple, object] = {}


def union_over(view: IndexView, docs: list[str], kind: str, combine: Callable[[list[str]], T]) -> T:
    """``combine(docs)`` for this index version, remembered by (``kind``, the set of ``docs``)."""
    if len(docs) <= SMALL_SET:
        return combine(docs)
    key = (kind, view.config.data_dir, view.manifest_mtime, frozenset(docs))
    with _lock:
        if key in _unions:
            return _unions[key]
    value = combine(docs)
    with _lock:
        if len(_unions) >= MAX_SETS:
            _unions.pop(next(iter(_unions)))
        _unions[key] = value
    return value
