"""A `chroma run` server for the benchmarks, holding a copy of a size's embedded vectors.

The server's folder persists under the bench folder, so vectors are copied (not re-embedded) once.
Its data folder for PolicyQA is ``data/<size>-server``: the manifest and BM25 index a second
machine builds for itself by parsing the corpus (no embedding: the vectors are already there).
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from corpora import BenchCorpus, bench_dir


@dataclass
class Server:
    process: subprocess.Popen
    url: str

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def peak_rss_mb(self) -> float:
        """The server's peak resident memory (VmHWM), in MiB."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")


def start(size: str) -> Server:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    path = bench_dir() / "server" / size
    path.mkdir(parents=True, exist_ok=True)
    chroma = Path(sys.executable).parent / "chroma"
    log = open(bench_dir() / f"server-{size}.log", "ab")
    process = subprocess.Popen([str(chroma), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
                               stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "ANONYMIZED_TELEMETRY": "False"})
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1)
            return Server(process, url)
        except OSError:
            if process.poll() is not None:
                raise SystemExit(f"chroma run exited; see {log.name}")
            time.sleep(0.2)
    process.kill()
    raise SystemExit("chroma run did not start")


def server_corpus(bench: BenchCorpus) -> BenchCorpus:
    """The same corpus, with its own data folder for server mode (seeded with the BM25-free parts)."""
    data = bench_dir() / "data" / f"{bench.name}-server"
    data.mkdir(parents=True, exist_ok=True)
    return BenchCorpus(bench.name, bench.corpus_dir, data)


def fill(server: Server, bench: BenchCorpus) -> int:
    """Copy the embedded index's vectors into the server unless it already holds them all."""
    from dataclasses import replace

    from index.config import get_config
    from index.store import VectorStore, copy_vectors

    embedded = replace(get_config(), data_dir=bench.data_dir, corpus_dir=bench.corpus_dir, chroma_url=None)
    remote = replace(embedded, chroma_url=server.url)
    if VectorStore(remote).count() == VectorStore(embedded).count():
        return 0
    return copy_vectors(embedded, remote)


def reset_server_data(bench: BenchCorpus) -> None:
    shutil.rmtree(server_corpus(bench).data_dir, ignore_errors=True)
