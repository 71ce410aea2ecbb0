"""Submitted messages are answered exactly once each, in order, and never lost: the store's
inbox and compare-and-set on SQLite and a real PostgreSQL (``conversation_store``), and the
background answerer (advisor/inbox.py) with the real advisor."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from advisor.chat import Conversation, Role
from advisor.conversations import (
    ConversationStore,
    ConversationStoreError,
    StaleConversation,
    new_owner_token,
)
from advisor.errors import QueryError
from advisor.inbox import INTERNAL_FAILURE, Inbox

MakeStore = Callable[[], ConversationStore]
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return NOW + timedelta(seconds=seconds)


# --------------------------------------------------------------------------- the store


def test_enqueue_creates_the_conversation_and_keeps_order(conversation_store: MakeStore) -> None:
    store = conversation_store()
    owner = new_owner_token()
    c = Conversation()
    store.enqueue(owner, c.id, "m2", "second", at(2))
    store.enqueue(owner, c.id, "m1", "first", at(1))
    store.enqueue(owner, c.id, "m1", "first", at(1))  # the same submission again: recorded once
    assert [p.text for p in store.pending(owner, c.id)] == ["first", "second"]
    assert store.load(owner, c.id) is not None  # the conversation exists from the first message
    assert [s.id for s in store.list(owner)] == [c.id]
    assert store.pending_conversations() == [(owner, c.id)]
    other = new_owner_token()
    assert store.pending(other, c.id) == []
    with pytest.raises(ConversationStoreError, match="another session"):
        store.enqueue(other, c.id, "m3", "not yours", at(3))


def test_complete_saves_the_turn_and_removes_the_message_once(
    conversation_store: MakeStore,
) -> None:
    store = conversation_store()
    owner = new_owner_token()
    c = Conversation()
    store.enqueue(owner, c.id, "m1", "first", at(1))
    loaded = store.load(owner, c.id)
    assert loaded is not None
    read_at = loaded.updated_at
    loaded.title = "answered"
    loaded.updated_at = at(5)
    assert store.complete(owner, loaded, "m1", read_at)
    assert store.pending(owner, c.id) == []
    assert store.complete(owner, loaded, "m1", at(5)) is False  # already answered
    saved = store.load(owner, c.id)
    assert saved is not None
    assert saved.title == "answered"


def test_a_turn_computed_on_an_old_version_is_not_saved(conversation_store: MakeStore) -> None:
    store = conversation_store()
    owner = new_owner_token()
    c = Conversation()
    store.enqueue(owner, c.id, "m1", "first", at(1))
    stale = store.load(owner, c.id)
    assert stale is not None
    store.rename(owner, c.id, "Renamed meanwhile")  # someone saved after the read
    stale.title = "from the stale copy"
    stale.updated_at = at(9)
    assert store.complete(owner, stale, "m1", stale.created_at) is False
    assert [p.id for p in store.pending(owner, c.id)] == ["m1"]  # still waiting: not lost
    fresh = store.load(owner, c.id)
    assert fresh is not None
    assert fresh.title == "Renamed meanwhile"
    with pytest.raises(StaleConversation):
        store.save_if_unchanged(owner, stale, stale.created_at)


def test_the_page_reads_the_conversation_and_its_inbox_at_one_moment(
    conversation_store: MakeStore,
) -> None:
    """A message answered between two separate reads would be in neither the transcript nor
    the inbox, and the page would stop polling without showing it."""
    store = conversation_store()
    owner = new_owner_token()
    c = Conversation()
    assert store.load_with_pending(owner, c.id) == (None, [])
    store.enqueue(owner, c.id, "m1", "first", at(1))
    store.enqueue(owner, c.id, "m2", "second", at(2))
    loaded, pending = store.load_with_pending(owner, c.id)
    assert loaded is not None
    assert loaded.id == c.id
    assert [p.id for p in pending] == ["m1", "m2"]
    assert store.load_with_pending(new_owner_token(), c.id) == (None, [])
    assert store.complete(owner, loaded, "m1", loaded.updated_at)
    _, pending = store.load_with_pending(owner, c.id)
    assert [p.id for p in pending] == ["m2"]


def test_failed_messages_are_kept_and_can_be_sent_again(conversation_store: MakeStore) -> None:
    store = conversation_store()
    owner = new_owner_token()
    c = Conversation()
    store.enqueue(owner, c.id, "m1", "first", at(1))
    store.enqueue(owner, c.id, "m2", "second", at(2))
    store.fail(owner, "m1", "It broke.")
    assert [(p.id, p.error) for p in store.pending(owner, c.id)] == [
        ("m1", "It broke."),
        ("m2", ""),
    ]
    loaded = store.load(owner, c.id)
    assert loaded is not None
    assert store.complete(owner, loaded, "m1", loaded.updated_at) is False  # failed: not taken
    store.retry(owner, "m1", at(3))
    assert [(p.id, p.error) for p in store.pending(owner, c.id)] == [("m2", ""), ("m1", "")]
    store.discard(owner, "m2")
    store.delete(owner, c.id)
    assert store.pending(owner, c.id) == []
    assert store.pending_conversations() == []


def test_concurrent_updates_lose_nothing(conversation_store: MakeStore) -> None:
    """Eight threads retitle one conversation through load-change-save: every change is
    applied to the version before it, none overwritten (compare-and-set)."""
    store = conversation_store()
    owner = new_owner_token()
    c = Conversation(title="0")
    store.save(owner, c)
    errors: list[BaseException] = []

    def bump() -> None:
        try:
            for _ in range(5):

                def add_one(conv: Conversation) -> None:
                    conv.title = str(int(conv.title) + 1)

                store.update(owner, c.id, add_one, tries=200)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=bump) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    final = store.load(owner, c.id)
    assert final is not None
    assert final.title == "40"


# --------------------------------------------------------------------------- the answerer


@pytest.fixture
def inbox(make_advisor: Any, tmp_path: Any) -> Iterator[Inbox]:
    box = Inbox(ConversationStore(tmp_path / "c.sqlite3"), make_advisor())
    yield box
    box.close()


@pytest.mark.slow
def test_messages_are_answered_once_each_in_order(inbox: Inbox) -> None:
    owner, cid = new_owner_token(), Conversation().id
    texts = [
        "We have 300 labeled examples.",
        "How many examples for LoRA?",
        "Our prompt has been tuned for three weeks.",
        "We serve 2M requests a month.",
    ]
    for text in texts:  # faster than they are answered
        inbox.submit(owner, cid, text)
    assert inbox.wait_idle(120)
    saved = inbox.store.load(owner, cid)
    assert saved is not None
    assert [m.text for m in saved.messages if m.role is Role.USER] == texts
    roles = [m.role for m in saved.messages]
    assert roles == [Role.USER, Role.ASSISTANT] * len(texts)  # one reply after each
    assert inbox.pending(owner, cid) == []


@pytest.mark.slow
def test_unusable_text_is_refused_before_anything_is_recorded(inbox: Inbox) -> None:
    owner, cid = new_owner_token(), Conversation().id
    for bad in ("", "   ", "x" * 25_000, "a\x00b", b"bytes"):
        with pytest.raises(QueryError):
            inbox.submit(owner, cid, bad)
    assert inbox.store.load(owner, cid) is None
    assert inbox.pending(owner, cid) == []


@pytest.mark.slow
def test_a_failing_turn_keeps_the_message_and_unblocks_the_next(
    inbox: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    owner, cid = new_owner_token(), Conversation().id
    real = inbox.advisor.stream

    def flaky(conversation: Conversation, message: str) -> Any:
        if "boom" in message:
            raise KeyError("a bug")
        return real(conversation, message)

    monkeypatch.setattr(inbox.advisor, "stream", flaky)
    inbox.submit(owner, cid, "boom: we have 300 labeled examples.")
    inbox.submit(owner, cid, "We have 300 labeled examples.")
    assert inbox.wait_idle(120)
    [failed] = inbox.pending(owner, cid)
    assert failed.text.startswith("boom")
    assert failed.error == INTERNAL_FAILURE
    saved = inbox.store.load(owner, cid)
    assert saved is not None
    assert [m.text for m in saved.messages if m.role is Role.USER] == [
        "We have 300 labeled examples."
    ]
    monkeypatch.setattr(inbox.advisor, "stream", real)
    inbox.retry(owner, cid, failed.id)
    assert inbox.wait_idle(120)
    assert inbox.pending(owner, cid) == []
    saved = inbox.store.load(owner, cid)
    assert saved is not None
    assert saved.user_turns == 2


@pytest.mark.slow
def test_a_change_saved_during_a_turn_is_kept_and_the_turn_recomputed(
    inbox: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A correction saved while a turn is computed: the turn is not written over it, it is
    computed again on the corrected conversation."""
    owner, cid = new_owner_token(), Conversation().id
    real = inbox.advisor.stream
    calls: list[int] = []

    def racing(conversation: Conversation, message: str) -> Any:
        calls.append(1)
        if len(calls) == 1:  # another writer saves while the first attempt runs
            inbox.store.rename(owner, cid, "Renamed during the turn")
        return real(conversation, message)

    monkeypatch.setattr(inbox.advisor, "stream", racing)
    inbox.submit(owner, cid, "We have 300 labeled examples.")
    assert inbox.wait_idle(120)
    saved = inbox.store.load(owner, cid)
    assert saved is not None
    assert len(calls) == 2
    assert saved.title == "Renamed during the turn"
    assert saved.user_turns == 1


@pytest.mark.slow
def test_a_restarted_server_answers_what_was_waiting(make_advisor: Any, tmp_path: Any) -> None:
    store = ConversationStore(tmp_path / "c.sqlite3")
    owner, c = new_owner_token(), Conversation()
    store.enqueue(owner, c.id, "m1", "We have 300 labeled examples.", at(1))  # then a crash
    box = Inbox(ConversationStore(tmp_path / "c.sqlite3"), make_advisor())
    try:
        assert box.resume() == 1
        assert box.wait_idle(120)
        saved = box.store.load(owner, c.id)
        assert saved is not None
        assert saved.user_turns == 1
        assert box.pending(owner, c.id) == []
    finally:
        box.close()
