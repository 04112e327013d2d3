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
import shutil
import sys
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .chunking import Chunk, chunk_policy
from .config import Config, get_config
from .errors import ConfigError
from .lexical import LexicalIndex
from .policies import iso_date_of, parse_policy
from .readers import SUPPORTED_SUFFIXES, Unreadable, read_document

MANIFEST_VERSION = 1
# Chunks embedded and stored together: a killed build loses at most this much work.
STORE_BATCH = 64


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

    def to_dict(self) -> dict:
        return asdict(self)


def corpus_files(corpus_dir: Path) -> list[Path]:
    """Every file under the corpus folder, hidden ones excepted, in a stable order."""
    if not corpus_dir.exists():
        raise ConfigError(f"the corpus folder {corpus_dir} does not exist (set POLICYQA_CORPUS)")
    if not corpus_dir.is_dir():
        raise ConfigError(f"the corpus path {corpus_dir} is not a folder (set POLICYQA_CORPUS)")
    found = []
    for root, dirs, files in os.walk(corpus_dir):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith("."):
                found.append(Path(root) / name)
    # A folder named like a file ("policy.md/") is reported, not walked into silently.
    for root, dirs, _ in os.walk(corpus_dir):
        for d in dirs:
            if Path(d).suffix.lower() in SUPPORTED_SUFFIXES:
                found.append(Path(root) / d)
    return sorted(set(found))


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
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    text = json.dumps(data, indent=1, ensure_ascii=False)
    # Keep [start, end] pairs on one line so the manifest stays readable.
    text = re.sub(r"\[\s+(-?\d+),\s+(-?\d+)\s+\]", r"[\1, \2]", text)
    tmp.write_text(text)
    os.replace(tmp, path)


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


def is_stale(config: Config | None = None) -> bool:
    """True when the corpus, the model or the stored index no longer match the manifest."""
    config = config or get_config()
    manifest = load_manifest(config)
    if manifest.get("model") != config.model or not (config.data_dir / "lexical" / "ids.json").exists():
        return True
    known = {**manifest["documents"], **manifest.get("skipped_stats", {})}
    try:
        files = corpus_files(config.corpus_dir)
    except ConfigError:
        return True
    if len(files) != len(known):
        return True
    for path in files:
        rel = _rel(config, path)
        entry = known.get(rel)
        if entry is None or (_stat_key(path) or (None, None)) != (entry.get("size"), entry.get("mtime_ns")):
            return True
    return False


def _rel(config: Config, path: Path) -> str:
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
    if path.is_symlink() and not _inside(path.resolve(), config.corpus_dir):
        raise Unreadable("a link to a file outside the corpus folder (not followed)")
    doc = read_document(path)
    stat = path.stat()
    policy = parse_policy(doc.text, path.name, company=overrides.get("company"),
                          policy_date=overrides.get("policy_date"), fallback_date=iso_date_of(stat.st_mtime))
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
            "id": _chunk_id(rel, policy.company, policy.policy_date, chunk.embed_text, ordinal),
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
        "kind": doc.kind,
        "source": _source_for(config, path, doc),
        "sections": len(policy.sections),
        "chunks": chunk_entries,
    }
    return _Parsed(entry, chunks)


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def _text_fingerprint(text: str) -> str:
    """Same words in the same order, whatever the encoding, line endings or spacing of the file."""
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()


def _progress_bar(total: int, progress):
    if callable(progress):
        done = [0]

        def update(n: int) -> None:
            done[0] += n
            progress(done[0], total)

        return update, lambda: None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=total, desc="embedding", unit="chunk", file=sys.stderr, dynamic_ncols=True)
        return bar.update, bar.close
    return None, lambda: None


