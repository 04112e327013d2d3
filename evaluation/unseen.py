"""``python -m evaluation.unseen [SET.jsonl ...] [--json OUT]``: the blind sets over unseen policies.

The sets (``eval/unseen-*.jsonl``) were written by helpers who read only each policy (ToS;DR and
DMOZ files of ``../shared/corpora``) and ``shared/README.md``. ``eval/unseen-sources.json`` maps each
company to its file. The policies are copied into ``<data>/unseen-corpus`` and indexed with the
company names the sets use (as a user adding them with ``--company`` would), then every set is
scored with the company named in the question, not passed.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "eval" / "unseen-sources.json"


def prepare(data: Path, shared: Path) -> tuple[Path, Path]:
    """The corpus folder of the unseen policies and the data folder indexing it (built if needed)."""
    from index.build import build
    from index.config import get_config

    corpus = data / "unseen-corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    overrides = {}
    for company, rel in json.loads(SOURCES.read_text()).items():
        source = shared / rel
        target = corpus / f"{company}{source.suffix}"
        if not target.exists():
            shutil.copyfile(source, target)
        overrides[target.name] = {"company": company}
    index_dir = data / "unseen-index"
    build(_over(get_config(), corpus, index_dir), progress=False, overrides=overrides)
    return corpus, index_dir


def _over(config, corpus: Path, index_dir: Path):
    return replace(config, corpus_dir=corpus.resolve(), data_dir=index_dir.resolve(), collection="policyqa-unseen")


def unseen_config(config=None):
    """``config`` (default: the configured one) answering over the unseen policies' index, built if needed."""
    from index.config import get_config

    config = config or get_config()
    return _over(config, *prepare(config.data_dir / "eval", ROOT.parent / "shared"))


def answers_recording(paths: list[Path], config, module, name: str):
    """Each question of the sets ``paths``, answered by ``qa.ask`` with ``config``, with what ``module.name``
    saw meanwhile: ``(set path, question, {"args": ..., "kwargs": ..., "result": ..., "results": [...]})``: the
    arguments and result of its last call and the results of every call, an empty dict when it was not called.
    The function is restored when the iteration ends."""
    from evaluation.scoring import load_questions
    from qa.answer import ask

    real, seen = getattr(module, name), {}

    def recording(*args, **kwargs):
        seen["args"], seen["kwargs"] = args, kwargs
        seen["result"] = real(*args, **kwargs)
        seen.setdefault("results", []).append(seen["result"])
        return seen["result"]

    setattr(module, name, recording)
    try:
        for path in paths:
            for q in load_questions(path):
                seen.clear()
                ask(q.question, config=config)
                yield path, q, dict(seen)
    finally:
        setattr(module, name, real)


def main(argv: list[str] | None = None) -> int:
    from index.config import get_config, quiet_third_parties

    from .harness import main as harness

    quiet_third_parties()
    parser = argparse.ArgumentParser(prog="python -m evaluation.unseen", description=__doc__.split("\n\n")[0])
    parser.add_argument("sets", nargs="*", type=Path, help="default: every eval/unseen-*.jsonl")
    parser.add_argument("--json", type=Path, metavar="OUT", help="write the report of each set to OUT-<set>.json")
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args(argv)
    shared = ROOT.parent / "shared"
    corpus, index_dir = prepare(get_config().data_dir / "eval", shared)
    status = 0
    for path in args.sets or sorted((ROOT / "eval").glob("unseen-*.jsonl")):
        print(f"== {path.name}", flush=True)
        extra = ["--json", f"{args.json}-{path.stem}.json"] if args.json else []
        extra += ["--no-baseline"] if args.no_baseline else []
        status |= harness([str(path), "--corpus", str(corpus), "--data", str(index_dir), *extra])
    return status


if __name__ == "__main__":
    sys.exit(main())
