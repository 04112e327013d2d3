"""``python -m evaluation.overview GRID.jsonl [--json OUT] [--show]``: the overview against a labelled grid.

A grid file holds one JSON object a line, either a cell or a policy's row::

    {"company": "Axosoft", "policy_date": "2017-12-11", "practice": "sale", "verdict": "does not sell"}
    {"company": "Imgur", "source": "corpora/tosdr/Imgur.md", "labels": {"sale": "not stated", "dnt": "honours"}}

- the policy: ``company``, and ``policy_date`` (or ``version``/``date``; "undated"; none: the
  newest), and optionally ``source`` (or ``file``/``path``): the policy's file, relative to
  ``../shared``, to the project or absolute. Without one, the company's policy is looked for in
  the project's ``corpus/`` and then as ``../shared/corpora/tosdr/<company>.md``;
- the label: ``practice`` with ``verdict`` (or ``label``/``expected``), or a ``labels`` (or
  ``cells``/``verdicts``) object of practice -> verdict.

The labelled policies are copied into ``<data>/overview-eval/corpus``, indexed there under the
companies the grid names, and the overview of each labelled version is compared cell by cell.
Reported: accuracy, accuracy per practice, and the cells that say the opposite of the label
(docs/overview-practices.md: ``sells or may sell`` / ``does not sell``, ``honours`` / ``does not
honour``, ``yes`` / ``no``, ``shares`` / ``does not share``).
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OPPOSITES = {frozenset(("sells or may sell", "does not sell")), frozenset(("honours", "does not honour")),
             frozenset(("yes", "no")), frozenset(("shares", "does not share"))}
HELD_BACK = ("canary", "filefactory", "fitbit", "github", "gitlab", "pastebin", "researchgate", "xing",
             "facebook", "spotify", "twitter", "uber", "airbnb")


@dataclass(frozen=True)
class Label:
    """One labelled cell."""

    company: str
    policy_date: str | None  # None: the newest version (or the only one)
    practice: str
    verdict: str
    source: str | None = None
    line: int = 0
    dated: bool = False  # the grid named a version (possibly "undated")
    evidence: tuple[str, ...] = ()  # the labeller's excerpts of the policy behind the verdict


@dataclass
class Report:
    """How the overview's verdicts compare with the labels."""

    cells: int = 0
    correct: int = 0
    per_practice: dict[str, list[int]] = field(default_factory=dict)  # practice -> [correct, cells]
    opposite: list[dict] = field(default_factory=list)
    wrong: list[dict] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.correct / self.cells if self.cells else 0.0

    def to_dict(self) -> dict:
        return {"cells": self.cells, "correct": self.correct, "accuracy": round(self.accuracy, 4),
                "per_practice": {p: {"correct": c, "cells": n, "accuracy": round(c / n, 4) if n else 0.0}
                                 for p, (c, n) in self.per_practice.items()},
                "opposite": self.opposite, "wrong": self.wrong, "problems": self.problems}


def shared_folder() -> Path:
    """``../shared`` beside the checkout (or beside its folder of worktrees); ``POLICYQA_SHARED`` elsewhere."""
    import os

    if os.environ.get("POLICYQA_SHARED"):
        return Path(os.environ["POLICYQA_SHARED"])
    return next((p for p in (ROOT.parent / "shared", ROOT.parent.parent / "shared") if p.is_dir()), ROOT.parent / "shared")


def is_opposite(verdict: str, label: str) -> bool:
    """Whether ``verdict`` says the opposite of ``label`` (the two ends of one practice)."""
    return frozenset((verdict, label)) in OPPOSITES


