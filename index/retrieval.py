"""Hybrid search over the built index: dense (Chroma) and keyword (BM25) scores, fused.

Results are small typed records (``Hit``, ``PolicyInfo``), never raw Chroma dictionaries.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .companies import resolve_company
from .config import Config, get_config
from .errors import IndexDamaged, PolicyQAError

DENSE_WEIGHT = 0.8  # tuned on the tune half of policyqa-dev (round 4 of docs/quality.md)
LEXICAL_WEIGHT = 0.2
DENSE_CANDIDATES = 60
POST_FILTER_SHARE = 0.5  # searching at least this share of the chunks: filter after Chroma, not in it
EXACT_CHUNKS = 3000  # searching at most this many chunks: exact similarity on their cached vectors
CACHED_POLICY_VECTORS = 256  # policies whose vectors stay in memory (about 90 KiB per 60 chunks)
NEIGHBOUR_REACH = 3  # chunks on each side an excerpt (1,200 characters) can grow into


@dataclass(frozen=True)
class PolicyInfo:
    """One indexed policy version."""

    doc: str  # path relative to the corpus folder
    company: str
    domain: str | None
    policy_date: str | None  # None: the policy states no date (undated)
    effective_date: str | None
    title: str
    source: str
    chunks: int
    aliases: tuple[str, ...] = ()  # other names given at add time (``--alias``)
    added: int = 0  # the order the policy joined the index: tells undated versions apart

    @property
    def version_key(self) -> tuple[str, int]:
        """Sorts one company's versions oldest first: by date, undated ones by the order added."""
        return self.policy_date or "", self.added


@dataclass(frozen=True)
class Hit:
    """One retrieved chunk with its place in the source file and its scores."""

    chunk_id: str
    doc: str
    company: str
    policy_date: str | None
    section: str
    start: int
    end: int
    sentences: tuple[tuple[int, int], ...]
    source: str
    score: float
    dense: float
    lexical: float


