"""Build or update the index: read policies, chunk them, embed what is new, drop what is gone.

Indexing is idempotent. A chunk's id is a hash of its content and place, so an unchanged corpus
embeds nothing, a changed file re-embeds only its changed chunks, and a deleted file's chunks
are removed. The vector store is reconciled against the wanted ids, so a build that was killed
half-way is completed, not duplicated, by the next run. ``manifest.json`` records what was built.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import sys
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

from .chunking import Chunk, chunk_policy
from .config import Config, get_config
from .errors import BadInput, ConfigError, EncoderMismatch
from .lexical import LexicalIndex
from .policies import parse_policy
from .readers import SUPPORTED_SUFFIXES, Unreadable, read_document

MANIFEST_VERSION = 1
# The modules whose rules decide what a file's chunks are. When any of them changes (a new
# release), every file is read again on the next build (files skipped before included); chunk
# ids are content hashes, so only chunks that really changed are embedded again.
PARSER_MODULES = ("readers.py", "policies.py", "chunking.py", "boilerplate.py", "dates.py", "structure.py")
CHUNK_RULES = 2  # bump when build.py or lexical.py changes how chunks, their ids or their stems are made
# (2: keyword stems without accents)


@lru_cache(maxsize=1)
def parser_signature() -> str:
    """A hash of the parsing rules this code applies (see ``PARSER_MODULES``)."""
    digest = hashlib.sha256(str(CHUNK_RULES).encode())
    for name in PARSER_MODULES:
        digest.update((Path(__file__).parent / name).read_bytes())
    return digest.hexdigest()[:16]


@dataclass
class BuildReport:
    """What one build run did."""

    documents: int = 0
    sections: int = 0
    chunks: int = 0
    embedded: int = 0
    reused: int = 0
    removed: int = 0
    skipped: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    device: str = ""  # where chunks were embedded ("cpu", "cuda:0"); empty when none were

    def to_dict(self) -> dict:
        return asdict(self)


def corpus_files(corpus_dir: Path) -> list[Path]:
    """Every file under the corpus folder, hidden ones excepted, in a stable order."""
    return [path for _, path, _ in corpus_entries(corpus_dir)]


def corpus_entries(corpus_dir: Path) -> list[tuple[str, Path, tuple[int, int] | None]]:
    """``(relative name, path, (size, mtime_ns))`` of every corpus file, hidden ones excepted.

    A folder named like a policy file ("policy.md/") is listed too (and reported, not walked
    into silently). One directory scan, no per-file path arithmetic: this runs before questions.
    """
    if not corpus_dir.exists():
        raise ConfigError(f"the corpus folder {corpus_dir} does not exist (set POLICYQA_CORPUS)")
    if not corpus_dir.is_dir():
        raise ConfigError(f"the corpus path {corpus_dir} is not a folder (set POLICYQA_CORPUS)")
    found: list[tuple[str, Path, tuple[int, int] | None]] = []

    def walk(folder: str, prefix: str) -> None:
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                rel = prefix + entry.name
                try:
                    is_dir = entry.is_dir()
                except OSError:
                    is_dir = False
                if is_dir and entry.is_symlink():
                    # A linked folder is listed (and reported), never walked: whatever it leads to,
                    # inside the corpus or out of it, loops included, is not read through it.
                    found.append((rel, Path(entry.path), _entry_key(entry)))
                elif is_dir:
                    if os.path.splitext(entry.name)[1].lower() in SUPPORTED_SUFFIXES:
                        found.append((rel, Path(entry.path), _entry_key(entry)))
                    walk(entry.path, rel + "/")
                else:
                    found.append((rel, Path(entry.path), _entry_key(entry)))

    walk(str(corpus_dir), "")
    found.sort(key=lambda item: item[0].split("/"))
    return found


ADDED_PREFIX = "@added/"  # ids of policies in Config.added_dir; "@" keeps them apart from corpus names


def all_entries(config: Config) -> list[tuple[str, Path, tuple[int, int] | None]]:
    """The corpus entries, then those of the added-policies folder (ids prefixed ``@added/``)."""
    entries = corpus_entries(config.corpus_dir)
    if _added_apart(config) and config.added_dir.is_dir():
        entries += [(ADDED_PREFIX + rel, path, key) for rel, path, key in corpus_entries(config.added_dir)]
    return entries


def _added_apart(config: Config) -> bool:
    """The added folder is not inside the corpus (where the corpus walk already finds its files)."""
    return not _inside(config.added_dir.resolve(), config.corpus_dir)


def source_path(config: Config, rel: str) -> Path:
    """The file behind a policy id (corpus-relative, or ``@added/...`` in the added folder)."""
    if rel.startswith(ADDED_PREFIX):
        return config.added_dir / rel[len(ADDED_PREFIX):]
    return config.corpus_dir / rel


def _entry_key(entry: os.DirEntry) -> tuple[int, int] | None:
    try:
        st = entry.stat()
        return st.st_size, st.st_mtime_ns
    except OSError:
        return None


def load_manifest(config: Config) -> dict:
    """The last build's manifest, or an empty one."""
    try:
        manifest = json.loads(config.manifest_path.read_text())
        if manifest.get("version") == MANIFEST_VERSION:
            return manifest
    except (OSError, ValueError):
        pass
    return {"version": MANIFEST_VERSION, "model": None, "documents": {}, "skipped": {}}


