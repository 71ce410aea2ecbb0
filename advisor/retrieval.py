"""Hybrid retrieval: BM25 and dense results fused by reciprocal rank.

BM25 comes from ``llama-index-retrievers-bm25`` (bm25s with a Snowball stemmer), built in
memory from the corpus passages at start-up; dense results come from the Chroma store.
Both index the same text (the passage plus its title and section, see
:func:`advisor.store.index_text`).

Fusion is reciprocal-rank fusion (Cormack et al., k=60). We do not use llama-index's
``QueryFusionRetriever`` for it: it resolves a default LLM when constructed and keys nodes
by a content hash that differs between the BM25 copy of a node and the one read back
from Chroma; fusing on passage ids is ten lines and keeps the ranking deterministic.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from advisor.corpus import Corpus, Passage
from advisor.errors import QueryError
from advisor.query_expansion import load_expander
from advisor.settings import Settings
from advisor.store import PassageStore, to_node

log = logging.getLogger(__name__)


class RetrievalMode(StrEnum):
    HYBRID = "hybrid"
    BM25 = "bm25"
    DENSE = "dense"


@dataclass(frozen=True)
class SearchHit:
    """One retrieved passage and how it ranked."""

    passage: Passage
    score: float
    rank: int
    bm25_rank: int | None = None
    dense_rank: int | None = None

    def to_json(self) -> dict[str, Any]:
        p = self.passage
        return {
            "rank": self.rank,
            "doc_id": p.doc_id,
            "title": p.title,
            "section": p.section,
            "text": p.text,
            "score": round(self.score, 6),
            "passage_id": p.passage_id,
            "start": p.start,
            "end": p.end,
            "bm25_rank": self.bm25_rank,
            "dense_rank": self.dense_rank,
        }


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def clean_query(text: object, max_chars: int) -> str:
    """Normalise a query, or raise :class:`QueryError` with a message a user can act on."""
    if not isinstance(text, str):
        raise QueryError("The query must be text.")
    cleaned = _CONTROL.sub(" ", unicodedata.normalize("NFC", text)).strip()
    cleaned = "".join(ch for ch in cleaned if not 0xD800 <= ord(ch) <= 0xDFFF)
    if not cleaned:
        raise QueryError(
            "The query is empty.",
            hint='Type a few words, e.g. "how many labeled examples do we need".',
        )
    if len(cleaned) > max_chars:
        raise QueryError(
            f"The query is {len(cleaned):,} characters long; the limit is {max_chars:,}.",
            hint="Ask the question itself in a sentence or two.",
        )
    return cleaned


def reciprocal_rank_fusion(
    rankings: list[list[str]], k: int = 60
) -> list[tuple[str, float, list[int | None]]]:
    """Fuse ranked id lists: ``(id, score, [rank in each list or None])``, best first.

    Ties break on the best single rank, then on the id, so results are deterministic.
    """
    scores: dict[str, float] = {}
    ranks: dict[str, list[int | None]] = {}
    for list_index, ranking in enumerate(rankings):
        for position, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + position)
            ranks.setdefault(item, [None] * len(rankings))[list_index] = position

    def best_rank(item: str) -> int:
        return min(r for r in ranks[item] if r is not None)

    ordered = sorted(scores, key=lambda i: (-scores[i], best_rank(i), i))
    return [(i, scores[i], ranks[i]) for i in ordered]


class HybridRetriever:
    """Search the corpus by BM25, by vectors, or both fused."""

    def __init__(self, corpus: Corpus, store: PassageStore, settings: Settings) -> None:
        self.corpus = corpus
        self.store = store
        self.settings = settings
        self._bm25: Any = None
        corpus_dir = settings.corpus_dir.resolve()
        guidance = {
            d.doc_id for d in corpus.documents if d.path.resolve().is_relative_to(corpus_dir)
        }
        #: The guidance articles' passages: searched exactly beside Chroma's approximate
        #: index, so other documents, however many, cannot push them out (see advisor.store).
        self.exact_ids = tuple(p.passage_id for p in corpus.passages if p.doc_id in guidance)

    def _bm25_retriever(self, k: int) -> Any:
        if self._bm25 is None:
            from llama_index.core.schema import BaseNode
            from llama_index.retrievers.bm25 import BM25Retriever

            nodes: list[BaseNode] = [
                to_node(p, self.settings.index_context) for p in self.corpus.passages
            ]
            if not nodes:
                return None
            logging.getLogger("llama_index.retrievers.bm25.base").setLevel(logging.ERROR)
            logging.getLogger("bm25s").setLevel(logging.WARNING)
            self._bm25 = BM25Retriever(nodes=nodes, similarity_top_k=min(k, len(nodes)))
        self._bm25.similarity_top_k = min(k, len(self.corpus.passages))
        return self._bm25

    def _expand(self, query: str) -> str:
        """Add the articles' words to the keyword query (measured: it helps BM25 on the
        held-out questions and hurts the dense retriever, so dense gets the query as is)."""
        if not self.settings.query_expansion:
            return query
        return load_expander(self.settings.rules_dir / "query_expansion.yaml").expand(query)

    def bm25_ids(self, query: str, k: int) -> list[str]:
        retriever = self._bm25_retriever(k)
        if retriever is None:
            return []
        hits = retriever.retrieve(query)
        return [h.node.node_id for h in hits if (h.score or 0.0) > 0.0]

    def dense_ids(self, query: str, k: int) -> list[str]:
        hits = self.store.query(query, k, exact=self.exact_ids)
        return [pid for pid, _ in hits if self.corpus.passage(pid)]

    def search(
        self, query: str, k: int = 5, mode: RetrievalMode = RetrievalMode.HYBRID
    ) -> list[SearchHit]:
        """The ``k`` best passages for ``query``, best first."""
        query = clean_query(query, self.settings.max_query_chars)
        if k < 1:
            raise QueryError("-k must be at least 1.")
        candidates = max(k, self.settings.retrieval_candidates)
        rankings: list[list[str]] = []
        if mode in (RetrievalMode.HYBRID, RetrievalMode.BM25):
            rankings.append(self.bm25_ids(self._expand(query), candidates))
        if mode in (RetrievalMode.HYBRID, RetrievalMode.DENSE):
            rankings.append(self.dense_ids(query, candidates))
        fused = reciprocal_rank_fusion(rankings, k=self.settings.rrf_k)
        hits: list[SearchHit] = []
        for rank, (pid, score, ranks) in enumerate(fused[:k], start=1):
            passage = self.corpus.passage(pid)
            if passage is None:  # pragma: no cover - ids come from this corpus
                continue
            bm25_rank = ranks[0] if mode is not RetrievalMode.DENSE else None
            dense_rank = ranks[-1] if mode is not RetrievalMode.BM25 else None
            hits.append(SearchHit(passage, score, rank, bm25_rank, dense_rank))
        return hits
