"""What does a turn cost beyond retrieval? One run, side by side, warm, no LLM.

Over the same index and the same questions (the 80 retrieval golden questions), it times:

* bare dense retrieval, the baseline: what a llama-index user would write over the same Chroma
  collection and the same loaded model (``VectorStoreIndex.from_vector_store`` over a
  ``ChromaVectorStore``, ``as_retriever(similarity_top_k=6).retrieve``), no advisor code;
* the advisor's dense search (``PassageStore.query``: one Chroma query merged with an exact
  search over the guidance articles' vectors, k=6);
* hybrid retrieval (BM25 + dense + fusion, k=6);
* a full question turn (``Advisor.reply`` in a fresh conversation: extraction, engine,
  retrieval, sentence scoring, reply text, markers);
* a full situation turn (a statement: extraction, engine, reply with quoted gates);

and reports p50/p95 in milliseconds and each as a ratio to bare dense retrieval. Then, cold:
the wall time of ``advisor ask`` in a new process against the bare import time of the
libraries it needs, three runs each.

    python benchmarks/turn_latency.py [--repeat 3] [--out benchmarks/results/turn_latency.json]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from common import machine, summary, write_result

SITUATIONS = [
    "We classify 500k support tickets a day into 12 categories. No eval set yet.",
    "We route 2M requests a month into 15 intents, unchanged for two years.",
    "We have 300 labeled examples and nobody reviewed them.",
    "Our best prompt scores 82% on our eval and the task needs 95%.",
]
IMPORTS = (
    "import chromadb, llama_index.core, sentence_transformers, "
    "llama_index.vector_stores.chroma, llama_index.retrievers.bm25"
)


def timed(fn: Any, *args: Any) -> float:
    started = time.perf_counter()
    fn(*args)
    return time.perf_counter() - started


def bare_dense_retriever(store: Any, k: int) -> Any:
    """A plain llama-index retriever over the advisor's Chroma collection and model."""
    from llama_index.core import VectorStoreIndex
    from llama_index.vector_stores.chroma import ChromaVectorStore

    vector_store = ChromaVectorStore(chroma_collection=store._collection)
    index = VectorStoreIndex.from_vector_store(vector_store, embed_model=store.embed_model)
    return index.as_retriever(similarity_top_k=k)


def cold(command: list[str], runs: int) -> dict[str, float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return {
        "runs": runs,
        "median_s": round(statistics.median(times), 2),
        "min_s": round(min(times), 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3, help="passes over the questions")
    parser.add_argument("--cold-runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    host = machine()  # before the run: its load average is other work's

    from advisor.chat import Advisor, Conversation
    from advisor.deps import build_deps
    from advisor.evaluation import DEFAULT_RETRIEVAL_GOLDEN, HOLDOUT_RETRIEVAL_GOLDEN, load_golden

    deps = build_deps()
    advisor = Advisor.from_deps(deps)
    advisor.llm = None
    bare = bare_dense_retriever(deps.store, k=6)
    questions = [
        q.question
        for p in (DEFAULT_RETRIEVAL_GOLDEN, HOLDOUT_RETRIEVAL_GOLDEN)
        for q in load_golden(p).questions
    ]

    # warm every path once (model, BM25 index, sentence vectors)
    for q in questions:
        advisor.reply(Conversation(), q)
    for s in SITUATIONS:
        advisor.reply(Conversation(), s)

    for q in questions:
        bare.retrieve(q)
    # Each timed call meets its question for the first time: the question-vector cache (which
    # lets a turn embed its question once) is emptied before it, so no call reuses another's.
    forget = deps.store.embed_query.clear
    dense, advisor_dense, hybrid, question_turn, situation_turn = [], [], [], [], []
    for _ in range(args.repeat):
        for q in questions:
            dense.append(timed(bare.retrieve, q))
            forget()
            advisor_dense.append(timed(deps.store.query, q, 6, deps.retriever.exact_ids))
            forget()
            hybrid.append(timed(deps.retriever.search, q, 6))
            forget()
            question_turn.append(timed(advisor.reply, Conversation(), q))
        for s in SITUATIONS * 5:
            situation_turn.append(timed(advisor.reply, Conversation(), s))

    rows = {
        "bare dense retrieval (baseline)": summary(dense),
        "advisor dense search (Chroma + exact articles)": summary(advisor_dense),
        "hybrid retrieval": summary(hybrid),
        "question turn (Advisor.reply)": summary(question_turn),
        "situation turn (Advisor.reply)": summary(situation_turn),
    }
    base = rows["bare dense retrieval (baseline)"]["p50_ms"]
    for row in rows.values():
        row["p50_ratio_to_dense"] = round(row["p50_ms"] / base, 2)

    python = sys.executable
    cold_rows = {
        "bare import of chromadb, llama-index (core, chroma, bm25), sentence-transformers "
        "(baseline)": cold([python, "-c", IMPORTS], args.cold_runs),
        "advisor ask (cold process, first reply)": cold(
            [python, "-m", "advisor.cli", "ask", "How many examples do we need for LoRA?"],
            args.cold_runs,
        ),
    }
    first = next(iter(cold_rows.values()))["median_s"]
    for row in cold_rows.values():
        row["ratio_to_imports"] = round(row["median_s"] / first, 2)

    result = {
        "machine": host,
        "questions": len(questions),
        "repeat": args.repeat,
        "warm": rows,
        "cold": cold_rows,
    }
    write_result(result, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
