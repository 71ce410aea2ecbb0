"""Scaling curve: the articles mixed with ~1k, ~10k and ~100k passages of other real text.

Where does the advisor bend as the corpus grows? The filler is real English prose that ships
with Python: ``pydoc_data.topics`` (the language reference behind ``help()``) and the
docstrings of the standard library, topped up, for the larger sizes, with the docstrings of
well-documented packages installed beside it (numpy, scipy, sympy, pandas, torch, ...; the
results record how many passages came from each), and after all docstrings the prose comment
blocks of the same files (the docstrings alone give about 78k passages). Each
docstring becomes a section of a Markdown document, so the corpus goes through the same
reader, chunker, store and retrievers as the articles; identical docstrings are dropped.

For every size (and the articles alone, the baseline) and every store (embedded Chroma, and
a Chroma server started here with ``chroma run`` on 127.0.0.1), a fresh process:

* loads the corpus and builds the index (time to read and chunk, time to embed, time to
  write the vectors); vectors are cached on disk by text hash, so each passage is embedded
  once in the whole run and both stores are written with the same vectors;
* times the golden retrieval questions (80, warm; hybrid and dense-only, k=10), and scores
  them: hit@5 and MRR against the article answers, and the share of the top 5 that are
  article passages;
* times a full question turn (``Advisor.reply``, 74 answerable questions of
  ``evals/questions.yaml``), and counts how many replies still quote only the articles;
* searches the same question vectors with Chroma's HNSW alone, with the advisor's dense
  search (HNSW plus an exact search over the articles), and exactly over every stored vector
  (numpy), and reports HNSW's recall@10 against exact search;
* reports its peak RSS (and the Chroma server's, in server mode).

    python benchmarks/scaling.py [--scales 1000,10000,30000,100000] [--stores embedded,server] \
        [--work /tmp/advisor-scaling] [--out benchmarks/results/scaling.json]

Embedding 100k passages takes a while on 2 cores (the run prints the measured rate); the
pool of filler documents and the vector cache stay in ``--work`` for the next run.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from common import machine, summary

from tests.fault_server import free_port, serving

# Installed packages whose docstrings top up the pool, in this order (big, prose-rich ones).
PACKAGES = (
    "numpy",
    "scipy",
    "sympy",
    "pandas",
    "sklearn",
    "torch",
    "networkx",
    "sqlalchemy",
    "transformers",
    "nltk",
    "streamlit",
    "altair",
    "playwright",
    "openai",
    "llama_index",
    "mypy",
    "reportlab",
    "pygments",
    "huggingface_hub",
    "aiohttp",
    "setuptools",
    "pip",
    # Generated API reference, much of it near-identical (exact repeats are dropped).
    "kubernetes",
    # Appended to reach ~100k passages; appending keeps the earlier documents (and their
    # cached vectors) unchanged.
    "onnxruntime",
    "chromadb",
    "sentence_transformers",
    "narwhals",
    "pyarrow",
    "PIL",
    "mpmath",
    "_pytest",
    "torchgen",
    "opentelemetry",
    "mypyc",
    "google",
    "pydantic",
    "hypothesis",
    "rich",
    "psycopg",
)
MIN_DOCSTRING_CHARS = 200
MIN_COMMENT_CHARS = 120


# --------------------------------------------------------------------------- filler pool


def _docstring_sections(path: Path) -> list[tuple[str, str]]:
    """``(heading, docstring)`` for the module, classes and functions of one source file."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (SyntaxError, UnicodeDecodeError, ValueError, OSError):
        return []
    sections = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            doc = ast.get_docstring(node)
            if doc and len(doc) >= MIN_DOCSTRING_CHARS:
                name = getattr(node, "name", "module")
                sections.append((name, doc))
    return sections


