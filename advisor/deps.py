"""The one typed dependency object, built once and passed down (as in pydantic-ai)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from advisor.corpus import Corpus, load_corpus
from advisor.embeddings import build_embedding_model
from advisor.errors import ConfigError
from advisor.retrieval import HybridRetriever
from advisor.settings import Settings, load_settings
from advisor.store import PassageStore, Progress, SyncReport


@dataclass(frozen=True)
class AdvisorDeps:
    """Everything a user action needs: settings, corpus, store and retriever."""

    settings: Settings
    corpus: Corpus
    store: PassageStore
    retriever: HybridRetriever
    index_report: SyncReport


def corpus_folders(settings: Settings) -> list[Path]:
    """The shipped corpus first, then documents users added."""
    if not settings.corpus_dir.is_dir():
        raise ConfigError(
            f"The corpus folder {settings.corpus_dir} does not exist.",
            hint="Run from a checkout of the project, or set ADVISOR_CORPUS_DIR.",
        )
    return [settings.corpus_dir, settings.user_documents_dir]


def read_corpus(settings: Settings) -> Corpus:
    return load_corpus(corpus_folders(settings), target_chars=settings.passage_target_chars)


def build_deps(
    settings: Settings | None = None, *, rebuild: bool = False, progress: Progress | None = None
) -> AdvisorDeps:
    """Load the corpus, open (and if needed build or repair) the index, ready the retriever."""
    settings = settings or load_settings()
    corpus = read_corpus(settings)
    store = PassageStore(settings, build_embedding_model(settings))
    report = store.sync(corpus, rebuild=rebuild, progress=progress)
    return AdvisorDeps(settings, corpus, store, HybridRetriever(corpus, store, settings), report)
