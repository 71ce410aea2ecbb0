"""Saved conversations: SQLite by default, one row per conversation, owned by one browser.

Each conversation is stored whole, as the JSON of :class:`~advisor.chat.Conversation`
(transcript, fact ledger, replies), in one transaction per save: a crash leaves the last
completed save. Every read and write names its owner (a random token the browser session
holds), so two sessions never see each other's conversations. SQLite runs in WAL mode with a
busy timeout, so several app threads and processes can share the file.
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pydantic import ValidationError

from advisor.chat import Conversation
from advisor.errors import AdvisorError

SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    title TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS conversations_by_owner ON conversations (owner, updated_at);
"""
MAX_TITLE_CHARS = 120


class ConversationStoreError(AdvisorError):
    """The conversation store cannot be opened, read or written."""


@dataclass(frozen=True)
class ConversationSummary:
    id: str
    title: str
    updated_at: datetime
    turns: int


def new_owner_token() -> str:
    """A random, unguessable owner id for one browser session."""
    return secrets.token_urlsafe(18)


class ConversationStore:
    """SQLite-backed conversations, scoped by owner (module doc)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with self._connection() as db:
                db.executescript(SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise ConversationStoreError(
                f"The conversation store at {path} cannot be opened ({exc}).",
                hint="Check the folder's permissions, or set ADVISOR_DATA_DIR to another one.",
            ) from exc

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA busy_timeout=10000")
            self._local.db = db
        try:
            yield db
        except sqlite3.Error as exc:
            raise ConversationStoreError(
                f"The conversation store at {self.path} failed ({exc}).",
                hint="Nothing was lost from earlier saves; try again.",
            ) from exc

    def save(self, owner: str, conversation: Conversation) -> None:
        """Insert or replace ``conversation`` for ``owner`` (atomic)."""
        body = conversation.model_dump_json()
        with self._connection() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute(
                    "SELECT owner FROM conversations WHERE id = ?", (conversation.id,)
                ).fetchone()
                if row is not None and row[0] != owner:
                    raise ConversationStoreError("That conversation belongs to another session.")
                db.execute(
                    "INSERT INTO conversations (id, owner, title, created_at, updated_at, body) "
                    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
                    "title = excluded.title, updated_at = excluded.updated_at, "
                    "body = excluded.body",
                    (
                        conversation.id,
                        owner,
                        conversation.title[:MAX_TITLE_CHARS],
                        conversation.created_at.isoformat(),
                        conversation.updated_at.isoformat(),
                        body,
                    ),
                )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def load(self, owner: str, conversation_id: str) -> Conversation | None:
        with self._connection() as db:
            row = db.execute(
                "SELECT body FROM conversations WHERE id = ? AND owner = ?",
                (conversation_id, owner),
            ).fetchone()
        if row is None:
            return None
        try:
            return Conversation.model_validate_json(row[0])
        except ValidationError as exc:
            raise ConversationStoreError(
                "That saved conversation cannot be read by this version of the advisor."
            ) from exc

    def list(self, owner: str) -> list[ConversationSummary]:
        """The owner's conversations, most recently updated first."""
        with self._connection() as db:
            rows = db.execute(
                "SELECT id, title, updated_at, json_array_length(body, '$.messages') "
                "FROM conversations WHERE owner = ? ORDER BY updated_at DESC",
                (owner,),
            ).fetchall()
        return [
            ConversationSummary(r[0], r[1], datetime.fromisoformat(r[2]), int(r[3] or 0) // 2)
            for r in rows
        ]

    def rename(self, owner: str, conversation_id: str, title: str) -> None:
        title = " ".join(title.split())[:MAX_TITLE_CHARS]
        if not title:
            raise ConversationStoreError("A conversation needs a title.")
        conversation = self.load(owner, conversation_id)
        if conversation is None:
            return
        conversation.title = title
        self.save(owner, conversation)

    def delete(self, owner: str, conversation_id: str) -> None:
        with self._connection() as db:
            db.execute(
                "DELETE FROM conversations WHERE id = ? AND owner = ?", (conversation_id, owner)
            )
