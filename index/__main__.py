"""``python -m index [--json]`` builds or updates the index; ``python -m index add PATH...`` adds policies.

Both then compute the overview cells (``qa.overview``) of the policies that are new or changed
(``--no-overview`` skips it); an unchanged corpus costs nothing there either."""
from __future__ import annotations

import argparse
import json
import re
import sys

from .config import get_config, quiet_third_parties
from .dates import UNDATED
from .errors import PolicyQAError


def _date(value: str) -> str:
    from datetime import date

    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            return date.fromisoformat(value).isoformat()
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"'{value}' is not a date like 2017-12-31")


def _print_report(report, as_json: bool, added: list[str] | None = None, overview: int | None = None) -> None:
    data = report.to_dict()
    if overview is not None:
        data["overview_cells"] = overview
    if added is not None:
        from .build import load_manifest

        documents = load_manifest(get_config())["documents"]
        policies = [{"name": rel, "company": documents[rel]["company"], "policy_date": documents[rel]["policy_date"]}
                    for rel in added if rel in documents]
        data = {"added": policies, **data}
    if as_json:
        print(json.dumps(data, indent=2))
        return
    if added is not None:
        if not data["added"]:
            print("added: nothing")
        for policy in data["added"]:
            print(f"added: {policy['name']}  company: {policy['company']}  date: {policy['policy_date'] or UNDATED}")
    print(f"documents: {report.documents}  sections: {report.sections}  chunks: {report.chunks}")
    print(f"embedded: {report.embedded}  reused: {report.reused}  removed: {report.removed}  "
          f"seconds: {report.seconds}" + (f"  device: {report.device}" if report.device else ""))
    for name, reason in report.skipped.items():
        print(f"skipped: {name}: {reason}")
    if overview is not None:
        print(f"overview: {overview} cells computed (the rest cached)")


def _update_overview(as_json: bool) -> int | None:
    """The overview's cells for the policies this run added or changed (``qa.overview``); the
    others come from its cache. A failure here leaves the index as built and says why."""
    from qa.overview import update_overview

    try:
        return update_overview(get_config(), progress=not as_json)
    except PolicyQAError as exc:
        print(f"warning: the overview was not updated ({exc}); `python -m qa overview` computes it", file=sys.stderr)
        return None


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status (2 for usage errors, 1 for failures)."""
    quiet_third_parties()
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "add":
        parser = argparse.ArgumentParser(prog="python -m index add",
                                         description="Add policy files or folders (.md, .txt, .html, .pdf).")
        parser.add_argument("paths", nargs="+", metavar="PATH")
        parser.add_argument("--company", help="company name for these policies (default: read from each document, "
                                              "else its file name)")
        parser.add_argument("--date", type=_date, help="policy date YYYY-MM-DD (default: the document's 'Last "
                                                       "updated'/'Effective' date, its metadata or file name; else undated)")
        parser.add_argument("--alias", action="append", default=[], metavar="NAME",
                            help="another name the company goes by (repeat for several): it names the company "
                                 "in questions, --company and the chat")
        parser.add_argument("--json", action="store_true", help="print the report as JSON")
        parser.add_argument("--no-overview", action="store_true", help="do not compute the new policies' overview cells")
        args = parser.parse_args(argv[1:])
    else:
        parser = argparse.ArgumentParser(prog="python -m index",
                                         description="Build or update the index of the corpus folder.")
        parser.add_argument("--json", action="store_true", help="print the report as JSON")
        parser.add_argument("--no-overview", action="store_true", help="do not compute the overview cells of "
                                                                        "new or changed policies")
        args = parser.parse_args(argv)
        args.paths = None
    from .build import add, build

    try:
        if args.paths is not None:
            added, report = add(args.paths, company=args.company, policy_date=args.date, progress=not args.json,
                                aliases=args.alias)
            cells = None if args.no_overview or not report.documents else _update_overview(args.json)
            _print_report(report, args.json, added, cells)
            return 0 if added or not report.skipped else 1
        report = build(get_config(), progress=not args.json)
        cells = None if args.no_overview or not report.documents else _update_overview(args.json)
        _print_report(report, args.json, overview=cells)
        return 0
    except PolicyQAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: the next run finishes the index", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
