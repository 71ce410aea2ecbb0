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
    """Answers the probe's two calls: the stored vector, then its nearest neighbours."""

    def __init__(self, ids: list[str], distances: list[float]) -> None:
        self.ids, self.distances = ids, distances

    def get(self, ids: list[str], include: list[str]) -> dict[str, object]:
        return {"ids": ids, "embeddings": [[0.1, 0.2]]}

    def count(self) -> int:
        return 30_000

    def query(self, **_: object) -> dict[str, object]:
        return {"ids": [self.ids], "distances": [self.distances]}


@pytest.mark.parametrize(
    ("ids", "distances", "healthy"),
    [
        (["p1", "p2"], [0.0, 0.3], True),  # itself first
        (["p2", "p1"], [0.02, 0.02], True),  # approximate search: itself second
        (["dup", "p2"], [0.0, 0.1], True),  # an identical vector of another passage first
        (["p2", "p3"], [0.2, 0.3], False),  # itself nowhere near: damaged
    ],
)
def test_the_self_retrieval_probe_allows_for_approximate_search(
    ids: list[str], distances: list[float], healthy: bool
) -> None:
    from advisor.settings import Settings
    from advisor.store import PassageStore

    store = PassageStore(Settings(), embed_model=None)  # type: ignore[arg-type]
    store._collection = _FakeCollection(ids, distances)
    if healthy:
        store._probe("p1")
    else:
        with pytest.raises(RuntimeError, match="does not retrieve itself"):
            store._probe("p1")