def read_grid(path: Path) -> tuple[list[Label], list[str]]:
    """The labelled cells of a grid file, and the lines it could not read (with the reason)."""
    labels: list[Label] = []
    problems: list[str] = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        try:
            item = json.loads(raw)
        except ValueError as exc:
            problems.append(f"line {number}: not JSON ({exc})")
            continue
        if not isinstance(item, dict) or not isinstance(item.get("company"), str):
            problems.append(f"line {number}: no company")
            continue
        dated = any(k in item for k in ("policy_date", "version", "date"))
        date = next((item[k] for k in ("policy_date", "version", "date") if item.get(k)), None)
        if isinstance(date, str) and date.strip().lower() == "undated":
            date = None
        source = next((item[k] for k in ("source", "file", "path") if isinstance(item.get(k), str)), None)
        cells = next((item[k] for k in ("labels", "cells", "verdicts") if isinstance(item.get(k), dict)), None)
        if cells is None and isinstance(item.get("practice"), str):
            verdict = next((item[k] for k in ("verdict", "label", "expected") if isinstance(item.get(k), str)), None)
            if verdict is None:
                problems.append(f"line {number}: no verdict for {item['practice']}")
                continue
            cells = {item["practice"]: {"verdict": verdict, "evidence": item.get("evidence")}}
        if not cells:
            problems.append(f"line {number}: no practice labelled")
            continue
        for practice, verdict in cells.items():
            evidence = ()
            if isinstance(verdict, dict):  # {"verdict": ..., "sentence": ..., "evidence": [...]}
                evidence = tuple(e for e in verdict.get("evidence") or () if isinstance(e, str))
                verdict = verdict.get("verdict") or verdict.get("label")
            if not isinstance(verdict, str):
                problems.append(f"line {number}: {practice}: no verdict")
                continue
            labels.append(Label(item["company"], date, practice, " ".join(verdict.split()).lower(), source, number,
                                dated, evidence))
    return labels, problems


def held_back(name: str) -> bool:
    """Whether ``name`` (a company or a file name) is one of the companies kept for blind measurement."""
    import re

    squashed = re.sub(r"[^a-z0-9]", "", name.lower())
    return any(squashed.startswith(h) for h in HELD_BACK)


def _find_sources(label: Label, shared: Path) -> list[Path]:
    """The files of a labelled policy: the grid's ``source``, else the seed corpus (every version of
    the company when the grid names none, so that the newest is the newest), else ToS;DR."""
    if label.source:
        given = Path(label.source)
        return [next((c for c in (given, shared / given, ROOT / given) if c.is_file()), None)] if any(
            c.is_file() for c in (given, shared / given, ROOT / given)) else []
    from index.build import corpus_files

    wanted = label.company.lower().replace(" ", "")
    seed = [path for path in corpus_files(ROOT / "corpus") if path.name.lower().replace(" ", "").startswith(wanted)
            and (not label.policy_date or label.policy_date in path.name)]
    if seed:
        return seed
    tosdr = shared / "corpora" / "tosdr" / f"{label.company}.md"
    return [tosdr] if tosdr.is_file() else []


def prepare(labels: list[Label], data: Path, shared: Path) -> tuple[object, list[str]]:
    """A config whose index holds exactly the labelled policies (built when needed), and problems."""
    from index.build import build
    from index.config import get_config

    corpus = data / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    overrides: dict[str, dict] = {}
    wanted: set[str] = set()
    for label in labels:
        if held_back(label.company) or (label.source and held_back(Path(label.source).name)):
            problems.append(f"line {label.line}: {label.company} is a held-back company: not scored")
            continue
        sources = _find_sources(label, shared)
        if not sources:
            problems.append(f"line {label.line}: no policy file for {label.company} {label.policy_date or ''}".rstrip())
            continue
        for source in sources:
            target = corpus / source.name
            if not target.exists():
                shutil.copyfile(source, target)
            wanted.add(target.name)
            overrides[target.name] = {"company": label.company}
    for stale in {p.name for p in corpus.iterdir()} - wanted:
        (corpus / stale).unlink()
    config = replace(get_config(), corpus_dir=corpus.resolve(), data_dir=(data / "index").resolve(),
                     collection="policyqa-overview-eval")
    build(config, progress=False, overrides=overrides)
    return config, list(dict.fromkeys(problems))