def _write_json_atomic(path: Path, data: dict) -> None:
    """Write JSON atomically: one line per top-level key, and per entry of a top-level mapping.

    Readable with a pager and fast: each line is written by json's C encoder (``indent`` would
    switch to its pure-Python one, seconds for a large manifest).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")

    def dumps(value) -> str:
        return json.dumps(value, ensure_ascii=False)

    lines = []
    for key, value in data.items():
        if isinstance(value, dict) and value:
            inner = ",\n".join(f"  {dumps(k)}: {dumps(v)}" for k, v in value.items())
            lines.append(f" {dumps(key)}: {{\n{inner}\n }}")
        else:
            lines.append(f" {dumps(key)}: {dumps(value)}")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.write("{\n" + ",\n".join(lines) + "\n}\n")
    os.replace(tmp, path)


def writer_active(config: Config) -> bool:
    """True while some process (this one included) holds the build lock: an index change is being written.

    Readers then keep answering from the last published manifest generation instead of waiting.
    """
    path = config.data_dir / "build.lock"
    try:
        with open(path, "a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(handle, fcntl.LOCK_UN)
            return False
    except OSError:
        return False


@contextmanager
def _build_lock(config: Config):
    config.data_dir.mkdir(parents=True, exist_ok=True)
    with open(config.data_dir / "build.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _stat_key(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
        return st.st_size, st.st_mtime_ns
    except OSError:
        return None


def store_identity(config: Config) -> str:
    """Which vector store a manifest describes: the embedded one, or a server's collection."""
    return f"{config.chroma_url or 'embedded'}#{config.collection}"


def current_encoder(config: Config) -> str:
    """The encoder that new vectors come from (model and engine; ``index.embedder.encoder_id``)."""
    from .embedder import encoder_id

    return encoder_id(config.model, config.engine)


def recorded_encoder(manifest: dict) -> str | None:
    """The encoder that made a manifest's (or summary's) vectors; a manifest written before
    encoders were recorded names only its model, whose vectors were fp32."""
    return manifest.get("encoder") or manifest.get("model")


def is_stale(config: Config | None = None) -> bool:
    """True when the corpus, the model or the stored index no longer match the manifest."""
    config = config or get_config()
    summary = load_summary(config)
    if not _built_as_configured(config, summary) or not (config.data_dir / "lexical" / "ids.json").exists():
        return True
    try:
        entries = all_entries(config)
    except ConfigError:
        return True
    return not _same_files(entries, summary)


def _built_as_configured(config: Config, summary: dict) -> bool:
    """The summary's build used ``config``'s encoder, store and folders, and today's parsing rules."""
    return (recorded_encoder(summary) == current_encoder(config) and summary.get("store") == store_identity(config)
            and summary.get("parser") == parser_signature() and summary.get("at") == _where(config))


def _where(config: Config) -> list[str]:
    """The corpus and data folders an index is built in: its entries name files there."""
    return [str(config.corpus_dir), str(config.data_dir)]


def _built_where(manifest: dict) -> list[str | None]:
    """The corpus and data folders ``manifest`` was built in (``_where`` then)."""
    return [manifest.get("corpus"), manifest.get("data")]


def _same_files(entries: list, summary: dict) -> bool:
    """The corpus holds exactly the summary's files, each with its recorded size and mtime."""
    known = summary.get("files", {})
    return len(entries) == len(known) and all(list(key or (None, None)) == known.get(rel) for rel, _, key in entries)


SUMMARY_NAME = "manifest.summary.json"
_summary_cache: dict[Path, tuple] = {}


