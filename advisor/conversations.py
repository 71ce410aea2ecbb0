"""Saved conversations: one row per conversation, owned by one browser; SQLite or PostgreSQL.

Each conversation is stored whole, as the JSON of :class:`~advisor.chat.Conversation`
(transcript, fact ledger, replies), in one transaction per save: a crash leaves the last
completed save. Every read and write names its owner (a random token the browser session
holds), so two sessions never see each other's conversations.

Where rows live is a small backend (:class:`Backend`): the schema and every statement are
written once, in the SQL both engines speak (``?`` placeholders, ``ON CONFLICT ... DO
UPDATE``); a backend only opens transactions, maps its driver's errors and spells the one
JSON function that differs.

- **SQLite** (the default, ``$ADVISOR_DATA_DIR/conversations.sqlite3``) runs in WAL mode with
  a busy timeout, so several app threads and processes on one machine can share the file.
- **PostgreSQL** (``ADVISOR_DATABASE_URL=postgresql://user@host:port/db``, psycopg 3) lets
  several app replicas on several machines share conversations. The password in the URL is
  never shown: messages name the server as ``postgresql://user@host:port/db``.
"""

from __future__ import annotations

import builtins
import secrets
import sqlite3
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from pydantic import ValidationError

from advisor.chat import Conversation
from advisor.errors import AdvisorError, first_line

if TYPE_CHECKING:
    import psycopg

    from advisor.settings import Settings

#: The schema, in SQL that SQLite and PostgreSQL both accept (times are ISO-8601 text).
SCHEMA_STATEMENTS = (
    """CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    title TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    body TEXT NOT NULL
)""",
    "CREATE INDEX IF NOT EXISTS conversations_by_owner ON conversations (owner, updated_at)",
    # Messages waiting for their turn (advisor/inbox.py). A row is written when the user
    # submits and deleted in the same transaction that saves the turn answering it, so a
    # message is answered exactly once and survives a crash or restart in between. ``error``
    # is set when answering failed: the row stays (nothing the user wrote is lost) and no
    # longer blocks the messages after it.
    """CREATE TABLE IF NOT EXISTS inbox (
    id TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL,
    owner TEXT NOT NULL,
    submitted_at TEXT NOT NULL,
    text TEXT NOT NULL,
    error TEXT NOT NULL DEFAULT ''
)""",
    "CREATE INDEX IF NOT EXISTS inbox_by_conversation ON inbox (conversation_id, submitted_at)",
)
SCHEMA = "".join(f"{statement};\n" for statement in SCHEMA_STATEMENTS)
MAX_TITLE_CHARS = 120
#: The upsert never changes a row's owner: another owner's row is left as it is (rowcount 0).
_UPSERT = (
    "INSERT INTO conversations (id, owner, title, created_at, updated_at, body) "
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
    "title = excluded.title, updated_at = excluded.updated_at, body = excluded.body "
    "WHERE conversations.owner = excluded.owner"
)
#: Insert a conversation that does not exist yet (a first message creates it).
_INSERT_NEW = (
    "INSERT INTO conversations (id, owner, title, created_at, updated_at, body) "
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING"
)
#: Save only if nobody saved since ``updated_at`` was read: the compare-and-set that keeps two
#: writers (two tabs, two replicas, a turn and a correction) from overwriting each other.
_UPDATE_IF_UNCHANGED = (
    "UPDATE conversations SET title = ?, updated_at = ?, body = ? "
    "WHERE id = ? AND owner = ? AND updated_at = ?"
)
POSTGRES_SCHEMES = ("postgresql://", "postgres://")


class ConversationStoreError(AdvisorError):
    """The conversation store cannot be opened, read or written."""


@dataclass(frozen=True)
class ConversationSummary:
    id: str
    title: str
    updated_at: datetime
    turns: int


@dataclass(frozen=True)
class PendingMessage:
    """A submitted message not yet answered (or whose answer failed: ``error``)."""

    id: str
    conversation_id: str
    submitted_at: datetime
    text: str
    error: str = ""


class StaleConversation(ConversationStoreError):
    """The conversation was saved by someone else since it was read; read it again."""


def new_owner_token() -> str:
    """A random, unguessable owner id for one browser session."""
    return secrets.token_urlsafe(18)


#: ``run(sql, params) -> (rows, rowcount)``: one statement inside an open transaction.
Rows = list[tuple[Any, ...]]
Run = Callable[[str, Sequence[object]], tuple[Rows, int]]
T = TypeVar("T")


