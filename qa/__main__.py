"""``python -m qa "QUESTION" [--company NAME] [-k N] [--json]``: answer from the command line.

``python -m qa overview [--company NAME] [--date YYYY-MM-DD] [--json|--csv]``: the overview grid."""
from __future__ import annotations

import argparse
import json
import sys

from index.config import quiet_third_parties


def _log_errors_to_file() -> str | None:
    """Send unexpected errors' tracebacks to ``<data>/errors.log`` instead of the terminal."""
    import logging

    from index.config import get_config

    logger = logging.getLogger("policyqa")
    logger.propagate = False
    try:
        path = get_config().data_dir / "errors.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(path, encoding="utf-8", delay=True)
    except OSError:
        logger.addHandler(logging.NullHandler())
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    return str(path)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status (2 for usage errors and bad questions, 1 for failures)."""
    quiet_third_parties()
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["overview"]:
        return overview_main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m qa", description="Ask a question about the indexed privacy policies.")
    parser.add_argument("question", help='e.g. "Does Comindware share data with Salesforce?"')
    parser.add_argument("--company", help="answer from this company's policy only (its name, a distinctive word of "
                        "it, its domain or an alias given with --alias)")
    parser.add_argument("-k", type=int, default=5, help="number of citations (default 5)")
    parser.add_argument("--json", action="store_true", help="print the answer as JSON")
    args = parser.parse_args(argv)
    if args.k < 1:
        parser.error("-k must be at least 1")
    from .answer import format_answer
    from .safe import safe_ask

    reply, status = _guarded(lambda: safe_ask(args.question, company=args.company, k=args.k), "interrupted")
    if reply is None:
        return status
    if args.json:
        print(json.dumps(reply.answer.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(format_answer(reply.answer))
    return 0


def _guarded(call, interrupted: str):
    """Run ``call`` (a ``qa.safe`` call) for a terminal: ``(reply, None)``, or ``(None, exit status)``
    after saying what went wrong (an error, a bad question, Ctrl-C)."""
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")  # a terminal that cannot show a character gets "?"
    error_log = _log_errors_to_file()
    try:
        reply = call()
    except KeyboardInterrupt:
        print(interrupted, file=sys.stderr)
        return None, 130
    if not reply.ok:
        print(f"error: {reply.message}", file=sys.stderr)
        if reply.kind == "failure" and error_log:
            print(f"(details: {error_log})", file=sys.stderr)
        return None, 2 if reply.kind == "bad_question" else 1
    return reply, None


def overview_main(argv: list[str]) -> int:
    """``python -m qa overview``: every company's newest policy × the practices, as text, JSON or CSV."""
    parser = argparse.ArgumentParser(prog="python -m qa overview",
                                     description="The overview: each company's policy, practice by practice, "
                                                 "each verdict with the sentence that decides it.")
    parser.add_argument("--company", help="this company only (name or domain)")
    parser.add_argument("--date", help="the policy version of this date (YYYY-MM-DD) instead of the newest")
    shape = parser.add_mutually_exclusive_group()
    shape.add_argument("--json", action="store_true", help="print the grid as JSON")
    shape.add_argument("--csv", action="store_true", help="print one CSV line per cell")
    args = parser.parse_args(argv)
    from .overview import format_overview, overview
    from .safe import safe_call

    reply, status = _guarded(lambda: safe_call(overview, args.company, args.date, progress=True),
                             "interrupted: the cells computed so far are kept")
    if reply is None:
        return status
    grid = reply.answer
    if args.json:
        print(json.dumps(grid.to_dict(), indent=2, ensure_ascii=False))
    elif args.csv:
        sys.stdout.write(grid.to_csv())
    else:
        sys.stdout.write(format_overview(grid))
    return 0


if __name__ == "__main__":
    sys.exit(main())