def summarise(manifest: dict) -> dict:
    """What an unchanged re-index and ``is_stale`` need from a manifest, small enough to read often."""
    docs = manifest.get("documents", {})
    files = {rel: [e.get("size"), e.get("mtime_ns")] for rel, e in docs.items()}
    files.update({rel: [e.get("size"), e.get("mtime_ns")] for rel, e in manifest.get("skipped_stats", {}).items()})
    return {
        "model": manifest.get("model"), "encoder": manifest.get("encoder"), "store": manifest.get("store"), "parser": manifest.get("parser"),
        "at": _built_where(manifest), "files": files,
        "overrides": manifest.get("overrides", {}), "skipped": manifest.get("skipped", {}),
        "documents": len(docs), "sections": sum(e["sections"] for e in docs.values()),
        "chunks": sum(len(e["chunks"]) for e in docs.values()),
    }


def _write_summary(config: Config, summary: dict) -> None:
    st = config.manifest_path.stat()
    summary = {**summary, "manifest": [st.st_size, st.st_mtime_ns],
               "lexical": _folder_stamp(config.data_dir / "lexical")}
    _write_json_atomic(config.data_dir / SUMMARY_NAME, summary)
    _summary_cache[config.manifest_path] = (summary["manifest"], summary)


def load_summary(config: Config) -> dict:
    """The manifest's summary: from its small file when that matches the manifest, else derived.

    Cached per manifest version, so asking often re-reads nothing while the index is unchanged.
    """
    try:
        st = config.manifest_path.stat()
    except OSError:
        return summarise({})
    stamp = [st.st_size, st.st_mtime_ns]
    cached = _summary_cache.get(config.manifest_path)
    if cached and cached[0] == stamp:
        return cached[1]
    try:
        summary = json.loads((config.data_dir / SUMMARY_NAME).read_text())
        if summary.get("manifest") != stamp:
            raise ValueError("written for another manifest")
    except (OSError, ValueError):
        summary = summarise(load_manifest(config))  # no "lexical" stamp: the next build checks it
    _summary_cache[config.manifest_path] = (stamp, summary)
    return summary


def _rel(config: Config, path: Path) -> str:
    if _added_apart(config) and _inside(path, config.added_dir):
        return ADDED_PREFIX + path.relative_to(config.added_dir.resolve()).as_posix()
    try:
        return path.relative_to(config.corpus_dir).as_posix()
    except ValueError:
        return str(path)


def _chunk_id(rel: str, company: str, policy_date: str, embed_text: str, ordinal: int) -> str:
    key = "\x1f".join([rel, company, policy_date, embed_text, str(ordinal)])
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def _source_for(config: Config, path: Path, doc) -> str:
    if doc.is_verbatim:
        return str(path)
    config.sources_dir.mkdir(parents=True, exist_ok=True)
    copy = config.sources_dir / f"{doc.raw_sha256[:16]}-{path.stem}.txt"
    if not copy.exists() or copy.read_text(encoding="utf-8") != doc.text:
        tmp = copy.with_name(copy.name + ".tmp")
        with open(tmp, "w", encoding="utf-8", newline="") as handle:
            handle.write(doc.text)
        os.replace(tmp, copy)
    return str(copy)


@dataclass
class _Parsed:
    entry: dict
    chunks: list[Chunk]


def _parse_file(config: Config, path: Path, overrides: dict) -> _Parsed:
    """Read, parse and chunk one file. Raises ``Unreadable`` (with the reason) when it must be skipped."""
    try:
        return _parse_readable_file(config, path, overrides)
    except Unreadable:
        raise
    except OSError as exc:
        raise Unreadable(f"cannot be read ({exc.strerror or exc})") from None
    except Exception as exc:  # one odd file must not stop the build; its reason is reported
        raise Unreadable(f"could not be processed ({type(exc).__name__}: {exc})") from None


def _parse_readable_file(config: Config, path: Path, overrides: dict) -> _Parsed:
    # Added policies live in their own folder (``Config.added_dir``), which bounds them as the corpus does.
    within = config.added_dir if _inside(path, config.added_dir) else config.corpus_dir
    link = link_problem(path, within, "the corpus folder")
    if link:
        raise Unreadable(link)
    doc = read_document(path, within=within)
    stat = path.stat()
    policy = parse_policy(doc.text, path.name, company=overrides.get("company"),
                          policy_date=overrides.get("policy_date"), hints=doc.hints)
    chunks = chunk_policy(policy)
    if not chunks:
        raise Unreadable("no sentences found in the document")
    rel = _rel(config, path)
    seen: dict[str, int] = {}
    chunk_entries = []
    for chunk in chunks:
        ordinal = seen.get(chunk.embed_text, 0)
        seen[chunk.embed_text] = ordinal + 1
        chunk_entries.append({
            "id": _chunk_id(rel, policy.company, policy.policy_date or "", chunk.embed_text, ordinal),
            "section": chunk.section.heading,
            "start": chunk.start,
            "end": chunk.end,
            "sentences": [[s.start, s.end] for s in chunk.sentences],
        })
    entry = {
        "sha256": doc.raw_sha256,
        "text_sha256": _text_fingerprint(doc.text),
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "company": policy.company,
        "domain": policy.domain,
        "policy_date": policy.policy_date,
        "effective_date": policy.effective_date,
        "archive_date": policy.archive_date,
        "title": policy.title,
        "aliases": list(overrides.get("aliases", [])),
        "kind": doc.kind,
        "source": _source_for(config, path, doc),
        "sections": len(policy.sections),
        "chunks": chunk_entries,
    }
    return _Parsed(entry, chunks)


