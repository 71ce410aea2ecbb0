"""The documents and settings page, and importing a conversation, through AppTest with a
real, re-indexable service (its own index in a temporary folder)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from advisor.chat import Conversation
from advisor.service import MAX_UPLOAD_BYTES, ChatService
from tests.test_app import settle

from .conftest import CORPUS

ROOT = Path(__file__).resolve().parent.parent
SESSION = "documents-test-session-0123456789"
GUIDE = b"""---
id: team-guide
title: Our Team's Fine-Tuning Guide
---

# Our Team's Fine-Tuning Guide

## Quokka rule

Before any fine-tuning request, the quokka review board must sign off on the eval harness.
"""

pytestmark = pytest.mark.slow


@pytest.fixture
def service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    from advisor.deps import build_deps
    from advisor.settings import load_settings

    settings = load_settings(
        data_dir=tmp_path / "data", corpus_dir=CORPUS, rules_dir=CORPUS / "rules"
    )
    holder: dict[str, ChatService] = {"svc": ChatService.from_deps(build_deps(settings))}
    monkeypatch.setattr("advisor.service.build_service", lambda: holder["svc"])
    st.cache_resource.clear()
    return settings


def settings_page() -> AppTest:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    app.query_params["session"] = SESSION
    app.query_params["view"] = "settings"
    app.run()
    assert not app.exception, app.exception
    return app


def upload(app: AppTest, name: str, raw: bytes) -> AppTest:
    app.file_uploader(key="upload").set_value((name, raw, "text/plain")).run()
    next(b for b in app.button if b.label == "Add to the corpus").click().run()
    assert not app.exception, app.exception
    return app


def test_settings_page_shows_the_index_and_the_model(service: Any) -> None:
    app = settings_page()
    text = "\n".join(m.value for m in app.markdown)
    assert "5 documents" in text
    assert "No language model is configured" in text
    assert any(b.label == "Rebuild the index" for b in app.button)


def test_an_uploaded_document_is_indexed_and_cited(service: Any) -> None:
    app = upload(settings_page(), "team guide.md", GUIDE)
    assert any("Added team guide\\.md" in s.value for s in app.success)  # escaped Markdown
    assert (service.user_documents_dir / "team-guide.md").read_bytes() == GUIDE
    chat = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    chat.query_params["session"] = SESSION
    chat.run()
    chat.chat_input[0].set_value(
        "Who signs off on the eval harness before any fine-tuning request?"
    ).run()
    settle(chat)  # answered by the re-indexed advisor: the inbox is shared
    assert any("Sources (" in e.label for e in chat.expander)
    assert "quokka review board" in "\n".join(m.value for m in chat.markdown)


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        ("binary.md", b"\x00\x01\x02 not text", "looks binary"),
        ("empty.txt", b"   \n", "is empty"),
        ("latin1.txt", "café".encode("latin-1"), "not UTF-8"),
        ("article.pdf", b"%PDF-1.7 ...", "PDF files are not accepted"),
        ("huge.md", b"a" * (MAX_UPLOAD_BYTES + 1), "the limit is 1 MB"),
    ],
)
def test_bad_uploads_get_a_clear_message_and_write_nothing(
    service: Any, name: str, raw: bytes, message: str
) -> None:
    app = settings_page()
    app.file_uploader(key="upload").set_value((name, raw, "text/plain")).run()
    buttons = [b for b in app.button if b.label == "Add to the corpus"]
    if not buttons:  # the uploader itself refused the type
        assert name.endswith(".pdf")
        return
    buttons[0].click().run()
    shown = [e.value.replace("\\", "") for e in app.error]  # escaped Markdown, unescaped
    assert any(message in text for text in shown), shown
    folder = service.user_documents_dir
    assert not folder.exists() or not any(folder.iterdir())


def test_a_json_export_re_imports(service: Any) -> None:
    from advisor.service import build_service

    svc = build_service()
    conversation = Conversation()
    svc.advisor.reply(conversation, "We have 300 labeled examples and no eval harness.")
    exported = svc.exports(conversation)["json"]
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    app.query_params["session"] = SESSION
    app.run()
    app.file_uploader(key="imp").set_value(("export.json", exported, "application/json")).run()
    next(b for b in app.button if b.label == "Import").click().run()
    assert not app.exception
    assert "Verdict: NOT YET" in "\n".join(m.value for m in app.markdown)
    assert len(svc.conversations(SESSION)) == 1
    app.file_uploader(key="imp").set_value(("bad.json", b"{nope", "application/json")).run()
    next(b for b in app.button if b.label == "Import").click().run()
    assert any("not a JSON conversation export" in e.value for e in app.error)