def build(config: Config | None = None, progress=True, overrides: dict[str, dict] | None = None) -> BuildReport:
    """Bring the index up to date with the corpus folder and return what was done.

    ``progress``: True for a terminal progress bar, a ``callable(done, total)``, or False.
    ``overrides``: per-file ``{"company": ..., "policy_date": ...}`` keyed by path relative to the corpus.
    """
    from . import retrieval
    from .embedder import embed
    from .store import VectorStore

    config = config or get_config()
    overrides = overrides or {}
    started = time.perf_counter()
    report = BuildReport()
    with _build_lock(config):
        old = load_manifest(config)
        model_changed = old.get("model") not in (None, config.model)
        store = VectorStore(config)
        if model_changed:
            store.reset()
        old_docs = {} if model_changed else old["documents"]
        old_overrides = old.get("overrides", {})
        merged_overrides = {**old_overrides, **overrides}

        documents: dict[str, dict] = {}
        parsed: dict[str, _Parsed] = {}
        skipped: dict[str, str] = {}
        skipped_stats: dict[str, dict] = {}
        by_sha: dict[str, str] = {}
        for path in corpus_files(config.corpus_dir):
            rel = _rel(config, path)
            previous = old_docs.get(rel)
            key = _stat_key(path)
            if (previous and key == (previous["size"], previous["mtime_ns"])
                    and old_overrides.get(rel) == merged_overrides.get(rel)):
                entry = previous
            else:
                try:
                    result = _parse_file(config, path, merged_overrides.get(rel, {}))
                except Unreadable as reason:
                    skipped[rel] = str(reason)
                    if key:
                        skipped_stats[rel] = {"size": key[0], "mtime_ns": key[1]}
                    else:
                        skipped_stats[rel] = {"size": None, "mtime_ns": None}
                    continue
                entry = result.entry
                parsed[rel] = result
            fingerprint = entry.get("text_sha256") or entry["sha256"]
            if fingerprint in by_sha:
                skipped[rel] = f"duplicate of {by_sha[fingerprint]}"
                skipped_stats[rel] = {"size": entry["size"], "mtime_ns": entry["mtime_ns"]}
                parsed.pop(rel, None)
                continue
            by_sha[fingerprint] = rel
            documents[rel] = entry

        wanted: dict[str, tuple[str, dict]] = {}
        for rel, entry in documents.items():
            for chunk in entry["chunks"]:
                wanted[chunk["id"]] = (rel, chunk)
        unchanged = (not model_changed and not parsed and set(documents) == set(old_docs)
                     and store.count() == len(wanted))
        existing = set(wanted) if unchanged else store.all_ids()
        missing = [cid for cid in wanted if cid not in existing]
        extra = [cid for cid in existing if cid not in wanted]

        # Chunks that must be embedded but whose file we did not re-read (e.g. after a killed build).
        for rel in sorted({wanted[cid][0] for cid in missing} - set(parsed)):
            try:
                parsed[rel] = _parse_file(config, config.corpus_dir / rel, merged_overrides.get(rel, {}))
            except Unreadable as reason:
                skipped[rel] = str(reason)
                skipped_stats[rel] = {"size": None, "mtime_ns": None}
                documents.pop(rel)
        if set(documents) != {rel for rel, _ in wanted.values()}:
            wanted = {cid: (rel, chunk) for cid, (rel, chunk) in wanted.items() if rel in documents}
            missing = [cid for cid in wanted if cid not in existing]
            extra = [cid for cid in existing if cid not in wanted]
        texts_by_id: dict[str, str] = {}
        for rel, result in parsed.items():
            for chunk, meta in zip(result.chunks, result.entry["chunks"]):
                texts_by_id[meta["id"]] = chunk.embed_text

        if extra:
            store.delete(extra)
        if missing:
            update, close = _progress_bar(len(missing), progress)
            batch = STORE_BATCH
            try:
                for i in range(0, len(missing), batch):
                    ids = missing[i:i + batch]
                    vectors = embed(config.model, [texts_by_id[cid] for cid in ids], progress=update)
                    metadatas = [_chunk_metadata(documents[wanted[cid][0]], wanted[cid][0]) for cid in ids]
                    store.add(ids, vectors, metadatas)
            finally:
                close()

        lexical_dir = config.data_dir / "lexical"
        if missing or extra or parsed or model_changed or not _lexical_matches(lexical_dir, wanted):
            ids, texts = _all_chunk_texts(config, documents, parsed)
            LexicalIndex.build(ids, texts).save(lexical_dir)

        manifest = {
            "version": MANIFEST_VERSION,
            "model": config.model,
            "corpus": str(config.corpus_dir),
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "documents": documents,
            "skipped": skipped,
            "skipped_stats": skipped_stats,
            "overrides": {k: v for k, v in merged_overrides.items() if k in documents},
        }
        _write_json_atomic(config.manifest_path, manifest)
        retrieval.forget_cached_index()

    report.documents = len(documents)
    report.sections = sum(e["sections"] for e in documents.values())
    report.chunks = len(wanted)
    report.embedded = len(missing)
    report.reused = len(wanted) - len(missing)
    report.removed = len(extra)
    report.skipped = skipped
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _lexical_matches(folder: Path, wanted: dict) -> bool:
    """True when the saved keyword index loads and covers exactly the wanted chunks."""
    try:
        return set(LexicalIndex.load(folder).ids) == set(wanted)
    except Exception:  # missing or damaged: it is rebuilt
        return False


def _chunk_metadata(entry: dict, rel: str) -> dict:
    return {"doc": rel, "company": entry["company"].lower(), "policy_date": entry["policy_date"] or ""}


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
        config: Config | None = None, progress=True) -> tuple[list[str], BuildReport]:
    """Copy policy files (or folders of them) into the corpus and index them.

    Returns the corpus-relative names that were added and the build report. Files that cannot
    be read are reported in ``report.skipped`` and not copied.
    """
    config = config or get_config()
    config.corpus_dir.mkdir(parents=True, exist_ok=True)
    added: list[str] = []
    pre_skipped: dict[str, str] = {}
    overrides: dict[str, dict] = {}
    for given in paths:
        given = Path(given)
        if not given.exists():
            pre_skipped[str(given)] = "no such file or folder"
            continue
        files = [given] if given.is_file() else [p for p in sorted(given.rglob("*")) if p.is_file()
                                                  and not p.name.startswith(".")]
        for path in files:
            try:
                read_document(path)
            except Unreadable as reason:
                pre_skipped[str(path)] = str(reason)
                continue
            target = _free_name(config.corpus_dir / "added", path.name, path)
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.resolve() != path.resolve():
                shutil.copyfile(path, target)
            rel = _rel(config, target)
            added.append(rel)
            wanted = {k: v for k, v in {"company": company, "policy_date": policy_date}.items() if v}
            if wanted:
                overrides[rel] = wanted
    report = build(config, progress=progress, overrides=overrides)
    report.skipped = {**pre_skipped, **report.skipped}
    return added, report


def _free_name(folder: Path, name: str, source: Path) -> Path:
    target = folder / name
    stem, suffix = Path(name).stem, Path(name).suffix
    n = 2
    while target.exists():
        if target.read_bytes() == source.read_bytes():
            return target
        target = folder / f"{stem}-{n}{suffix}"
        n += 1
    return target
