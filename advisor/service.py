"""What the app does for one browser session: one call per user action.

The Streamlit shell (app.py) holds no logic of its own; it calls these functions and renders
what they return. Every call names the session's owner token, so one browser session never
reads or changes another's conversations.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import InitVar, dataclass
from pathlib import Path
from typing import Any

from advisor.chat import Advisor, Conversation, Reply
from advisor.conversations import (
    ConversationStore,
    ConversationSummary,
    PendingMessage,
    open_conversation_store,
)
from advisor.corpus import (
    CORPUS_SUFFIXES,
    Document,
    DocumentError,
    decode_document_bytes,
    document_from_text,
    slugify,
)
from advisor.engine import Assessment
from advisor.errors import AdvisorError, QueryError, describe
from advisor.export import export, export_all, import_json
from advisor.inbox import Inbox

#: Uploaded guidance documents are refused above this size.
MAX_UPLOAD_BYTES = 1024 * 1024
Progress = Callable[[int, int, str], None]


@dataclass
class ChatService:
    """The advisor plus saved conversations (module doc)."""

    advisor: Advisor
    store: ConversationStore
    corpus: Any
    deps: Any = None  # AdvisorDeps, when the service can re-index (the app; not all tests)
    #: Where submitted messages wait for their answer; a re-indexed service keeps it.
    shared_inbox: InitVar[Inbox | None] = None

    def __post_init__(self, shared_inbox: Inbox | None) -> None:
        self.inbox = shared_inbox if shared_inbox is not None else Inbox(self.store, self.advisor)

    @classmethod
    def from_deps(cls, deps: Any) -> ChatService:
        store = open_conversation_store(deps.settings)
        return cls(Advisor.from_deps(deps), store, deps.corpus, deps)

    # ------------------------------------------------------------------ documents and index

    def index_status(self) -> dict[str, Any]:
        report = self.deps.index_report if self.deps is not None else None
        return {
            "documents": len(self.corpus.documents),
            "passages": len(self.corpus.passages),
            "corpus_version": self.corpus.version,
            "location": self.deps.store.location if self.deps is not None else "",
            "collection": report.collection if report else "",
            "skipped": list(report.problems) if report else [],
            "repaired": report.repaired if report else None,
        }

    def user_documents(self) -> list[Document]:
        if self.deps is None:
            return []
        folder = self.deps.settings.user_documents_dir.resolve()
        return [d for d in self.corpus.documents if folder in d.path.resolve().parents]

    def check_upload(self, filename: str, raw: bytes) -> tuple[Path, Document]:
        """Where an uploaded document would be saved, and what it parses to; raises
        :class:`QueryError` saying what is wrong with it."""
        if self.deps is None:
            raise AdvisorError("This advisor cannot take new documents.")
        name = Path(filename or "document").name
        suffix = Path(name).suffix.lower()
        if suffix == ".pdf":
            raise QueryError(
                f"{name}: PDF files are not accepted.",
                hint="Save the article as .md or .txt (copy its text) and upload that.",
            )
        if suffix not in CORPUS_SUFFIXES:
            raise QueryError(f"{name}: only Markdown (.md) and text (.txt) files are accepted.")
        if len(raw) > MAX_UPLOAD_BYTES:
            raise QueryError(
                f"{name} is {len(raw) / 1_048_576:.1f} MB; the limit is "
                f"{MAX_UPLOAD_BYTES // 1_048_576} MB.",
                hint="Split it into smaller documents.",
            )
        target = self.deps.settings.user_documents_dir / f"{slugify(Path(name).stem)}{suffix}"
        try:
            text = decode_document_bytes(raw)
            document = document_from_text(
                text, path=target, target_chars=self.deps.settings.passage_target_chars
            )
        except DocumentError as exc:
            raise QueryError(f"{name} {exc}") from exc
        clash = self.corpus.document(document.doc_id)
        if clash is not None and clash.path.resolve() != target.resolve():
            raise QueryError(
                f"{name}: its id '{document.doc_id}' is already used by {clash.title}.",
                hint="Rename the file, or give it another 'id:' in its front matter.",
            )
        return target, document

    def add_document(
        self, filename: str, raw: bytes, progress: Progress | None = None
    ) -> ChatService:
        """Save an uploaded guidance document and index it; returns the service over the new
        corpus. Nothing is written when the document is refused."""
        target, _ = self.check_upload(filename, raw)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.upload")
        tmp.write_bytes(raw)
        os.replace(tmp, target)
        return self.reindex(progress=progress)

    def reindex(self, *, rebuild: bool = False, progress: Progress | None = None) -> ChatService:
        """Bring the index in step with the corpus folders (or rebuild it)."""
        from advisor.deps import build_deps

        if self.deps is None:
            raise AdvisorError("This advisor cannot re-index.")
        deps = build_deps(self.deps.settings, rebuild=rebuild, progress=progress)
        advisor = Advisor.from_deps(deps, llm=self.advisor.llm)
        self.inbox.advisor = advisor
        return ChatService(advisor, self.store, deps.corpus, deps, self.inbox)

    def llm_status(self) -> tuple[str | None, str]:
        """Which model is configured (``None``: none) and, when asked, whether it answers."""
        if self.advisor.llm is None:
            return None, "No language model is configured: replies are the advisor's own."
        return self.advisor.llm.name, "configured"

    def check_llm(self) -> str:
        if self.advisor.llm is None:
            return "No language model is configured."
        try:
            answer = self.advisor.llm.ping()
        except AdvisorError as exc:
            return f"It does not answer: {describe(exc)}"
        return f"It answers ({answer!r})."

    def conversations(self, owner: str) -> list[ConversationSummary]:
        return self.store.list(owner)

    def open(self, owner: str, conversation_id: str | None) -> Conversation:
        """The owner's conversation, or a new (unsaved) one if there is none by that id."""
        if conversation_id:
            found = self.store.load(owner, conversation_id)
            if found is not None:
                return found
        return Conversation()

    # ------------------------------------------------------------------ messages (the app)

    def submit(self, owner: str, conversation_id: str, text: object) -> PendingMessage:
        """Record a message for the conversation (created if new); it is answered in the
        background, in order (advisor/inbox.py). Raises :class:`QueryError` for unusable text."""
        return self.inbox.submit(owner, conversation_id, text)

    def pending(self, owner: str, conversation_id: str) -> list[PendingMessage]:
        """The conversation's messages not answered yet, oldest first (failed ones marked)."""
        return self.inbox.pending(owner, conversation_id)

    # ------------------------------------------------------------------ turns in this thread

    def view(
        self, owner: str, conversation_id: str | None
    ) -> tuple[Conversation, list[PendingMessage]]:
        """What a page shows: the conversation (a new one if there is none by that id) and
        its messages not answered yet, read together so none falls between the two."""
        if conversation_id:
            found, pending = self.store.load_with_pending(owner, conversation_id)
            if found is not None:
                return found, pending
        return Conversation(), []

    def stream(self, owner: str, conversation: Conversation, message: str) -> Iterator[str | Reply]:
        """One turn, streamed; the conversation is saved when the turn completes."""
        for event in self.advisor.stream(conversation, message):
            if isinstance(event, Reply):
                self.store.save(owner, conversation)
            yield event

    def send(self, owner: str, conversation: Conversation, message: str) -> Reply:
        final: Reply | None = None
        for event in self.stream(owner, conversation, message):
            if isinstance(event, Reply):
                final = event
        assert final is not None
        return final

    def correct(self, owner: str, conversation: Conversation, fact: str, value: object) -> Reply:
        """Set a fact. A saved conversation is changed as it is stored now (a turn answered
        meanwhile is kept), and ``conversation`` becomes that version."""
        reply = self.store.update(
            owner, conversation.id, lambda stored: self._correct(stored, conversation, fact, value)
        )
        if reply is None:  # not saved yet: this is its first change
            reply = self.advisor.correct(conversation, fact, value)
            self.store.save(owner, conversation)
        return reply

    def _correct(
        self, stored: Conversation, shown: Conversation, fact: str, value: object
    ) -> Reply:
        reply = self.advisor.correct(stored, fact, value)
        for name in type(shown).model_fields:
            setattr(shown, name, getattr(stored, name))
        return reply

    def assess(self, conversation: Conversation) -> Assessment:
        return self.advisor.assess(conversation)

    def rename(self, owner: str, conversation_id: str, title: str) -> None:
        self.store.rename(owner, conversation_id, title)

    def delete(self, owner: str, conversation_id: str) -> None:
        self.store.delete(owner, conversation_id)

    def exports(self, conversation: Conversation) -> dict[str, bytes]:
        return export_all(conversation, self.assess(conversation), self.advisor.corpus_version)

    def export(self, conversation: Conversation, fmt: str) -> bytes:
        """One export format, built when it is asked for (the app passes this to its
        download buttons, so a page render builds no PDF)."""
        return export(conversation, self.assess(conversation), self.advisor.corpus_version, fmt)

    def import_export(self, owner: str, raw: bytes) -> Conversation:
        """A JSON export, saved as a new conversation of this owner."""
        conversation = import_json(raw)
        imported = conversation.model_copy(update={"id": Conversation().id})
        self.store.save(owner, imported)
        return imported


def build_service() -> ChatService:
    """The app's service over the default settings (tests patch this one function)."""
    from advisor.deps import build_deps

    return ChatService.from_deps(build_deps())


#: Invisible, and breaks a word: Streamlit's GFM renderer finds autolinks ("www.x.y",
#: "http://…", "a@b.c") in the decoded text, after escapes and character references.
WORD_JOINER = "\u2060"
_LINK_TRIGGERS = (
    ("www&#46;", "www" + WORD_JOINER + "&#46;"),
    ("&#58;//", "&#58;" + WORD_JOINER + "//"),
    ("&#64;", WORD_JOINER + "&#64;"),
)


def safe_markdown(text: str) -> str:
    """Any text as inert Markdown for st.markdown: nothing in it becomes a link, an image,
    a tag or formatting; line breaks are kept."""
    from advisor.export import md

    out = "  \n".join(md(line) for line in text.split("\n"))
    for trigger, broken in _LINK_TRIGGERS:
        out = out.replace(trigger, broken)
    return out
