"""Index throughput next to raw ``model.encode`` throughput, measured in the same run.

    python bench/throughput.py [--chunks 1200] [--rounds 2] [--json out.json]

Takes the first ToS;DR policies (by name) until about ``--chunks`` chunks, then alternates
``--rounds`` times:
raw ``model.encode`` of exactly those chunk texts (one call, batch 64, the library sorting by
length), and a full ``index.build`` of the same files into a fresh data folder (read, parse,
chunk, count tokens, embed, write Chroma, build BM25, write the manifest). The model is loaded
once, before timing. Efficiency = pipeline chunks/s / raw chunks/s of the adjacent raw run; the
median over rounds is reported. Each pipeline stage other than encoding is also timed alone.

Wall-clock rates swing with whatever else runs on the machine, so the process's CPU time is
recorded too: ``cpu_efficiency`` compares CPU seconds per chunk, which other processes move less.
With ``--threads 1`` no torch thread spins waiting for a descheduled sibling, so CPU time is the
pipeline's real work.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpora import SHARED, bench_dir  # noqa: E402


def pick_files(target_chunks: int) -> tuple[Path, list[str]]:
    """Copy the first ToS;DR policies into a bench corpus until they make ``target_chunks`` chunks."""
    from index.chunking import chunk_policy
    from index.policies import parse_policy
    from index.readers import Unreadable, read_document

    folder = bench_dir() / "corpora" / f"throughput-{target_chunks}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    texts: list[str] = []
    seen = set()
    for path in sorted((SHARED / "corpora" / "tosdr").iterdir()):
        try:
            doc = read_document(path)
        except Unreadable:
            continue
        if doc.raw_sha256 in seen:
            continue
        seen.add(doc.raw_sha256)
        policy = parse_policy(doc.text, path.name, hints=doc.hints)
        texts += [c.embed_text for c in chunk_policy(policy)]
        shutil.copy2(path, folder / path.name)
        if len(texts) >= target_chunks:
            break
    return folder, texts


def cpu_seconds() -> float:
    """CPU time of this process, all threads (robust to other processes sharing the machine)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def raw_encode(texts: list[str], batch_size: int) -> tuple[float, float]:
    from index.embedder import load_model

    model = load_model(os.environ.get("POLICYQA_MODEL") or "all-MiniLM-L6-v2")
    wall, cpu = time.perf_counter(), cpu_seconds()
    model.encode(texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True,
                 show_progress_bar=False)
    return time.perf_counter() - wall, cpu_seconds() - cpu


def pipeline(corpus: Path) -> tuple[float, float, dict]:
    from index.build import build
    from index.config import get_config

    data = Path(tempfile.mkdtemp(prefix="policyqa-throughput-"))
    os.environ.update({"POLICYQA_CORPUS": str(corpus), "POLICYQA_DATA": str(data)})
    try:
        wall, cpu = time.perf_counter(), cpu_seconds()
        report = build(get_config(), progress=False)
        return time.perf_counter() - wall, cpu_seconds() - cpu, report.to_dict()
    finally:
        shutil.rmtree(data, ignore_errors=True)


