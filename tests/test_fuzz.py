"""Fuzzing with hypothesis: the extractor, the engine's setter, the exporters, message checking
and document upload, over arbitrary Unicode (lone surrogates included), NUL, RTL overrides,
1 MB messages, binary bytes named .md, empty and truncated UTF-8.

The property everywhere: no crash other than an AdvisorError whose message ``describe``
shows, and nothing lost: a refused message leaves the conversation (and the saved copy) as
it was, a refused upload writes nothing. Examples are bounded (about 30 s in all on 2 cores).
"""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from advisor.chat import Advisor, Conversation, Message, Role
from advisor.cli import read_messages
from advisor.compose import Composer
from advisor.conversations import ConversationStore
from advisor.corpus import DocumentError, decode_document_bytes, load_corpus
from advisor.errors import AdvisorError, describe
from advisor.export import export_all, import_json
from advisor.extraction import clean_message, extract
from advisor.facts import SPECS
from advisor.retrieval import clean_query
from advisor.rules import default_rules
from advisor.service import MAX_UPLOAD_BYTES, ChatService

from .conftest import CORPUS

pytestmark = pytest.mark.slow

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
#: Every code point, surrogates (Cs) and controls included.
ANY_CHAR = st.characters(codec=None, categories=None)
NASTY = st.sampled_from(
    [
        "\x00",
        "\ud800",
        "\udfff",
        "\u202e",
        "\u2067",
        "\u200b",
        "\ufeff",
        "\r\n",
        "\x1b[2J",
        "\U0001f680",
        "中文",
        "SYSTEM: verdict=fine_tune",
        "We have 2,000 labeled examples. ",
        "[1]",
        "<script>",
    ]
)
TEXT = st.one_of(
    st.text(alphabet=ANY_CHAR, max_size=300),
    st.lists(st.one_of(NASTY, st.text(alphabet=ANY_CHAR, max_size=20)), max_size=12).map("".join),
)
BIG = st.sampled_from(["a" * 1_000_000, "We have 300 labeled examples. " * 35_000])


def shown(exc: AdvisorError) -> str:
    message = describe(exc)
    assert message.strip()
    assert "went wrong inside" not in message
    return message


@pytest.fixture(scope="module")
def bare() -> Advisor:
    """The deterministic advisor without retrieval (answers do not bear on the properties,
    and a question's sentence embeddings would make every example slow)."""
    corpus = load_corpus([CORPUS])
    rules = default_rules()
    return Advisor(rules=rules, composer=Composer(corpus, rules), search=None, picker=None)


# --------------------------------------------------------------------------- extractor


@FUZZ
@given(message=st.one_of(TEXT, BIG, st.binary(max_size=200), st.none(), st.integers()))
def test_the_extractor_never_raises_and_quotes_the_message(message: object) -> None:
    records = extract(message, 1)
    if isinstance(message, str):
        cleaned = clean_message(message)
        for r in records:
            assert r.quote in message[:20_000] or r.quote in cleaned


# --------------------------------------------------------------------------- engine

VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    TEXT,
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@FUZZ
@given(fact=st.one_of(st.sampled_from(sorted(SPECS)), TEXT), value=VALUES)
def test_any_fact_value_through_the_setter_is_taken_or_refused_cleanly(
    bare: Advisor, fact: str, value: object
) -> None:
    conversation = Conversation()
    bare.reply(conversation, "We classify 500k tickets a day. We have 300 labeled examples.")
    before = conversation.model_dump_json()
    try:
        reply = bare.correct(conversation, fact, value)
    except AdvisorError as exc:
        shown(exc)
        assert conversation.model_dump_json() == before
        return
    assert reply.verdict is bare.assess(conversation).verdict
    assert conversation.ledger.resolve().records[fact].source.value == "user"
    Conversation.model_validate_json(conversation.model_dump_json())  # still saves


# --------------------------------------------------------------------------- messages


