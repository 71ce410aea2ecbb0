"""Index build throughput, restart cost and incremental re-embedding. One run, side by side.

Every embedding call goes through :class:`CountingEmbedding`, a llama-index
``BaseEmbedding`` that wraps the one loaded all-MiniLM-L6-v2 model and counts the texts it
embeds, so "nothing was embedded" is counted, not inferred. Each repetition works on a
fresh copy of the shipped corpus in a temporary folder and measures:

* **fresh build**: ours (``read_corpus`` + ``PassageStore.sync`` into an empty embedded
  Chroma store) vs the baseline a llama-index user would write,
  ``VectorStoreIndex.from_documents`` with the default ``SentenceSplitter`` into a fresh
  Chroma collection (``ChromaVectorStore`` in a new ``PersistentClient``), same model;
* **restart, unchanged corpus**: a new ``PassageStore`` on the same data folder (in this
  process) and a new process (``advisor`` code, new model load) must embed 0 passages;
  the baseline's restart is running ``from_documents`` again, which has no change detection;
* **one document edited**: a sentence appended to one article; only that article's
  passages may be re-embedded (and its old passages deleted).

Order of ours/baseline alternates between repetitions; a warm-up build of each runs first.
Reported: medians of the repetitions, passages/s and characters/s, and ratios to the baseline.

    python benchmarks/index_build.py [--repeat 3] [--out benchmarks/results/index_build.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import machine, write_result
from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr

from advisor.corpus import _front_matter
from advisor.deps import read_corpus
from advisor.embeddings import build_embedding_model
from advisor.settings import Settings, load_settings
from advisor.store import PassageStore, SyncReport, index_text

EDITED_DOC = "apptivity-nine-times-out-of-ten"
EDIT = "\n\nA sentence appended by benchmarks/index_build.py to change this article.\n"


class CountingEmbedding(BaseEmbedding):
    """Wraps a loaded embedding model and counts every text and query it embeds."""

    _inner: Any = PrivateAttr()
    _texts: int = PrivateAttr(default=0)
    _queries: int = PrivateAttr(default=0)

    def __init__(self, inner: BaseEmbedding) -> None:
        super().__init__(model_name=inner.model_name, embed_batch_size=inner.embed_batch_size)
        self._inner = inner

    @property
    def texts(self) -> int:
        return self._texts

    @property
    def queries(self) -> int:
        return self._queries

    def tokens(self, texts: list[str]) -> tuple[int, int]:
        """``(tokens in the texts, tokens the model actually sees)``: it truncates at max_length."""
        tokenizer, limit = self._inner._model.tokenizer, self._inner.max_length
        lengths = [len(tokenizer(t, add_special_tokens=True)["input_ids"]) for t in texts]
        return sum(lengths), sum(min(n, limit) for n in lengths)

    def reset(self) -> None:
        self._texts = self._queries = 0

    def _get_text_embedding(self, text: str) -> list[float]:
        self._texts += 1
        return self._inner._get_text_embedding(text)

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        self._texts += len(texts)
        return self._inner._get_text_embeddings(texts)

    def _get_query_embedding(self, query: str) -> list[float]:
        self._queries += 1
        return self._inner._get_query_embedding(query)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    async def _aget_text_embedding(self, text: str) -> list[float]:
        return self._get_text_embedding(text)


def counting_model() -> CountingEmbedding:
    return CountingEmbedding(build_embedding_model(load_settings()))


def settings_for(corpus_dir: Path, data_dir: Path) -> Settings:
    return load_settings(corpus_dir=corpus_dir, data_dir=data_dir)


def ours_sync(settings: Settings, model: CountingEmbedding) -> dict[str, Any]:
    """read_corpus + a new PassageStore + sync, timed; counted embeddings."""
    model.reset()
    started = time.perf_counter()
    corpus = read_corpus(settings)
    report: SyncReport = PassageStore(settings, model).sync(corpus)
    seconds = time.perf_counter() - started
    texts = [index_text(p, settings.index_context) for p in corpus.passages]
    tokens, seen = model.tokens(texts)
    return {
        "seconds": round(seconds, 3),
        "passages": report.total_passages,
        "embedded_reported": report.embedded,
        "embedded_counted": model.texts,
        "deleted": report.deleted,
        "changed_docs": list(report.added_docs),
        "chars_indexed": sum(len(t) for t in texts),
        "tokens": tokens,
        "tokens_embedded": seen,
    }


def baseline_build(corpus_dir: Path, chroma_dir: Path, model: CountingEmbedding) -> dict[str, Any]:
    """``VectorStoreIndex.from_documents`` with defaults into a Chroma collection, timed."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from llama_index.core import Document, StorageContext, VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.core.schema import MetadataMode
    from llama_index.vector_stores.chroma import ChromaVectorStore

    settings = load_settings(corpus_dir=corpus_dir)
    documents = [
        Document(text=d.text[_front_matter(d.text)[1] :], id_=d.doc_id)
        for d in read_corpus(settings).documents
    ]
    model.reset()
    started = time.perf_counter()
    client = chromadb.PersistentClient(
        path=str(chroma_dir), settings=ChromaSettings(anonymized_telemetry=False)
    )
    collection = client.get_or_create_collection("baseline")
    storage = StorageContext.from_defaults(vector_store=ChromaVectorStore(collection))
    index = VectorStoreIndex.from_documents(documents, storage_context=storage, embed_model=model)
    seconds = time.perf_counter() - started
    del index
    nodes = SentenceSplitter().get_nodes_from_documents(documents)  # the same split, untimed
    texts = [n.get_content(metadata_mode=MetadataMode.EMBED) for n in nodes]
    tokens, seen = model.tokens(texts)
    return {
        "seconds": round(seconds, 3),
        "passages": model.texts,
        "embedded_counted": model.texts,
        "collection_count_after": collection.count(),
        "chars_indexed": sum(len(t) for t in texts),
        "tokens": tokens,
        "tokens_embedded": seen,
    }


