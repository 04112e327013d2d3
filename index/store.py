"""The vector store: Chroma, embedded (``PersistentClient``) or a server (``HttpClient``).

We always hand Chroma our own embeddings: its default embedding function downloads a model.
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from urllib.parse import urlparse

from .config import Config, quiet_third_parties
from .errors import ConfigError, EncoderMismatch, IndexDamaged, IndexMissing, ServerUnavailable

BATCH = 1000
ENCODER_KEY = "policyqa:encoder"  # collection metadata: which encoder made its vectors
CONNECT_TIMEOUT_S = 5.0  # an unreachable host fails fast instead of after the OS's TCP retries
# Writes (a build's upserts of up to BATCH vectors) may take longer than a question's reads on a
# busy server; they get this many times the configured timeout (POLICYQA_CHROMA_TIMEOUT).
WRITE_TIMEOUT_FACTOR = 6


_EMBEDDED_OPEN = threading.Lock()


def _client(config: Config, fresh: bool = False, writer: bool = False):
    """A Chroma client for ``config``.

    ``fresh`` (embedded store only): a client of its own instead of Chroma's per-path shared one.
    Chroma's ``PersistentClient`` is thread-safe but not process-safe: a client keeps its own view
    of the store (index segments, id maps) and never sees what another process wrote afterwards
    (``InternalError: Error finding id``). So each build (a writer, under the build lock) and each
    newly loaded manifest generation (a reader) opens a fresh one; see docs/reliability.md.
    """
    quiet_third_parties()
    if config.chroma_url:
        base = _server_base(config)
        # Chroma's client waits without limit (and contacts the server while it is constructed),
        # so the server is asked first, with a deadline.
        _heartbeat(config.chroma_url, base, config.chroma_timeout)
    import chromadb
    from chromadb.config import Settings

    settings = Settings(anonymized_telemetry=False)
    if config.chroma_url:
        url = urlparse(base)
        try:
            client = chromadb.HttpClient(host=url.hostname, port=url.port, ssl=url.scheme == "https",
                                         settings=settings)
        except Exception as exc:
            raise ServerUnavailable(_down_message(config.chroma_url, exc, config.chroma_timeout)) from None
        _limit_waits(client, config.chroma_timeout * (WRITE_TIMEOUT_FACTOR if writer else 1))
        return client
    config.chroma_dir.mkdir(parents=True, exist_ok=True)
    # Chroma keeps one shared system per folder; two threads opening one at once (the chat's first
    # question while the overview computes in the background) race in that registry (KeyError).
    with _EMBEDDED_OPEN:
        if fresh:
            _forget_shared_system(config, settings)
        return chromadb.PersistentClient(path=str(config.chroma_dir), settings=settings)


def _forget_shared_system(config: Config, settings) -> None:
    """Make the next ``PersistentClient`` for this path start a new Chroma system (reading the
    store as it is on disk now) instead of reusing the process's cached one. Clients already
    made keep working on the old system until they are dropped."""
    from chromadb.api.shared_system_client import SharedSystemClient

    probe = settings.model_copy(update={"is_persistent": True, "persist_directory": str(config.chroma_dir)})
    try:
        identifier = SharedSystemClient._get_identifier_from_settings(probe)
    except Exception:  # Chroma's private API moved: fall back to its public (process-wide) reset
        SharedSystemClient.clear_system_cache()
        return
    SharedSystemClient._identifier_to_system.pop(identifier, None)


def _server_base(config: Config) -> str:
    url = urlparse(config.chroma_url)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise ConfigError(f"POLICYQA_CHROMA_URL must look like http://127.0.0.1:8000, not '{config.chroma_url}'")
    return f"{url.scheme}://{url.hostname}:{url.port or (443 if url.scheme == 'https' else 8000)}"


def server_count(config: Config) -> int:
    """How many vectors the server's collection holds (0 when it has none), in two small requests.

    Chroma's documented REST API, so an unchanged re-index in server mode does not pay for
    importing the Chroma client.
    """
    import httpx

    base = f"{_server_base(config)}/api/v2/tenants/default_tenant/databases/default_database/collections"
    try:
        with httpx.Client(timeout=_timeout(config.chroma_timeout)) as http:
            found = http.get(f"{base}/{config.collection}")
            if found.status_code == 404:
                return 0
            found.raise_for_status()
            counted = http.get(f"{base}/{found.json()['id']}/count")
            counted.raise_for_status()
            return int(counted.json())
    except httpx.HTTPStatusError:
        raise
    except Exception as exc:
        raise ServerUnavailable(_down_message(config.chroma_url, exc)) from None


def _timeout(seconds: float):
    import httpx

    return httpx.Timeout(seconds, connect=min(CONNECT_TIMEOUT_S, seconds))


def _heartbeat(shown_url: str, base: str, seconds: float) -> None:
    import httpx

    try:
        response = httpx.get(f"{base}/api/v2/heartbeat", timeout=_timeout(min(seconds, CONNECT_TIMEOUT_S)))
        response.raise_for_status()
    except Exception as exc:
        raise ServerUnavailable(_down_message(shown_url, exc, min(seconds, CONNECT_TIMEOUT_S))) from None


def _limit_waits(client, seconds: float) -> None:
    """Give the client's HTTP session deadlines (best effort: it is Chroma's private attribute)."""
    import httpx

    session = getattr(getattr(client, "_server", None), "_session", None)
    if isinstance(session, httpx.Client):
        session.timeout = _timeout(seconds)


_TIMEOUTS = {"ConnectTimeout", "ReadTimeout", "WriteTimeout", "PoolTimeout", "TimeoutException", "TimeoutError"}


def _down_message(url: str, exc: Exception, seconds: float | None = None) -> str:
    if seconds is not None and {type(e).__name__ for e in _chain(exc)} & _TIMEOUTS:
        what = (f"The Chroma server at {url} is not answering (no reply within {seconds:g} s; "
                f"POLICYQA_CHROMA_TIMEOUT sets the limit). Check that it is running and not stopped or overloaded")
    else:
        what = f"The Chroma server at {url} is not reachable ({type(exc).__name__})"
    return (f"{what}. Start it with `chroma run --path DIR --host 127.0.0.1 --port PORT`, "
            f"or unset POLICYQA_CHROMA_URL to use the embedded index.")


# Collection reads that are retried once with a fresh client when the embedded store changed under it.
_RETRIED = {"get", "query", "count"}


@dataclass
class DenseHit:
    id: str
    similarity: float


class VectorStore:
    """The few operations PolicyQA needs, with Chroma's errors turned into ours."""

    def __init__(self, config: Config, fresh: bool = False, writer: bool = False):
        """``fresh``: a client of its own (see ``_client``); ``writer``: longer server deadlines."""
        self.config = config
        self._writer = writer
        self._fresh = fresh
        self._client_instance = None
        self._collection = None
        self._reopen_lock = threading.Lock()

    @property
    def _client(self):
        # Made on first use: a question answered from cached vectors never imports Chroma (1-2 s).
        if self._client_instance is None:
            self._client_instance = _client(self.config, fresh=self._fresh, writer=self._writer)
        return self._client_instance

    def _guard(self, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            if not self.config.chroma_url and type(exc).__name__ == "InternalError" and fn.__name__ in _RETRIED:
                # Another process changed the embedded store since this client opened it: look again
                # with a fresh client, once.
                self._reopen()
                try:
                    return getattr(self.collection, fn.__name__)(*args, **kwargs)
                except Exception as again:
                    self._translate(again)
                    raise
            self._translate(exc)
            raise

    def _reopen(self) -> None:
        with self._reopen_lock:
            self._client_instance = _client(self.config, fresh=True, writer=self._writer)
            self._collection = None

    def _translate(self, exc: Exception) -> None:
        """Raise our error for a Chroma failure a user can act on; return for any other (a bug)."""
        if self.config.chroma_url and _is_connection_error(exc):
            seconds = self.config.chroma_timeout * (WRITE_TIMEOUT_FACTOR if self._writer else 1)
            raise ServerUnavailable(_down_message(self.config.chroma_url, exc, seconds)) from None
        if type(exc).__name__ == "NotFoundError":
            had_collection = self._collection is not None
            self._collection = None  # fetched again once the index is rebuilt
            if had_collection:
                raise self._vectors_gone() from None
            if self.config.chroma_url:
                raise IndexMissing(f"the Chroma server at {self.config.chroma_url} has no collection "
                                   f"'{self.config.collection}' (was it started with another --path?). "
                                   f"Run `python -m index` to index the corpus into it.") from None

    def _vectors_gone(self) -> IndexDamaged:
        where = f"the Chroma server at {self.config.chroma_url}" if self.config.chroma_url else str(self.config.chroma_dir)
        return IndexDamaged(f"the vectors of the index are gone from {where} (was it restarted on an empty "
                            f"folder?): run `python -m index` to rebuild them")

    @property
    def collection(self):
        if self._collection is None:
            if not re.fullmatch(r"[a-zA-Z0-9][a-zA-Z0-9._-]{1,510}[a-zA-Z0-9]", self.config.collection):
                raise ConfigError(f"POLICYQA_COLLECTION must be 3-512 letters, digits, '.', '_' or '-', "
                                  f"starting and ending with a letter or digit, not '{self.config.collection}'")
            collection = self._guard(
                self._client.get_or_create_collection,
                name=self.config.collection,
                embedding_function=None,
                metadata={"hnsw:space": "cosine", ENCODER_KEY: self.encoder},
            )
            recorded = (collection.metadata or {}).get(ENCODER_KEY)
            if recorded is None and self._guard(collection.count):
                recorded = self.config.model  # made before encoders were recorded: always fp32
            if recorded not in (None, self.encoder):
                raise EncoderMismatch(
                    f"the Chroma collection '{self.config.collection}' holds vectors made by {recorded}, but "
                    f"PolicyQA now encodes with {self.encoder} (POLICYQA_ENGINE={self.config.engine}); the two "
                    f"never mix. Set POLICYQA_ENGINE to match, use another POLICYQA_COLLECTION, or rebuild with "
                    f"`python -m index`.", recorded)
            self._collection = collection
        return self._collection

    @property
    def encoder(self) -> str:
        """The encoder this store's vectors must come from (``index.embedder.encoder_id``)."""
        from .embedder import encoder_id

        return encoder_id(self.config.model, self.config.engine)

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

    def check_holds_vectors(self, chunk_id: str | None = None) -> None:
        """One cheap request: ``ServerUnavailable`` when the server is down, ``IndexDamaged`` when
        the store lost its vectors (questions are only asked of an index with chunks).

        With ``chunk_id`` (one the manifest says is stored) the store is asked for that id alone,
        which a server answers in about a fifth of the time of a count over a large collection.
        """
        if chunk_id is not None:
            if not self._guard(self.collection.get, ids=[chunk_id], include=[])["ids"]:
                raise self._vectors_gone()
        elif self.count() == 0:
            raise self._vectors_gone()

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

        One request: Chroma returns fewer than ``k`` when fewer match, so no count is asked first.
        Only an index with chunks is queried, so an empty answer from an empty store means its
        vectors were lost.
        """
        result = self._guard(self.collection.query, query_embeddings=[embedding], n_results=k,
                             where=where or None, include=["distances"])
        if not result["ids"][0] and self.count() == 0:
            raise self._vectors_gone()
        return [DenseHit(i, 1.0 - float(d)) for i, d in zip(result["ids"][0], result["distances"][0])]


def _is_connection_error(exc: Exception) -> bool:
    names = {type(e).__name__ for e in _chain(exc)}
    text = str(exc).lower()
    return bool(names & {"ConnectError", "ConnectionError", "ConnectTimeout", "ReadTimeout", "WriteTimeout",
                         "PoolTimeout", "RemoteProtocolError", "ConnectionRefusedError", "ReadError", "WriteError"}
                ) or "connect" in text


def _chain(exc: BaseException):
    while exc is not None:
        yield exc
        exc = exc.__cause__ or exc.__context__


def copy_vectors(source: Config, target: Config, batch: int = BATCH) -> int:
    """Copy every vector and its metadata from one store to another (embedded to server, say).

    Moving an index to a Chroma server this way costs no embedding; returns how many were copied.
    """
    src, dst = VectorStore(source), VectorStore(target, writer=True)
    total = src.count()
    for offset in range(0, total, batch):
        got = src._guard(src.collection.get, include=["embeddings", "metadatas"], limit=batch, offset=offset)
        if got["ids"]:
            dst.add(got["ids"], got["embeddings"], got["metadatas"])
    return total