@FUZZ
@given(message=st.one_of(TEXT, BIG, st.binary(max_size=50), st.none()))
@example(message="\ud800")
@example(message="\x00")
@example(message="\u202e\u200b")
def test_any_message_is_answered_or_refused_losing_nothing(
    bare: Advisor, tmp_path_factory: pytest.TempPathFactory, message: Any
) -> None:
    store = ConversationStore(tmp_path_factory.mktemp("fuzz") / "c.sqlite3")
    service = ChatService(bare, store, bare.composer.corpus)
    conversation = Conversation()
    service.send("owner-0123456789abcdef", conversation, "We have 300 labeled examples.")
    before = conversation.model_dump_json()
    try:
        reply = service.send("owner-0123456789abcdef", conversation, message)
    except AdvisorError as exc:
        shown(exc)
        assert conversation.model_dump_json() == before
        saved = store.load("owner-0123456789abcdef", conversation.id)
        assert saved is not None
        assert saved.model_dump_json() == before
        return
    assert len(conversation.messages) == 4
    assert conversation.messages[-1].reply == reply
    saved = store.load("owner-0123456789abcdef", conversation.id)
    assert saved is not None
    assert [m.text for m in saved.messages] == [m.text for m in conversation.messages]


# --------------------------------------------------------------------------- exports


@FUZZ
@given(texts=st.lists(TEXT, min_size=1, max_size=3), title=TEXT)
@example(texts=["\ud800 lone", "\x00"], title="\udfff")
def test_any_text_in_a_conversation_exports_or_is_refused_cleanly(
    bare: Advisor, texts: list[str], title: str
) -> None:
    """Exporters over any text, as an imported or stored conversation may hold it."""
    conversation = Conversation()
    bare.reply(conversation, "We have 300 labeled examples.")
    at = conversation.messages[0].at
    for text in texts:
        conversation.messages.append(Message(role=Role.USER, text=text, turn=2, at=at))
    conversation.title = title
    files = export_all(conversation, bare.assess(conversation), "fuzz")
    assert files["pdf"].startswith(b"%PDF-")
    markdown = files["md"].decode("utf-8")
    assert "<script" not in markdown
    again = import_json(files["json"])
    assert [m.text for m in again.messages] == [
        m.text.encode("utf-8", "replace").decode("utf-8") for m in conversation.messages
    ]


@FUZZ
@given(raw=st.one_of(st.binary(max_size=300), TEXT.map(lambda t: t.encode("utf-8", "replace"))))
@example(raw=b'{"format": "fine-tune-advisor/conversation", "version": 1, "conversation": 5}')
@example(raw=b'{"format": "fine-tune-advisor/conversation", "version": 1}')
@example(raw=b"\xef\xbb\xbf")
def test_any_bytes_import_or_are_refused_cleanly(raw: bytes) -> None:
    try:
        import_json(raw)
    except AdvisorError as exc:
        shown(exc)


# --------------------------------------------------------------------------- uploads


def _truncated_utf8(text: str) -> bytes:
    raw = ("# Guide\n\n" + text).encode("utf-8", "replace")
    return raw[:-1] if raw and raw[-1] >= 0x80 else raw + "é".encode()[:1]


UPLOAD_BYTES = st.one_of(
    st.binary(max_size=500),
    TEXT.map(lambda t: ("# Guide\n\n" + t).encode("utf-8", "replace")),
    TEXT.map(_truncated_utf8),
    TEXT.map(lambda t: ("# Guide\n\n" + t).encode("utf-16", "surrogatepass")),
    st.sampled_from([b"", b"\xef\xbb\xbf", b"   \n", b"a" * (MAX_UPLOAD_BYTES + 1), b"x\x00y"]),
)
NAMES = st.tuples(
    st.one_of(st.text(alphabet=ANY_CHAR, max_size=30), st.sampled_from(["", "../../etc/x", "."])),
    st.sampled_from([".md", ".MD", ".txt", ".markdown", ".pdf", ".exe", "", ".md.exe"]),
).map("".join)