def _comment_sections(path: Path) -> list[tuple[str, str]]:
    """``(heading, text)`` for each block of ``#`` comment lines in one source file that reads
    as prose (at least MIN_COMMENT_CHARS, mostly letters and spaces)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (UnicodeDecodeError, OSError):
        return []
    sections: list[tuple[str, str]] = []
    block: list[str] = []
    first = 0
    for number, line in enumerate([*lines, ""], start=1):
        stripped = line.strip()
        if stripped.startswith("#") and not stripped.startswith("#!"):
            if not block:
                first = number
            block.append(stripped.lstrip("#").strip())
            continue
        text = " ".join(block).strip()
        block = []
        if len(text) >= MIN_COMMENT_CHARS:
            prose = sum(c.isalpha() or c == " " for c in text) / len(text)
            if prose >= 0.8:
                sections.append((f"comment at line {first}", text))
    return sections


def _markdown(title: str, source: str, sections: list[tuple[str, str]]) -> str:
    lines = ["---", f"title: {json.dumps(title)}", f"source: {json.dumps(source)}", "---", ""]
    lines.append(f"# {title}")
    for heading, text in sections:
        # A docstring line that looks like a Markdown heading would start a new section.
        body = "\n".join(
            ("\\" + ln) if ln.lstrip().startswith("#") else ln for ln in text.splitlines()
        )
        lines += ["", f"## {heading}", "", body]
    return "\n".join(lines) + "\n"


def _sources() -> Any:
    """Yield ``(name, title, source, sections)``: pydoc topics, the stdlib, then packages."""
    import pydoc_data.topics
    import sysconfig

    topics = sorted(pydoc_data.topics.topics.items())
    for start in range(0, len(topics), 10):
        chunk = topics[start : start + 10]
        yield (
            f"pydoc-topics-{start:03d}",
            f"Python language reference topics {start}-{start + len(chunk) - 1}",
            "pydoc_data.topics",
            [(name, text) for name, text in chunk],
        )
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    roots: list[tuple[str, Path]] = [("stdlib", stdlib)]
    site = Path(sysconfig.get_paths()["purelib"])
    roots += [(name, site / name) for name in PACKAGES if (site / name).is_dir()]
    # Docstrings first; then, appended so the documents before them stay unchanged, the
    # prose comment blocks of the same files (the docstrings alone give about 78k passages).
    for kind, reader in (("", _docstring_sections), ("comments", _comment_sections)):
        for label, root in roots:
            for path in sorted(root.rglob("*.py")):
                rel = path.relative_to(root)
                parts = set(rel.parts)
                if parts & {"test", "tests", "site-packages", "idlelib", "lib2to3"}:
                    continue
                sections = reader(path)
                if sections:
                    module = ".".join(rel.with_suffix("").parts)
                    name = f"{label}-{module}" + (f"-{kind}" if kind else "")
                    title = f"{label}: {module}" + (f" ({kind})" if kind else "")
                    yield name.replace("/", "-"), title, f"{label}/{rel}", sections


def build_pool(work: Path, needed: int, target_chars: int) -> list[dict[str, Any]]:
    """Write filler documents into ``work/pool`` until they hold ``needed`` passages."""
    from advisor.corpus import document_from_text, slugify

    pool_dir = work / "pool"
    manifest = work / "pool.json"
    if manifest.is_file():
        entries: list[dict[str, Any]] = json.loads(manifest.read_text())
        if sum(e["passages"] for e in entries) >= needed:
            return entries
    shutil.rmtree(pool_dir, ignore_errors=True)
    pool_dir.mkdir(parents=True)
    entries, seen, total = [], set(), 0
    started = time.perf_counter()
    for name, title, source, sections in _sources():
        fresh = []
        for heading, text in sections:
            key = hashlib.sha1(text.encode("utf-8", "replace")).hexdigest()
            if key not in seen:
                seen.add(key)
                fresh.append((heading, text))
        if not fresh:
            continue
        text = _markdown(title, source, fresh)
        file = pool_dir / f"{len(entries):06d}-{slugify(name)[:80]}.md"
        try:
            doc = document_from_text(text, path=file, target_chars=target_chars)
        except Exception:
            continue
        file.write_text(text, encoding="utf-8")
        entries.append({"file": file.name, "passages": len(doc.passages), "source": source})
        total += len(doc.passages)
        if total >= needed:
            break
    print(
        f"pool: {len(entries)} documents, {total} passages in {time.perf_counter() - started:.0f} s"
    )
    manifest.write_text(json.dumps(entries))
    return entries


def scale_folder(
    work: Path, entries: list[dict[str, Any]], filler: int
) -> tuple[Path, dict[str, int]]:
    """A folder linking the first documents of the pool (about ``filler`` passages), and how
    many passages each source contributed."""
    folder = work / f"filler-{filler}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    total = 0
    sources: dict[str, int] = {}
    for entry in entries:
        if total >= filler:
            break
        os.link(work / "pool" / entry["file"], folder / entry["file"])
        total += entry["passages"]
        label = entry["source"].split("/", 1)[0]
        sources[label] = sources.get(label, 0) + entry["passages"]
    return folder, sources


# --------------------------------------------------------------------------- child process


def caching_embedding(inner: Any, cache_path: Path) -> Any:
    """The real model behind a disk cache of passage vectors (queries are never cached)."""
    import numpy as np
    from llama_index.core.base.embeddings.base import BaseEmbedding
    from pydantic import PrivateAttr

    class CachedEmbedding(BaseEmbedding):
        _inner: Any = PrivateAttr()
        _db: Any = PrivateAttr()
        computed: int = 0
        served: int = 0
        compute_s: float = 0.0

        def __init__(self, **data: Any) -> None:
            super().__init__(model_name="cached", embed_batch_size=inner.embed_batch_size)
            self._inner = inner
            self._db = sqlite3.connect(cache_path)
            self._db.execute("CREATE TABLE IF NOT EXISTS v (k TEXT PRIMARY KEY, e BLOB)")

        def _get_query_embedding(self, query: str) -> list[float]:
            return list(self._inner.get_query_embedding(query))

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

        def _get_text_embedding(self, text: str) -> list[float]:
            return self._get_text_embeddings([text])[0]

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            keys = [hashlib.sha1(t.encode("utf-8", "replace")).hexdigest() for t in texts]
            found: dict[str, list[float]] = {}
            for start in range(0, len(keys), 500):
                part = keys[start : start + 500]
                marks = ",".join("?" * len(part))
                rows = self._db.execute(f"SELECT k, e FROM v WHERE k IN ({marks})", part)
                for k, blob in rows:
                    found[k] = np.frombuffer(blob, dtype=np.float32).tolist()
            missing = [i for i, k in enumerate(keys) if k not in found]
            if missing:
                started = time.perf_counter()
                vectors = self._inner.get_text_embedding_batch([texts[i] for i in missing])
                self.compute_s += time.perf_counter() - started
                self.computed += len(missing)
                rows_to_add = []
                for i, vector in zip(missing, vectors, strict=True):
                    found[keys[i]] = list(vector)
                    rows_to_add.append((keys[i], np.asarray(vector, dtype=np.float32).tobytes()))
                self._db.executemany("INSERT OR IGNORE INTO v VALUES (?, ?)", rows_to_add)
                self._db.commit()
            self.served += len(keys) - len(missing)
            return [found[k] for k in keys]

    return CachedEmbedding()


def run_prefill(args: argparse.Namespace) -> int:
    """Embed the filler passages of ``args.filler`` into the cache (exactly the texts the
    store embeds), so timed runs measure writing and querying, not a long embedding job."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from llama_index.core.schema import MetadataMode

    from advisor.corpus import load_corpus
    from advisor.embeddings import build_embedding_model
    from advisor.settings import Settings
    from advisor.store import to_node

    settings = Settings(data_dir=args.work / "prefill", llm_provider="none")
    corpus = load_corpus([args.filler], target_chars=settings.passage_target_chars)
    embed = caching_embedding(build_embedding_model(settings), args.cache)
    texts = [
        to_node(p, settings.index_context).get_content(metadata_mode=MetadataMode.EMBED)
        for p in corpus.passages
    ]
    started = time.perf_counter()
    for start in range(0, len(texts), 1024):
        embed.get_text_embedding_batch(texts[start : start + 1024])
        rate = embed.computed / embed.compute_s if embed.compute_s else 0.0
        print(
            f"prefill {start + 1024}/{len(texts)}: {embed.computed} embedded at {rate:.0f}/s "
            f"({time.perf_counter() - started:.0f} s)",
            flush=True,
        )
    return 0


