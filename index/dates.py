"""The date a policy states for itself ("Last updated: January 1st, 2020"), or none.

A policy's version date comes only from what exists: its own words, its HTML or PDF metadata,
or a date in its file name (``parse_policy`` picks among them). Never the file's time or today:
a policy without one is *undated*, and shows as "undated" wherever a date would be.
"""
from __future__ import annotations

import re
from datetime import date

UNDATED = "undated"

_MONTHS = ("january|february|march|april|may|june|july|august|september|october|november|december|"
           "jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec")
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
# "January 1st, 2020", "Jan. 1 2020", "1 January 2020", "1st of January, 2020", "2020-01-01",
# "01/01/2020", "01.01.2020". A month without a day ("May 2018") is no version date: the day would be invented.
_DATE = (rf"(?:(?:{_MONTHS})\.?\s+{_DAY},?\s+\d{{4}}"
         rf"|{_DAY}(?:\s+of)?\s+(?:{_MONTHS})\.?,?\s+\d{{4}}"
         r"|\d{4}-\d{1,2}-\d{1,2}"
         r"|\d{1,2}[/.]\d{1,2}[/.]\d{4})")
_LABEL = (r"(?:last\s+(?:updated|modified|revised|amended|changed|reviewed)"
          r"|(?:was\s+)?(?:updated|revised|modified|amended)"
          r"|effective(?:\s+date)?|date\s+of\s+(?:last\s+)?(?:revision|update|modification)"
          r"|(?:revision|version)\s+date|in\s+effect\s+(?:as\s+of|from))")
# The label, then at most a few words ("on", "as of", "Monday,") before the date.
STATED = re.compile(rf"(?<![A-Za-z])(?P<label>{_LABEL})(?![A-Za-z])[\s:\-–—.,*_]*(?:(?:on|as\s+of|from|at|date|is|:)\s*){{0,3}}"
                    rf"(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day,?\s+)?(?P<date>{_DATE})(?![\d/.-]*\d)", re.I)
_MONTH_NUMBER = {name: i for i, names in enumerate(
    [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",), ("jun", "june"),
     ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
     ("dec", "december")], start=1) for name in names}
EARLIEST_YEAR = 1995  # no website privacy policy is older


def stated_date(text: str) -> str | None:
    """The ISO date a policy's text gives for itself ("Last updated", "Effective", "Revised"...).

    The first labelled date that is a real calendar day is taken.
    """
    for match in STATED.finditer(text):
        iso = parse_date(match.group("date"))
        if iso:
            return iso
    return None


def parse_date(raw: str) -> str | None:
    """``raw`` (one of the forms above) as an ISO date; None when it is no real day or out of range.

    Numeric dates with slashes read month first ("01/02/2020" is January 2nd) unless the first
    number cannot be a month; with dots, day first (the European way).
    """
    raw = " ".join(re.sub(r"(\d)(?:st|nd|rd|th)\b", r"\1", raw.replace(",", " ").replace(" of ", " ")).split())
    raw = raw.replace(".", " ") if re.search(r"[A-Za-z]", raw) else raw
    parts = raw.lower().split()
    try:
        if re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", raw):
            year, month, day = (int(p) for p in raw.split("-"))
        elif re.fullmatch(r"\d{1,2}[/.]\d{1,2}[/.]\d{4}", raw):
            a, b, year = (int(p) for p in re.split(r"[/.]", raw))
            month, day = (b, a) if "." in raw or a > 12 else (a, b)
        elif len(parts) == 3 and parts[0] in _MONTH_NUMBER:
            month, day, year = _MONTH_NUMBER[parts[0]], int(parts[1]), int(parts[2])
        elif len(parts) == 3 and parts[1] in _MONTH_NUMBER:
            day, month, year = int(parts[0]), _MONTH_NUMBER[parts[1]], int(parts[2])
        else:
            return None
        found = date(year, month, day)
    except ValueError:
        return None
    if not (EARLIEST_YEAR <= found.year <= date.today().year + 1):
        return None
    return found.isoformat()


def date_label(policy_date: str | None) -> str:
    """How a policy version is named to a user: its ISO date, or "undated"."""
    return policy_date or UNDATED


def dated_policy(policy_date: str | None) -> str:
    """ "2014 policy (2014-06-25)", or "undated policy" when the version states no date."""
    return f"{policy_date[:4]} policy ({policy_date})" if policy_date else "undated policy"
