"""Submitted messages, answered exactly once each, in order, away from the page.

Why: a Streamlit run is interrupted whenever the user submits again, so a turn computed inside
the page's run can be cut off half-way, repeated, or dropped. Here the page only *records* a
submission (one short transaction, :meth:`ConversationStore.enqueue`) and draws what is there;
answering happens on a small thread pool of the server process:

- one drainer per conversation at a time (an in-process set guarded by a lock), taking the
  oldest waiting message, so a conversation's messages are answered in submission order;
- the turn is computed on a freshly loaded copy and saved by
  :meth:`ConversationStore.complete`, which deletes the inbox row and saves the turn in one
  transaction, and only if nobody saved the conversation since it was read (a correction, a
  rename, another replica): a message is never answered twice, and a turn is never written over
  a newer version (it is recomputed on that version instead);
- a message whose answer fails stays in the inbox marked with why (nothing the user wrote is
  lost) and no longer blocks the messages after it; the page offers to send it again;
- a server restarted with messages waiting answers them when their conversation is next shown
  (:meth:`Inbox.kick`), or all at once with :meth:`Inbox.resume`.

With several replicas on one PostgreSQL store two drainers may compute the same message; the
transaction lets exactly one of them save it, and the other finds it gone.
"""

from __future__ import annotations

import logging
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from advisor.chat import Advisor, Conversation, Reply
from advisor.conversations import ConversationStore, PendingMessage
from advisor.errors import AdvisorError, describe

log = logging.getLogger(__name__)

#: What a user sees when answering failed for a reason that is a bug, not theirs.
INTERNAL_FAILURE = (
    "The advisor hit an internal error answering this message; your message is kept. "
    "Send it again, or remove it."
)
#: How often a turn is recomputed when the conversation keeps changing under it.
MAX_ATTEMPTS = 5


def new_message_id() -> str:
    return uuid.uuid4().hex


class Inbox:
    """The server's queue of submitted messages (module doc). One per server process."""

    def __init__(self, store: ConversationStore, advisor: Advisor, workers: int = 2) -> None:
        self.store = store
        #: Replaced when documents are re-indexed: the next turn answers from the new index.
        self.advisor = advisor
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="advisor-inbox")
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._active: set[tuple[str, str]] = set()
        self._again: set[tuple[str, str]] = set()
        self._progress: dict[str, str] = {}

    # ------------------------------------------------------------------ the page's side

    def submit(self, owner: str, conversation_id: str, text: object) -> PendingMessage:
        """Record ``text`` as the next message of the conversation (created if new) and start
        answering it. Raises :class:`QueryError` for text that cannot be a message (empty,
        binary, too long): then nothing is recorded."""
        cleaned = self.advisor.check_message(text)
        message = PendingMessage(new_message_id(), conversation_id, datetime.now(UTC), cleaned)
        self.store.enqueue(owner, conversation_id, message.id, cleaned, message.submitted_at)
        self.kick(owner, conversation_id)
        return message

    def pending(self, owner: str, conversation_id: str) -> list[PendingMessage]:
        return self.store.pending(owner, conversation_id)

    def progress(self, message_id: str) -> str | None:
        """What has been written so far of the reply to ``message_id`` while it is being
        answered (the language model's streamed text; ``""`` before any), else ``None``."""
        with self._lock:
            return self._progress.get(message_id)

    def retry(self, owner: str, conversation_id: str, message_id: str) -> None:
        """Send a failed message again (it becomes the newest)."""
        self.store.retry(owner, message_id, datetime.now(UTC))
        self.kick(owner, conversation_id)

    def discard(self, owner: str, message_id: str) -> None:
        self.store.discard(owner, message_id)

    def kick(self, owner: str, conversation_id: str) -> None:
        """Make sure the conversation's waiting messages are being answered."""
        key = (owner, conversation_id)
        with self._lock:
            if key in self._active:
                self._again.add(key)  # the drainer looks once more before it stops
                return
            self._active.add(key)
        try:
            self._pool.submit(self._drain, key)
        except RuntimeError:  # the pool is shut down (the server is stopping)
            with self._lock:
                self._active.discard(key)
                self._idle.notify_all()

    def resume(self) -> int:
        """Answer every message still waiting in the store (after a restart); returns how
        many conversations were started."""
        waiting = self.store.pending_conversations()
        for owner, conversation_id in waiting:
            self.kick(owner, conversation_id)
        return len(waiting)

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Block until no conversation is being answered (the CLI and tests); ``False`` on
        timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: not self._active, timeout)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=False)

    # ------------------------------------------------------------------ the worker's side

    def _drain(self, key: tuple[str, str]) -> None:
        owner, conversation_id = key
        try:
            while True:
                head = next((m for m in self.store.pending(*key) if not m.error), None)
                if head is not None:
                    self._answer(owner, conversation_id, head)
                    continue
                with self._lock:
                    if key in self._again:
                        self._again.discard(key)
                        continue
                    self._active.discard(key)
                    self._idle.notify_all()
                    return
        except Exception:
            # The store itself failed (a database down): the messages stay in the inbox and
            # the next kick (the page's next render) tries again.
            log.exception("answering the messages of conversation %s stopped", conversation_id)
            with self._lock:
                self._active.discard(key)
                self._again.discard(key)
                self._idle.notify_all()

    def _answer(self, owner: str, conversation_id: str, message: PendingMessage) -> None:
        for _ in range(MAX_ATTEMPTS):
            conversation = self.store.load(owner, conversation_id)
            if conversation is None:  # deleted meanwhile: its messages go with it
                self.store.discard(owner, message.id)
                return
            read_at = conversation.updated_at
            with self._lock:
                self._progress[message.id] = ""
            try:
                self._turn(conversation, message)
            except AdvisorError as exc:
                self.store.fail(owner, message.id, describe(exc))
                return
            except Exception:
                log.exception("answering message %s failed", message.id)
                self.store.fail(owner, message.id, INTERNAL_FAILURE)
                return
            finally:
                with self._lock:
                    self._progress.pop(message.id, None)
            if self.store.complete(owner, conversation, message.id, read_at):
                return
            if all(m.id != message.id for m in self.store.pending(owner, conversation_id)):
                return  # answered elsewhere (another replica)
        self.store.fail(
            owner,
            message.id,
            "The conversation kept changing while this message was answered; send it again.",
        )

    def _turn(self, conversation: Conversation, message: PendingMessage) -> Reply:
        advisor = self.advisor
        final: Reply | None = None
        for event in advisor.stream(conversation, message.text):
            if isinstance(event, Reply):
                final = event
            elif advisor.llm is not None:  # without a model the text arrives whole at the end
                with self._lock:
                    self._progress[message.id] = self._progress.get(message.id, "") + event
        if final is None:
            raise RuntimeError("the advisor's stream ended without a reply")
        return final
