"""The Chroma store, for real: incremental sync, no re-embedding, repair of damage.

Tests taking ``store_settings`` (tests/backends.py) run twice: on the embedded store and on a
real Chroma server (``chroma run``): the sync itself (build, restart, changed files, rebuild).
The damage tests are about the embedded store's files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from advisor.deps import read_corpus
from advisor.retrieval import HybridRetriever, RetrievalMode
from advisor.store import PassageStore

pytestmark = pytest.mark.slow


def _open(settings, embed_model):  # type: ignore[no-untyped-def]
    store = PassageStore(settings, embed_model)
    corpus = read_corpus(settings)
    return store, corpus, store.sync(corpus)


def _dense_top(settings, embed_model, query: str) -> list[str]:  # type: ignore[no-untyped-def]
    store, corpus, _ = _open(settings, embed_model)
    hits = HybridRetriever(corpus, store, settings).search(query, k=3, mode=RetrievalMode.DENSE)
    return [h.passage.passage_id for h in hits]


def test_first_build_embeds_everything_and_a_restart_embeds_nothing(
    store_settings, embed_model, corpus_copy: Path
) -> None:
    settings = store_settings(corpus_dir=corpus_copy)
    _, corpus, first = _open(settings, embed_model)
    assert first.embedded == len(corpus.passages) > 50
    _, _, second = _open(settings, embed_model)
    assert second.embedded == 0
    assert second.deleted == 0
    assert not second.changed
    assert len(second.unchanged_docs) == 5


def test_changed_added_and_removed_files_update_only_themselves(
    store_settings, embed_model, corpus_copy: Path
) -> None:
    settings = store_settings(corpus_dir=corpus_copy)
    _open(settings, embed_model)

    roi = corpus_copy / "roi-thresholds.md"
    roi.write_text(roi.read_text().replace("Final Takeaway", "Final Takeaway Revised"))
    _, corpus, report = _open(settings, embed_model)
    roi_passages = [p for p in corpus.passages if p.doc_id == "roi-thresholds"]
    assert report.added_docs == ("roi-thresholds",)
    assert report.embedded == len(roi_passages)
    assert report.deleted == len(roi_passages)

    (corpus_copy / "team-policy.txt").write_text(
        "Our team policy: no training runs without a frozen golden set of 300 examples.\n"
    )
    store, corpus, report = _open(settings, embed_model)
    assert report.added_docs == ("team-policy",)
    assert report.embedded == 1
    hits = HybridRetriever(corpus, store, settings).search("team policy golden set", k=1)
    assert hits[0].passage.doc_id == "team-policy"

    (corpus_copy / "team-policy.txt").unlink()
    store, corpus, report = _open(settings, embed_model)
    assert report.removed_docs == ("team-policy",)
    assert report.deleted == 1
    assert store.count() == len(corpus.passages)


def test_user_documents_folder_is_indexed_too(make_settings, embed_model, tmp_path: Path) -> None:
    docs = tmp_path / "uploads"
    docs.mkdir()
    (docs / "ours.md").write_text("---\ntitle: Our playbook\n---\n# Our playbook\n\nAsk legal.\n")
    settings = make_settings(documents_dir=docs)
    _, corpus, report = _open(settings, embed_model)
    assert "ours" in {d.doc_id for d in corpus.documents}
    assert report.total_passages == len(corpus.passages)


def test_only_the_guidance_articles_are_searched_exactly(
    make_settings, embed_model, tmp_path: Path
) -> None:
    docs = tmp_path / "uploads"
    docs.mkdir()
    (docs / "ours.md").write_text("---\ntitle: Our playbook\n---\n# Our playbook\n\nAsk legal.\n")
    settings = make_settings(documents_dir=docs)
    store, corpus, _ = _open(settings, embed_model)
    retriever = HybridRetriever(corpus, store, settings)
    articles = {p.passage_id for p in corpus.passages if p.doc_id != "ours"}
    assert set(retriever.exact_ids) == articles
    hits = retriever.search("Ask legal about our playbook", k=3, mode=RetrievalMode.DENSE)
    assert hits[0].passage.doc_id == "ours"  # other documents still compete


def test_changed_embedding_settings_use_a_new_collection(make_settings, embed_model) -> None:
    a = make_settings()
    b = make_settings(passage_target_chars=400)
    store_a, _, _ = _open(a, embed_model)
    store_b, corpus_b, report_b = _open(b, embed_model)
    assert store_a.collection_name != store_b.collection_name
    assert report_b.embedded == len(corpus_b.passages)


def _segment_files(chroma: Path) -> list[Path]:
    return [p for p in chroma.rglob("*") if p.is_file() and p.name != "chroma.sqlite3"]


@pytest.mark.parametrize("damage", ["truncate_sqlite", "garbage_sqlite", "delete_segment"])
def test_damaged_store_is_noticed_and_rebuilt(make_settings, embed_model, damage: str) -> None:
    settings = make_settings()
    query = "how much does it cost to host a fine-tuned open model"
    before = _dense_top(settings, embed_model, query)
    chroma = settings.chroma_path
    sqlite = chroma / "chroma.sqlite3"
    if damage == "truncate_sqlite":
        with sqlite.open("r+b") as fh:
            fh.truncate(sqlite.stat().st_size // 3)
    elif damage == "garbage_sqlite":
        sqlite.write_bytes(b"not a database" * 1000)
    else:
        segments = _segment_files(chroma)
        assert segments, "the store should have HNSW segment files"
        for seg in segments:
            if seg.name in ("data_level0.bin", "header.bin"):
                seg.unlink()

    from chromadb.api.shared_system_client import SharedSystemClient

    SharedSystemClient.clear_system_cache()  # as a new process would see it
    _, corpus, report = _open(settings, embed_model)
    if damage != "delete_segment":
        assert report.repaired
        assert "damaged" in report.repaired
        assert "\n" not in report.repaired
        assert report.embedded == len(corpus.passages)
    elif report.repaired is None:
        # Chroma may still answer from its own log: then nothing needed repair.
        assert report.embedded == 0
    assert _dense_top(settings, embed_model, query) == before


def test_rebuild_flag_starts_from_scratch(store_settings, embed_model) -> None:
    settings = store_settings()
    _open(settings, embed_model)
    store = PassageStore(settings, embed_model)
    corpus = read_corpus(settings)
    report = store.sync(corpus, rebuild=True)
    assert report.embedded == len(corpus.passages)


def test_missing_store_folder_is_rebuilt(make_settings, embed_model) -> None:
    settings = make_settings()
    _open(settings, embed_model)
    from chromadb.api.shared_system_client import SharedSystemClient

    SharedSystemClient.clear_system_cache()
    shutil.rmtree(settings.chroma_path)
    _, corpus, report = _open(settings, embed_model)
    assert report.embedded == len(corpus.passages)


def test_unreachable_chroma_server_names_the_fix(make_settings, embed_model) -> None:
    from advisor.errors import StoreError

    settings = make_settings(chroma_host="127.0.0.1", chroma_port=9)
    with pytest.raises(StoreError) as info:
        _open(settings, embed_model)
    assert "chroma run" in str(info.value)
    assert "ADVISOR_CHROMA_HOST" in str(info.value)


class _FakeCollection:
    """Answers the probe's two calls: the stored vectors, then each one's nearest neighbours
    (``neighbours[id] = (ids, distances)``)."""

    def __init__(self, neighbours: dict[str, tuple[list[str], list[float]]]) -> None:
        self.neighbours = neighbours

    def get(self, ids: list[str], include: list[str]) -> dict[str, object]:
        return {"ids": ids, "embeddings": [[float(i), 0.2] for i, _ in enumerate(ids)]}

    def count(self) -> int:
        return 30_000

    def query(self, query_embeddings: list[list[float]], **_: object) -> dict[str, object]:
        ids = list(self.neighbours)
        rows = [self.neighbours[ids[int(v[0])]] for v in query_embeddings]
        return {"ids": [r[0] for r in rows], "distances": [r[1] for r in rows]}


FOUND = (["self", "x"], [0.0, 0.3])
MISSED = (["x", "y"], [0.2, 0.3])  # itself nowhere near


def _probe_case(**cases: tuple[list[str], list[float]]) -> dict[str, tuple[list[str], list[float]]]:
    """Neighbour lists keyed by probe id, with "self" replaced by that id."""
    return {
        pid: ([pid if i == "self" else i for i in ids], distances)
        for pid, (ids, distances) in cases.items()
    }


@pytest.mark.parametrize(
    ("neighbours", "healthy"),
    [
        (_probe_case(p1=FOUND, p2=FOUND, p3=FOUND, p4=FOUND, p5=FOUND), True),
        # approximate search: itself second
        (_probe_case(p1=(["x", "self"], [0.02, 0.02]), p2=FOUND), True),
        # an identical vector of another passage first
        (_probe_case(p1=(["dup", "x"], [0.0, 0.1]), p2=FOUND), True),
        # two isolated vectors missed by HNSW (the articles among 30k passages, measured)
        (_probe_case(p1=MISSED, p2=MISSED, p3=FOUND, p4=FOUND, p5=FOUND), True),
        # most miss: damaged
        (_probe_case(p1=MISSED, p2=MISSED, p3=MISSED, p4=FOUND, p5=FOUND), False),
        (_probe_case(p1=MISSED), False),
    ],
)
def test_the_self_retrieval_probe_allows_for_approximate_search(
    neighbours: dict[str, tuple[list[str], list[float]]], healthy: bool
) -> None:
    from advisor.settings import Settings
    from advisor.store import PassageStore

    store = PassageStore(Settings(), embed_model=None)  # type: ignore[arg-type]
    store._collection = _FakeCollection(neighbours)
    if healthy:
        store._probe(list(neighbours))
    else:
        with pytest.raises(RuntimeError, match="do not retrieve themselves"):
            store._probe(list(neighbours))


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        (100, ["p000", "p020", "p040", "p060", "p080"]),
        (7, ["p000", "p001", "p002", "p004", "p005"]),
        (3, ["p000", "p001", "p002"]),
    ],
)
def test_probes_are_spread_over_the_ids(stored: int, expected: list[str]) -> None:
    from advisor.settings import Settings
    from advisor.store import PassageStore

    ids = [f"p{i:03d}" for i in range(stored)]
    probed: list[str] = []

    class Recording(_FakeCollection):
        def get(self, ids: list[str], include: list[str]) -> dict[str, object]:
            probed.extend(ids)
            return super().get(ids, include)

    store = PassageStore(Settings(), embed_model=None)  # type: ignore[arg-type]
    store._collection = Recording(_probe_case(**dict.fromkeys(ids, FOUND)))
    store._probe(ids)
    assert probed == expected


class _MissingIsland:
    """A collection whose approximate search never reaches some stored passages, the HNSW
    failure measured at ~30k passages; ``get`` returns their true stored vectors."""

    def __init__(self, vectors: dict[str, list[float]], reachable: list[str]) -> None:
        self.vectors, self.reachable = vectors, reachable

    def count(self) -> int:
        return len(self.vectors)

    def get(self, ids: list[str], include: list[str]) -> dict[str, object]:
        known = [i for i in ids if i in self.vectors]
        return {"ids": known, "embeddings": [self.vectors[i] for i in known]}

    def query(self, query_embeddings: list[list[float]], n_results: int, **_: object) -> dict:
        import numpy as np

        q = np.asarray(query_embeddings[0])
        dist = {
            i: 1 - float(np.dot(q, self.vectors[i]) / np.linalg.norm(self.vectors[i]))
            for i in self.reachable
        }
        best = sorted(dist, key=dist.get)[:n_results]  # type: ignore[arg-type]
        return {"ids": [best], "distances": [[dist[i] for i in best]]}


class _AxisEmbedding:
    def get_query_embedding(self, text: str) -> list[float]:
        return [1.0, 0.0, 0.0]


def test_query_merges_an_exact_search_over_the_passages_it_must_not_lose() -> None:
    from advisor.settings import Settings
    from advisor.store import PassageStore

    vectors = {
        "article:1": [0.9, 0.1, 0.0],  # the true best match, unreachable by the index
        "article:2": [0.0, 1.0, 0.0],
        "filler:1": [0.5, 0.5, 0.5],
        "filler:2": [0.1, 0.9, 0.4],
    }
    store = PassageStore(Settings(), embed_model=_AxisEmbedding())  # type: ignore[arg-type]
    store._collection = _MissingIsland(vectors, reachable=["filler:1", "filler:2"])

    approximate = store.query("q", 3)
    assert [pid for pid, _ in approximate] == ["filler:1", "filler:2"]

    merged = store.query("q", 3, exact=["article:1", "article:2"])
    assert [pid for pid, _ in merged] == ["article:1", "filler:1", "filler:2"]
    scores = dict(merged)
    assert scores["article:1"] == pytest.approx(0.9 / (0.9**2 + 0.1**2) ** 0.5)
    assert scores["filler:1"] == pytest.approx(0.5 / 0.75**0.5)  # Chroma's 1 - distance


def test_exact_passages_missing_from_the_store_are_looked_for_again() -> None:
    """A sync cut short (or another replica) can leave an article without its vector: the
    rest are still searched exactly, and the incomplete set is not cached."""
    from advisor.settings import Settings
    from advisor.store import PassageStore

    vectors = {"article:1": [0.9, 0.1, 0.0], "filler:1": [0.5, 0.5, 0.5]}
    store = PassageStore(Settings(), embed_model=_AxisEmbedding())  # type: ignore[arg-type]
    store._collection = _MissingIsland(vectors, reachable=["filler:1"])
    exact = ["article:1", "article:2"]
    assert [pid for pid, _ in store.query("q", 3, exact=exact)] == ["article:1", "filler:1"]
    assert store._exact is None
    vectors["article:2"] = [0.95, 0.0, 0.05]  # the next sync writes it
    assert [pid for pid, _ in store.query("q", 3, exact=exact)] == [
        "article:2",
        "article:1",
        "filler:1",
    ]
    assert store._exact is not None


def test_an_embedding_failure_during_search_names_the_embedding_settings() -> None:
    from advisor.errors import EmbeddingError, StoreError
    from advisor.settings import Settings
    from advisor.store import PassageStore

    class Down:
        def get_query_embedding(self, text: str) -> list[float]:
            raise ConnectionError("connection refused")

    store = PassageStore(Settings(), embed_model=Down())  # type: ignore[arg-type]
    store._collection = _MissingIsland({"filler:1": [0.5, 0.5, 0.5]}, reachable=["filler:1"])
    with pytest.raises(EmbeddingError) as info:
        store.query("q", 3)
    assert not isinstance(info.value, StoreError)
    assert "ConnectionError: connection refused" in str(info.value)
    assert "ADVISOR_EMBEDDING_" in (info.value.hint or "")


def test_exact_vectors_are_loaded_once_and_dropped_by_a_sync(store_settings, embed_model) -> None:
    store, corpus, _ = _open(store_settings(), embed_model)
    ids = [p.passage_id for p in corpus.passages]
    question = "how many labeled examples do we need"
    first = store.query(question, 5, exact=ids)
    cached = store._exact
    assert cached is not None
    assert len(cached[1]) == len(ids)
    assert store.query(question, 5, exact=ids) == first
    assert store._exact is cached
    # With every passage exact, the ranking is exact search itself: the same as Chroma's on
    # a corpus this small, where HNSW is exact in practice.
    assert [p for p, _ in first] == [p for p, _ in store.query(question, 5)]
    store.sync(corpus)
    assert store._exact is None
