"""How cost grows with the corpus: re-index, query latency and memory, embedded and on a server.

    python bench/index_corpus.py tosdr      # first (resumable; hours on a small CPU), then `big`
    python bench/scale.py seed tosdr big    # measures each size whose index is complete
    python bench/scale.py --table           # the growth table from the saved results

For each size: the unchanged re-index (``build()`` in-process, and the whole ``python -m index``
command), then ``qa.ask`` latency p50/p95 over fixed questions (100: 90 naming one of 10 sampled
companies, 10 naming none) asked twice in a fresh process (the second pass is the warm figure),
and that process's peak RSS, with the embedded store and against a
`chroma run` server holding a copy of the same vectors (copied, not re-embedded). Server mode
also times a second machine joining: a fresh data folder indexing the same corpus against the
filled server (parse and BM25 only). Results go to ``<bench dir>/results/<size>.json``.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from corpora import BenchCorpus, bench_dir, corpus  # noqa: E402

TOPICS = [
    "Does {c} sell my personal information?",
    "Does {c} use cookies?",
    "How long does {c} keep my data?",
    "Does {c} share my data with advertisers?",
    "Can I delete my {c} account?",
    "Does {c} collect my location?",
    "Does {c} collect information from children?",
    "How can I contact {c} about privacy?",
    "Does {c} transfer data outside the EU?",
]
UNSCOPED = [
    "Who uses Google Analytics?", "Do they sell personal data to third parties?", "How is my data protected?",
    "Is my information shared with law enforcement?", "Can I opt out of marketing emails?",
    "Do they use web beacons?", "What happens to my data if the company is sold?",
    "Do they collect biometric data?", "How do I access my data?", "Do they use Flash cookies?",
]
QUESTIONS_PER_RUN = 100


def questions(companies: list[str], seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    picked = rng.sample(sorted(companies), min(10, len(companies)))
    scoped = [t.format(c=c) for c in picked for t in TOPICS]
    rng.shuffle(scoped)
    out = scoped[: QUESTIONS_PER_RUN - len(UNSCOPED)] + UNSCOPED
    rng.shuffle(out)
    return out


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def child_queries() -> None:
    """Run in a fresh process: load, then ask every question twice; report latencies and peak RSS.

    The first pass meets each policy for the first time (its text is read and its words counted
    once); the second pass is the warm steady state the latency targets are about.
    """
    import resource

    started = time.perf_counter()
    from qa import ask
    from index.retrieval import open_index

    view = open_index()
    companies = sorted({p.company for p in view.policies.values()})
    qs = questions(companies)
    ask(qs[0])
    cold_s = time.perf_counter() - started
    passes = []
    for _ in range(2):
        latencies, scoped, unscoped = [], [], []
        for q in qs:
            t = time.perf_counter()
            ask(q)
            ms = (time.perf_counter() - t) * 1000
            latencies.append(ms)
            (unscoped if q in UNSCOPED else scoped).append(ms)
        passes.append({"p50_ms": statistics.median(latencies), "p95_ms": percentile(latencies, 95),
                       "max_ms": max(latencies),
                       "scoped_p50_ms": statistics.median(scoped), "scoped_p95_ms": percentile(scoped, 95),
                       "unscoped_p50_ms": statistics.median(unscoped), "unscoped_p95_ms": percentile(unscoped, 95)})
    print(json.dumps({"questions": len(qs), **passes[1], "first_pass": passes[0],
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "cold_start_s": cold_s, "load_average": os.getloadavg()}))


def run_child(env: dict[str, str], *args: str) -> dict:
    out = subprocess.run([sys.executable, str(HERE / "scale.py"), *args], capture_output=True, text=True,
                         env={**os.environ, **env}, timeout=3600)
    if out.returncode != 0:
        raise SystemExit(f"child failed: {out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def in_process_reindex(bench: BenchCorpus, chroma_url: str | None, times: int = 5) -> dict:
    """Unchanged re-index with ``build()`` in a warm process (imports done), ``times`` times."""
    code = (
        "import json, sys, time\n"
        "from index.build import build\n"
        "from index.config import get_config\n"
        "runs = []\n"
        f"for _ in range({times}):\n"
        "    t = time.perf_counter(); r = build(get_config(), progress=False); runs.append(time.perf_counter() - t)\n"
        "    assert r.embedded == 0 and r.removed == 0, r\n"
        "print(json.dumps({'median_s': sorted(runs)[len(runs) // 2], 'max_s': max(runs), 'chunks': r.chunks,"
        " 'documents': r.documents}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=HERE.parent,
                         env={**os.environ, **bench.env(chroma_url)}, timeout=3600)
    if out.returncode != 0:
        raise SystemExit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def cli_reindex(bench: BenchCorpus, chroma_url: str | None, times: int = 3) -> dict:
    """The whole ``python -m index --json`` command (interpreter start and imports included)."""
    runs = []
    for _ in range(times):
        t = time.perf_counter()
        out = subprocess.run([sys.executable, "-m", "index", "--json"], capture_output=True, text=True,
                             cwd=HERE.parent, env={**os.environ, **bench.env(chroma_url)}, timeout=3600)
        runs.append(time.perf_counter() - t)
        if out.returncode != 0 or json.loads(out.stdout)["embedded"] != 0:
            raise SystemExit(f"re-index was not a no-op: {out.stdout[-500:]} {out.stderr[-2000:]}")
    return {"median_s": statistics.median(runs), "max_s": max(runs)}


ADDED_POLICY = """<html><head><title>Benchmark Widgets Privacy Policy</title></head><body>
<h1>Privacy Policy</h1><p>Last updated: May 4, 2022</p>
<h2>Sharing</h2><p>We share your email address with our newsletter provider. We never sell personal data.</p>
<h2>Retention</h2><p>We delete inactive accounts after two years. Backups are kept for thirty days.</p>
</body></html>"""


def add_and_remove(bench: BenchCorpus) -> dict:
    """``python -m index add`` of one small HTML policy, then removing it again (each a whole command)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "benchmark-widgets.html"
        page.write_text(ADDED_POLICY)
        env = {**os.environ, **bench.env()}
        t = time.perf_counter()
        out = subprocess.run([sys.executable, "-m", "index", "add", str(page), "--json"], capture_output=True,
                             text=True, cwd=HERE.parent, env=env, timeout=3600)
        add_s = time.perf_counter() - t
        report = json.loads(out.stdout)
        added_file(bench, report["added"][0]["name"]).unlink()
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "index", "--json"], capture_output=True, cwd=HERE.parent, env=env,
                       check=True, timeout=3600)
        remove_s = time.perf_counter() - t
    return {"add_s": add_s, "embedded": report["embedded"], "remove_s": remove_s}


