"""``python -m index [--json]`` builds or updates the index; ``python -m index add PATH...`` adds policies."""
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


def _print_report(report, as_json: bool, added: list[str] | None = None) -> None:
    data = report.to_dict()
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
        args = parser.parse_args(argv[1:])
    else:
        parser = argparse.ArgumentParser(prog="python -m index",
                                         description="Build or update the index of the corpus folder.")
        parser.add_argument("--json", action="store_true", help="print the report as JSON")
        args = parser.parse_args(argv)
        args.paths = None
    from .build import add, build

    try:
        if args.paths is not None:
            added, report = add(args.paths, company=args.company, policy_date=args.date, progress=not args.json,
                                aliases=args.alias)
            _print_report(report, args.json, added)
            return 0 if added or not report.skipped else 1
        _print_report(build(get_config(), progress=not args.json), args.json)
        return 0
    except PolicyQAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: the next run finishes the index", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
