"""One exception tree, and the one place that turns exceptions into what users see.

Every error the advisor raises on purpose is an :class:`AdvisorError` carrying a plain
message and, where there is one, a hint that names the fix (in the spirit of simonw/llm's
user-facing errors). Anything else is a bug: :func:`describe` gives it a generic message
so that no user ever sees a traceback.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


class AdvisorError(Exception):
    """Base class: an error a user can understand and usually fix."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}" if self.hint else self.message


class ConfigError(AdvisorError):
    """A setting is missing, malformed or contradicts another."""


class CorpusError(AdvisorError):
    """A corpus file cannot be read or parsed."""


class StoreError(AdvisorError):
    """The retrieval store cannot be opened, repaired or reached."""


class EmbeddingError(AdvisorError):
    """The embedding model cannot be loaded or did not answer."""


class QueryError(AdvisorError):
    """A search query or message is empty, too long or otherwise unusable."""


class LLMError(AdvisorError):
    """The configured language model failed; the deterministic path takes over."""

    #: A short note shown beside the deterministic reply that replaced the model's.
    note = "The language model failed"


class LLMTimeout(LLMError):
    note = "The language model did not answer in time"


class LLMUnavailable(LLMError):
    note = "The language model server could not be reached"


class LLMRateLimited(LLMError):
    note = "The language model server is rate-limiting requests"


class LLMServerError(LLMError):
    note = "The language model server returned an error"


class LLMBadOutput(LLMError):
    """The model answered, but with nothing usable (empty, malformed, cut off)."""

    note = "The language model's answer was unusable"


class GuardRejected(LLMError):
    """The model's prose contradicted the engine or cited what it was not given."""

    note = "The language model's wording was set aside"


def first_line(exc: BaseException, limit: int = 200, *, empty: str = "no detail") -> str:
    """The first line of ``exc``'s message, at most ``limit`` characters (``empty`` if none):
    what an error message quotes of a library's exception."""
    lines = str(exc).strip().splitlines()
    return lines[0][:limit] if lines else empty


def describe(exc: BaseException) -> str:
    """Return the one-paragraph message a user sees for ``exc``."""
    if isinstance(exc, AdvisorError):
        return str(exc)
    log.exception("unexpected error", exc_info=exc)
    return (
        f"Something went wrong inside the advisor ({type(exc).__name__}). "
        "Nothing you entered was lost. Run with ADVISOR_LOG_LEVEL=DEBUG for details."
    )
