"""Which chunking and indexing context retrieves best? One run, every variant side by side.

For each passage target size and each indexing context (none / section / title+section),
build a fresh embedded Chroma index in a temporary folder (sharing one loaded embedding
model) and score hybrid, BM25-only and dense-only on the golden set in evals/.

    python benchmarks/retrieval_variants.py [--targets 300,500,700] [--out FILE.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from common import machine

from advisor.deps import read_corpus
from advisor.embeddings import build_embedding_model
from advisor.evaluation import (
    DEFAULT_RETRIEVAL_GOLDEN,
    HOLDOUT_RETRIEVAL_GOLDEN,
    GoldenSet,
    evaluate_retrieval,
    load_golden,
    unanswerable,
)
from advisor.retrieval import HybridRetriever
from advisor.settings import IndexContext, load_settings
from advisor.store import PassageStore


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--targets", default="300,450,600,700,900,1200")
    parser.add_argument("--contexts", default=",".join(c.value for c in IndexContext))
    parser.add_argument("--rrf-k", default="60")
    parser.add_argument("--expansion", default="false,true")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    host = machine()  # before the run: its load average is other work's

    golden_sets = {"tuning": load_golden(DEFAULT_RETRIEVAL_GOLDEN)}
    if HOLDOUT_RETRIEVAL_GOLDEN.exists():
        golden_sets["holdout"] = load_golden(HOLDOUT_RETRIEVAL_GOLDEN)
    embed_model = build_embedding_model(load_settings())
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for target in [int(t) for t in args.targets.split(",")]:
            for context in args.contexts.split(","):
                for rrf_k in [int(k) for k in args.rrf_k.split(",")]:
                    for expansion in [e == "true" for e in args.expansion.split(",")]:
                        rows.append(
                            run_variant(
                                Path(tmp),
                                embed_model,
                                golden_sets,
                                target,
                                context,
                                rrf_k,
                                expansion,
                            )
                        )
    if args.out:
        args.out.write_text(
            json.dumps(
                {
                    "machine": host,
                    "questions": {k: len(g.questions) for k, g in golden_sets.items()},
                    "rows": rows,
                },
                indent=2,
            )
        )
    return 0


def run_variant(
    tmp: Path,
    embed_model: object,
    golden_sets: dict[str, GoldenSet],
    target: int,
    context: str,
    rrf_k: int,
    expansion: bool,
) -> dict[str, object]:
    settings = load_settings(
        data_dir=tmp / f"{target}-{context}",
        passage_target_chars=target,
        index_context=context,
        rrf_k=rrf_k,
        query_expansion=expansion,
    )
    corpus = read_corpus(settings)
    store = PassageStore(settings, embed_model)  # type: ignore[arg-type]
    started = time.perf_counter()
    store.sync(corpus)
    build_s = time.perf_counter() - started
    retriever = HybridRetriever(corpus, store, settings)
    row: dict[str, object] = {
        "target_chars": target,
        "context": context,
        "rrf_k": rrf_k,
        "expansion": expansion,
        "passages": len(corpus.passages),
        "build_s": round(build_s, 2),
    }
    line = (
        f"target={target:<5} ctx={context:<13} k={rrf_k:<3} exp={expansion!s:<5} "
        f"passages={len(corpus.passages):<4}"
    )
    for name, golden in golden_sets.items():
        scores = evaluate_retrieval(retriever, golden)
        row[name] = {
            "unanswerable": len(unanswerable(golden, corpus)),
            **{s.mode: s.to_json() for s in scores},
        }
        line += f" | {name}: " + " ".join(
            f"{s.mode[:2]} h5={s.hit_at[5]:.2f} mrr={s.mrr:.3f}" for s in scores
        )
    print(line, flush=True)
    return row


if __name__ == "__main__":
    sys.exit(main())
