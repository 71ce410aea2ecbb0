"""Two app replicas over one Chroma server and one PostgreSQL: a conversation started on one
continues on the other, and no other owner sees it.

Each replica is a :class:`~advisor.service.ChatService` built exactly as the app builds it
(``ChatService.from_deps(build_deps(settings))``), with its own ``ADVISOR_DATA_DIR``; only the
embedding model is loaded once and shared, to save the test a few seconds per replica.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from advisor.conversations import PostgresBackend, new_owner_token
from advisor.deps import build_deps
from advisor.service import ChatService
from tests.backends import ChromaServer, server_settings

pytestmark = pytest.mark.slow

SITUATION = "We classify 500k support tickets per day into 12 categories; unchanged for 18 months."
FOLLOW_UP = "No eval set yet, we eyeball outputs. We have about 700 labeled rows."


def test_a_conversation_moves_between_two_replicas(
    make_settings: Any,
    chroma_server: ChromaServer,
    postgres_url: str,
    embed_model: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("advisor.deps.build_embedding_model", lambda settings: embed_model)
    on_servers = server_settings(make_settings, chroma_server)  # one collection for both
    replicas: list[ChatService] = []
    for name in ("a", "b"):
        settings = on_servers(data_dir=tmp_path / name, database_url=postgres_url)
        replicas.append(ChatService.from_deps(build_deps(settings)))
    a, b = replicas
    assert isinstance(a.store.backend, PostgresBackend)
    assert a.deps.index_report.embedded > 50
    assert b.deps.index_report.embedded == 0  # B found the index A built on the server
    assert not (tmp_path / "a" / "chroma").exists()
    assert not (tmp_path / "b" / "conversations.sqlite3").exists()

    owner, stranger = new_owner_token(), new_owner_token()
    started = a.open(owner, None)
    first = a.send(owner, started, SITUATION)

    [summary] = b.conversations(owner)
    assert summary.id == started.id
    assert summary.turns == 1
    resumed = b.open(owner, started.id)
    assert [m.text for m in resumed.messages] == [m.text for m in started.messages]
    assert b.assess(resumed).verdict == first.verdict
    second = b.send(owner, resumed, FOLLOW_UP)
    assert second.verdict.value == "not_yet"  # the facts of both turns, read on two replicas
    assert {t.value for t in second.blockers} >= {"evaluation", "data"}

    back_on_a = a.open(owner, started.id)
    assert len(back_on_a.messages) == 4
    assert back_on_a.messages[2].text == FOLLOW_UP
    assert a.conversations(owner)[0].turns == 2

    for replica in replicas:
        assert replica.conversations(stranger) == []
        assert replica.open(stranger, started.id).messages == []  # a new, empty one
