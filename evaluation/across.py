"""``python -m evaluation.across [QUESTIONS.jsonl] [--json OUT]``: score questions across policies.

The question file has the shared format (``id``, ``question``, ``company``, ``answerable``,
``evidence``) plus ``kind`` and what that kind expects:

- ``companies``: ``expected_companies`` {company: "states" | "states_not"} (every other company
  must be "silent"), ``evidence_by_company`` {company: [phrases]} that its citation must contain,
  ``expected_earlier`` {company: policy_date} of older versions that must be cited, ``expected_dates``
  {company: policy_date} of the version that must be judged.
- ``versions``: ``expected_versions`` [older, newer], ``expected_changes`` [{kind, old, new}] of
  changed statements, ``expected_added`` / ``expected_removed`` phrases of topics only one side has.
- ``policy``: ``expected_first_date`` of the first citation, ``evidence``, ``expected_text``
  phrases, ``expected_earlier`` (null: no line about an older version; {date, evidence}: that line).

Phrases are compared as in ``evaluation`` (lower case, whitespace collapsed, Markdown ``*`` dropped).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from index.errors import PolicyQAError

from .scoring import normalise

DEFAULT_QUESTIONS = Path(__file__).resolve().parent.parent / "eval" / "cross-questions.jsonl"


@dataclass
class Scored:
    """One question's outcome: ``checks`` name -> passed, and what was wrong."""

    id: str
    kind: str
    ms: float
    checks: dict[str, bool] = field(default_factory=dict)
    counts: dict[str, tuple[int, int]] = field(default_factory=dict)  # name -> (found, expected)
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(self.checks.values()) and all(f == e for f, e in self.counts.values())


def _contains(citation, phrases: list[str]) -> bool:
    text = normalise(citation.excerpt + " " + citation.highlight)
    return any(normalise(p) in text for p in phrases)


def score_companies(q: dict, answer, scored: Scored) -> None:
    expected = q.get("expected_companies", {})
    evidence = q.get("evidence_by_company", {})
    earlier = q.get("expected_earlier", {})
    found = {f.company: f for f in answer.companies}
    scored.checks["routed"] = answer.kind == "companies"
    right = 0
    for company, finding in found.items():
        want = expected.get(company, "silent")
        if finding.status == want:
            right += 1
        else:
            scored.problems.append(f"{company}: {finding.status}, expected {want}")
    scored.counts["company_status"] = (right, len(found))
    supported = sum(1 for c, f in found.items() if expected.get(c) and f.citations
                    and f.status == expected[c] and _contains(f.citations[0], evidence.get(c, [])))
    scored.counts["evidence"] = (supported, len(expected))
    earlier_right = 0
    for company, finding in found.items():
        want = earlier.get(company)
        got = finding.earlier
        ok = (want is None and got is None) or (
            want is not None and got is not None and got.policy_date == want and _contains(got, evidence.get(company, [])))
        earlier_right += ok
        if not ok:
            scored.problems.append(f"{company}: earlier {got.policy_date if got else None}, expected {want}")
    scored.counts["earlier"] = (earlier_right, len(found))
    for company, date in q.get("expected_dates", {}).items():
        scored.checks[f"judged {company} {date}"] = company in found and found[company].policy_date == date


def score_versions(q: dict, answer, scored: Scored) -> None:
    scored.checks["routed"] = answer.kind == "versions"
    if not q.get("answerable", True):
        scored.checks["abstained"] = not answer.found and not answer.citations
        return
    scored.checks["versions"] = list(answer.versions) == q.get("expected_versions")
    scored.checks["both sides cited"] = {c.policy_date for c in answer.citations} == set(q.get("expected_versions", []))
    changed = [c for c in answer.changes if c.kind == "changed"]
    want = q.get("expected_changes", [])
    hit = sum(any(_contains(c.old, [w["old"]]) and _contains(c.new, [w["new"]]) for c in changed) for w in want)
    scored.counts["changed"] = (hit, len(want))
    for side, kind in (("new", "added"), ("old", "removed")):
        cited = [getattr(c, side) for c in answer.changes if c.kind == kind]
        labels = " ".join(c.topic for c in answer.changes if c.kind == kind)
        phrases = q.get(f"expected_{kind}", [])
        got = [p for p in phrases if any(_contains(c, [p]) for c in cited) or normalise(p) in normalise(labels)]
        scored.counts[kind] = (len(got), len(phrases))
        scored.problems += [f"{kind} missing: {p}" for p in phrases if p not in got]