def child_restart(corpus_dir: Path, data_dir: Path) -> int:
    """``--child``: a new process opens the store on an unchanged corpus and syncs."""
    started = time.perf_counter()
    model = counting_model()
    loaded = time.perf_counter()
    row = ours_sync(settings_for(corpus_dir, data_dir), model)
    row["process_s_to_synced"] = round(time.perf_counter() - started, 3)
    row["model_load_s"] = round(loaded - started, 3)
    print(json.dumps(row))
    return 0


def new_process_restart(corpus_dir: Path, data_dir: Path) -> dict[str, Any]:
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(corpus_dir), str(data_dir)],
        check=True,
        capture_output=True,
        text=True,
    )
    row = json.loads(out.stdout.strip().splitlines()[-1])
    row["wall_s_incl_imports"] = round(time.perf_counter() - started, 3)
    return row


def one_repetition(tmp: Path, model: CountingEmbedding, ours_first: bool) -> dict[str, Any]:
    corpus_dir = tmp / "corpus"
    shutil.copytree(Path(load_settings().corpus_dir), corpus_dir)
    settings = settings_for(corpus_dir, tmp / "data")
    row: dict[str, Any] = {"ours_first": ours_first}
    steps = ["ours", "baseline"] if ours_first else ["baseline", "ours"]
    for step in steps:
        if step == "ours":
            row["fresh_ours"] = ours_sync(settings, model)
        else:
            row["fresh_baseline"] = baseline_build(corpus_dir, tmp / "baseline-chroma", model)
    row["restart_ours_same_process"] = ours_sync(settings, model)
    row["restart_ours_new_process"] = new_process_restart(corpus_dir, tmp / "data")
    row["restart_baseline_from_documents_again"] = baseline_build(
        corpus_dir, tmp / "baseline-chroma", model
    )
    edited = next(p for p in corpus_dir.glob("*.md") if p.stem == EDITED_DOC)
    edited.write_text(edited.read_text(encoding="utf-8") + EDIT, encoding="utf-8")
    row["edit_one_ours"] = ours_sync(settings, model)
    row["edit_one_baseline_from_documents_again"] = baseline_build(
        corpus_dir, tmp / "baseline-chroma", model
    )
    return row


