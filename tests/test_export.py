"""Exports: every format carries the summary, survives any Unicode, and stays inert."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from advisor.chat import Conversation
from advisor.errors import QueryError
from advisor.export import export_all, import_json, md, pdf_markup

pytestmark = pytest.mark.slow
HOSTILE = (
    "We have 300 labeled examples — 🚀 中文 日本語 한국어 Ünïcödé "
    "<script>alert(1)</script> <img src=x onerror=alert(1)> [click](javascript:alert(1)) "
    "![pic](http://example.com/x.png) **bold** # heading | table | `code` \\ [3]"
)


def conversation_with(advisor: Any, *messages: str) -> tuple[Conversation, dict[str, bytes]]:
    conversation = Conversation()
    for message in messages:
        advisor.reply(conversation, message)
    files = export_all(conversation, advisor.assess(conversation), advisor.corpus_version)
    return conversation, files


def test_exports_carry_the_whole_summary(advisor: Any) -> None:
    conversation, files = conversation_with(
        advisor,
        "We classify 500k tickets a day. No eval set yet. We have 700 labeled rows.",
        "How many examples do we need for LoRA?",
    )
    data = json.loads(files["json"])
    summary = data["summary"]
    assert summary["verdict"] == "not_yet"
    assert set(summary["blockers"]) == {"evaluation", "data"}
    assert len(summary["gates"]) == 8
    assert summary["facts"]["labeled_examples"]["quote"] == "We have 700 labeled rows."
    assert summary["corpus_version"] == advisor.corpus_version
    assert summary["rules_version"]
    assert summary["exported_at"]
    assert len(summary["transcript"]) == 4
    assert [c["marker"] for c in summary["citations"]] == list(
        range(1, len(summary["citations"]) + 1)
    )
    text = files["md"].decode()
    for heading in ("## Gate trace", "## Facts", "## Cited passages", "## Transcript"):
        assert heading in text
    assert "500\\-2,000 high\\-quality labeled examples" in text
    assert files["pdf"].startswith(b"%PDF-")
    assert files["pdf"].rstrip().endswith(b"%%EOF")
    assert import_json(files["json"]).model_dump() == conversation.model_dump()


def test_markup_in_messages_stays_inert_in_every_export(advisor: Any) -> None:
    _, files = conversation_with(advisor, HOSTILE)
    text = files["md"].decode()
    assert "<script>" not in text
    assert "<img" not in text
    assert "](javascript" not in text
    assert "](http" not in text
    assert "&lt;script&gt;" in text
    assert "\\[click\\]\\(javascript:alert\\(1\\)\\)" in text
    assert "🚀 中文" in text  # Unicode survives
    data = json.loads(files["json"])
    assert "<script>alert(1)</script>" in data["summary"]["transcript"][0]["text"]
    assert len(files["pdf"]) > 1000


@pytest.mark.parametrize(
    "raw",
    [b"", b"{nope", b"[]", b'{"format": "something-else"}', "é".encode("latin-1")],
)
def test_bad_imports_get_a_clear_message(raw: bytes) -> None:
    with pytest.raises(QueryError):
        import_json(raw)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(max_size=200))
def test_any_text_makes_a_pdf_and_inert_markdown(advisor: Any, text: str) -> None:
    markup = pdf_markup(text)
    assert "<script" not in markup.lower()
    escaped = md(text)
    assert not re.search(r"(?<!\\)[<>\[\]()`*_]", escaped.replace("&lt;", "").replace("&gt;", ""))
    if text.strip() and "\x00" not in text:
        conversation = Conversation()
        try:
            advisor.reply(conversation, text)
        except QueryError:
            return
        files = export_all(conversation, advisor.assess(conversation), "test")
        assert files["pdf"].startswith(b"%PDF-")
