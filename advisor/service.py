"""What the app does for one browser session: one call per user action.

The Streamlit shell (app.py) holds no logic of its own; it calls these functions and renders
what they return. Every call names the session's owner token, so one browser session never
reads or changes another's conversations.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from advisor.chat import Advisor, Conversation, Reply
from advisor.conversations import ConversationStore, ConversationSummary
from advisor.engine import Assessment
from advisor.export import export_all, import_json


@dataclass
class ChatService:
    """The advisor plus saved conversations (module doc)."""

    advisor: Advisor
    store: ConversationStore
    corpus: Any

    @classmethod
    def from_deps(cls, deps: Any) -> ChatService:
        store = ConversationStore(deps.settings.data_dir / "conversations.sqlite3")
        return cls(Advisor.from_deps(deps), store, deps.corpus)

    def conversations(self, owner: str) -> list[ConversationSummary]:
        return self.store.list(owner)

    def open(self, owner: str, conversation_id: str | None) -> Conversation:
        """The owner's conversation, or a new (unsaved) one if there is none by that id."""
        if conversation_id:
            found = self.store.load(owner, conversation_id)
            if found is not None:
                return found
        return Conversation()

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
        reply = self.advisor.correct(conversation, fact, value)
        self.store.save(owner, conversation)
        return reply

    def assess(self, conversation: Conversation) -> Assessment:
        return self.advisor.assess(conversation)

    def rename(self, owner: str, conversation_id: str, title: str) -> None:
        self.store.rename(owner, conversation_id, title)

    def delete(self, owner: str, conversation_id: str) -> None:
        self.store.delete(owner, conversation_id)

    def exports(self, conversation: Conversation) -> dict[str, bytes]:
        return export_all(conversation, self.assess(conversation), self.advisor.corpus_version)

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


def safe_markdown(text: str) -> str:
    """Any text as inert Markdown for st.markdown: nothing in it becomes a link, an image,
    a tag or formatting; line breaks are kept."""
    from advisor.export import md

    return "  \n".join(md(line) for line in text.split("\n"))
