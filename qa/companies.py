"""Which indexed company a name means (``index.companies``, where ``index.retrieval`` can use it too).

Kept here as the question layer's API: the same functions, the same results.
"""
from index.companies import (GENERIC_NAME_WORDS, MIN_NEAR_MISS_CHARS, NEAR_MISS_SCORE, Mention, company_aliases,
                             company_mentions, find_companies, fold, resolve_company)

__all__ = ["GENERIC_NAME_WORDS", "MIN_NEAR_MISS_CHARS", "NEAR_MISS_SCORE", "Mention", "company_aliases",
           "company_mentions", "find_companies", "fold", "resolve_company"]