def median_of(rows: list[dict[str, Any]], step: str, key: str) -> float:
    return round(statistics.median(float(r[step][key]) for r in rows), 3)


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        return child_restart(Path(sys.argv[2]), Path(sys.argv[3]))
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    host = machine()  # before the run: its load average is other work's

    model = counting_model()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        one_repetition(Path(tmp) / "warmup", model, ours_first=True)
        for i in range(args.repeat):
            rows.append(one_repetition(Path(tmp) / f"run{i}", model, ours_first=i % 2 == 0))
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)

    first = rows[0]
    edited_passages = sum(
        1 for p in read_corpus(load_settings()).passages if p.doc_id == EDITED_DOC
    )
    fresh = {}
    for name, step in (("ours", "fresh_ours"), ("baseline", "fresh_baseline")):
        seconds = median_of(rows, step, "seconds")
        passages = first[step]["passages"]
        chars = first[step]["chars_indexed"]
        seen = first[step]["tokens_embedded"]
        fresh[name] = {
            "median_s": seconds,
            "passages": passages,
            "passages_per_s": round(passages / seconds, 1),
            "chars_per_s": round(chars / seconds),
            "embedded_tokens_per_s": round(seen / seconds),
            "mean_chars_per_passage": round(chars / passages),
            "share_of_tokens_not_embedded": round(1 - seen / first[step]["tokens"], 3),
        }
    for row in fresh.values():
        row["seconds_ratio"] = round(row["median_s"] / fresh["baseline"]["median_s"], 2)
        row["passages_per_s_ratio"] = round(
            row["passages_per_s"] / fresh["baseline"]["passages_per_s"], 2
        )
        for key in ("chars_per_s", "embedded_tokens_per_s"):
            row[f"{key}_ratio"] = round(row[key] / fresh["baseline"][key], 2)

    def counts(step: str, key: str = "embedded_counted") -> list[int]:
        return [r[step][key] for r in rows]

    base_restart = median_of(rows, "restart_baseline_from_documents_again", "seconds")
    restart = {
        "ours, new PassageStore, same process": {
            "median_s": median_of(rows, "restart_ours_same_process", "seconds"),
            "embedded_counted": counts("restart_ours_same_process"),
            "embedded_reported": [
                r["restart_ours_same_process"]["embedded_reported"] for r in rows
            ],
        },
        "ours, new process (sync only)": {
            "median_s": median_of(rows, "restart_ours_new_process", "seconds"),
            "median_process_s_to_synced": median_of(
                rows, "restart_ours_new_process", "process_s_to_synced"
            ),
            "median_wall_s_incl_imports": median_of(
                rows, "restart_ours_new_process", "wall_s_incl_imports"
            ),
            "embedded_counted": counts("restart_ours_new_process"),
            "embedded_reported": counts("restart_ours_new_process", "embedded_reported"),
        },
        "baseline, from_documents again (baseline)": {
            "median_s": base_restart,
            "embedded_counted": counts("restart_baseline_from_documents_again"),
            "collection_count_after": [
                r["restart_baseline_from_documents_again"]["collection_count_after"] for r in rows
            ],
        },
    }
    for row in restart.values():
        row["seconds_ratio"] = round(row["median_s"] / base_restart, 3)
    base_edit = median_of(rows, "edit_one_baseline_from_documents_again", "seconds")
    edit = {
        "ours": {
            "median_s": median_of(rows, "edit_one_ours", "seconds"),
            "edited_doc": EDITED_DOC,
            "edited_doc_passages_before": edited_passages,
            "embedded_counted": counts("edit_one_ours"),
            "embedded_reported": counts("edit_one_ours", "embedded_reported"),
            "deleted": counts("edit_one_ours", "deleted"),
            "changed_docs": first["edit_one_ours"]["changed_docs"],
        },
        "baseline, from_documents again (baseline)": {
            "median_s": base_edit,
            "embedded_counted": counts("edit_one_baseline_from_documents_again"),
            "collection_count_after": [
                r["edit_one_baseline_from_documents_again"]["collection_count_after"] for r in rows
            ],
        },
    }
    for row in edit.values():
        row["seconds_ratio"] = round(row["median_s"] / base_edit, 3)

    result = {
        "machine": host,
        "load_average_1m": {
            "start": host["load_average_1m_before_run"],
            "end": round(os.getloadavg()[0], 2),
        },
        "repeat": args.repeat,
        "fresh_build_baseline": "baseline",
        "fresh_build": fresh,
        "restart_unchanged_corpus": restart,
        "edit_one_document": edit,
        "runs": rows,
    }
    write_result(result, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