def added_file(bench: BenchCorpus, name: str) -> Path:
    """Where ``python -m index add`` stored a policy (``index.build.source_path`` for the bench's folders)."""
    from dataclasses import replace

    from index.build import source_path
    from index.config import get_config

    return source_path(replace(get_config(), corpus_dir=bench.corpus_dir, data_dir=bench.data_dir), name)


def folder_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20 if path.exists() else 0.0


def measure(size: str) -> dict:
    import server as bench_server

    bench = corpus(size)
    manifest = bench.data_dir / "manifest.json"
    if not manifest.exists() or (bench.data_dir / "build.pending").exists():
        raise SystemExit(f"the {size} index is not complete: run python bench/index_corpus.py {size}")
    # Bring the manifest up to date with this code (no embedding), outside the timings.
    subprocess.run([sys.executable, "-m", "index", "--json"], cwd=HERE.parent, capture_output=True,
                   env={**os.environ, **bench.env()}, check=True, timeout=3600)
    data = json.loads(manifest.read_text())
    result = {
        "size": size, "machine": f"{platform.node()} {platform.machine()}, {os.cpu_count()} CPUs, "
                                 f"Python {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d %H:%M"), "load_average_at_start": os.getloadavg(),
        "files": bench.files(), "policies": len(data["documents"]),
        "chunks": sum(len(e["chunks"]) for e in data["documents"].values()),
        "disk_mb": {"chroma": folder_mb(bench.data_dir / "chroma"), "lexical": folder_mb(bench.data_dir / "lexical"),
                    "manifest": manifest.stat().st_size / 2**20},
    }
    print(f"[{size}] {result['policies']} policies, {result['chunks']} chunks", flush=True)
    result["reindex_embedded"] = {"in_process": in_process_reindex(bench, None), "cli": cli_reindex(bench, None)}
    print(f"[{size}] re-index embedded {result['reindex_embedded']}", flush=True)
    result["queries_embedded"] = run_child(bench.env(), "--child-queries")
    print(f"[{size}] queries embedded {result['queries_embedded']}", flush=True)
    result["add_one_policy"] = add_and_remove(bench)
    print(f"[{size}] add one policy {result['add_one_policy']}", flush=True)

    srv = bench_server.start(size)
    try:
        remote = bench_server.server_corpus(bench)
        os.environ.update(bench.env())
        t = time.perf_counter()
        copied = bench_server.fill(srv, bench)
        result["server_fill"] = {"copied": copied, "seconds": time.perf_counter() - t}
        bench_server.reset_server_data(bench)
        t = time.perf_counter()
        # --no-overview: the join is parse + BM25; the overview's own cost is bench/overview.py's.
        joined = subprocess.run([sys.executable, "-m", "index", "--json", "--no-overview"], capture_output=True, text=True,
                                cwd=HERE.parent, env={**os.environ, **remote.env(srv.url)}, timeout=3600)
        report = json.loads(joined.stdout)
        assert report["embedded"] == 0, report
        result["server_second_machine_join_s"] = time.perf_counter() - t
        result["reindex_server"] = {"in_process": in_process_reindex(remote, srv.url),
                                    "cli": cli_reindex(remote, srv.url)}
        print(f"[{size}] re-index server {result['reindex_server']}", flush=True)
        result["queries_server"] = run_child(remote.env(srv.url), "--child-queries")
        result["queries_server"]["server_peak_rss_mb"] = srv.peak_rss_mb()
        print(f"[{size}] queries server {result['queries_server']}", flush=True)
    finally:
        srv.stop()
    out = bench_dir() / "results" / f"{size}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1))
    return result


