"""``python -m qa "QUESTION" [--company NAME] [-k N] [--json]``: answer from the command line."""
from __future__ import annotations

import argparse
import json
import sys

from index.config import quiet_third_parties
from index.errors import BadQuestion, PolicyQAError


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status (2 for usage errors and bad questions, 1 for failures)."""
    quiet_third_parties()
    parser = argparse.ArgumentParser(prog="python -m qa", description="Ask a question about the indexed privacy policies.")
    parser.add_argument("question", help='e.g. "Does Comindware share data with Salesforce?"')
    parser.add_argument("--company", help="answer from this company's policy only (name or domain)")
    parser.add_argument("-k", type=int, default=5, help="number of citations (default 5)")
    parser.add_argument("--json", action="store_true", help="print the answer as JSON")
    args = parser.parse_args(argv)
    if args.k < 1:
        parser.error("-k must be at least 1")
    from .answer import ask, format_answer

    try:
        answer = ask(args.question, company=args.company, k=args.k)
    except BadQuestion as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except PolicyQAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(answer.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(format_answer(answer))
    return 0


if __name__ == "__main__":
    sys.exit(main())