class Backend(ABC):
    """Where conversation rows live: transactions, errors, and one SQL dialect detail."""

    #: Where the rows are, for messages (never a password).
    location: str
    #: SQL expression: how many messages a row's ``body`` JSON holds.
    messages_count_sql: str

    @abstractmethod
    def transact(self, work: Callable[[Run], T], *, write: bool) -> T:
        """``work(run)`` in one transaction: committed when it returns, rolled back if it
        raises. Driver errors become :class:`ConversationStoreError` with a hint naming the
        fix. ``work`` may be called again (idempotent statements only)."""

    @abstractmethod
    def create_schema(self) -> None:
        """Create the table and index if they are missing."""


class SQLiteBackend(Backend):
    """One SQLite file. Each thread has its own connection (sqlite3 connections must not be
    shared between threads); WAL and a busy timeout let them, and other processes on the same
    machine, read while one writes."""

    messages_count_sql = "json_array_length(body, '$.messages')"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.location = str(path)
        self._local = threading.local()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._connect()
        except (OSError, sqlite3.Error) as exc:
            raise ConversationStoreError(
                f"The conversation store at {path} cannot be opened ({exc}).",
                hint="Check the folder's permissions, or set ADVISOR_DATA_DIR to another one.",
            ) from exc

    def _connect(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=10, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA busy_timeout=10000")
            self._local.db = db
        return db

    def create_schema(self) -> None:
        try:
            self._connect().executescript(SCHEMA)
        except sqlite3.Error as exc:
            raise ConversationStoreError(
                f"The conversation store at {self.path} cannot be opened ({exc}).",
                hint="Check the folder's permissions, or set ADVISOR_DATA_DIR to another one.",
            ) from exc

    def transact(self, work: Callable[[Run], T], *, write: bool) -> T:
        try:
            db = self._connect()

            def run(sql: str, params: Sequence[object]) -> tuple[Rows, int]:
                cursor = db.execute(sql, tuple(params))
                return cursor.fetchall(), cursor.rowcount

            # IMMEDIATE takes the write lock up front, so two writers never deadlock on an
            # upgrade; reads take a snapshot and never block a writer (WAL).
            db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                result = work(run)
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
            return result
        except sqlite3.Error as exc:
            raise ConversationStoreError(
                f"The conversation store at {self.path} failed ({exc}).",
                hint="Nothing was lost from earlier saves; try again.",
            ) from exc


def redact_url(url: str) -> str:
    """``postgresql://user@host:port/db``: the URL without its password or options."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        parts = conninfo_to_dict(url)
    except Exception:
        return "postgresql://(an unreadable ADVISOR_DATABASE_URL)"
    user = f"{parts['user']}@" if parts.get("user") else ""
    host = str(parts.get("host") or "localhost")
    port = f":{parts['port']}" if parts.get("port") else ""
    return f"postgresql://{user}{host}{port}/{parts.get('dbname') or ''}"


class PostgresBackend(Backend):
    """A PostgreSQL database, through psycopg 3.

    Threads: one connection per store, guarded by a lock, so one store call runs at a time
    per process. Every call is one short transaction (a primary-key read or upsert: about a
    millisecond on a local server), while a chat turn spends far longer in retrieval and
    phrasing, so the lock is never the bottleneck of the Streamlit server's threads; and the
    server sees one connection per replica, whatever the number of browser sessions. A pool
    (psycopg_pool) would add a dependency and idle connections for no measurable gain here;
    connecting per call would pay a TCP and authentication round trip on every save.
    A connection the server dropped (restart, failover, idle timeout) is replaced, and the
    call retried once: every statement here is idempotent (reads, an upsert of the same body,
    a delete), so a retry never saves twice.
    """

    messages_count_sql = "json_array_length((body::json) -> 'messages')"

    def __init__(self, url: str, *, connect_timeout_s: int = 5) -> None:
        self._url = url
        self.location = redact_url(url)
        self._connect_timeout_s = connect_timeout_s
        self._lock = threading.Lock()
        self._db: psycopg.Connection[tuple[Any, ...]] | None = None
        with self._lock:
            self._open()

    def _scrub(self, exc: BaseException) -> str:
        """The driver's message, first line, with any password in it masked."""
        from psycopg.conninfo import conninfo_to_dict

        text = first_line(exc, 300)
        secrets_in_url: set[str] = set()
        try:  # the password as written in the URL (maybe %-encoded) and as decoded
            secrets_in_url.add(urlsplit(self._url).password or "")
            secrets_in_url.add(str(conninfo_to_dict(self._url).get("password") or ""))
        except Exception:  # noqa: S110 - an unreadable URL: psycopg said why, nothing to mask
            pass
        for secret in sorted(secrets_in_url - {""}, key=len, reverse=True):
            text = text.replace(secret, "***")
        return text

    def _unreachable(self, exc: BaseException) -> ConversationStoreError:
        return ConversationStoreError(
            f"The conversation store at {self.location} cannot be reached ({self._scrub(exc)}).",
            hint="Start PostgreSQL there and check ADVISOR_DATABASE_URL (user, host, port, "
            "database, password), or unset ADVISOR_DATABASE_URL to keep conversations in "
            "SQLite in ADVISOR_DATA_DIR.",
        )

    def _open(self) -> psycopg.Connection[tuple[Any, ...]]:
        import psycopg

        if self._db is not None and not self._db.closed and not self._db.broken:
            return self._db
        if self._db is not None:
            self._db.close()
            self._db = None
        try:
            self._db = psycopg.connect(
                self._url,
                autocommit=True,  # transactions are explicit: conn.transaction()
                connect_timeout=self._connect_timeout_s,
                application_name="fine-tune-advisor",
            )
        except psycopg.Error as exc:
            raise self._unreachable(exc) from None
        return self._db

    def create_schema(self) -> None:
        def create(run: Run) -> None:
            # Two replicas starting together must not both create the table.
            run("SELECT pg_advisory_xact_lock(7411520)", ())
            for statement in SCHEMA_STATEMENTS:
                run(statement, ())

        self.transact(create, write=True)

    def transact(self, work: Callable[[Run], T], *, write: bool) -> T:
        import psycopg

        with self._lock:
            retried = False
            while True:
                reused = self._db is not None and not self._db.closed and not self._db.broken
                db = self._open()
                try:
                    with db.transaction():
                        return work(_postgres_runner(db))
                except psycopg.OperationalError as exc:
                    if reused and db.broken and not retried:
                        retried = True  # a dropped connection: reconnect, run the call again
                        continue
                    raise self._unreachable(exc) from None
                except psycopg.Error as exc:
                    raise ConversationStoreError(
                        f"The conversation store at {self.location} failed ({self._scrub(exc)}).",
                        hint="Nothing was lost from earlier saves; try again.",
                    ) from None

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None


def _postgres_runner(db: psycopg.Connection[tuple[Any, ...]]) -> Run:
    def run(sql: str, params: Sequence[object]) -> tuple[Rows, int]:
        # The shared SQL uses ``?``; psycopg's placeholder is ``%s`` (no ``?`` or ``%`` occurs
        # in the statements otherwise). Bytes: the statement is built from constants only.
        cursor = db.execute(sql.replace("?", "%s").encode(), tuple(params))
        rows = cursor.fetchall() if cursor.description is not None else []
        return rows, cursor.rowcount

    return run


class ConversationStore:
    """Conversations scoped by owner (module doc): SQLite at ``path``, or the backend given."""

    def __init__(self, path: Path | None = None, *, backend: Backend | None = None) -> None:
        if backend is None:
            if path is None:
                raise TypeError("ConversationStore needs a path or a backend")
            backend = SQLiteBackend(path)
        self.path = path
        self.backend = backend
        backend.create_schema()

    @classmethod
    def from_url(cls, url: str) -> ConversationStore:
        """A store on the PostgreSQL database at ``url`` (``postgresql://user@host:port/db``)."""
        if not url.startswith(POSTGRES_SCHEMES):
            raise ConversationStoreError(
                "ADVISOR_DATABASE_URL must start with postgresql://.",
                hint="Set it to postgresql://user:password@host:5432/database, or unset it to "
                "use SQLite.",
            )
        return cls(backend=PostgresBackend(url))

    @property
    def location(self) -> str:
        """Where conversations are kept, for messages and the settings page (no password)."""
        return self.backend.location

    def save(self, owner: str, conversation: Conversation) -> None:
        """Insert or replace ``conversation`` for ``owner`` (atomic)."""
        row = _row(owner, conversation)

        def upsert(run: Run) -> None:
            _, changed = run(_UPSERT, row)
            if changed == 0:
                raise ConversationStoreError("That conversation belongs to another session.")

        self.backend.transact(upsert, write=True)

    def load(self, owner: str, conversation_id: str) -> Conversation | None:
        rows = self._read(
            "SELECT body FROM conversations WHERE id = ? AND owner = ?", (conversation_id, owner)
        )
        if not rows:
            return None
        return self._parse(rows[0][0])

    @staticmethod
    def _parse(body: str) -> Conversation:
        try:
            return Conversation.model_validate_json(body)
        except ValidationError as exc:
            raise ConversationStoreError(
                "That saved conversation cannot be read by this version of the advisor."
            ) from exc

    def list(self, owner: str) -> list[ConversationSummary]:
        """The owner's conversations, most recently updated first."""
        rows = self._read(
            f"SELECT id, title, updated_at, {self.backend.messages_count_sql} "  # noqa: S608 - a constant
            "FROM conversations WHERE owner = ? ORDER BY updated_at DESC",
            (owner,),
        )
        return [
            ConversationSummary(r[0], r[1], datetime.fromisoformat(r[2]), int(r[3] or 0) // 2)
            for r in rows
        ]

    def rename(self, owner: str, conversation_id: str, title: str) -> None:
        title = " ".join(title.split())[:MAX_TITLE_CHARS]
        if not title:
            raise ConversationStoreError("A conversation needs a title.")

        def retitle(conversation: Conversation) -> None:
            conversation.title = title

        self.update(owner, conversation_id, retitle)

    def update(
        self,
        owner: str,
        conversation_id: str,
        change: Callable[[Conversation], T],
        *,
        tries: int = 5,
    ) -> T | None:
        """Read the conversation, ``change`` it, save it unless someone saved meanwhile (then
        read and change again). ``None`` if there is no such conversation."""
        for _ in range(tries):
            conversation = self.load(owner, conversation_id)
            if conversation is None:
                return None
            read_at = conversation.updated_at
            result = change(conversation)
            if conversation.updated_at == read_at:
                conversation.updated_at = _later_than(read_at)
            try:
                self.save_if_unchanged(owner, conversation, read_at)
            except StaleConversation:
                continue
            return result
        raise ConversationStoreError(
            "The conversation kept changing while it was being saved.",
            hint="Reload the page and try again.",
        )

    def save_if_unchanged(self, owner: str, conversation: Conversation, read_at: datetime) -> None:
        """Save ``conversation`` only if its stored version is still the one read at
        ``read_at``; else raise :class:`StaleConversation` and change nothing."""

        def update(run: Run) -> None:
            self._update_if_unchanged(run, owner, conversation, read_at)

        self.backend.transact(update, write=True)

    def _update_if_unchanged(
        self, run: Run, owner: str, conversation: Conversation, read_at: datetime
    ) -> None:
        _, changed = run(
            _UPDATE_IF_UNCHANGED,
            (
                conversation.title[:MAX_TITLE_CHARS],
                conversation.updated_at.isoformat(),
                conversation.model_dump_json(),
                conversation.id,
                owner,
                read_at.isoformat(),
            ),
        )
        if changed == 0:
            raise StaleConversation("The conversation changed since it was read.")

    # ------------------------------------------------------------------ the inbox

    def enqueue(
        self, owner: str, conversation_id: str, message_id: str, text: str, at: datetime
    ) -> None:
        """Record a submitted message, and create its conversation if this is the first (one
        transaction, no read of the conversation: the page's callback waits on it). Writing
        the same ``message_id`` twice records it once."""
        row = _row(owner, Conversation(id=conversation_id))

        def write(run: Run) -> None:
            run(_INSERT_NEW, row)
            rows, _ = run("SELECT owner FROM conversations WHERE id = ?", (conversation_id,))
            if not rows or rows[0][0] != owner:
                raise ConversationStoreError("That conversation belongs to another session.")
            run(
                "INSERT INTO inbox (id, conversation_id, owner, submitted_at, text, error) "
                "VALUES (?, ?, ?, ?, ?, '') ON CONFLICT(id) DO NOTHING",
                (message_id, conversation_id, owner, at.isoformat(), text),
            )

        self.backend.transact(write, write=True)

    def load_with_pending(
        self, owner: str, conversation_id: str
    ) -> tuple[Conversation | None, builtins.list[PendingMessage]]:
        """The conversation and its unanswered messages as of one moment (one statement, so
        one snapshot in both engines): read apart, a message answered between the two reads
        would be in neither."""
        rows = self._read(
            "SELECT c.body, i.id, i.submitted_at, i.text, i.error FROM conversations c "
            "LEFT JOIN inbox i ON i.conversation_id = c.id AND i.owner = c.owner "
            "WHERE c.id = ? AND c.owner = ? ORDER BY i.submitted_at, i.id",
            (conversation_id, owner),
        )
        if not rows:
            return None, []
        pending = [_pending(conversation_id, *r[1:]) for r in rows if r[1] is not None]
        return self._parse(rows[0][0]), pending

    def pending(self, owner: str, conversation_id: str) -> builtins.list[PendingMessage]:
        """The conversation's unanswered messages, oldest first (failed ones included)."""
        rows = self._read(
            "SELECT id, submitted_at, text, error FROM inbox "
            "WHERE conversation_id = ? AND owner = ? ORDER BY submitted_at, id",
            (conversation_id, owner),
        )
        return [_pending(conversation_id, *r) for r in rows]

    def pending_conversations(self) -> builtins.list[tuple[str, str]]:
        """``(owner, conversation_id)`` of every conversation with a message waiting (not
        failed): what a restarted server still has to answer."""
        rows = self._read("SELECT DISTINCT owner, conversation_id FROM inbox WHERE error = ''", ())
        return [(r[0], r[1]) for r in rows]

    def complete(
        self, owner: str, conversation: Conversation, message_id: str, read_at: datetime
    ) -> bool:
        """Save the turn that answered ``message_id`` and take the message out of the inbox,
        in one transaction. ``False`` (and nothing saved) if the message was already answered
        or the conversation changed since ``read_at``: the caller reads it again."""

        def write(run: Run) -> bool:
            _, removed = run(
                "DELETE FROM inbox WHERE id = ? AND owner = ? AND error = ''", (message_id, owner)
            )
            if removed == 0:
                return False
            self._update_if_unchanged(run, owner, conversation, read_at)
            return True

        try:
            return self.backend.transact(write, write=True)
        except StaleConversation:
            return False

    def fail(self, owner: str, message_id: str, error: str) -> None:
        """Keep the message, marked with why it was not answered (it no longer blocks the
        messages after it)."""
        self.backend.transact(
            lambda run: run(
                "UPDATE inbox SET error = ? WHERE id = ? AND owner = ?",
                (error[:500] or "It could not be answered.", message_id, owner),
            ),
            write=True,
        )

    def retry(self, owner: str, message_id: str, at: datetime) -> None:
        """Clear a failed message's error so it is answered again, as the newest message."""
        self.backend.transact(
            lambda run: run(
                "UPDATE inbox SET error = '', submitted_at = ? WHERE id = ? AND owner = ?",
                (at.isoformat(), message_id, owner),
            ),
            write=True,
        )

    def discard(self, owner: str, message_id: str) -> None:
        """Remove a message from the inbox (the user dismissed a failed one)."""
        self.backend.transact(
            lambda run: run("DELETE FROM inbox WHERE id = ? AND owner = ?", (message_id, owner)),
            write=True,
        )

    def delete(self, owner: str, conversation_id: str) -> None:
        def remove(run: Run) -> None:
            run(
                "DELETE FROM inbox WHERE conversation_id = ? AND owner = ?",
                (conversation_id, owner),
            )
            run("DELETE FROM conversations WHERE id = ? AND owner = ?", (conversation_id, owner))

        self.backend.transact(remove, write=True)

    def _read(self, sql: str, params: Sequence[object]) -> Rows:
        return self.backend.transact(lambda run: run(sql, params)[0], write=False)


def _row(owner: str, conversation: Conversation) -> tuple[str, ...]:
    """The values of a conversations row, in the column order of ``_UPSERT``/``_INSERT_NEW``."""
    return (
        conversation.id,
        owner,
        conversation.title[:MAX_TITLE_CHARS],
        conversation.created_at.isoformat(),
        conversation.updated_at.isoformat(),
        conversation.model_dump_json(),
    )


def _pending(
    conversation_id: str, message_id: str, submitted_at: str, text: str, error: str
) -> PendingMessage:
    return PendingMessage(
        message_id, conversation_id, datetime.fromisoformat(submitted_at), text, error
    )


def _later_than(moment: datetime) -> datetime:
    """Now, or a microsecond after ``moment`` if the clock has not moved past it."""
    from datetime import UTC, timedelta

    now = datetime.now(UTC)
    return now if now > moment else moment + timedelta(microseconds=1)


def open_conversation_store(settings: Settings) -> ConversationStore:
    """The store the settings name: PostgreSQL when ``ADVISOR_DATABASE_URL`` is set, else
    SQLite in the data folder."""
    if settings.database_url is not None:
        return ConversationStore.from_url(settings.database_url.get_secret_value())
    return ConversationStore(settings.data_dir / "conversations.sqlite3")
