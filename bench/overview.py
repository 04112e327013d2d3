"""The overview grid of the ToS;DR corpus from an existing index, then an unchanged re-run.

``python bench/overview.py [--corpus DIR --data DIR] [--json OUT]``

Without ``--corpus``/``--data`` it uses ``<bench dir>/corpora/tosdr-open`` (the 586 ToS;DR files
less the held-back companies' files) and its index in ``<bench dir>/data/tosdr-open``, building
that index first when it is missing (not timed; many minutes on 2 CPUs). Then:

1. the overview cache is removed and ``python -m qa overview --csv`` computes the whole grid (every
   policy's newest version × 14 practices), timed as a whole command;
2. the same command again with nothing changed (every cell from the cache);
3. ``qa.overview()`` in one process, twice (the second call: nothing read again but the index).

Prints the machine, the load average and the timings; ``--json`` writes them to a file.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from evaluation.overview import held_back  # noqa: E402



def open_corpus(bench: Path, shared: Path) -> Path:
    """``bench/corpora/tosdr-open``: the ToS;DR files, held-back companies left out (never read)."""
    source = shared / "corpora" / "tosdr"
    if not source.is_dir():
        raise SystemExit(f"missing {source}: the benchmark needs ../shared (see shared/README.md)")
    target = bench / "corpora" / "tosdr-open"
    target.mkdir(parents=True, exist_ok=True)
    wanted = {p.name for p in source.iterdir() if p.is_file()
              and not held_back(p.name)}
    for stale in set(os.listdir(target)) - wanted:
        (target / stale).unlink()
    for name in wanted:
        if not (target / name).exists():
            shutil.copy2(source / name, target / name)
    return target


def timed_command(args: list[str], env: dict) -> tuple[float, str, str]:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", *args], cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return seconds, done.stdout, done.stderr


def main() -> int:
    from corpora import bench_dir

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, help="the corpus folder (default: the ToS;DR files less held-back)")
    parser.add_argument("--data", type=Path, help="its index folder (built first when missing)")
    parser.add_argument("--json", type=Path, metavar="OUT", help="write the results as JSON")
    args = parser.parse_args()
    shared = next((p for p in (ROOT.parent / "shared", ROOT.parent.parent / "shared") if p.is_dir()),
                  ROOT.parent / "shared")
    corpus = args.corpus or open_corpus(bench_dir(), shared)
    data = args.data or bench_dir() / "data" / "tosdr-open"
    env = {**os.environ, "POLICYQA_CORPUS": str(corpus), "POLICYQA_DATA": str(data), "HF_HUB_OFFLINE": "1",
           "ANONYMIZED_TELEMETRY": "False", "HF_HUB_DISABLE_TELEMETRY": "1"}
    env.pop("POLICYQA_CHROMA_URL", None)
    os.environ.update({k: env[k] for k in ("POLICYQA_CORPUS", "POLICYQA_DATA")})
    if not (data / "manifest.json").exists():
        print(f"building the index of {corpus} in {data} (not timed) …", flush=True)
        timed_command(["index", "--json"], env)

    from qa.overview import CACHE_FILE

    (data / CACHE_FILE).unlink(missing_ok=True)
    load = os.getloadavg()
    full, csv_text, _ = timed_command(["qa", "overview", "--csv"], env)
    import csv
    import io

    lines = list(csv.DictReader(io.StringIO(csv_text)))
    cells, rows = len(lines), len({line["doc"] for line in lines})
    again, csv_again, _ = timed_command(["qa", "overview", "--csv"], env)
    assert csv_again == csv_text, "the unchanged re-run gave another grid"

    from qa.overview import overview

    started = time.perf_counter()
    first = overview()
    in_process = time.perf_counter() - started
    started = time.perf_counter()
    second = overview()
    in_process_again = time.perf_counter() - started
    assert first.computed == second.computed == 0, "an unchanged corpus computed cells again"
    stated = sum(c.verdict != "not stated" for r in first.rows for c in r.cells)
    result = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "load_average_at_start": [round(x, 2) for x in load],
        "corpus": str(corpus), "policies": rows, "cells": cells, "cells_stated": stated,
        "full_grid_command_s": round(full, 1), "cells_per_s": round(cells / full, 1) if full else None,
        "unchanged_rerun_command_s": round(again, 2),
        "overview_in_process_first_s": round(in_process, 2), "overview_in_process_again_s": round(in_process_again, 3),
        "peak_rss_children_mib": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
        "cache_file_mib": round((data / CACHE_FILE).stat().st_size / 2**20, 1),
    }
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
