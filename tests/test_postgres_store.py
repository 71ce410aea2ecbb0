"""The PostgreSQL conversation store: chosen by ADVISOR_DATABASE_URL, errors that name the fix,
the password never shown, a dropped connection replaced. (The behaviour both engines share is
tested in test_conversation_store.py, on both.)"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from advisor.chat import Conversation
from advisor.conversations import (
    ConversationStore,
    ConversationStoreError,
    PostgresBackend,
    SQLiteBackend,
    new_owner_token,
    open_conversation_store,
    redact_url,
)
from advisor.errors import ConfigError
from tests.backends import PG_PASSWORD, PostgresServer
from tests.fault_server import free_port


def test_the_default_is_sqlite_in_the_data_folder(make_settings: Any) -> None:
    settings = make_settings()
    assert settings.database_url is None
    store = open_conversation_store(settings)
    assert isinstance(store.backend, SQLiteBackend)
    assert store.path == settings.data_dir / "conversations.sqlite3"
    assert store.location == str(store.path)


def test_a_postgresql_url_selects_postgresql(make_settings: Any, postgres_url: str) -> None:
    settings = make_settings(database_url=postgres_url)
    assert PG_PASSWORD not in repr(settings)  # a SecretStr: never in logs or reprs
    store = open_conversation_store(settings)
    assert isinstance(store.backend, PostgresBackend)
    assert PG_PASSWORD not in store.location
    assert store.location.startswith("postgresql://advisor@127.0.0.1:")
    owner = new_owner_token()
    store.save(owner, Conversation(title="on the server"))
    assert [s.title for s in store.list(owner)] == ["on the server"]
    assert not (settings.data_dir / "conversations.sqlite3").exists()


def test_a_url_that_is_not_postgresql_is_refused_without_repeating_it(make_settings: Any) -> None:
    with pytest.raises(ConfigError) as info:
        make_settings(database_url="mysql://root:hunter2@db/advisor")
    assert "ADVISOR_DATABASE_URL" in str(info.value)
    assert "hunter2" not in str(info.value)
    with pytest.raises(ConversationStoreError, match="postgresql://"):
        ConversationStore.from_url("sqlite:///tmp/c.sqlite3")


def test_redacted_urls_drop_the_password_and_options() -> None:
    assert (
        redact_url("postgresql://ann:pw%40x@db.example:6543/chat?sslmode=require&password=pw")
        == "postgresql://ann@db.example:6543/chat"
    )
    assert redact_url("postgres://db/chat") == "postgresql://db/chat"


def test_an_unreachable_server_names_the_fix_and_hides_the_password() -> None:
    url = f"postgresql://advisor:{PG_PASSWORD}@127.0.0.1:{free_port()}/advisor"
    with pytest.raises(ConversationStoreError) as info:
        ConversationStore.from_url(url)
    text = str(info.value)
    assert "cannot be reached" in text
    assert "ADVISOR_DATABASE_URL" in text
    assert "Start PostgreSQL" in text
    assert PG_PASSWORD not in text
    assert info.value.__cause__ is None  # the driver's exception (and its URL) is not chained


def test_a_wrong_password_is_reported_without_any_password(postgres_server: PostgresServer) -> None:
    wrong = "not-the-Pa55word"
    with pytest.raises(ConversationStoreError) as info:
        ConversationStore.from_url(postgres_server.url(password=wrong))
    text = str(info.value)
    assert "password authentication failed" in text
    assert wrong not in text
    assert PG_PASSWORD not in text


def test_a_dropped_connection_is_replaced(postgres_url: str) -> None:
    import psycopg

    store = ConversationStore.from_url(postgres_url)
    owner = new_owner_token()
    store.save(owner, Conversation(title="before"))
    backend = store.backend
    assert isinstance(backend, PostgresBackend)
    assert backend._db is not None
    pid = backend._db.info.backend_pid
    with psycopg.connect(postgres_url, autocommit=True) as admin:  # as a server restart would
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    assert [s.title for s in store.list(owner)] == ["before"]
    assert backend._db.info.backend_pid != pid


def test_the_other_owners_row_is_never_overwritten_under_a_race(postgres_url: str) -> None:
    """Two replicas saving the same new id for two owners: exactly one wins, the other is told."""
    stores = [ConversationStore.from_url(postgres_url) for _ in range(2)]
    owners = [new_owner_token(), new_owner_token()]
    shared = Conversation(title="contested")
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def save(i: int) -> None:
        barrier.wait()
        try:
            stores[i].save(owners[i], shared)
            outcomes.append("saved")
        except ConversationStoreError:
            outcomes.append("refused")

    threads = [threading.Thread(target=save, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["refused", "saved"]
    assert sum(len(s.list(o)) for s, o in zip(stores, owners, strict=True)) == 1


def test_two_stores_share_one_database(postgres_url: str) -> None:
    first = ConversationStore.from_url(postgres_url)
    second = ConversationStore.from_url(postgres_url)
    owner = new_owner_token()
    c = Conversation(title="shared")
    first.save(owner, c)
    second.rename(owner, c.id, "renamed on the other one")
    assert [s.title for s in first.list(owner)] == ["renamed on the other one"]
    first.delete(owner, c.id)
    assert second.load(owner, c.id) is None


def test_the_environment_variable_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    from advisor.settings import load_settings

    url = "postgresql://ann:pw@127.0.0.1:5432/chat"
    monkeypatch.setenv("ADVISOR_DATABASE_URL", url)
    settings = load_settings()
    assert settings.database_url is not None
    assert settings.database_url.get_secret_value() == url
    assert "pw@" not in repr(settings) + str(settings)