def stages(corpus: Path) -> dict[str, float]:
    """Each non-encoding stage alone, serially, in seconds (encoding is the raw run)."""
    import numpy as np

    from index.build import _parse_file, _write_json_atomic, _all_chunk_texts, _chunk_metadata
    from index.config import get_config
    from index.lexical import LexicalIndex
    from index.store import VectorStore
    import index.chunking as chunking

    data = Path(tempfile.mkdtemp(prefix="policyqa-stages-"))
    os.environ.update({"POLICYQA_CORPUS": str(corpus), "POLICYQA_DATA": str(data)})
    config = get_config()
    counting = [0.0]
    count_tokens = chunking.count_tokens

    def timed_count(text: str) -> int:
        t = time.perf_counter()
        n = count_tokens(text)
        counting[0] += time.perf_counter() - t
        return n

    chunking.count_tokens = timed_count
    try:
        t0 = time.perf_counter()
        parsed = {p.name: _parse_file(config, p, {}) for p in sorted(corpus.iterdir())}
        t1 = time.perf_counter()
        chunking.count_tokens = count_tokens
        ids = [m["id"] for r in parsed.values() for m in r.entry["chunks"]]
        metas = [_chunk_metadata(r.entry, rel) for rel, r in parsed.items() for _ in r.entry["chunks"]]
        vectors = np.random.default_rng(0).standard_normal((len(ids), 384)).astype("float32")
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        store = VectorStore(config)
        t2 = time.perf_counter()
        store.add(ids, vectors, metas)
        t3 = time.perf_counter()
        documents = {rel: r.entry for rel, r in parsed.items()}
        lex_ids, lex_texts = _all_chunk_texts(config, documents, parsed)
        LexicalIndex.build(lex_ids, lex_texts).save(data / "lexical")
        t4 = time.perf_counter()
        _write_json_atomic(data / "manifest.json", {"documents": documents})
        t5 = time.perf_counter()
        return {"read_parse_chunk_s": t1 - t0, "of_which_token_counting_s": counting[0],
                "chroma_open_s": t2 - t1, "chroma_write_s": t3 - t2, "bm25_s": t4 - t3, "manifest_s": t5 - t4}
    finally:
        chunking.count_tokens = count_tokens
        shutil.rmtree(data, ignore_errors=True)


def torch_threads() -> int:
    import torch

    return torch.get_num_threads()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chunks", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice, all cores)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)  # before the model loads: the indexer keeps this count
    from index.config import quiet_third_parties

    quiet_third_parties()
    os.environ.pop("POLICYQA_CHROMA_URL", None)
    from index.embedder import batch_size_for, device, load_model

    model_name = os.environ.get("POLICYQA_MODEL") or "all-MiniLM-L6-v2"
    load_model(model_name)
    batch = batch_size_for(model_name)
    corpus, texts = pick_files(args.chunks)
    print(f"{len(list(corpus.iterdir()))} policies, {len(texts)} chunks, device {device(model_name)}, batch {batch}",
          flush=True)
    raw_encode(texts[:128], batch)  # warm-up
    rounds = []
    for r in range(args.rounds):
        raw_s, raw_cpu = raw_encode(texts, batch)
        pipe_s, pipe_cpu, report = pipeline(corpus)
        row = {"raw_chunks_per_s": len(texts) / raw_s, "pipeline_chunks_per_s": report["embedded"] / pipe_s,
               "raw_s": raw_s, "pipeline_s": pipe_s, "raw_cpu_s": raw_cpu, "pipeline_cpu_s": pipe_cpu,
               "embedded": report["embedded"]}
        row["efficiency"] = row["pipeline_chunks_per_s"] / row["raw_chunks_per_s"]
        row["cpu_efficiency"] = (raw_cpu / len(texts)) / (pipe_cpu / report["embedded"])
        rounds.append(row)
        print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()}), flush=True)
    overhead = stages(corpus)
    result = {
        "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} CPUs, {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "device": device(model_name), "batch_size": batch, "torch_threads": torch_threads(), "policies": len(list(corpus.iterdir())),
        "chunks": len(texts), "rounds": rounds,
        "median_raw_chunks_per_s": statistics.median(r["raw_chunks_per_s"] for r in rounds),
        "median_pipeline_chunks_per_s": statistics.median(r["pipeline_chunks_per_s"] for r in rounds),
        "median_efficiency": statistics.median(r["efficiency"] for r in rounds),
        "median_cpu_efficiency": statistics.median(r["cpu_efficiency"] for r in rounds),
        "load_average": os.getloadavg(),
        "stages_alone_s": overhead,
    }
    print(json.dumps(result, indent=1), flush=True)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