def run_embed_rate(args: argparse.Namespace) -> int:
    """Passages per second of the real model (no cache) on 1,024 filler passages."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from llama_index.core.schema import MetadataMode

    from advisor.corpus import load_corpus
    from advisor.embeddings import build_embedding_model
    from advisor.settings import Settings
    from advisor.store import to_node

    settings = Settings(data_dir=args.work / "prefill", llm_provider="none")
    corpus = load_corpus([args.filler], target_chars=settings.passage_target_chars)
    model = build_embedding_model(settings)
    texts = [
        to_node(p, settings.index_context).get_content(metadata_mode=MetadataMode.EMBED)
        for p in corpus.passages[:1024]
    ]
    model.get_text_embedding_batch(texts[:64])  # warm up
    started = time.perf_counter()
    model.get_text_embedding_batch(texts)
    seconds = time.perf_counter() - started
    print("RESULT " + json.dumps({"passages": len(texts), "seconds": round(seconds, 2)}))
    return 0


def memory_mb(key: str, pid: int | str = "self") -> float:
    """``VmRSS`` (current) or ``VmHWM`` (peak) resident memory of a process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def run_child(args: argparse.Namespace) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from advisor.chat import Advisor, Conversation
    from advisor.corpus import load_corpus
    from advisor.deps import AdvisorDeps
    from advisor.embeddings import build_embedding_model
    from advisor.evaluation import (
        DEFAULT_RETRIEVAL_GOLDEN,
        HOLDOUT_RETRIEVAL_GOLDEN,
        first_relevant_rank,
        load_golden,
    )
    from advisor.qa_eval import load_questions
    from advisor.retrieval import HybridRetriever, RetrievalMode
    from advisor.settings import Settings
    from advisor.store import PassageStore

    overrides: dict[str, Any] = {
        "data_dir": args.data_dir,
        "documents_dir": args.filler,
        "llm_provider": "none",
    }
    if args.port:
        overrides |= {"chroma_host": "127.0.0.1", "chroma_port": args.port}
    settings = Settings(**overrides)
    result: dict[str, Any] = {"rss_start_mb": memory_mb("VmRSS")}

    started = time.perf_counter()
    corpus = load_corpus(
        [settings.corpus_dir, args.filler], target_chars=settings.passage_target_chars
    )
    result["load_s"] = round(time.perf_counter() - started, 2)
    article_ids = {d.doc_id for d in corpus.documents if d.path.is_relative_to(settings.corpus_dir)}
    result["passages"] = len(corpus.passages)
    result["article_passages"] = sum(1 for p in corpus.passages if p.doc_id in article_ids)
    result["chars"] = sum(len(p.text) for p in corpus.passages)

    embed = caching_embedding(build_embedding_model(settings), args.cache)
    store = PassageStore(settings, embed)
    started = time.perf_counter()
    report = store.sync(corpus)
    sync_s = time.perf_counter() - started
    result |= {
        "sync_s": round(sync_s, 2),
        "embedded_now": embed.computed,
        "embed_s": round(embed.compute_s, 2),
        "from_cache": embed.served,
        "write_s": round(sync_s - embed.compute_s, 2),
        "stored": store.count(),
        "rss_after_build_mb": memory_mb("VmRSS"),
    }
    assert report.total_passages == store.count() == len(corpus.passages)

    retriever = HybridRetriever(corpus, store, settings)
    started = time.perf_counter()
    retriever.search("warm up the keyword index", k=10)
    result["bm25_build_s"] = round(time.perf_counter() - started, 2)
    retriever.search("warm up the vector index", k=10, mode=RetrievalMode.DENSE)

    golden = [
        *load_golden(DEFAULT_RETRIEVAL_GOLDEN).questions,
        *load_golden(HOLDOUT_RETRIEVAL_GOLDEN).questions,
    ]
    for mode in (RetrievalMode.HYBRID, RetrievalMode.DENSE, RetrievalMode.BM25):
        times, ranks, article_share = [], [], []
        for q in golden:
            store.embed_query.clear()  # each mode embeds the question itself, as a new one
            t0 = time.perf_counter()
            hits = retriever.search(q.question, k=10, mode=mode)
            times.append(time.perf_counter() - t0)
            ranks.append(first_relevant_rank(q, (h.passage for h in hits)))
            top = hits[:5]
            article_share.append(
                sum(h.passage.doc_id in article_ids for h in top) / max(1, len(top))
            )
        result[mode.value] = {
            **summary(times),
            "hit@5": round(sum(r is not None and r <= 5 for r in ranks) / len(ranks), 3),
            "mrr": round(sum(1 / r for r in ranks if r) / len(ranks), 3),
            "article_share_top5": round(statistics.mean(article_share), 3),
        }

    # The comparison below reads every stored vector into this process; the advisor never does.
    result["peak_rss_before_comparison_mb"] = round(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
    )
    result |= dense_search_comparison(corpus, store, retriever, golden, article_ids)

    advisor = Advisor.from_deps(AdvisorDeps(settings, corpus, store, retriever, report))
    questions = load_questions().answerable
    advisor.reply(Conversation(), questions[0].question)  # warm the sentence vectors path
    times, answered, only_articles, doc_hit = [], 0, 0, 0
    for asked in questions:
        store.embed_query.clear()
        t0 = time.perf_counter()
        reply = advisor.reply(Conversation(), asked.question)
        times.append(time.perf_counter() - t0)
        if reply.citations:
            answered += 1
            only_articles += all(c.doc_id in article_ids for c in reply.citations)
            doc_hit += any(c.doc_id in asked.doc_ids for c in reply.citations)
    result["question_turn"] = {
        **summary(times),
        "questions": len(questions),
        "answered": answered,
        "quoting_only_articles": only_articles,
        "expected_article_cited": doc_hit,
    }
    result["rss_end_mb"] = memory_mb("VmRSS")
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print("RESULT " + json.dumps(result))
    return 0


