"""The Streamlit app run headless with Streamlit's AppTest, the package's service patched in
(the real advisor over the shared test index, a SQLite store in a temporary folder)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from advisor.conversations import ConversationStore
from advisor.service import ChatService, safe_markdown

ROOT = Path(__file__).resolve().parent.parent
SITUATION = (
    "We classify 500k support tickets a day into 12 categories. No eval set yet, we eyeball "
    "outputs. We have about 700 labeled rows."
)

pytestmark = pytest.mark.slow


@pytest.fixture
def service(
    make_advisor: Any, shared_deps: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> ChatService:
    svc = ChatService(make_advisor(), ConversationStore(tmp_path / "c.sqlite3"), shared_deps.corpus)
    monkeypatch.setattr("advisor.service.build_service", lambda: svc)
    st.cache_resource.clear()
    return svc


def start(session: str | None = None) -> AppTest:
    app = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    if session:
        app.query_params["session"] = session
    app.run()
    assert not app.exception, app.exception
    return app


def settle(app: AppTest) -> AppTest:
    """Wait for the background to answer what was submitted, then draw the page again (as
    the page's own poll does in a browser)."""
    import advisor.service

    assert advisor.service.build_service().inbox.wait_idle(120)
    app.run()
    assert not app.exception, app.exception
    return app


def say(app: AppTest, message: str) -> AppTest:
    app.chat_input[0].set_value(message).run()
    assert not app.exception, app.exception
    return settle(app)


def markdown(app: AppTest) -> str:
    return "\n".join(m.value for m in app.markdown)


def test_empty_state_offers_examples_and_a_title(service: ChatService) -> None:
    app = start()
    assert app.title[0].value == "Should we fine-tune?"
    examples = [b for b in app.button if b.key and b.key.startswith("example-")]
    assert len(examples) == 3
    examples[0].click().run()
    assert not app.exception
    settle(app)
    assert "NOT YET" in markdown(app)  # the example got a cited verdict


def test_a_situation_gets_a_verdict_and_sources(service: ChatService) -> None:
    app = say(start(), SITUATION)
    text = markdown(app)
    assert "Verdict: NOT YET" in text
    assert "⛔ NOT YET" in text  # the badge
    assert "Do you have an eval harness with a baseline score?" in text
    assert any(e.label.startswith("Sources (") for e in app.expander)
    assert any("❌ fail" in e.label for e in app.expander)  # the gates panel


def test_correcting_a_fact_changes_the_verdict(service: ChatService) -> None:
    app = say(start(), "We have 300 labeled examples, all reviewed by people.")
    assert "Blockers: data" in "\n".join(c.value for c in app.caption)
    app.selectbox(key="fact_name").select("labeled_examples")
    app.text_input(key="fact_value").input("3000")
    next(b for b in app.button if b.label == "Set").click()
    app.run()
    assert not app.exception
    captions = "\n".join(c.value for c in app.caption)
    assert "Blockers: data" not in captions
    assert "Set labeled examples to 3,000 examples" in markdown(app)  # in the transcript


def test_exports_carry_verdict_trace_and_sources(service: ChatService) -> None:
    app = say(start(), SITUATION)
    owner = app.query_params["session"]
    conversation_id = app.query_params["c"]
    conversation = service.open(owner, conversation_id)
    files = service.exports(conversation)
    md = files["md"].decode()
    assert "**Verdict: NOT YET**" in md
    assert "## Gate trace" in md
    assert "Do you have an eval harness with a baseline score" in md
    assert "## Cited passages" in md
    assert files["pdf"].startswith(b"%PDF")
    data = json.loads(files["json"])
    assert data["summary"]["verdict"] == "not_yet"
    assert data["summary"]["citations"]
    labels = [b.label for b in app.get("download_button")]
    assert labels == ["Markdown", "JSON", "PDF"]


def test_a_saved_conversation_resumes_after_a_restart(service: ChatService) -> None:
    app = say(start(), SITUATION)
    session = app.query_params["session"]
    # a new browser run with the same session token (a reload, or a server restart)
    st.cache_resource.clear()
    again = start(session)
    titles = [b.label for b in again.button if b.key and b.key.startswith("open-")]
    assert titles == [safe_markdown(SITUATION[:59].rstrip() + "…")]  # a label is Markdown
    next(b for b in again.button if b.key and b.key.startswith("open-")).click().run()
    assert "Verdict: NOT YET" in markdown(again)
    # another browser session sees nothing of it
    other = start("another-session-token-0123456789")
    assert not [b for b in other.button if b.key and b.key.startswith("open-")]


def test_unusable_messages_get_a_clear_message(service: ChatService) -> None:
    """The input cannot take more than the advisor reads; text it cannot read (NUL bytes,
    pasted from a binary file) is refused with a message, and nothing is saved."""
    app = start()
    assert app.chat_input[0].max_chars == service.advisor.max_message_chars
    app = say(app, "pasted \x00\x01 bytes")
    assert any("binary data" in e.value for e in app.error)
    assert service.conversations(app.query_params["session"]) == []
    app = say(app, SITUATION)  # the next message is accepted and the message goes
    assert not app.error
    assert "Verdict: NOT YET" in markdown(app)


def test_hostile_text_is_rendered_inert(service: ChatService) -> None:
    app = say(
        start(),
        "We have 300 labeled examples <script>alert(1)</script> <img src=x onerror=alert(1)> "
        "[click](javascript:alert(1))",
    )
    text = markdown(app)
    assert "<script>" not in text
    assert "&lt;script&gt;" in text
    assert "\\[click\\]\\(javascript:alert\\(1\\)\\)" in text


def test_rename_and_delete_from_the_sidebar(service: ChatService) -> None:
    app = say(start(), SITUATION)
    owner = app.query_params["session"]
    app.sidebar.text_input(key="rename").input("Ticket triage review")
    next(b for b in app.sidebar.button if b.label == "Rename").click().run()
    assert not app.exception
    assert [s.title for s in service.conversations(owner)] == ["Ticket triage review"]
    assert any(b.label == "▶ Ticket triage review" for b in app.sidebar.button)
    next(b for b in app.sidebar.button if b.label == "Delete").click().run()
    assert not app.exception
    assert service.conversations(owner) == []
    assert app.title[0].value == "Should we fine-tune?"
    assert not app.chat_message  # back to the empty state


def test_with_an_llm_the_reply_is_phrased_and_the_verdict_stays(
    make_advisor: Any, shared_deps: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from advisor.llm import ModelClient
    from advisor.settings import LLMProvider
    from tests.fakes import ScriptedLLM

    fake = ScriptedLLM(
        ['{"facts": []}', "Build an eval harness before anything else [1]."],
        default='{"facts": []}',
    )
    model = ModelClient(llm=fake, provider=LLMProvider.OPENAI, sleep=lambda _: None)
    svc = ChatService(
        make_advisor(llm=model), ConversationStore(tmp_path / "c.sqlite3"), shared_deps.corpus
    )
    monkeypatch.setattr("advisor.service.build_service", lambda: svc)
    st.cache_resource.clear()
    app = say(start(), SITUATION)
    text = markdown(app)
    assert "Build an eval harness before anything else \\[1\\]" in text
    assert "Verdict: NOT YET" in text
    assert "⛔ NOT YET" in text


def test_a_quick_second_message_stays_in_its_conversation(service: ChatService) -> None:
    """A submission can carry the query string from before the browser applied the URL's
    last change (no ``c`` yet): it still belongs to the conversation the tab shows."""
    app = say(start(), "We have 300 labeled examples, all reviewed by people.")
    owner, first = app.query_params["session"], app.query_params["c"]
    del app.query_params["c"]  # what the browser sent had not caught up
    app = say(app, "How many examples for LoRA?")
    assert app.query_params["c"] == first
    [summary] = service.conversations(owner)
    assert summary.turns == 2
