"""Errors a user can act on. Each message says what went wrong and what to do."""


class PolicyQAError(Exception):
    """Base class: anything PolicyQA reports to a user without a traceback."""


class ConfigError(PolicyQAError):
    """A setting points somewhere unusable."""


class ServerUnavailable(PolicyQAError):
    """The Chroma server named by POLICYQA_CHROMA_URL cannot be reached."""


class IndexMissing(PolicyQAError):
    """The vector store does not hold the index the manifest describes."""


class BadQuestion(PolicyQAError):
    """The question cannot be answered as given (empty, too long, ...)."""


class IndexDamaged(PolicyQAError):
    """Files of the built index are missing or unreadable; rebuilding repairs them."""


class BadInput(PolicyQAError):
    """An argument is malformed (a date that is not YYYY-MM-DD, ...)."""


class EncoderMismatch(ConfigError):
    """The stored vectors were made by another encoder (model or engine) than the one asking."""

    def __init__(self, message: str, recorded: str | None = None):
        super().__init__(message)
        self.recorded = recorded
