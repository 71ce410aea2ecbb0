"""Saved conversations, in SQLite and in a real PostgreSQL: owners isolated, saves atomic,
threads safe. ``conversation_store`` (tests/backends.py) runs each test on both engines."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from advisor.chat import Conversation, Message, Role
from advisor.conversations import ConversationStore, ConversationStoreError, new_owner_token

MakeStore = Callable[[], ConversationStore]


def conversation(title: str) -> Conversation:
    c = Conversation(title=title)
    from datetime import UTC, datetime

    c.messages.append(Message(role=Role.USER, text=title, turn=1, at=datetime.now(UTC)))
    return c


def test_owners_never_see_each_others_conversations(conversation_store: MakeStore) -> None:
    store = conversation_store()
    alice, bob = new_owner_token(), new_owner_token()
    a = conversation("alpha")
    store.save(alice, a)
    assert [s.title for s in store.list(alice)] == ["alpha"]
    assert store.list(bob) == []
    assert store.load(bob, a.id) is None
    store.delete(bob, a.id)  # nothing happens
    assert store.load(alice, a.id) is not None
    with pytest.raises(ConversationStoreError):
        store.save(bob, a)  # cannot take over another session's conversation


def test_resume_rename_delete_and_reopen(conversation_store: MakeStore) -> None:
    store = conversation_store()
    owner = new_owner_token()
    c = conversation("first")
    store.save(owner, c)
    store.rename(owner, c.id, "  Renamed   title ")
    again = conversation_store()  # a server restart
    loaded = again.load(owner, c.id)
    assert loaded is not None
    assert loaded.title == "Renamed title"
    assert loaded.messages[0].text == "first"
    assert again.list(owner)[0].turns == 0  # one user message, no reply yet
    with pytest.raises(ConversationStoreError):
        again.rename(owner, c.id, "   ")
    again.delete(owner, c.id)
    assert again.list(owner) == []


def test_concurrent_saves_from_threads(conversation_store: MakeStore) -> None:
    store = conversation_store()
    owners = [new_owner_token() for _ in range(8)]
    errors: list[BaseException] = []

    def work(owner: str) -> None:
        try:
            c = conversation(owner)
            for i in range(20):
                c.title = f"{owner}-{i}"
                store.save(owner, c)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(o,)) for o in owners]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for owner in owners:
        assert [s.title for s in store.list(owner)] == [f"{owner}-19"]


def test_an_unusable_folder_gets_a_clear_message(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(ConversationStoreError, match="cannot be opened"):
        ConversationStore(blocker / "c.sqlite3")