class IndexView:
    """A loaded index: manifest, keyword index and vector store, ready to answer queries."""

    def __init__(self, config: Config):
        from .build import current_encoder, load_manifest, recorded_encoder
        from .lexical import LexicalIndex
        from .store import VectorStore

        self.config = config
        manifest = load_manifest(config)
        if not manifest["documents"]:
            raise PolicyQAError(f"the index at {config.data_dir} is empty: run `python -m index` "
                                f"(corpus: {config.corpus_dir})")
        self.manifest_mtime = _mtime(config.manifest_path)
        self.generation = int(manifest.get("generation") or 0)  # which build published this manifest
        recorded, wanted = recorded_encoder(manifest), current_encoder(config)
        if recorded != wanted:  # questions are never compared with vectors of another encoder
            raise IndexDamaged(f"the index at {config.data_dir} was embedded by {recorded}, but PolicyQA now "
                               f"encodes with {wanted} (POLICYQA_ENGINE={config.engine}): run `python -m index` "
                               f"to re-embed it")
        self.policies: dict[str, PolicyInfo] = {}
        self.chunks: dict[str, tuple[str, dict]] = {}
        self.doc_chunks: dict[str, list[dict]] = {}  # each policy's chunks in text order
        self.chunk_place: dict[str, int] = {}  # chunk id -> its index in doc_chunks[doc]
        for rel, entry in manifest["documents"].items():
            self.policies[rel] = PolicyInfo(rel, entry["company"], entry.get("domain"), entry["policy_date"] or None,
                                            entry.get("effective_date"), entry.get("title", ""), entry["source"],
                                            len(entry["chunks"]), tuple(entry.get("aliases") or ()),
                                            entry.get("added") or 0)
            self.doc_chunks[rel] = list(entry["chunks"])
            for i, chunk in enumerate(entry["chunks"]):
                self.chunks[chunk["id"]] = (rel, chunk)
                self.chunk_place[chunk["id"]] = i
        try:
            self.lexical = LexicalIndex.load(config.data_dir / "lexical")
        except Exception as exc:  # missing or half-written files: bm25s and json raise many types
            raise IndexDamaged(f"the keyword index in {config.data_dir / 'lexical'} is damaged "
                               f"({type(exc).__name__}): run `python -m index` to repair it") from None
        self.doc_number = {rel: i for i, rel in enumerate(self.policies)}
        # Policy number of each keyword-index position (-1: a chunk the manifest no longer has).
        self.doc_of_position = np.array([self.doc_number.get(self.chunks[cid][0], -1) if cid in self.chunks else -1
                                         for cid in self.lexical.ids], dtype=np.int64)
        # A client of its own: the store as this generation's writer left it (see index.store._client).
        self.store = VectorStore(config, fresh=True)
        self._texts: dict[str, str] = {}
        self._text_lock = threading.Lock()
        self._vectors: OrderedDict[str, tuple[list[str], np.ndarray]] = OrderedDict()
        self._vector_lock = threading.Lock()

    def doc_vectors(self, doc: str) -> tuple[list[str], np.ndarray]:
        """A policy's chunk ids and their stored vectors (rows), fetched once and kept (LRU).

        The embedded store's vectors are also kept on disk per policy (``vector_cache``), so a
        new process answers about one company without opening Chroma."""
        with self._vector_lock:
            if doc in self._vectors:
                self._vectors.move_to_end(doc)
                return self._vectors[doc]
        wanted = [chunk["id"] for chunk in self.doc_chunks.get(doc, [])]
        cache = vector_cache(self.config)
        matrix = cache.load(doc, wanted) if cache else None
        if matrix is not None:
            ids = wanted
        else:
            found = self.store.vectors(wanted)
            ids = [cid for cid in wanted if cid in found]
            matrix = np.vstack([found[cid] for cid in ids]) if ids else np.zeros((0, 0), dtype="float32")
            if cache and ids == wanted:
                cache.save(doc, ids, matrix)
        with self._vector_lock:
            self._vectors[doc] = (ids, matrix)
            while len(self._vectors) > CACHED_POLICY_VECTORS:
                self._vectors.popitem(last=False)
        return ids, matrix

    def _dense_exact(self, query_embedding, docs: set[str], n: int) -> list:
        """Cosine similarity against every chunk of a few policies: exact, no index, no filter."""
        from .store import DenseHit

        ids: list[str] = []
        blocks = []
        for doc in sorted(docs):
            doc_ids, matrix = self.doc_vectors(doc)
            if doc_ids:
                ids += doc_ids
                blocks.append(matrix)
        if not ids:
            return []
        similarity = np.vstack(blocks) @ np.asarray(query_embedding, dtype="float32")
        return [DenseHit(ids[i], float(similarity[i])) for i in _top(similarity, n)]

    def source_text(self, doc: str) -> str:
        """The full text a policy's citations index into (cached)."""
        with self._text_lock:
            if doc not in self._texts:
                if len(self._texts) > 256:
                    self._texts.clear()
                self._texts[doc] = _read_inside(self.policies[doc].source, self.config)
            return self._texts[doc]

    def section_sentences(self, hit: "Hit") -> list[tuple[int, int]]:
        """Sentence spans of the hit's section around it (its own chunk and the chunks beside it)."""
        chunks = self.doc_chunks.get(hit.doc, [])
        i = self.chunk_place.get(hit.chunk_id)
        if i is None:
            return [tuple(s) for s in hit.sentences]
        lo = hi = i
        while lo > 0 and chunks[lo - 1]["section"] == hit.section:
            lo -= 1
        while hi + 1 < len(chunks) and chunks[hi + 1]["section"] == hit.section:
            hi += 1
        return [tuple(s) for chunk in chunks[lo:hi + 1] for s in chunk["sentences"]]

    def policy_sentences(self, hit: "Hit") -> list[tuple[tuple[int, int], str]]:
        """Every sentence span of the hit's policy, in text order, with the id of its chunk."""
        if hit.chunk_id not in self.chunk_place:
            return [(tuple(s), hit.chunk_id) for s in hit.sentences]
        return [(tuple(s), chunk["id"]) for chunk in self.doc_chunks.get(hit.doc, []) for s in chunk["sentences"]]

    def neighbour_chunks(self, hit: "Hit", reach: int = NEIGHBOUR_REACH) -> list[str]:
        """Ids of the hit's chunk and the ``reach`` chunks on each side of it in its policy."""
        i = self.chunk_place.get(hit.chunk_id)
        if i is None:
            return [hit.chunk_id]
        chunks = self.doc_chunks.get(hit.doc, [])
        return [c["id"] for c in chunks[max(0, i - reach):i + reach + 1]]

    def chunk_similarities(self, chunk_ids: list[str], query_embedding) -> dict[str, float]:
        """Cosine similarity of each chunk to the query, by id: from a policy's cached vectors when
        it has been searched exactly, else from the store, in one request for all of them."""
        query = np.asarray(query_embedding, dtype="float32")
        out: dict[str, float] = {}
        missing = []
        with self._vector_lock:
            cached = {doc: self._vectors[doc] for doc in {self.chunks[c][0] for c in chunk_ids if c in self.chunks}
                      if doc in self._vectors}
        rows = {doc: {cid: r for r, cid in enumerate(ids)} for doc, (ids, _) in cached.items()}
        for cid in dict.fromkeys(chunk_ids):
            doc = self.chunks[cid][0] if cid in self.chunks else None
            if doc in rows and cid in rows[doc]:
                out[cid] = float(cached[doc][1][rows[doc][cid]] @ query)
            else:
                missing.append(cid)
        if missing:
            out.update({cid: float(vec @ query) for cid, vec in self.store.vectors(missing).items()})
        return out

    def hits(self, query_embedding, query_stems: list[str], docs: list[str] | None, k: int) -> list[Hit]:
        """Top ``k`` chunks of ``docs`` (all when None) by fused dense and keyword score."""
        from .store import DenseHit

        allowed = set(docs) if docs is not None else None
        if allowed is not None and len(allowed) == len(self.policies) and allowed <= self.policies.keys():
            allowed = None  # every policy: no filter to evaluate (it grows with the corpus)
        where = None
        candidates = max(DENSE_CANDIDATES, k * 4)
        keep = None
        if allowed is not None:
            if not allowed:
                return []
            share = sum(self.policies[d].chunks for d in allowed if d in self.policies) / max(len(self.chunks), 1)
            if share >= POST_FILTER_SHARE:
                # Most policies: filtering inside Chroma costs more than asking for a few more
                # neighbours and dropping the others here.
                keep, candidates = allowed, int(candidates / share) + 1
            else:
                where = {"doc": {"$in": sorted(allowed)}} if len(allowed) > 1 else {"doc": next(iter(allowed))}
        few = where is not None and sum(self.policies[d].chunks for d in allowed if d in self.policies) <= EXACT_CHUNKS
        if few:
            # One company's policies: their vectors, fetched once, beat a filtered search in Chroma.
            # The store is still asked (a count) so that a server that is down or was emptied says so.
            # An embedded store whose vectors are cached on disk is not opened (its folder must exist).
            cache = vector_cache(self.config)
            if not (cache and cache.covers(allowed, self.doc_chunks)):
                probe = next((chunks[0]["id"] for d in sorted(allowed) if (chunks := self.doc_chunks.get(d))), None)
                self.store.check_holds_vectors(probe)
            dense: list[DenseHit] = self._dense_exact(query_embedding, allowed, candidates)
        else:
            dense = self.store.query(query_embedding, candidates, where)
        dense_by_id = {h.id: h.similarity for h in dense
                       if h.id in self.chunks and (keep is None or self.chunks[h.id][0] in keep)}

        lexical_scores = self.lexical.scores(query_stems)
        if allowed is not None and len(lexical_scores):
            wanted = np.zeros(len(self.policies) + 1, dtype=bool)  # the last slot stands for -1
            wanted[[self.doc_number[d] for d in allowed if d in self.doc_number]] = True
            lexical_scores = np.where(wanted[self.doc_of_position], lexical_scores, 0.0)
        top_lexical = _top(lexical_scores, max(DENSE_CANDIDATES, k * 4))
        lexical_by_id = {self.lexical.ids[i]: float(lexical_scores[i]) for i in top_lexical if lexical_scores[i] > 0}
        best_lexical = max(lexical_by_id.values(), default=0.0)
        floor_dense = min(dense_by_id.values(), default=0.0)

        fused = []
        for cid in set(dense_by_id) | set(lexical_by_id):
            if cid not in self.chunks:
                continue
            d = dense_by_id.get(cid, floor_dense)
            lex = lexical_by_id.get(cid, 0.0) / best_lexical if best_lexical > 0 else 0.0
            fused.append((DENSE_WEIGHT * d + LEXICAL_WEIGHT * lex, d, lex, cid))
        fused.sort(reverse=True)
        out = []
        for score, d, lex, cid in fused[:k]:
            rel, chunk = self.chunks[cid]
            info = self.policies[rel]
            out.append(Hit(cid, rel, info.company, info.policy_date, chunk["section"], chunk["start"], chunk["end"],
                           tuple(tuple(s) for s in chunk["sentences"]), info.source, round(score, 4),
                           round(d, 4), round(lex, 4)))
        return out