def dense_search_comparison(
    corpus: Any, store: Any, retriever: Any, golden: list[Any], article_docs: set[str]
) -> dict[str, Any]:
    """The same question vectors searched four ways over the same stored vectors: Chroma's
    HNSW alone (the advisor before the exact guidance search), the advisor's dense search
    (HNSW merged with an exact search over the articles), exact search over everything
    (numpy), and the hybrid ranking with HNSW alone. Also HNSW's recall@10 against exact."""
    import numpy as np

    from advisor.evaluation import first_relevant_rank

    ids: list[str] = []
    rows = []
    collection = store._collection
    for offset in range(0, store.count(), 5000):
        page = collection.get(include=["embeddings"], limit=5000, offset=offset)
        ids += page["ids"]
        rows.append(np.asarray(page["embeddings"], dtype=np.float32))
    matrix = np.vstack(rows)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)

    def scored(tops: list[list[str]]) -> dict[str, Any]:
        ranks = [
            first_relevant_rank(q, (corpus.passage(pid) for pid in top))
            for q, top in zip(golden, tops, strict=True)
        ]
        share = [sum(pid in article_passages for pid in top[:5]) / 5 for top in tops]
        return {
            "hit@5": round(sum(r is not None and r <= 5 for r in ranks) / len(ranks), 3),
            "mrr": round(sum(1 / r for r in ranks if r) / len(ranks), 3),
            "article_share_top5": round(statistics.mean(share), 3),
        }

    article_passages = {p.passage_id for p in corpus.passages if p.doc_id in article_docs}
    exact_all, hnsw, exact_times = [], [], []
    for q in golden:
        vector = np.asarray(store.embed_model.get_query_embedding(q.question), dtype=np.float32)
        vector /= np.linalg.norm(vector)
        t0 = time.perf_counter()
        sims = matrix @ vector
        best = np.argpartition(-sims, 10)[:10]
        exact_all.append([ids[i] for i in best[np.argsort(-sims[best])]])
        exact_times.append(time.perf_counter() - t0)
        hnsw.append([pid for pid, _ in store.query(q.question, 10)])
    recall = [len(set(a) & set(e)) / 10 for a, e in zip(hnsw, exact_all, strict=True)]
    saved, retriever.exact_ids = retriever.exact_ids, ()
    try:
        hybrid_hnsw = [
            [h.passage.passage_id for h in retriever.search(q.question, k=10)] for q in golden
        ]
    finally:
        retriever.exact_ids = saved
    return {
        "dense_hnsw_only": scored(hnsw),
        "dense_exact_all": scored(exact_all) | {"matrix_product": summary(exact_times)},
        "hybrid_hnsw_only": scored(hybrid_hnsw),
        "hnsw_recall@10": round(statistics.mean(recall), 3),
        "exact_guidance_passages": len(retriever.exact_ids),
    }