def link_problem(path: Path, root: Path, where: str) -> str | None:
    """Why a symbolic link at ``path`` must not be followed (into or out of ``root``), or None.

    A linked folder is never walked; a linked file is read only when its real path lies in ``root``.
    """
    if not path.is_symlink():
        return None
    try:
        target = Path(os.path.realpath(path, strict=True))
    except FileNotFoundError:
        return None  # a broken link: read_document says so, with its target
    except (OSError, RuntimeError):
        return "a link loop (the link leads back to itself; not followed)"
    if target.is_dir():
        inside = "inside" if _inside(target, root) else "outside"
        return f"a link to a folder {inside} {where} (linked folders are not followed)"
    if not _inside(target, root):
        return f"a link to a file outside {where} (not followed)"
    return None


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(Path(os.path.realpath(folder)))
        return True
    except ValueError:
        return False


def _text_fingerprint(text: str) -> str:
    """Same words in the same order, whatever the encoding, line endings or spacing of the file."""
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()


@dataclass
class _Plan:
    """Which corpus files can keep their manifest entry and which must be read again."""

    files: list[tuple[str, Path, dict | None]]  # (rel, path, previous entry when still valid)
    overrides: dict[str, dict]
    old_overrides: dict[str, dict]

    @property
    def to_parse(self) -> list[tuple[str, Path]]:
        return [(rel, path) for rel, path, entry in self.files if entry is None]


def _plan(config: Config, old_docs: dict, old: dict, overrides: dict[str, dict]) -> _Plan:
    old_overrides = old.get("overrides", {})
    merged = {**old_overrides, **overrides}
    old_skips = old.get("skipped_stats", {})
    if old.get("parser") != parser_signature() or _built_where(old) != _where(config):
        # Other rules, or folders moved since (the entries name the sources where they were): every file is
        # read again; the vectors of unchanged chunks are kept.
        old_docs, old_skips = {}, {}
    files = []
    for rel, path, key in all_entries(config):
        previous = old_docs.get(rel) or (None if rel not in old_skips else {"skipped": old_skips[rel]})
        valid = None
        if previous and key is not None and old_overrides.get(rel) == merged.get(rel):
            stats = previous.get("skipped") or previous
            if key == (stats.get("size"), stats.get("mtime_ns")):
                valid = previous
        files.append((rel, path, valid))
    # A duplicate stays skipped only while the file it duplicates is kept unchanged.
    kept = {rel for rel, _, entry in files if entry is not None and "skipped" not in entry}
    for i, (rel, path, entry) in enumerate(files):
        original = (entry or {}).get("skipped", {}).get("duplicate_of")
        if original is not None and original not in kept:
            files[i] = (rel, path, None)
    return _Plan(files, merged, old_overrides)


def _unchanged(config: Config, summary: dict, overrides: dict[str, dict]) -> bool:
    """True when the last build still stands: same model, store, overrides and files (by stat)."""
    if (not _built_as_configured(config, summary) or (config.data_dir / PENDING_MARK).exists()
            or summary.get("lexical") is None or summary.get("lexical") != _folder_stamp(config.data_dir / "lexical")
            or {**summary["overrides"], **overrides} != summary["overrides"]
            or not (config.chroma_url or _store_files_present(config))):
        return False
    return _same_files(all_entries(config), summary)


def _store_files_present(config: Config) -> bool:
    """A cheap sign that the store the manifest describes still exists (no Chroma import).

    A server is asked instead (``VectorStore.count``); this is only for the embedded store.
    """
    return (config.chroma_dir / "chroma.sqlite3").is_file()


