"""Build (or finish building) a benchmark index: ``python bench/index_corpus.py tosdr|big|seed``.

Resumable: the index is idempotent, so re-running after an interruption embeds only what is
missing. Progress goes to stdout with the running rate, for a log file.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpora import corpus, seed_from_smaller  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("size", choices=["seed", "tosdr", "big"])
    args = parser.parse_args()
    bench = corpus(args.size)
    if seed_from_smaller(bench):
        print(f"started {bench.name} from a copy of the smaller index", flush=True)
    os.environ.update(bench.env())
    os.environ.pop("POLICYQA_CHROMA_URL", None)
    from index.build import build
    from index.config import get_config

    started = time.perf_counter()
    last = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.perf_counter()
        if now - last[0] >= 30 or done == total:
            last[0] = now
            rate = done / (now - started)
            print(f"{time.strftime('%H:%M:%S')} embedded {done}/{total} ({rate:.1f} chunks/s since start)", flush=True)

    report = build(get_config(), progress=progress)
    print(json.dumps({k: v for k, v in report.to_dict().items() if k != "skipped"}), flush=True)
    print(f"skipped: {len(report.skipped)} files", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
