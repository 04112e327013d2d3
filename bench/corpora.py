"""The benchmark corpora, as folders of copies under a persistent work folder.

Three sizes: ``seed`` (the 5 policies in ``corpus/``), ``tosdr`` (586 ToS;DR policies) and ``big``
(tosdr plus the 1,984 DMOZ policies). A policy keeps the same corpus-relative name in every
size (``tosdr/Apple.md``), so its chunk ids are the same and a larger index reuses the vectors
of a smaller one instead of embedding them again.

The work folder defaults to ``/tmp/policyqa-bench`` (``POLICYQA_BENCH_DIR``); it survives
between runs, so an interrupted index build continues where it stopped.
"""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("POLICYQA_SHARED") or PROJECT.parent / "shared")  # ../shared next to the checkout
SOURCES = {
    "seed": [("seed", PROJECT / "corpus")],
    "tosdr": [("tosdr", SHARED / "corpora" / "tosdr")],
    "big": [("tosdr", SHARED / "corpora" / "tosdr"), ("dmoz", SHARED / "corpora" / "dmoz-2000")],
}
SMALLER = {"big": "tosdr"}  # whose index a size starts from


def bench_dir() -> Path:
    return Path(os.environ.get("POLICYQA_BENCH_DIR") or "/tmp/policyqa-bench")


@dataclass(frozen=True)
class BenchCorpus:
    name: str
    corpus_dir: Path
    data_dir: Path

    def env(self, chroma_url: str | None = None) -> dict[str, str]:
        """Environment variables that point PolicyQA at this corpus and its index."""
        env = {"POLICYQA_CORPUS": str(self.corpus_dir), "POLICYQA_DATA": str(self.data_dir)}
        if chroma_url:
            env["POLICYQA_CHROMA_URL"] = chroma_url
        return env

    def files(self) -> int:
        return sum(1 for p in self.corpus_dir.rglob("*") if p.is_file())


def corpus(name: str) -> BenchCorpus:
    """Create (or refresh) the corpus folder for ``name``; the shared data must exist.

    Files are copied with their modification times (a link out of the corpus folder would be
    a different case for the indexer), so a re-index finds them unchanged.
    """
    root = bench_dir()
    folder = root / "corpora" / name
    for sub, source in SOURCES[name]:
        if not source.is_dir():
            raise SystemExit(f"missing {source}: the benchmarks need ../shared (see shared/README.md)")
        target = folder / sub
        target.mkdir(parents=True, exist_ok=True)
        wanted = {p.name for p in source.iterdir() if p.is_file()}
        for stale in set(os.listdir(target)) - wanted:
            (target / stale).unlink()
        for file_name in wanted:
            copy = target / file_name
            if copy.is_symlink():
                copy.unlink()
            original = (source / file_name).stat()
            if not copy.exists() or copy.stat().st_size != original.st_size:
                shutil.copy2(source / file_name, copy)
    return BenchCorpus(name, folder, root / "data" / name)


def seed_from_smaller(bench: BenchCorpus) -> bool:
    """Start a larger index from a copy of the smaller one, so shared policies are not re-embedded."""
    smaller = SMALLER.get(bench.name)
    if not smaller or (bench.data_dir / "manifest.json").exists():
        return False
    source = bench_dir() / "data" / smaller
    if not (source / "manifest.json").exists():
        return False
    shutil.rmtree(bench.data_dir, ignore_errors=True)
    shutil.copytree(source, bench.data_dir, symlinks=True)
    (bench.data_dir / "manifest.json").unlink()  # a fresh manifest; the vectors are found by id
    return True
