"""Building and searching the PolicyQA index: ``build``, ``add`` and ``search``."""
from .build import BuildReport, add, build, is_stale
from .config import Config, get_config
from .errors import PolicyQAError
from .retrieval import Hit, PolicyInfo, open_index, search

__all__ = ["build", "add", "search", "is_stale", "BuildReport", "Hit", "PolicyInfo", "Config", "get_config",
           "open_index", "PolicyQAError"]