# --------------------------------------------------------------------------- parent


def measure(work: Path, label: str, filler: Path, store: str) -> dict[str, Any]:
    data_dir = work / f"data-{label}-{store}"
    shutil.rmtree(data_dir, ignore_errors=True)
    command = [
        sys.executable,
        __file__,
        "--child",
        "--filler",
        str(filler),
        "--data-dir",
        str(data_dir),
        "--cache",
        str(work / "vectors.sqlite3"),
    ]
    server: Any = nullcontext()
    if store == "server":
        server_dir = work / f"server-{label}"
        shutil.rmtree(server_dir, ignore_errors=True)
        port = free_port()
        chroma = Path(sys.executable).with_name("chroma")
        server = serving(
            "chroma run",
            [
                str(chroma),
                "run",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--path",
                str(server_dir),
            ],
            f"http://127.0.0.1:{port}/api/v2/heartbeat",
            work / f"server-{label}.log",
            timeout_s=60,
        )
        command += ["--port", str(port)]
    with server as process:
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - started
        server_peak = memory_mb("VmHWM", process.pid) if process else None
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"{label}/{store} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(lines[-1][len("RESULT ") :])
    result |= {"label": label, "store": store, "process_wall_s": round(wall, 1)}
    if server_peak is not None:
        result["server_peak_rss_mb"] = server_peak
    shutil.rmtree(data_dir, ignore_errors=True)
    return result