def build(config: Config | None = None, progress=True, overrides: dict[str, dict] | None = None) -> BuildReport:
    """Bring the index up to date with the corpus folder and return what was done.

    ``progress``: True for a terminal progress bar, a ``callable(done, total)``, or False.
    ``overrides``: per-file ``{"company": ..., "policy_date": ...}`` keyed by path relative to the corpus.

    An unchanged corpus is recognised from file sizes and modification times alone: nothing is
    read, parsed or embedded, and the vector store is not asked for its ids. Files that must be
    read are parsed on a background thread while the main thread embeds what is already parsed.
    """
    config = config or get_config()
    started = time.perf_counter()
    with _build_lock(config):
        summary = load_summary(config)
        if _unchanged(config, summary, overrides or {}):
            # On a server the manifest alone cannot vouch for the vectors: one count, no id listing.
            if not config.chroma_url or _server_count(config) == summary["chunks"]:
                return BuildReport(documents=summary["documents"], sections=summary["sections"],
                                   chunks=summary["chunks"], reused=summary["chunks"],
                                   skipped=dict(summary["skipped"]),
                                   seconds=round(time.perf_counter() - started, 3))
        old = load_manifest(config)
        model_changed = recorded_encoder(old) not in (None, current_encoder(config))
        old_docs = {} if model_changed else old["documents"]
        plan = _plan(config, old_docs, old, overrides or {})
        report = _build(config, old, old_docs, model_changed, plan, progress)
    report.seconds = round(time.perf_counter() - started, 3)
    return report


PENDING_MARK = "build.pending"


def _server_count(config: Config) -> int:
    from .store import server_count

    return server_count(config)


def _build(config: Config, old: dict, old_docs: dict, model_changed: bool, plan: _Plan, progress) -> BuildReport:
    from . import retrieval
    from .embedder import device
    from .store import VectorStore

    report = BuildReport()
    # The only writer (the build lock is held): a client of its own, which sees what earlier
    # writers in other processes stored (Chroma's cached per-process client would not).
    store = VectorStore(config, fresh=True, writer=True)
    pending = config.data_dir / PENDING_MARK
    if not model_changed and not config.chroma_url:
        try:
            store.count()
        except EncoderMismatch:  # our own folder's vectors from another encoder (manifest lost): re-embed
            model_changed = True
    if model_changed:
        pending.touch()
        store.reset()
    old_ids = {c["id"] for e in old_docs.values() for c in e["chunks"]}
    # The store holds exactly the last manifest's chunks unless a build stopped half-way (the
    # pending mark), the manifest describes another store, or the count disagrees; only then
    # are all its ids listed.
    if not pending.exists() and old.get("store") == store_identity(config) and store.count() == len(old_ids):
        existing = old_ids
    else:
        existing = store.all_ids()
    pending.touch()

    documents: dict[str, dict] = {}
    parsed: dict[str, _Parsed] = {}
    skipped: dict[str, str] = {}
    skipped_stats: dict[str, dict] = {}
    by_sha: dict[str, str] = {}
    wanted: dict[str, tuple[str, dict]] = {}
    embedder = _Embedder(config, store, progress)
    known_added = {rel: e.get("added") for rel, e in old.get("documents", {}).items()}
    next_added = max((n or 0 for n in known_added.values()), default=0) + 1
    with _parse_ahead(config, plan) as results:
        for rel, path, entry in plan.files:
            if entry is not None and "skipped" in entry:
                skipped[rel] = old.get("skipped", {}).get(rel, "unreadable")
                skipped_stats[rel] = entry["skipped"]
                continue
            if entry is None:
                result = next(results)
                if isinstance(result, Unreadable):
                    skipped[rel] = str(result)
                    key = _stat_key(path)
                    skipped_stats[rel] = {"size": key[0] if key else None, "mtime_ns": key[1] if key else None}
                    continue
                entry = result.entry
            else:
                result = None
            fingerprint = entry.get("text_sha256") or entry["sha256"]
            if fingerprint in by_sha:
                skipped[rel] = f"duplicate of {by_sha[fingerprint]}"
                skipped_stats[rel] = {"size": entry["size"], "mtime_ns": entry["mtime_ns"],
                                      "duplicate_of": by_sha[fingerprint]}
                continue
            by_sha[fingerprint] = rel
            # The order policies joined the index tells undated versions of one company apart.
            entry["added"] = known_added.get(rel) or next_added
            next_added = max(next_added, entry["added"] + 1)
            documents[rel] = entry
            if result is not None:
                parsed[rel] = result
            for chunk in entry["chunks"]:
                wanted[chunk["id"]] = (rel, chunk)
            if result is not None:
                embedder.offer(rel, entry, result, existing)
    # Chunks that must be embedded but whose file was not re-read (lost from the store).
    lost = [cid for cid in wanted if cid not in existing and wanted[cid][0] not in parsed]
    for rel in sorted({wanted[cid][0] for cid in lost}):
        try:
            parsed[rel] = _parse_file(config, source_path(config, rel), plan.overrides.get(rel, {}))
        except Unreadable as reason:
            skipped[rel] = str(reason)
            skipped_stats[rel] = {"size": None, "mtime_ns": None}
            documents.pop(rel)
            wanted = {cid: v for cid, v in wanted.items() if v[0] != rel}
            continue
        embedder.offer(rel, documents[rel], parsed[rel], existing)
    embedder.finish()
    extra = [cid for cid in existing if cid not in wanted]
    if extra:
        store.delete(extra)

    lexical_dir = config.data_dir / "lexical"
    if embedder.embedded or extra or parsed or model_changed or not _lexical_matches(lexical_dir, wanted):
        ids, tokens = _all_chunk_tokens(config, documents, parsed, LexicalIndex.load_tokens(lexical_dir))
        LexicalIndex.build_from_tokens(ids, tokens).save(lexical_dir)

    manifest = {
        "version": MANIFEST_VERSION,
        "generation": int(old.get("generation") or 0) + 1,
        "model": config.model,
        "encoder": current_encoder(config),
        "store": store_identity(config),
        "parser": parser_signature(),
        "corpus": str(config.corpus_dir),
        "data": str(config.data_dir),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "documents": documents,
        "skipped": skipped,
        "skipped_stats": skipped_stats,
        "overrides": {k: v for k, v in plan.overrides.items() if k in documents},
    }
    _cache_vectors(config, documents, embedder.vectors)
    _write_json_atomic(config.manifest_path, manifest)
    _write_summary(config, summarise(manifest))
    pending.unlink(missing_ok=True)
    retrieval.forget_cached_index()

    report.documents = len(documents)
    report.sections = sum(e["sections"] for e in documents.values())
    report.chunks = len(wanted)
    report.embedded = embedder.embedded
    report.reused = len(wanted) - embedder.embedded
    report.removed = len(extra)
    report.skipped = skipped
    report.device = device(config.model, config.engine) if embedder.embedded else ""
    return report


