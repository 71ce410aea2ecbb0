"""The retrieval store: passages and their vectors in Chroma, through llama-index.

The store is its own manifest. Passage ids hash the document id, the file's content hash
and the passage span, and the collection name carries a fingerprint of the embedding
model and chunking settings. So syncing is a set difference on ids: an unchanged corpus
embeds nothing, a changed file re-embeds only that file, a removed file is deleted, and a
sync cut short by a crash is finished by the next one.

A store that cannot be opened, or that fails a self-retrieval probe (the symptom of a
missing or truncated segment file), is rebuilt from the corpus with a one-line notice.

Chroma's vector search (HNSW) is approximate, and it fails in a way that matters here: when
a small group of passages sits apart from a large mass of other text (the guidance articles
among tens of thousands of passages of other documents), a search that starts in the mass
rarely reaches the group. Measured with benchmarks/scaling.py at ~30k passages: recall@10
against exact search 0.17, golden-question hit@5 0.10 where exact search gives 0.73; a larger
``ef_search`` helps only partly (1,000: recall 0.59). So :meth:`PassageStore.query` also scores
the passages it is told to keep exact (the retriever passes the guidance articles) against
their stored vectors with one matrix product, and merges them with Chroma's hits.
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
from advisor.embeddings import QueryEmbedder
from advisor.errors import EmbeddingError, StoreError, first_line
from advisor.settings import IndexContext, Settings

if TYPE_CHECKING:
    from llama_index.core.base.embeddings.base import BaseEmbedding
    from llama_index.core.schema import TextNode

log = logging.getLogger(__name__)

#: ``progress(done, total, stage)`` is called while a sync embeds passages.
Progress = Callable[[int, int, str], None]
_PAGE = 5000
_PROBE_DEPTH = 10
_PROBES = 5


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
        #: Shared with the answer picker, so a question is embedded once per turn.
        self.embed_query = QueryEmbedder(embed_model)
        self.collection_name = f"{settings.collection_prefix}_{settings.embedding_fingerprint()}"
        self._client: Any = None
        self._collection: Any = None
        self._exact: tuple[tuple[str, ...], list[str], Any] | None = None

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
        self._exact = None

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

    def _probe(self, ids: Sequence[str]) -> None:
        """Self-retrieval: stored vectors must find themselves (or an identical copy) among
        their nearest neighbours. Raises when the store is damaged.

        The search is approximate (HNSW, see the module docstring): a vector from a small,
        isolated group (the articles among ~30k other passages, measured) can miss itself
        even in the top ``_PROBE_DEPTH``. So up to ``_PROBES`` vectors spread over ``ids``
        are probed and the store counts as damaged only when most of them miss; a damaged
        segment loses them all."""
        count = min(_PROBES, len(ids))
        sample = [ids[i * len(ids) // count] for i in range(count)]
        got = self._collection.get(ids=sample, include=["embeddings"])
        embeddings = got.get("embeddings")
        if embeddings is None or len(embeddings) < len(sample):
            raise RuntimeError("stored passages have no vectors")
        result = self._collection.query(
            query_embeddings=[list(e) for e in embeddings],
            n_results=min(_PROBE_DEPTH, max(1, int(self._collection.count()))),
            include=["distances"],
        )
        missed = sum(
            1
            for own, found, distances in zip(
                got["ids"], result["ids"], result["distances"], strict=True
            )
            if own not in found and not (distances and distances[0] <= 1e-3)
        )
        if missed * 2 > len(sample):
            raise RuntimeError(
                f"stored vectors do not retrieve themselves ({missed} of {len(sample)})"
            )

    def _wipe(self) -> None:
        """Remove a damaged embedded store (only the folder the advisor owns)."""
        from chromadb.api.shared_system_client import SharedSystemClient

        self._client = self._collection = self._exact = None
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
                self._probe(sorted(stored))
        except StoreError:
            raise
        except Exception as exc:
            repaired = (
                f"The index at {self.location} was damaged ({type(exc).__name__}: "
                f"{first_line(exc)}); rebuilding it from the corpus."
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
                    f"({type(again).__name__}: {first_line(again)}).",
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
            try:
                self._probe([p.passage_id for p in missing])
            except Exception as exc:
                raise StoreError(
                    f"The vectors just written to {self.location} cannot be found again "
                    f"({type(exc).__name__}: {first_line(exc)}).",
                    hint="Run `advisor index --rebuild`; if it happens again, report it.",
                ) from exc
        if self.embedded:
            self._drop_other_collections()

        stored_docs = {pid.split(":", 1)[0] for pid in stored}
        changed_docs = {p.doc_id for p in missing}
        corpus_docs = {d.doc_id for d in corpus.documents}
        self._exact = None
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
                    f"({type(exc).__name__}: {first_line(exc)}).",
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

    def query(self, text: str, k: int, exact: Sequence[str] = ()) -> list[tuple[str, float]]:
        """Dense search: ``(passage_id, cosine similarity)`` pairs, best first.

        Chroma's approximate hits are merged with an exact search over the passages in
        ``exact`` (their stored vectors, loaded once), so those are never lost to the
        approximation. The question is embedded once for both."""
        if self._collection is None:
            raise StoreError("The index is not open.", hint="Run `advisor index` first.")
        import numpy as np

        vector = self.embed_query(text)  # an EmbeddingError names the embedding settings
        try:
            # Chroma returns fewer than k hits (none on an empty collection) without error.
            found = self._collection.query(
                query_embeddings=[vector.tolist()], n_results=k, include=["distances"]
            )
            # Chroma's cosine distance is 1 - cosine similarity.
            scores = {
                pid: 1.0 - float(d)
                for pid, d in zip(found["ids"][0], found["distances"][0], strict=True)
            }
            if exact:
                ids, matrix = self._exact_vectors(exact)
                if ids:
                    norm = float(np.linalg.norm(vector)) or 1.0
                    sims = matrix @ (vector / norm)
                    top = np.argpartition(-sims, k)[:k] if len(sims) > k else range(len(sims))
                    for i in top:
                        scores[ids[i]] = float(sims[i])
        except Exception as exc:
            raise StoreError(
                f"The vector search failed ({type(exc).__name__}: {first_line(exc)}).",
                hint="Run `advisor index` to check and repair the index.",
            ) from exc
        return sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:k]

    def _exact_vectors(self, exact: Sequence[str]) -> tuple[list[str], Any]:
        """The stored vectors of ``exact`` as unit rows, cached until the next sync.

        A set with ids missing from the store (a sync cut short, another replica deleting
        them) is used but not cached, so the next query looks again."""
        import numpy as np

        key = tuple(exact)
        cached = self._exact
        if cached is not None and cached[0] == key:
            return cached[1], cached[2]
        ids: list[str] = []
        rows: list[Any] = []
        for start in range(0, len(key), _PAGE):
            page = self._collection.get(
                ids=list(key[start : start + _PAGE]), include=["embeddings"]
            )
            if len(page["ids"]):
                ids += page["ids"]
                rows.append(np.asarray(page["embeddings"], dtype=np.float32))
        matrix = np.vstack(rows) if rows else np.zeros((0, 1), dtype=np.float32)
        if len(matrix):
            norms = np.linalg.norm(matrix, axis=1, keepdims=True)
            matrix = matrix / np.where(norms == 0, 1.0, norms)
        if len(ids) == len(key):
            self._exact = (key, ids, matrix)
        else:
            log.warning(
                "%d of %d passages to search exactly have no stored vector; run `advisor index`",
                len(key) - len(ids),
                len(key),
            )
        return ids, matrix

    def count(self) -> int:
        return int(self._collection.count()) if self._collection is not None else 0


def _batches(items: Sequence[Passage], size: int) -> Iterable[Sequence[Passage]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
