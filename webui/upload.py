"""The chat's upload control: check the files, then ``index.add`` them so they are answerable at once."""
from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from index.build import add
from index.config import Config, get_config
from index.errors import PolicyQAError
from index.retrieval import open_index

from .render import UploadResult

ALLOWED_SUFFIXES = (".md", ".txt", ".html", ".htm", ".pdf")
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
MAX_ALIAS_CHARS = 200  # as index.add
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class BadUpload(PolicyQAError):
    """An upload request that cannot be carried out as given."""


def check_file(path: Path) -> str | None:
    """Why ``path`` cannot be added, or None when it can."""
    if path.suffix.lower() not in ALLOWED_SUFFIXES:
        return f"not a policy file type ({', '.join(ALLOWED_SUFFIXES)})"
    try:
        size = path.stat().st_size
    except OSError:
        return "the upload could not be read"
    if size > MAX_UPLOAD_BYTES:
        return f"too large ({size / 1e6:.1f} MB; the limit is {MAX_UPLOAD_BYTES // (1024 * 1024)} MB)"
    if size == 0:
        return "empty file"
    return None


def add_uploads(paths: list[str | Path], company: str | None = None, policy_date: str | None = None,
                progress: Callable[[int, int], None] | None = None, config: Config | None = None,
                aliases: str | None = None) -> UploadResult:
    """Add uploaded policy files to the corpus and the index.

    ``company`` and ``policy_date`` (YYYY-MM-DD) override what is read from the documents.
    ``aliases``: other names the company goes by, separated by commas ("Acme, ACME Corp."), as
    ``python -m index add --alias`` takes them. ``progress(done, total)`` is called while chunks
    are embedded.
    """
    config = config or get_config()
    company = (company or "").strip() or None
    names = [" ".join(a.split()) for a in (aliases or "").split(",") if a.strip()]
    if any(len(a) > MAX_ALIAS_CHARS for a in names):
        raise BadUpload(f"an other name is too long (the limit is {MAX_ALIAS_CHARS} characters)")
    policy_date = (policy_date or "").strip() or None
    if policy_date and not _ISO_DATE.match(policy_date):
        raise BadUpload(f"the policy date must look like 2019-04-10, not '{policy_date}'")
    refused: list[tuple[str, str]] = []
    accepted: list[Path] = []
    for given in paths:
        path = Path(given)
        reason = check_file(path)
        if reason:
            refused.append((path.name, reason))
        else:
            accepted.append(path)
    if not accepted:
        return UploadResult([], refused)
    added, report = add(accepted, company=company, policy_date=policy_date, config=config,
                        progress=progress if progress else False, aliases=names)
    policies = open_index(config).policies
    result = UploadResult([], refused)
    for rel in added:
        info = policies.get(rel)
        if info is None:
            result.refused.append((Path(rel).name, report.skipped.get(rel, "could not be indexed")))
        else:
            result.added.append((Path(rel).name, info.company, info.policy_date))
    uploaded = {str(p) for p in accepted}
    for name, reason in report.skipped.items():
        if name in uploaded:  # refused by index.add before copying (unreadable, ...)
            result.refused.append((Path(name).name, reason))
    return result