def _cache_vectors(config: Config, documents: dict, vectors: dict | None) -> None:
    """Write the per-policy vector cache for each policy embedded whole in this run."""
    if not vectors:
        return
    import numpy as np

    from .retrieval import vector_cache

    cache = vector_cache(config)
    for rel, entry in documents.items():
        ids = [c["id"] for c in entry["chunks"]]
        if ids and all(cid in vectors for cid in ids):
            cache.save(rel, ids, np.vstack([vectors[cid] for cid in ids]))


@contextmanager
def _parse_ahead(config: Config, plan: _Plan):
    """Parse the files that need it, in corpus order, on a thread that runs ahead of the embedder.

    Yields an iterator of ``_Parsed`` or ``Unreadable`` results in the order of ``plan.to_parse``.
    """
    import queue
    import threading

    todo = plan.to_parse
    results: queue.Queue = queue.Queue(maxsize=PARSE_AHEAD_FILES)
    stop = threading.Event()

    def work() -> None:
        for rel, path in todo:
            if stop.is_set():
                return
            try:
                item = _parse_file(config, path, plan.overrides.get(rel, {}))
            except Unreadable as reason:
                item = reason
            except BaseException as exc:  # handed to the main thread, which raises it
                item = _Failed(exc)
            while not stop.is_set():
                try:
                    results.put(item, timeout=0.2)
                    break
                except queue.Full:
                    continue

    def take():
        for _ in todo:
            item = results.get()
            if isinstance(item, _Failed):
                raise item.exc
            yield item

    thread = threading.Thread(target=work, name="policyqa-parse", daemon=True)
    thread.start()
    try:
        yield take()
    finally:
        stop.set()
        thread.join()


@dataclass
class _Failed:
    exc: BaseException


PARSE_AHEAD_FILES = 64
EMBED_WINDOW = 1024  # chunks gathered before encoding: enough to sort by length, little to hold;
# each batch of them is stored as soon as it is encoded, so a killed build loses one batch at most