def score_policy(q: dict, answer, scored: Scored) -> None:
    scored.checks["routed"] = answer.kind == "policy"
    first = answer.citations[0] if answer.citations else None
    scored.checks["found"] = answer.found and first is not None
    if first is None:
        return
    scored.checks["first version"] = first.policy_date == q["expected_first_date"]
    scored.checks["evidence@1"] = _contains(first, q.get("evidence", []))
    for phrase in q.get("expected_text", []):
        scored.checks[f"text: {phrase}"] = normalise(phrase) in normalise(answer.text)
    if "expected_earlier" in q:
        want = q["expected_earlier"]
        line = next((line for line in answer.text.splitlines() if line.startswith("In its ")), None)
        if want is None:
            scored.checks["no earlier line"] = line is None
        else:
            cited = [c for c in answer.citations if line and f"[{c.n}]" in line]
            scored.checks["earlier line"] = bool(cited) and cited[0].policy_date == want["date"] and _contains(
                cited[0], want["evidence"])


SCORERS = {"companies": score_companies, "versions": score_versions, "policy": score_policy}


def run(questions: list[dict], answer_fn) -> list[Scored]:
    """Answer every question with ``answer_fn(record) -> Answer`` and score it by its kind."""
    out = []
    for q in questions:
        started = time.perf_counter()
        answer = answer_fn(q)
        scored = Scored(q["id"], q["kind"], (time.perf_counter() - started) * 1000)
        SCORERS[q["kind"]](q, answer, scored)
        out.append(scored)
    return out


def summary(results: list[Scored]) -> dict:
    """Per kind: questions fully right, each check's pass rate, each count's recall, median latency."""
    report: dict = {}
    for kind in SCORERS:
        rows = [r for r in results if r.kind == kind]
        if not rows:
            continue
        entry: dict = {"questions": len(rows), "all_right": sum(r.passed for r in rows) / len(rows),
                       "latency_ms_p50": round(statistics.median(r.ms for r in rows), 1)}
        names = sorted({name for r in rows for name in r.checks if not name.startswith(("text:", "judged"))})
        for name in names:
            values = [r.checks[name] for r in rows if name in r.checks]
            entry[name] = sum(values) / len(values)
        for name in sorted({name for r in rows for name in r.counts}):
            found = sum(r.counts[name][0] for r in rows if name in r.counts)
            expected = sum(r.counts[name][1] for r in rows if name in r.counts)
            entry[f"{name}_rate"] = found / expected if expected else None
        report[kind] = entry
    return report


def load_cross_questions(path: Path) -> list[dict]:
    """The question file, one JSON object a line; a malformed line is a clear error naming it."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise PolicyQAError(f"cannot read the question file {path}: {exc.strerror or exc}") from None
    out = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise PolicyQAError(f"{path}, line {number}: not JSON ({exc.msg})") from None
        if not isinstance(item, dict) or not isinstance(item.get("question"), str) or "kind" not in item:
            raise PolicyQAError(f"{path}, line {number}: needs a \"question\" string and a \"kind\"")
        out.append(item)
    return out


def main(argv: list[str] | None = None) -> int:
    from index.config import quiet_third_parties

    quiet_third_parties()
    parser = argparse.ArgumentParser(prog="python -m evaluation.across")
    parser.add_argument("questions", type=Path, nargs="?", default=DEFAULT_QUESTIONS)
    parser.add_argument("--json", type=Path, help="write the per-question results and the summary here")
    args = parser.parse_args(argv)
    from qa import ask

    results = run(load_cross_questions(args.questions), lambda q: ask(q["question"]))
    report = summary(results)
    for kind, entry in report.items():
        print(kind)
        for key, value in entry.items():
            print(f"  {key:>28}: {value:.3f}" if isinstance(value, float) else f"  {key:>28}: {value}")
    for r in results:
        if not r.passed:
            failed = [n for n, ok in r.checks.items() if not ok] + [
                f"{n} {f}/{e}" for n, (f, e) in r.counts.items() if f != e]
            print(f"  miss {r.id}: {', '.join(failed)}" + (f" — {'; '.join(r.problems)}" if r.problems else ""))
    if args.json:
        args.json.write_text(json.dumps({"summary": report, "results": [asdict(r) for r in results]}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
