"""Shared fixtures. Real network access is blocked for the whole test session.

Only loopback and Unix sockets may be connected to: the embedding model loads from a
PyPI package on disk, Chroma runs embedded, and any server a test needs is started on
127.0.0.1 by that test.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["ANONYMIZED_TELEMETRY"] = "False"

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"

# Real PostgreSQL and Chroma servers for the scale-out tests (started only when asked for).
pytest_plugins = ("tests.backends",)

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _allowed(address: object) -> bool:
    if not isinstance(address, tuple):  # Unix socket path
        return True
    host = str(address[0])
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _guarded_connect(self: socket.socket, address: object) -> None:
    if not _allowed(address):
        raise ConnectionRefusedError(f"network access is blocked in tests: {address!r}")
    _real_connect(self, address)  # type: ignore[arg-type]


def _guarded_connect_ex(self: socket.socket, address: object) -> int:
    if not _allowed(address):
        raise ConnectionRefusedError(f"network access is blocked in tests: {address!r}")
    return _real_connect_ex(self, address)  # type: ignore[arg-type]


@pytest.fixture(autouse=True, scope="session")
def _block_network() -> Iterator[None]:
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
    yield
    socket.socket.connect = _real_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _real_connect_ex  # type: ignore[method-assign]


@pytest.fixture(scope="session")
def embed_model():  # type: ignore[no-untyped-def]
    """The real bundled embedding model, loaded once per session."""
    from advisor.embeddings import build_embedding_model
    from advisor.settings import load_settings

    return build_embedding_model(load_settings())


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Path:
    """A writable copy of the shipped corpus (articles and rules)."""
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS, target)
    return target


@pytest.fixture
def make_settings(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Settings pointing at temporary folders; keyword overrides as for ``load_settings``."""
    from advisor.settings import load_settings

    def make(**overrides: object):  # type: ignore[no-untyped-def]
        values: dict[str, object] = {
            "data_dir": tmp_path / "data",
            "corpus_dir": CORPUS,
            "rules_dir": CORPUS / "rules",
        }
        values.update(overrides)
        return load_settings(**values)

    return make


@pytest.fixture(scope="session")
def shared_deps(tmp_path_factory: pytest.TempPathFactory, embed_model):  # type: ignore[no-untyped-def]
    """A real index of the shipped corpus, built once for read-only tests."""
    from advisor.corpus import load_corpus
    from advisor.retrieval import HybridRetriever
    from advisor.settings import load_settings
    from advisor.store import PassageStore

    settings = load_settings(data_dir=tmp_path_factory.mktemp("shared-data"))
    corpus = load_corpus([settings.corpus_dir], target_chars=settings.passage_target_chars)
    store = PassageStore(settings, embed_model)
    store.sync(corpus)
    return HybridRetriever(corpus, store, settings)


@pytest.fixture(scope="session")
def make_advisor(shared_deps):  # type: ignore[no-untyped-def]
    """Build an :class:`~advisor.chat.Advisor` over the shared index; keyword arguments
    (``llm=``, ``turn_deadline_s=`` ...) go to its constructor."""
    from advisor.answers import ExcerptPicker
    from advisor.chat import Advisor
    from advisor.compose import Composer
    from advisor.rules import default_rules

    retriever = shared_deps
    rules = default_rules()
    picker = ExcerptPicker(
        retriever.corpus, retriever.store.embed_model, retriever.store.embed_query
    )

    def make(**kwargs):  # type: ignore[no-untyped-def]
        return Advisor(
            rules=rules,
            composer=Composer(retriever.corpus, rules),
            search=lambda query, k: retriever.search(query, k=k),
            picker=picker,
            corpus_version=retriever.corpus.version,
            **kwargs,
        )

    return make


@pytest.fixture(scope="session")
def advisor(make_advisor):  # type: ignore[no-untyped-def]
    """The deterministic advisor (no LLM), shared by read-only tests."""
    return make_advisor()