class _Embedder:
    """Collects new chunks, encodes them a window at a time (sorted by length) and stores them."""

    def __init__(self, config: Config, store, progress):
        self.config = config
        self.store = store
        self.progress = progress
        self.ids: list[str] = []
        self.texts: list[str] = []
        self.metadatas: list[dict] = []
        self.embedded = 0
        self.offered = 0
        self._done = 0
        self._bar = None
        # This run's vectors, for the per-policy cache of an embedded store (index.retrieval.VectorCache).
        self.vectors: dict | None = None if config.chroma_url else {}

    def offer(self, rel: str, entry: dict, parsed: _Parsed, existing: set[str]) -> None:
        metadata = _chunk_metadata(entry, rel)
        for chunk, meta in zip(parsed.chunks, entry["chunks"]):
            if meta["id"] in existing:
                continue
            self.ids.append(meta["id"])
            self.texts.append(chunk.embed_text)
            self.metadatas.append(metadata)
            self.offered += 1
        if len(self.ids) >= EMBED_WINDOW:
            self._flush()

    def finish(self) -> None:
        if self.ids:
            self._flush()
        if self._bar is not None:
            self._bar.close()

    def _flush(self) -> None:
        from .embedder import embed_slices

        if self.progress is True and self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(total=self.offered, desc="embedding", unit="chunk", file=sys.stderr, dynamic_ncols=True)
        for part, vectors in embed_slices(self.config.model, self.texts, engine=self.config.engine):
            self.store.add([self.ids[i] for i in part], vectors, [self.metadatas[i] for i in part])
            if self.vectors is not None:
                self.vectors.update((self.ids[i], row) for i, row in zip(part, vectors))
            self.embedded += len(part)
            self._tick(len(part))
        self.ids, self.texts, self.metadatas = [], [], []

    def _tick(self, n: int) -> None:
        self._done += n
        if callable(self.progress):
            self.progress(self._done, self.offered)
        elif self._bar is not None:
            self._bar.total = self.offered  # grows while files are still being parsed
            self._bar.update(n)


def _lexical_matches(folder: Path, wanted: dict) -> bool:
    """True when the saved keyword index loads and covers exactly the wanted chunks."""
    try:
        return set(LexicalIndex.load(folder).ids) == set(wanted)
    except Exception:  # missing or damaged: it is rebuilt
        return False


def _folder_stamp(folder: Path) -> list | None:
    """Name, size and mtime of each file in a folder: any change to the keyword index shows."""
    try:
        with os.scandir(folder) as entries:
            return sorted([e.name, e.stat().st_size, e.stat().st_mtime_ns] for e in entries if e.is_file())
    except OSError:
        return None


def _chunk_metadata(entry: dict, rel: str) -> dict:
    return {"doc": rel, "company": entry["company"].lower(), "policy_date": entry["policy_date"] or ""}


def _all_chunk_tokens(config: Config, documents: dict, parsed: dict[str, _Parsed],
                      cached: dict[str, list[str]]) -> tuple[list[str], list[list[str]]]:
    """Every chunk's stems for the keyword index: cached ones reused, the others computed."""
    from .lexical import stems

    ids, tokens = [], []
    for rel, entry in documents.items():
        chunk_ids = [meta["id"] for meta in entry["chunks"]]
        if rel not in parsed and all(cid in cached for cid in chunk_ids):
            ids += chunk_ids
            tokens += [cached[cid] for cid in chunk_ids]
            continue
        doc_ids, texts = _all_chunk_texts(config, {rel: entry}, parsed)
        ids += doc_ids
        tokens += [stems(text) or ["_"] for text in texts]
    return ids, tokens


def _all_chunk_texts(config: Config, documents: dict, parsed: dict[str, _Parsed]) -> tuple[list[str], list[str]]:
    from .chunking import plain_text

    ids, texts = [], []
    for rel, entry in documents.items():
        if rel in parsed:
            for chunk, meta in zip(parsed[rel].chunks, entry["chunks"]):
                ids.append(meta["id"])
                texts.append(f"{chunk.section.heading}. {chunk.text}")
            continue
        source_text = Path(entry["source"]).read_text(encoding="utf-8")
        for meta in entry["chunks"]:
            ids.append(meta["id"])
            texts.append(f"{meta['section']}. {plain_text(source_text[meta['start']:meta['end']])}")
    return ids, texts