def _read_inside(source: str, config: Config) -> str:
    """A policy's cited text, read only when its real path lies in the corpus or the data folder
    (a file replaced by a link out of them since it was indexed is not read)."""
    import os

    real = os.path.realpath(source)
    roots = [os.path.realpath(config.corpus_dir), os.path.realpath(config.data_dir)]
    if not any(real.startswith(root.rstrip(os.sep) + os.sep) for root in roots):
        raise IndexDamaged(f"the policy file {source} now leads outside the corpus folder and is not read: "
                           f"run `python -m index` to index the corpus as it is")
    return Path(real).read_text(encoding="utf-8")


def _top(scores: np.ndarray, n: int) -> np.ndarray:
    """Positions of the ``n`` highest scores, highest first, without sorting all of them."""
    if len(scores) <= n:
        return np.argsort(-scores)
    best = np.argpartition(-scores, n)[:n]
    return best[np.argsort(-scores[best])]


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


_cache: dict = {}
_cache_lock = threading.Lock()


class VectorCache:
    """Each policy's vectors in a small file under ``<data>/vectors/<encoder>/``, written when the
    build embeds them or when they are first read from the embedded store. A file is used only
    when it holds exactly the chunk ids the manifest lists for the policy: chunk ids are content
    hashes and the folder names the encoder, so matching ids mean matching vectors."""

    def __init__(self, config: Config):
        import hashlib

        from .build import current_encoder

        self.config = config
        self.folder = config.data_dir / "vectors" / hashlib.sha1(current_encoder(config).encode()).hexdigest()[:12]
        self._present: dict[str, bool] = {}

    def _path(self, doc: str) -> Path:
        import hashlib

        return self.folder / f"{hashlib.sha1(doc.encode()).hexdigest()[:20]}.npz"

    def load(self, doc: str, ids: list[str]) -> np.ndarray | None:
        """The vectors of ``ids`` (rows in that order), or None when the file is missing or stale."""
        if not (self.config.chroma_dir / "chroma.sqlite3").is_file():
            return None  # the store itself is gone: let it say so
        try:
            with np.load(self._path(doc), allow_pickle=False) as data:
                if list(data["ids"]) != ids:
                    return None
                return np.asarray(data["vectors"], dtype="float32")
        except (OSError, ValueError, KeyError):
            return None

    def save(self, doc: str, ids: list[str], vectors: np.ndarray) -> None:
        """Keep ``doc``'s vectors (best effort: a read-only data folder just means no cache)."""
        import os

        path = self._path(doc)
        tmp = path.with_name(f"{path.stem}.{os.getpid()}.{threading.get_ident()}.tmp.npz")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            np.savez(tmp, ids=np.array(ids), vectors=np.asarray(vectors, dtype="float32"))
            os.replace(tmp, path)
        except OSError:
            tmp.unlink(missing_ok=True)

    def covers(self, docs, doc_chunks: dict) -> bool:
        """True when every policy of ``docs`` has a cache file (checked by name; ``load`` checks ids)."""
        return (self.config.chroma_dir / "chroma.sqlite3").is_file() and all(
            self._path(d).is_file() for d in docs if doc_chunks.get(d))