def score(labels: list[Label], config) -> Report:
    """Compare the overview of ``config``'s index with ``labels``."""
    from index.errors import BadQuestion
    from qa.overview import overview

    report = Report()
    grids: dict[tuple[str, str | None], object] = {}
    for label in labels:
        key = (label.company, label.policy_date)
        if key not in grids:
            try:
                grids[key] = overview(label.company, label.policy_date, config=config)
            except BadQuestion as exc:
                grids[key] = str(exc)
        grid = grids[key]
        if isinstance(grid, str):
            report.problems.append(f"line {label.line}: {label.company}: {grid}")
            continue
        row = grid.rows[0]
        cell = next((c for c in row.cells if c.practice == label.practice), None)
        if cell is None:
            report.problems.append(f"line {label.line}: unknown practice {label.practice!r}")
            continue
        from qa.overview import practice as practice_of

        if label.verdict not in practice_of(label.practice).verdicts:
            report.problems.append(f"line {label.line}: {label.practice}: {label.verdict!r} is not one of its verdicts")
        right = cell.verdict == label.verdict
        report.cells += 1
        report.correct += right
        tally = report.per_practice.setdefault(label.practice, [0, 0])
        tally[0] += right
        tally[1] += 1
        if not right:
            miss = {"company": row.company, "version": row.policy_date, "practice": label.practice,
                    "label": label.verdict, "verdict": cell.verdict,
                    "sentence": cell.citation.highlight if cell.citation else None}
            report.wrong.append(miss)
            if is_opposite(cell.verdict, label.verdict):
                report.opposite.append(miss)
    return report


def format_report(report: Report, show: bool = False) -> str:
    lines = [f"cells: {report.cells}  correct: {report.correct}  accuracy: {report.accuracy:.1%}  "
             f"opposite: {len(report.opposite)}"]
    for practice, (correct, cells) in report.per_practice.items():
        lines.append(f"  {practice:<12} {correct:>3}/{cells:<3} {correct / cells:.0%}")
    for miss in report.opposite:
        lines.append(f"OPPOSITE {miss['company']} ({miss['version'] or 'undated'}) {miss['practice']}: "
                     f"label {miss['label']!r}, overview {miss['verdict']!r}: {miss['sentence']!r}")
    if show:
        for miss in report.wrong:
            lines.append(f"wrong {miss['company']} ({miss['version'] or 'undated'}) {miss['practice']}: label "
                         f"{miss['label']!r}, overview {miss['verdict']!r}: {(miss['sentence'] or '')[:200]!r}")
    lines += [f"problem: {p}" for p in report.problems]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from index.config import get_config, quiet_third_parties

    quiet_third_parties()
    parser = argparse.ArgumentParser(prog="python -m evaluation.overview", description=__doc__.split("\n\n")[0])
    parser.add_argument("grid", type=Path, help="the labelled grid (JSONL)")
    parser.add_argument("--json", type=Path, metavar="OUT", help="also write the report as JSON")
    parser.add_argument("--show", action="store_true", help="list every wrong cell with its sentence")
    parser.add_argument("--data", type=Path, help="where to index the labelled policies "
                                                  "(default: <POLICYQA_DATA>/overview-eval)")
    args = parser.parse_args(argv)
    if not args.grid.is_file():
        parser.error(f"no grid file {args.grid}")
    labels, problems = read_grid(args.grid)
    if not labels:
        print("\n".join(problems) or "the grid labels no cell", file=sys.stderr)
        return 2
    shared = shared_folder()
    config, more = prepare(labels, args.data or get_config().data_dir / "overview-eval", shared)
    report = score([label for label in labels if not held_back(label.company)], config)
    report.problems = problems + more + report.problems
    print(format_report(report, args.show))
    if args.json:
        args.json.write_text(json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