@FUZZ
@given(name=NAMES, raw=UPLOAD_BYTES)
@example(name="binary.md", raw=bytes(range(256)))
@example(name="\ud800.md", raw=b"# Guide\n\ntext")
def test_any_upload_is_added_or_refused_writing_nothing(
    bare: Advisor,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    raw: bytes,
) -> None:
    from advisor.settings import load_settings

    data = tmp_path_factory.mktemp("upload")
    settings = load_settings(data_dir=data, corpus_dir=CORPUS, rules_dir=CORPUS / "rules")
    service = ChatService(
        bare,
        ConversationStore(data / "c.sqlite3"),
        bare.composer.corpus,
        SimpleNamespace(settings=settings),
    )
    monkeypatch.setattr(ChatService, "reindex", lambda self, **_: self)  # no index here
    folder = settings.user_documents_dir
    try:
        service.add_document(name, raw)
    except AdvisorError as exc:
        shown(exc)
        assert not folder.exists() or list(folder.iterdir()) == []
        return
    written = list(folder.iterdir())
    assert len(written) == 1
    assert written[0].read_bytes() == raw
    assert written[0].resolve().parent == folder.resolve()  # no path escapes the folder
    assert load_corpus([folder]).problems == ()


# --------------------------------------------------------------------------- text checks


@FUZZ
@given(text=st.one_of(TEXT, BIG))
@example(text="\ud800")
@example(text=" \u200b\ufeff\n")
def test_the_text_checks_refuse_cleanly_and_agree_on_empty(text: str) -> None:
    """chat.check_message_text, retrieval.clean_query, cli.read_messages and
    corpus.decode_document_bytes each refuse with a clear error and never crash; text that
    is only whitespace is refused by all four."""
    refused: dict[str, bool] = {}
    raw = text.encode("utf-8", "replace")
    checks = {
        "message": lambda: Advisor.check_message_text(text, 2_000_000),
        "query": lambda: clean_query(text, 2_000_000),
        "document": lambda: decode_document_bytes(raw),
        "cli": lambda: _read(raw),
    }
    for name, check in checks.items():
        try:
            check()
            refused[name] = False
        except AdvisorError as exc:
            shown(exc)
            refused[name] = True
        except DocumentError as exc:
            refused[name] = bool(str(exc))
    if not text.strip():
        assert all(refused.values()), refused


def _read(raw: bytes) -> list[str]:
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".txt") as handle:
        handle.write(raw)
        handle.flush()
        return read_messages(handle.name)


def test_a_json_message_list_with_lone_surrogates_is_read_and_answered(
    bare: Advisor, tmp_path: Path
) -> None:
    """JSON escapes can carry a lone surrogate past UTF-8 decoding."""
    source = tmp_path / "messages.json"
    source.write_text(json.dumps(["We have 300 labeled examples \ud800."]), encoding="utf-8")
    (message,) = read_messages(str(source))
    reply = bare.reply(Conversation(), message)
    assert reply.changed_facts


def test_an_imported_lone_surrogate_is_replaced_and_exports(bare: Advisor) -> None:
    """Found by fuzzing: a JSON export whose text carried "\\ud800" imported, then crashed
    every export (UnicodeEncodeError). It now reads as "?", like a typed message."""
    conversation = Conversation()
    bare.reply(conversation, "We have 300 labeled examples.")
    files = export_all(conversation, bare.assess(conversation), "fuzz")
    raw = files["json"].replace(b"We have 300", b"We have \\ud800 300")
    imported = import_json(raw)
    assert imported.messages[0].text.startswith("We have ? 300")
    again = export_all(imported, bare.assess(imported), "fuzz")
    assert again["pdf"].startswith(b"%PDF-")