def vector_cache(config: Config) -> VectorCache | None:
    """The on-disk vector cache of an embedded store; None for a server (it is the shared truth)."""
    return None if config.chroma_url else VectorCache(config)


def open_index(config: Config | None = None) -> IndexView:
    """The loaded index for ``config``, reloaded when the manifest changes."""
    config = config or get_config()
    key = (config.data_dir, config.chroma_url, config.collection, config.model, config.engine)
    with _cache_lock:
        view = _cache.get(key)
        if view is None or view.manifest_mtime != _mtime(config.manifest_path):
            view = IndexView(config)
            _cache.clear()
            _cache[key] = view
        return view


def forget_cached_index() -> None:
    """Drop loaded indexes (after a build)."""
    with _cache_lock:
        _cache.clear()


def search(query: str, company: str | None = None, policy_date: str | None = None, k: int = 10,
           config: Config | None = None) -> list[Hit]:
    """Hybrid search. ``company`` (any name form ``index.companies.resolve_company`` knows) and
    ``policy_date`` narrow the policies searched; a company it does not know leaves none."""
    from .embedder import embed_query
    from .lexical import stems

    config = config or get_config()
    view = open_index(config)
    docs = None
    if company or policy_date:
        named = resolve_company(company, list(view.policies.values())) if company else None
        docs = [p.doc for p in view.policies.values()
                if (not company or p.company == named)
                and (not policy_date or (p.policy_date or "").startswith(policy_date))]
    return view.hits(embed_query(config.model, query, config.query_adapter), stems(query), docs, k)