def add(paths: list[str | Path], company: str | None = None, policy_date: str | None = None,
        config: Config | None = None, progress=True, aliases: list[str] | None = None) -> tuple[list[str], BuildReport]:
    """Add policy files (or folders of them) to the corpus and index them at once.

    Each readable file is copied into ``config.added_dir`` (``<data>/added/``, never the corpus
    folder, which may be a checkout) unless it is already in the corpus or that folder, or the same bytes are already indexed (adding a file twice changes nothing).
    ``company``/``policy_date`` override what is read from the documents; given again for a file
    already indexed, they correct it. ``aliases`` are other names the company goes by ("Acme",
    "ACME Corp."), each naming it in questions, ``company=`` and the chat. Returns the corpus-relative names of the policies given
    (new or already present) and the build report; unreadable files are in ``report.skipped``
    under the path given, with the reason, and are not copied.
    """
    config = config or get_config()
    if policy_date and not _is_iso_date(policy_date):
        raise BadInput(f"the policy date must look like 2019-04-10, not '{policy_date}'")
    config.corpus_dir.mkdir(parents=True, exist_ok=True)
    names = [" ".join(str(a).split()) for a in aliases or [] if str(a).strip()]
    if any(len(a) > 200 for a in names):
        raise BadInput("an alias is too long (the limit is 200 characters)")
    wanted = {k: v for k, v in {"company": company, "policy_date": policy_date, "aliases": names}.items() if v}
    known = {entry["sha256"]: rel for rel, entry in load_manifest(config)["documents"].items()}
    added: list[str] = []
    pre_skipped: dict[str, str] = {}
    overrides: dict[str, dict] = {}
    for given in paths:
        given = Path(given).expanduser()
        if not given.exists():
            pre_skipped[str(given)] = "no such file or folder"
            continue
        root = Path(os.path.realpath(given)) if given.is_dir() else None  # a folder: nothing read outside it
        for path in _policy_files(given):
            try:
                link = link_problem(path, root, "the folder given") if root is not None else None
                if link:
                    raise Unreadable(link)
                doc = read_document(path, within=root)
                rel = _inside_corpus(config, path) or known.get(doc.raw_sha256)
                if rel is None:
                    target = _free_name(config.added_dir, path.name, doc.raw)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    if not target.exists():
                        _copy_exactly(doc.raw, path, target)
                    rel = _rel(config, target)
                    known[doc.raw_sha256] = rel
            except Unreadable as reason:
                pre_skipped[str(path)] = str(reason)
                continue
            except OSError as exc:
                pre_skipped[str(path)] = f"could not be copied into the corpus ({exc.strerror or exc})"
                continue
            if rel not in added:
                added.append(rel)
            if wanted:
                overrides[rel] = wanted
    report = build(config, progress=progress, overrides=overrides)
    report.skipped = {**pre_skipped, **report.skipped}
    return added, report


def _is_iso_date(value: str) -> bool:
    from datetime import date

    try:
        return bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", value)) and bool(date.fromisoformat(value))
    except ValueError:
        return False


def _copy_exactly(raw: bytes, source: Path, target: Path) -> None:
    """Write the bytes that were read and checked (not the path again: it may have changed since),
    with the source's modification time (a policy's date falls back to it)."""
    tmp = target.with_name(f".{os.getpid()}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(raw)
    try:
        st = source.stat()
        os.utime(tmp, ns=(st.st_atime_ns, st.st_mtime_ns))
    except OSError:
        pass
    os.replace(tmp, target)


def _policy_files(given: Path) -> list[Path]:
    """The files of ``given`` (itself when a file), hidden ones excepted; links are listed, not walked."""
    if not given.is_dir():
        return [given]
    found: list[Path] = []

    def walk(folder: Path) -> None:
        with os.scandir(folder) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                if entry.name.startswith("."):
                    continue
                if entry.is_symlink() or not entry.is_dir():
                    found.append(Path(entry.path))
                else:
                    walk(Path(entry.path))

    walk(given)
    return found


def _inside_corpus(config: Config, path: Path) -> str | None:
    resolved = path.resolve()
    if _added_apart(config) and _inside(resolved, config.added_dir):
        return ADDED_PREFIX + resolved.relative_to(config.added_dir.resolve()).as_posix()
    try:
        return resolved.relative_to(config.corpus_dir).as_posix()
    except ValueError:
        return None


def _free_name(folder: Path, name: str, raw: bytes) -> Path:
    """``folder/name``, or ``name-2``, ``name-3``... when a different file already has the name."""
    stem, suffix = Path(name).stem, Path(name).suffix
    target = folder / _fit_name(stem, suffix)
    n = 2
    while target.exists():
        if target.read_bytes() == raw:
            return target
        target = folder / _fit_name(stem, suffix, f"-{n}")
        n += 1
    return target


MAX_NAME_BYTES = 255  # a file name's limit on Linux and macOS file systems


def _fit_name(stem: str, suffix: str, extra: str = "") -> str:
    """``stem + extra + suffix``, the stem shortened (on a character boundary) to fit MAX_NAME_BYTES."""
    room = MAX_NAME_BYTES - len((extra + suffix).encode("utf-8"))
    cut = stem.encode("utf-8")[:room].decode("utf-8", errors="ignore")
    return cut + extra + suffix