def table(rows: list[dict[str, Any]], embed_rate: float) -> str:
    head = (
        "| corpus | store | passages | embed s (at the measured rate) | write s | BM25 build s | "
        "hybrid p50/p95 ms | dense p50/p95 ms | hybrid hit@5 / MRR | article share top-5 | "
        "question turn p50/p95 ms | answers quoting only articles | peak RSS MB (server) |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    )
    out = [head]
    for r in rows:
        embed_s = r["passages"] / embed_rate
        qt = r["question_turn"]
        server = f" ({r['server_peak_rss_mb']:.0f})" if "server_peak_rss_mb" in r else ""
        out.append(
            f"| {r['label']} | {r['store']} | {r['passages']:,} | {embed_s:,.0f} "
            f"| {r['write_s']:.1f} | {r['bm25_build_s']:.2f} "
            f"| {r['hybrid']['p50_ms']:.1f} / {r['hybrid']['p95_ms']:.1f} "
            f"| {r['dense']['p50_ms']:.1f} / {r['dense']['p95_ms']:.1f} "
            f"| {r['hybrid']['hit@5']:.2f} / {r['hybrid']['mrr']:.3f} "
            f"| {r['hybrid']['article_share_top5']:.2f} "
            f"| {qt['p50_ms']:.0f} / {qt['p95_ms']:.0f} "
            f"| {qt['quoting_only_articles']}/{qt['answered']} answered of {qt['questions']} "
            f"| {r['peak_rss_mb']:.0f}{server} |"
        )
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scales", default="1000,10000,30000,100000")
    parser.add_argument("--stores", default="embedded,server")
    parser.add_argument("--work", type=Path, default=Path("/tmp/advisor-scaling"))
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--filler", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--cache", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument(
        "--prefill", action="store_true", help="only embed the largest filler into the cache"
    )
    parser.add_argument("--embed-rate", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return run_child(args)
    if args.embed_rate:
        return run_embed_rate(args)

    from advisor.settings import Settings

    args.work.mkdir(parents=True, exist_ok=True)
    target_chars = Settings().passage_target_chars
    scales = [int(s) for s in args.scales.split(",") if s]
    stores = [s for s in args.stores.split(",") if s]
    entries = build_pool(args.work, max(scales), target_chars)
    empty = args.work / "filler-0"
    shutil.rmtree(empty, ignore_errors=True)
    empty.mkdir()
    plan: list[tuple[str, Path, dict[str, int]]] = [("articles only", empty, {})]
    for scale in scales:
        folder, sources = scale_folder(args.work, entries, scale)
        plan.append((f"~{scale:,}", folder, sources))
    if args.prefill:
        args.filler, args.cache = plan[-1][1], args.work / "vectors.sqlite3"
        return run_prefill(args)
    host = machine()  # before the run: its load average is other work's
    done = subprocess.run(
        [
            sys.executable,
            __file__,
            "--embed-rate",
            "--filler",
            str(plan[1][1]),
            "--work",
            str(args.work),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    sample = json.loads(done.stdout.splitlines()[-1][len("RESULT ") :])
    embed_rate = sample["passages"] / sample["seconds"]
    print(f"embedding rate: {embed_rate:.1f} passages/s ({sample})", flush=True)
    rows = []
    for label, folder, sources in plan:
        for store in stores:
            print(f"== {label} / {store}", flush=True)
            row = measure(args.work, label, folder, store) | {"filler_sources": sources}
            print(json.dumps(row), flush=True)
            rows.append(row)
    print(table(rows, embed_rate))
    if args.out:
        payload = {
            "machine": host,
            "command": " ".join(sys.argv),
            "embedding_rate_passages_per_s": round(embed_rate, 1),
            "embedding_sample": sample,
            "rows": rows,
        }
        args.out.write_text(json.dumps(payload, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
