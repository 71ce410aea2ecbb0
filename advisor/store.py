"""The retrieval store: passages and their vectors in Chroma, through llama-index.

The store is its own manifest. Passage ids hash the document id, the file's content hash
and the passage span, and the collection name carries a fingerprint of the embedding
model and chunking settings. So syncing is a set difference on ids: an unchanged corpus
embeds nothing, a changed file re-embeds only that file, a removed file is deleted, and a
sync cut short by a crash is finished by the next one.

A store that cannot be opened, or that fails a self-retrieval probe (the symptom of a
missing or truncated segment file), is rebuilt from the corpus with a one-line notice.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from filelock import FileLock, Timeout

from advisor.corpus import Corpus, Passage
from advisor.errors import EmbeddingError, StoreError
from advisor.settings import IndexContext, Settings

if TYPE_CHECKING:
    from llama_index.core.base.embeddings.base import BaseEmbedding
    from llama_index.core.schema import TextNode

log = logging.getLogger(__name__)

#: ``progress(done, total, stage)`` is called while a sync embeds passages.
Progress = Callable[[int, int, str], None]
_PAGE = 5000
_PROBE_DEPTH = 10


@dataclass(frozen=True)
class SyncReport:
    """What a sync did, for the CLI, the settings page and the benchmarks."""

    collection: str
    total_passages: int
    embedded: int
    deleted: int
    added_docs: tuple[str, ...] = ()
    removed_docs: tuple[str, ...] = ()
    unchanged_docs: tuple[str, ...] = ()
    repaired: str | None = None
    seconds: float = 0.0
    problems: tuple[str, ...] = field(default=())

    @property
    def changed(self) -> bool:
        return bool(self.embedded or self.deleted)


def index_text(passage: Passage, context: IndexContext) -> str:
    """The text that is embedded and BM25-indexed for a passage (its span plus context)."""
    return to_node(passage, context).get_content(metadata_mode=_embed_mode())


def to_node(passage: Passage, context: IndexContext) -> TextNode:
    """A llama-index node whose embed content is ``context lines + blank line + text``."""
    from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode

    metadata: dict[str, Any] = {
        "title": passage.title,
        "section": passage.section,
        "doc_id": passage.doc_id,
        "start": passage.start,
        "end": passage.end,
        "ordinal": passage.ordinal,
    }
    embedded_keys = {
        IndexContext.NONE: set(),
        IndexContext.SECTION: {"section"},
        IndexContext.TITLE_SECTION: {"title", "section"},
    }[context]
    return TextNode(
        id_=passage.passage_id,
        text=passage.text,
        metadata=metadata,
        excluded_embed_metadata_keys=[k for k in metadata if k not in embedded_keys],
        excluded_llm_metadata_keys=list(metadata),
        metadata_template="{value}",
        metadata_separator="\n",
        text_template="{metadata_str}\n\n{content}",
        relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=passage.doc_id)},
    )


def _embed_mode() -> Any:
    from llama_index.core.schema import MetadataMode

    return MetadataMode.EMBED


class PassageStore:
    """A Chroma collection of passage vectors, kept in step with a :class:`Corpus`."""

    def __init__(self, settings: Settings, embed_model: BaseEmbedding) -> None:
        self.settings = settings
        self.embed_model = embed_model
        self.collection_name = f"{settings.collection_prefix}_{settings.embedding_fingerprint()}"
        self._client: Any = None
        self._collection: Any = None
        self._retriever: Any = None

    # ------------------------------------------------------------------ opening

    @property
    def embedded(self) -> bool:
        return self.settings.chroma_host is None

    @property
    def location(self) -> str:
        if self.embedded:
            return str(self.settings.chroma_path)
        scheme = "https" if self.settings.chroma_ssl else "http"
        return f"{scheme}://{self.settings.chroma_host}:{self.settings.chroma_port}"

    def _open(self) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=True)
        if self.embedded:
            self.settings.chroma_path.mkdir(parents=True, exist_ok=True)
            self._client = chromadb.PersistentClient(
                path=str(self.settings.chroma_path), settings=chroma_settings
            )
        else:
            try:
                self._client = chromadb.HttpClient(
                    host=self.settings.chroma_host or "",
                    port=self.settings.chroma_port,
                    ssl=self.settings.chroma_ssl,
                    settings=chroma_settings,
                )
                self._client.heartbeat()
            except Exception as exc:
                raise StoreError(
                    f"Cannot reach the Chroma server at {self.location} ({type(exc).__name__}).",
                    hint=(
                        "Start it (chroma run --host 127.0.0.1 --port "
                        f"{self.settings.chroma_port} --path ./chroma-data) or unset "
                        "ADVISOR_CHROMA_HOST to use the embedded store."
                    ),
                ) from exc
        self._collection = self._client.get_or_create_collection(
            self.collection_name,
            metadata={"hnsw:space": "cosine", "advisor_schema": 1},
        )
        self._retriever = None

    def _vector_store(self) -> Any:
        from llama_index.vector_stores.chroma import ChromaVectorStore

        return ChromaVectorStore(chroma_collection=self._collection)

    def _stored_ids(self) -> set[str]:
        ids: set[str] = set()
        offset = 0
        while True:
            page = self._collection.get(include=[], limit=_PAGE, offset=offset)
            ids.update(page["ids"])
            if len(page["ids"]) < _PAGE:
                return ids
            offset += _PAGE

    def _probe(self, some_id: str) -> None:
        """Self-retrieval: a stored vector must find itself (or an identical copy) among its
        nearest neighbours. Raises when the store is damaged.

        The search is approximate (HNSW): on tens of thousands of passages the top hit for a
        vector can be a near neighbour rather than the vector itself (measured at 30k
        passages, benchmarks/scaling.py), so the probe looks at the top ``_PROBE_DEPTH``."""
        got = self._collection.get(ids=[some_id], include=["embeddings"])
        embeddings = got.get("embeddings")
        if embeddings is None or len(embeddings) == 0:
            raise RuntimeError(f"passage {some_id} has no stored vector")
        result = self._collection.query(
            query_embeddings=[list(embeddings[0])],
            n_results=min(_PROBE_DEPTH, max(1, int(self._collection.count()))),
            include=["distances"],
        )
        ids, distances = result["ids"][0], result["distances"][0]
        if some_id not in ids and not (distances and distances[0] <= 1e-3):
            raise RuntimeError("a stored vector does not retrieve itself")

    def _wipe(self) -> None:
        """Remove a damaged embedded store (only the folder the advisor owns)."""
        from chromadb.api.shared_system_client import SharedSystemClient

        self._client = self._collection = self._retriever = None
        SharedSystemClient.clear_system_cache()
        if self.embedded:
            shutil.rmtree(self.settings.chroma_path, ignore_errors=True)
        else:
            import chromadb

            try:
                client = chromadb.HttpClient(
                    host=self.settings.chroma_host or "", port=self.settings.chroma_port
                )
                client.delete_collection(self.collection_name)
            except Exception as exc:
                log.warning("could not delete damaged collection: %s", exc)

    def _lock(self) -> FileLock | None:
        if not self.embedded:
            return None
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        return FileLock(
            str(self.settings.data_dir / "index.lock"),
            timeout=self.settings.index_lock_timeout_s,
        )

    # ------------------------------------------------------------------ syncing

    def sync(
        self, corpus: Corpus, *, rebuild: bool = False, progress: Progress | None = None
    ) -> SyncReport:
        """Bring the collection in step with ``corpus``; embed only what is new."""
        lock = self._lock()
        try:
            if lock is not None:
                lock.acquire()
        except Timeout as exc:
            raise StoreError(
                f"Another advisor process has held the index at {self.location} for "
                f"{self.settings.index_lock_timeout_s:g} s (it is building or updating it).",
                hint="Wait for it to finish (or raise ADVISOR_INDEX_LOCK_TIMEOUT_S), or run "
                "several processes against a Chroma server (ADVISOR_CHROMA_HOST) instead of "
                "one embedded store.",
            ) from exc
        try:
            return self._sync_locked(corpus, rebuild=rebuild, progress=progress)
        finally:
            if lock is not None:
                lock.release()

    def _sync_locked(
        self, corpus: Corpus, *, rebuild: bool, progress: Progress | None
    ) -> SyncReport:
        started = time.perf_counter()
        repaired: str | None = None
        if rebuild:
            self._wipe()
        try:
            self._open()
            stored = self._stored_ids()
            if stored:
                self._probe(next(iter(sorted(stored))))
        except StoreError:
            raise
        except Exception as exc:
            repaired = (
                f"The index at {self.location} was damaged ({type(exc).__name__}: "
                f"{_first_line(exc)}); rebuilding it from the corpus."
            )
            log.info(repaired)
            self._wipe()
            try:
                self._open()
            except StoreError:
                raise
            except Exception as again:
                raise StoreError(
                    f"The index at {self.location} is damaged and could not be rebuilt "
                    f"({type(again).__name__}: {_first_line(again)}).",
                    hint="Delete that folder and run `advisor index --rebuild`.",
                ) from again
            stored = set()

        expected = {p.passage_id: p for p in corpus.passages}
        stale = sorted(stored - expected.keys())
        missing = [p for pid, p in expected.items() if pid not in stored]
        if stale:
            self._vector_store().delete_nodes(node_ids=stale)
        embedded = self._add(missing, progress)
        if embedded:
            self._probe(missing[0].passage_id)
        if self.embedded:
            self._drop_other_collections()

        stored_docs = {pid.split(":", 1)[0] for pid in stored}
        changed_docs = {p.doc_id for p in missing}
        corpus_docs = {d.doc_id for d in corpus.documents}
        self._retriever = None
        return SyncReport(
            collection=self.collection_name,
            total_passages=len(expected),
            embedded=embedded,
            deleted=len(stale),
            added_docs=tuple(sorted(changed_docs)),
            removed_docs=tuple(sorted(stored_docs - corpus_docs)),
            unchanged_docs=tuple(sorted(corpus_docs - changed_docs)),
            repaired=repaired,
            seconds=time.perf_counter() - started,
            problems=tuple(str(p) for p in corpus.problems),
        )

    def _add(self, passages: Sequence[Passage], progress: Progress | None) -> int:
        if not passages:
            return 0
        vector_store = self._vector_store()
        batch = self.settings.embedding_batch_size
        total = len(passages)
        done = 0
        if progress:
            progress(0, total, "embedding")
        for chunk in _batches(passages, batch):
            nodes = [to_node(p, self.settings.index_context) for p in chunk]
            texts = [n.get_content(metadata_mode=_embed_mode()) for n in nodes]
            try:
                vectors = self.embed_model.get_text_embedding_batch(texts)
            except Exception as exc:
                raise EmbeddingError(
                    f"The embedding model failed after {done} of {total} passages "
                    f"({type(exc).__name__}: {_first_line(exc)}).",
                    hint="What was embedded is kept; run `advisor index` again to finish.",
                ) from exc
            for node, vector in zip(nodes, vectors, strict=True):
                node.embedding = vector
            vector_store.add(nodes)
            done += len(chunk)
            if progress:
                progress(done, total, "embedding")
        return done

    def _drop_other_collections(self) -> None:
        prefix = f"{self.settings.collection_prefix}_"
        for name in self._client.list_collections():
            name = getattr(name, "name", name)
            if name.startswith(prefix) and name != self.collection_name:
                log.info("dropping stale collection %s", name)
                self._client.delete_collection(name)

    # ------------------------------------------------------------------ querying

    def query(self, text: str, k: int) -> list[tuple[str, float]]:
        """Dense search: ``(passage_id, similarity)`` pairs, best first."""
        if self._collection is None:
            raise StoreError("The index is not open.", hint="Run `advisor index` first.")
        if self._retriever is None:
            from llama_index.core import VectorStoreIndex

            index = VectorStoreIndex.from_vector_store(
                self._vector_store(), embed_model=self.embed_model
            )
            self._retriever = index.as_retriever(similarity_top_k=k)
        self._retriever.similarity_top_k = k
        try:
            hits = self._retriever.retrieve(text)
        except Exception as exc:
            raise StoreError(
                f"The vector search failed ({type(exc).__name__}: {_first_line(exc)}).",
                hint="Run `advisor index` to check and repair the index.",
            ) from exc
        return [(h.node.node_id, float(h.score or 0.0)) for h in hits]

    def count(self) -> int:
        return int(self._collection.count()) if self._collection is not None else 0


def _batches(items: Sequence[Passage], size: int) -> Iterable[Sequence[Passage]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else "no detail")[:200]