def table() -> str:
    rows = []
    for size in ("seed", "tosdr", "big"):
        path = bench_dir() / "results" / f"{size}.json"
        if path.exists():
            rows.append(json.loads(path.read_text()))
    if not rows:
        return "no results yet"
    f = lambda v, d=0: f"{v:,.{d}f}"  # noqa: E731
    lines = ["| | " + " | ".join(r["size"] for r in rows) + " |", "| --- |" + " --- |" * len(rows)]
    spec = [
        ("policies", lambda r: f(r["policies"])),
        ("chunks", lambda r: f(r["chunks"])),
        ("index on disk (Chroma + BM25 + manifest), MiB",
         lambda r: f(r["disk_mb"]["chroma"] + r["disk_mb"]["lexical"] + r["disk_mb"]["manifest"], 1)),
        ("unchanged re-index, `build()`, embedded, s", lambda r: f(r["reindex_embedded"]["in_process"]["median_s"], 2)),
        ("unchanged re-index, `python -m index`, embedded, s", lambda r: f(r["reindex_embedded"]["cli"]["median_s"], 2)),
        ("unchanged re-index, `build()`, server, s", lambda r: f(r["reindex_server"]["in_process"]["median_s"], 2)),
        ("second machine joins the server (parse + BM25), s", lambda r: f(r["server_second_machine_join_s"], 1)),
        ("query p50 / p95, embedded, warm, ms",
         lambda r: f"{f(r['queries_embedded']['p50_ms'])} / {f(r['queries_embedded']['p95_ms'])}"),
        ("query p50 / p95, embedded, first time each policy is asked about, ms",
         lambda r: f"{f(r['queries_embedded']['first_pass']['p50_ms'])} / "
                   f"{f(r['queries_embedded']['first_pass']['p95_ms'])}"),
        ("query p50 / p95, server, warm, ms",
         lambda r: f"{f(r['queries_server']['p50_ms'])} / {f(r['queries_server']['p95_ms'])}"),
        ("no company named: p50 / p95, embedded, warm, ms",
         lambda r: f"{f(r['queries_embedded']['unscoped_p50_ms'])} / {f(r['queries_embedded']['unscoped_p95_ms'])}"),
        ("peak RSS of the asking process, embedded, MiB", lambda r: f(r["queries_embedded"]["peak_rss_mb"])),
        ("peak RSS, server mode: client / server, MiB",
         lambda r: f"{f(r['queries_server']['peak_rss_mb'])} / {f(r['queries_server']['server_peak_rss_mb'])}"),
        ("cold start to first answer, embedded, s", lambda r: f(r["queries_embedded"]["cold_start_s"], 1)),
        ("`python -m index add` one HTML policy / remove it, s",
         lambda r: f"{f(r['add_one_policy']['add_s'], 1)} / {f(r['add_one_policy']['remove_s'], 1)}"),
    ]
    for name, get in spec:
        cells = []
        for r in rows:
            try:
                cells.append(get(r))
            except (KeyError, TypeError):
                cells.append("n/a")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> int:
    if sys.argv[1:2] == ["--child-queries"]:
        child_queries()
        return 0
    parser = argparse.ArgumentParser()
    # No argparse choices: with nargs="*" an empty list fails them (Python 3.11), which broke --table.
    parser.add_argument("sizes", nargs="*", help="seed, tosdr and/or big")
    parser.add_argument("--table", action="store_true")
    args = parser.parse_args()
    unknown = [s for s in args.sizes if s not in ("seed", "tosdr", "big")]
    if unknown:
        parser.error(f"unknown size {unknown[0]!r}: choose from seed, tosdr, big")
    from index.config import quiet_third_parties

    quiet_third_parties()
    os.environ.pop("POLICYQA_CHROMA_URL", None)
    for size in args.sizes:
        measure(size)
    if args.table or args.sizes:
        print(table())
    return 0


if __name__ == "__main__":
    sys.exit(main())
