"""The vector store: Chroma, embedded (``PersistentClient``) or a server (``HttpClient``).

We always hand Chroma our own embeddings: its default embedding function downloads a model.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlparse

from .config import Config, quiet_third_parties
from .errors import ConfigError, IndexDamaged, ServerUnavailable

BATCH = 1000


def _client(config: Config):
    quiet_third_parties()
    import chromadb
    from chromadb.config import Settings

    settings = Settings(anonymized_telemetry=False)
    if config.chroma_url:
        url = urlparse(config.chroma_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ConfigError(f"POLICYQA_CHROMA_URL must look like http://127.0.0.1:8000, not '{config.chroma_url}'")
        port = url.port or (443 if url.scheme == "https" else 8000)
        try:
            client = chromadb.HttpClient(host=url.hostname, port=port, ssl=url.scheme == "https", settings=settings)
            client.heartbeat()
        except Exception as exc:
            raise ServerUnavailable(_down_message(config.chroma_url, exc)) from None
        return client
    config.chroma_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(config.chroma_dir), settings=settings)


def _down_message(url: str, exc: Exception) -> str:
    return (f"The Chroma server at {url} is not reachable ({type(exc).__name__}). "
            f"Start it with `chroma run --path DIR --host 127.0.0.1 --port PORT`, "
            f"or unset POLICYQA_CHROMA_URL to use the embedded index.")


@dataclass
class DenseHit:
    id: str
    similarity: float


class VectorStore:
    """The few operations PolicyQA needs, with Chroma's errors turned into ours."""

    def __init__(self, config: Config):
        self.config = config
        self._client = _client(config)
        self._collection = None

    def _guard(self, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            if self.config.chroma_url and _is_connection_error(exc):
                raise ServerUnavailable(_down_message(self.config.chroma_url, exc)) from None
            if type(exc).__name__ == "NotFoundError" and self._collection is not None:
                self._collection = None  # fetched again once the index is rebuilt
                raise self._vectors_gone() from None
            raise

    def _vectors_gone(self) -> IndexDamaged:
        where = f"the Chroma server at {self.config.chroma_url}" if self.config.chroma_url else str(self.config.chroma_dir)
        return IndexDamaged(f"the vectors of the index are gone from {where} (was it restarted on an empty "
                            f"folder?): run `python -m index` to rebuild them")

    @property
    def collection(self):
        if self._collection is None:
            self._collection = self._guard(
                self._client.get_or_create_collection,
                name=self.config.collection,
                embedding_function=None,
                metadata={"hnsw:space": "cosine"},
            )
        return self._collection

    def reset(self) -> None:
        """Drop every vector (used when the embedding model changes)."""
        try:
            self._guard(self._client.delete_collection, self.config.collection)
        except ServerUnavailable:
            raise
        except Exception:
            pass
        self._collection = None

    def count(self) -> int:
        return self._guard(self.collection.count)

    def all_ids(self) -> set[str]:
        ids: set[str] = set()
        total = self.count()
        for offset in range(0, total, 5000):
            got = self._guard(self.collection.get, include=[], limit=5000, offset=offset)
            ids.update(got["ids"])
        return ids

    def add(self, ids: list[str], embeddings, metadatas: list[dict]) -> None:
        for i in range(0, len(ids), BATCH):
            self._guard(self.collection.upsert, ids=ids[i:i + BATCH], embeddings=embeddings[i:i + BATCH],
                        metadatas=metadatas[i:i + BATCH])

    def delete(self, ids: list[str]) -> None:
        for i in range(0, len(ids), BATCH):
            self._guard(self.collection.delete, ids=ids[i:i + BATCH])

    def vectors(self, ids: list[str]) -> dict:
        """The stored embeddings of ``ids`` (those that exist), by id."""
        import numpy as np

        out = {}
        for i in range(0, len(ids), BATCH):
            got = self._guard(self.collection.get, ids=ids[i:i + BATCH], include=["embeddings"])
            out.update({cid: np.asarray(vec, dtype="float32") for cid, vec in zip(got["ids"], got["embeddings"])})
        return out

    def query(self, embedding, k: int, where: dict | None = None) -> list[DenseHit]:
        """Nearest chunks by cosine similarity, optionally filtered on metadata.

        Only an index with chunks is queried, so an empty store means its vectors were lost.
        """
        total = self.count()
        if total == 0:
            raise self._vectors_gone()
        result = self._guard(self.collection.query, query_embeddings=[embedding], n_results=min(k, total),
                             where=where or None, include=["distances"])
        return [DenseHit(i, 1.0 - float(d)) for i, d in zip(result["ids"][0], result["distances"][0])]


def _is_connection_error(exc: Exception) -> bool:
    names = {type(e).__name__ for e in _chain(exc)}
    text = str(exc).lower()
    return bool(names & {"ConnectError", "ConnectionError", "ConnectTimeout", "ReadTimeout", "RemoteProtocolError",
                         "ConnectionRefusedError", "ReadError", "WriteError"}) or "connect" in text


def _chain(exc: BaseException):
    while exc is not None:
        yield exc
        exc = exc.__cause__ or exc.__context__
