"""Our retriever vs what llama-index builds by default, on the same articles. One run.

The baseline is what a user would write with llama-index defaults:
``VectorStoreIndex.from_documents`` over the corpus articles (one llama-index ``Document``
per article: the same text the advisor parses, front matter removed, ``id_`` set to the
advisor's document id), the default node parser (``SentenceSplitter()``: 1,024 tokens,
200 overlap), the default in-memory vector store, the SAME loaded embedding model object,
and ``index.as_retriever()`` (``similarity_top_k=2``); also ``similarity_top_k=6`` (a fair
hit@5) and 10 (a fair MRR@10). An extra row, not a default, splits at 256 tokens (about
our passage size) to separate the effect of chunk size from the effect of the retriever.

Ours: the advisor's ``HybridRetriever`` (and its dense-only and BM25-only modes) from
``advisor.deps.build_deps`` on a fresh data folder in a temporary directory.

Quality on both golden sets (``evals/retrieval.yaml``, ``evals/retrieval_holdout.yaml``):
hit@1, hit@5, MRR@10 with the same judgement as ``advisor.evaluation``: a chunk is
relevant when it comes from the named article and contains the answer phrase. Latency:
p50/p95 per query, warm, every retriever timed in the same loop over the same questions.

    python benchmarks/vs_llamaindex_defaults.py [--repeat 3]
        [--out benchmarks/results/vs_llamaindex_defaults.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common import machine, summary, write_result

from advisor.corpus import Corpus, Passage, _front_matter
from advisor.deps import build_deps
from advisor.evaluation import (
    DEFAULT_RETRIEVAL_GOLDEN,
    DEPTH,
    HOLDOUT_RETRIEVAL_GOLDEN,
    GoldenSet,
    evaluate_retrieval,
    first_relevant_rank,
    load_golden,
    score_ranks,
)
from advisor.retrieval import RetrievalMode
from advisor.settings import load_settings
from advisor.store import index_text

LATENCY_K = 6


def llamaindex_documents(corpus: Corpus) -> list[Any]:
    """One llama-index Document per article: the text the advisor parses, front matter off."""
    from llama_index.core import Document

    return [
        Document(text=doc.text[_front_matter(doc.text)[1] :], id_=doc.doc_id)
        for doc in corpus.documents
    ]


def as_passage(node: Any, rank: int) -> Passage:
    """A default chunk seen as a Passage, so ``GoldenQuestion.is_relevant`` judges it."""
    return Passage(
        passage_id=node.node_id,
        doc_id=node.ref_doc_id,
        title="",
        section="",
        text=node.get_content(),
        start=0,
        end=0,
        ordinal=rank,
    )


def default_index(corpus: Corpus, embed_model: Any, splitter: Any = None) -> tuple[Any, float]:
    from llama_index.core import VectorStoreIndex

    started = time.perf_counter()
    kwargs = {"transformations": [splitter]} if splitter is not None else {}
    index = VectorStoreIndex.from_documents(
        llamaindex_documents(corpus), embed_model=embed_model, **kwargs
    )
    return index, time.perf_counter() - started


def chunks_of(index: Any) -> list[Any]:
    return list(index.docstore.docs.values())


def evaluate_default(
    retriever: Any, golden: GoldenSet, chunks: list[Any], name: str
) -> dict[str, Any]:
    ranks = {}
    returned_chars = []
    for q in golden.questions:
        hits = retriever.retrieve(q.question)
        passages = [as_passage(h.node, i) for i, h in enumerate(hits[:DEPTH], start=1)]
        ranks[q.id] = first_relevant_rank(q, passages)
        returned_chars.append(sum(len(p.text) for p in passages[:5]))
    answerable = sum(any(q.is_relevant(as_passage(c, 0)) for c in chunks) for q in golden.questions)
    return {
        **score_ranks(name, ranks).to_json(),
        "answerable": answerable,
        "mean_chars_in_top5": round(statistics.mean(returned_chars)),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3, help="latency passes over the questions")
    parser.add_argument("--small-chunk", type=int, default=256, help="extra row: tokens per chunk")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    host = machine()  # before the run: its load average is other work's

    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.core.schema import MetadataMode

    golden_sets = {
        "tuning": load_golden(DEFAULT_RETRIEVAL_GOLDEN),
        "holdout": load_golden(HOLDOUT_RETRIEVAL_GOLDEN),
    }
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        deps = build_deps(load_settings(data_dir=Path(tmp) / "data"))
        ours_build_s = time.perf_counter() - started
        embed_model = deps.store.embed_model  # the SAME loaded model object for the baseline
        corpus = deps.corpus

        default, default_build_s = default_index(corpus, embed_model)
        small_splitter = SentenceSplitter(
            chunk_size=args.small_chunk, chunk_overlap=args.small_chunk // 10
        )
        small, small_build_s = default_index(corpus, embed_model, small_splitter)
        default_chunks, small_chunks = chunks_of(default), chunks_of(small)
        tokenizer = embed_model._model.tokenizer  # the model's own WordPiece tokenizer
        limit = embed_model.max_length

        def shape(texts: list[str]) -> dict[str, float]:
            tokens = [len(tokenizer(t, add_special_tokens=True)["input_ids"]) for t in texts]
            return {
                "chunks": len(texts),
                "mean_chars": round(statistics.mean(len(t) for t in texts)),
                "max_chars": max(len(t) for t in texts),
                "mean_model_tokens": round(statistics.mean(tokens)),
                f"chunks_over_{limit}_tokens": sum(n > limit for n in tokens),
                "share_of_tokens_not_embedded": round(
                    sum(max(0, n - limit) for n in tokens) / sum(tokens), 3
                ),
            }

        index_info = {
            "ours": {
                **shape([index_text(p, deps.settings.index_context) for p in corpus.passages]),
                "build_s_incl_model_load": round(ours_build_s, 2),
            },
            "llama-index defaults": {
                **shape([c.get_content(metadata_mode=MetadataMode.EMBED) for c in default_chunks]),
                "build_s": round(default_build_s, 2),
            },
            f"SentenceSplitter({args.small_chunk})": {
                **shape([c.get_content(metadata_mode=MetadataMode.EMBED) for c in small_chunks]),
                "build_s": round(small_build_s, 2),
            },
        }
        print(json.dumps(index_info), file=sys.stderr, flush=True)
        baselines: dict[str, tuple[Any, list[Any]]] = {
            "llama-index defaults, as_retriever() (top_k=2)": (
                default.as_retriever(),
                default_chunks,
            ),
            "llama-index defaults, top_k=6": (
                default.as_retriever(similarity_top_k=6),
                default_chunks,
            ),
            "llama-index defaults, top_k=10": (
                default.as_retriever(similarity_top_k=DEPTH),
                default_chunks,
            ),
            f"llama-index, SentenceSplitter({args.small_chunk} tokens), top_k=10 (not a default)": (
                small.as_retriever(similarity_top_k=DEPTH),
                small_chunks,
            ),
        }

        quality: dict[str, dict[str, Any]] = {}
        for set_name, golden in golden_sets.items():
            rows: dict[str, Any] = {}
            for name, (retriever, chunks) in baselines.items():
                rows[name] = evaluate_default(retriever, golden, chunks, name)
            for scores in evaluate_retrieval(deps.retriever, golden):
                rows[f"ours, {scores.mode}"] = {
                    **scores.to_json(),
                    "answerable": sum(
                        any(q.is_relevant(p) for p in corpus.passages) for q in golden.questions
                    ),
                    "mean_chars_in_top5": round(
                        statistics.mean(
                            sum(
                                len(h.passage.text)
                                for h in deps.retriever.search(q.question, k=5, mode=scores.mode)
                            )
                            for q in golden.questions
                        )
                    ),
                }
            base = rows["llama-index defaults, top_k=10"]
            for row in rows.values():
                for metric in ("hit@1", "hit@5", "mrr"):
                    row[f"{metric}_ratio"] = (
                        round(row[metric] / base[metric], 2) if base[metric] else None
                    )
            quality[set_name] = rows

        # latency: warm, every retriever in the same loop over the same questions
        questions = [q.question for g in golden_sets.values() for q in g.questions]
        timed: dict[str, Callable[[str], object]] = {
            "llama-index defaults, as_retriever() (top_k=2)": default.as_retriever().retrieve,
            f"llama-index defaults, top_k={LATENCY_K}": default.as_retriever(
                similarity_top_k=LATENCY_K
            ).retrieve,
            f"ours, hybrid, k={LATENCY_K}": lambda q: deps.retriever.search(
                q, k=LATENCY_K, mode=RetrievalMode.HYBRID
            ),
            f"ours, dense, k={LATENCY_K}": lambda q: deps.retriever.search(
                q, k=LATENCY_K, mode=RetrievalMode.DENSE
            ),
            f"ours, bm25, k={LATENCY_K}": lambda q: deps.retriever.search(
                q, k=LATENCY_K, mode=RetrievalMode.BM25
            ),
        }
        for fn in timed.values():  # warm
            for q in questions:
                fn(q)
        samples: dict[str, list[float]] = {name: [] for name in timed}
        for _ in range(args.repeat):
            for q in questions:
                for name, fn in timed.items():
                    # Each call meets the question new: ours would otherwise reuse the
                    # vector the previous row embedded (the turn's question cache).
                    deps.store.embed_query.clear()
                    t0 = time.perf_counter()
                    fn(q)
                    samples[name].append(time.perf_counter() - t0)
        latency = {name: summary(values) for name, values in samples.items()}
        base_ms = latency[f"llama-index defaults, top_k={LATENCY_K}"]
        for row in latency.values():
            row["p50_ratio"] = round(row["p50_ms"] / base_ms["p50_ms"], 2)
            row["p95_ratio"] = round(row["p95_ms"] / base_ms["p95_ms"], 2)

    result = {
        "machine": host,
        "load_average_1m": {
            "start": host["load_average_1m_before_run"],
            "end": round(os.getloadavg()[0], 2),
        },
        "questions": {k: len(g.questions) for k, g in golden_sets.items()},
        "repeat": args.repeat,
        "index": index_info,
        "quality_baseline": "llama-index defaults, top_k=10",
        "quality": quality,
        "latency_baseline": f"llama-index defaults, top_k={LATENCY_K}",
        "latency": latency,
    }
    write_result(result, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
