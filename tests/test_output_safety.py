"""Output safety: hostile content from a user message, an uploaded document and the model's
prose stays inert in every render and export.

Markdown (the export, and ``safe_markdown`` which the app renders) is parsed with
markdown-it-py: no link, image or HTML token comes from content, and the only headings and
table are the export's own. JSON round-trips exactly; the PDF builds, and reportlab's
paragraph parser reads the content back as text, not tags. The real-browser check is in
tests/test_browser.py.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt

from advisor.answers import ExcerptPicker
from advisor.chat import Advisor, Conversation
from advisor.compose import Composer
from advisor.corpus import Corpus, document_from_text, load_corpus
from advisor.export import export_all, import_json, pdf_markup
from advisor.llm import ModelClient
from advisor.retrieval import SearchHit
from advisor.rules import default_rules
from advisor.service import WORD_JOINER, safe_markdown
from advisor.settings import LLMProvider
from tests.fakes import ScriptedLLM

from .conftest import CORPUS
from .test_llm import facts_json

pytestmark = pytest.mark.slow

#: Each piece of hostile content, and the text a reader must still see.
HOSTILE = [
    "<script>window.__pwned = 1</script>",
    '<img src=x onerror="window.__pwned = 2">',
    '<iframe src="http://127.0.0.1:1/frame"></iframe>',
    "[click me](javascript:alert(1))",
    "![tracker](http://127.0.0.1:1/t.png)",
    "<http://127.0.0.1:1/autolink>",
    "bare http://127.0.0.1:1/bare and www.evil.example",
    "&lt;b&gt;entity&lt;/b&gt; &#60;script&#62; &amp;amp;",
    "<!-- hidden comment -->",
    '<a href="http://127.0.0.1:1/a">anchor</a>',
    "**bold** _em_ `code` ~~gone~~",
    "[ref]: http://127.0.0.1:1/ref",
]
HOSTILE_LINES = [
    "# Heading from content",
    "| a | b |",
    "|---|---|",
    "| c | d |",
    "> quoted",
    "1. list",
]
HOSTILE_TEXT = " ".join(HOSTILE) + "\n" + "\n".join(HOSTILE_LINES)
FORBIDDEN = {"link_open", "image", "html_block", "html_inline", "autolink"}
PARSER = MarkdownIt("commonmark").enable("table").enable("strikethrough")


def tokens(markdown: str) -> list[Any]:
    out = []
    for token in PARSER.parse(markdown):
        out.append(token)
        out.extend(token.children or [])
    return out


def assert_inert(markdown: str, *, headings: int = 0, tables: int = 0) -> None:
    found = tokens(markdown)
    assert [t.type for t in found if t.type in FORBIDDEN] == []
    assert sum(t.type == "heading_open" for t in found) == headings
    assert sum(t.type == "table_open" for t in found) == tables
    rendered = PARSER.render(markdown)
    for tag in ("<script", "<img", "<iframe", "<a ", "<!--"):
        assert tag not in rendered


@pytest.mark.parametrize("text", [*HOSTILE, *HOSTILE_LINES, HOSTILE_TEXT])
def test_safe_markdown_renders_content_as_text(text: str) -> None:
    rendered = safe_markdown(text)
    assert_inert(rendered)
    # what the reader sees is what was written
    shown = PARSER.renderInline(rendered.replace("  \n", "\n"))
    plain = html.unescape(shown.replace("<br />", "")).replace(WORD_JOINER, "")
    assert plain.replace("\n", "") == text.replace("\n", "")


HOSTILE_DOC = (
    "---\nid: hostile-guide\ntitle: 'Guide <script>window.__pwned = 3</script> ![t](http://127.0.0.1:1/title.png)'\n---\n\n"
    "# Labeling guide\n\n"
    "## How many labeled examples <img src=x onerror=alert(1)>\n\n"
    "For LoRA on a narrow task, plan on 2,000 human-reviewed labeled examples "
    "<script>window.__pwned = 4</script> [see the sheet](javascript:alert(1)) "
    "![chart](http://127.0.0.1:1/chart.png) <http://127.0.0.1:1/auto> "
    "http://127.0.0.1:1/bare &#60;b&#62; before you start training.\n"
)


@pytest.fixture(scope="module")
def hostile_corpus() -> Corpus:
    document = document_from_text(HOSTILE_DOC, path=Path("hostile-guide.md"))
    return Corpus((*load_corpus([CORPUS]).documents, document))


def hostile_advisor(corpus: Corpus, embed_model: Any, llm: Any = None) -> Advisor:
    """An advisor whose search finds the hostile document (no index needed)."""
    rules = default_rules()
    document = corpus.document("hostile-guide")
    assert document is not None
    hits = [SearchHit(passage=p, score=1.0, rank=i + 1) for i, p in enumerate(document.passages)]
    return Advisor(
        rules=rules,
        composer=Composer(corpus, rules),
        search=lambda query, k: hits[:k],
        picker=ExcerptPicker(corpus, embed_model),
        llm=llm,
        corpus_version=corpus.version,
    )


def hostile_conversation(advisor: Advisor, llm_prose: str | None = None) -> Conversation:
    conversation = Conversation()
    advisor.reply(conversation, "We have 300 labeled examples. " + HOSTILE_TEXT)  # (a) user
    advisor.reply(conversation, "How many labeled examples do we need for LoRA?")  # (b) doc
    return conversation


def check_exports(advisor: Advisor, conversation: Conversation) -> dict[str, bytes]:
    files = export_all(conversation, advisor.assess(conversation), advisor.corpus_version)
    text = files["md"].decode("utf-8")
    # the export's own structure: a title, four sections, the gate-trace table
    assert_inert(text, headings=5, tables=1)
    data = json.loads(files["json"])
    assert [m["text"] for m in data["summary"]["transcript"]] == [
        m.text for m in conversation.messages
    ]
    assert import_json(files["json"]).model_dump() == conversation.model_dump()
    assert files["pdf"].startswith(b"%PDF-")
    assert files["pdf"].rstrip().endswith(b"%%EOF")
    return files


def test_a_hostile_message_and_document_are_inert_in_every_export(
    hostile_corpus: Corpus, embed_model: Any
) -> None:
    advisor = hostile_advisor(hostile_corpus, embed_model)
    conversation = hostile_conversation(advisor)
    assert conversation.messages[0].text.endswith(HOSTILE_LINES[-1])  # (a) kept verbatim
    answer = conversation.messages[-1].reply
    assert answer is not None
    assert any(c.doc_id == "hostile-guide" and "<script>" in c.quote for c in answer.citations)
    files = check_exports(advisor, conversation)
    data = json.loads(files["json"])
    quotes = [c["quote"] for c in data["summary"]["citations"]]
    assert any("window.__pwned = 4" in q for q in quotes)  # (b) round-trips exactly
    text = files["md"].decode()
    assert "&lt;script&gt;window\\.\\_\\_pwned = 4&lt;/script&gt;" in text


def test_the_models_prose_is_inert_in_every_export(
    hostile_corpus: Corpus, embed_model: Any
) -> None:
    """(c) Prose the guard lets through (headings, tables, entities, emphasis) is escaped
    like any content; prose with links or tags is set aside by the guard."""
    passing = (
        "# Plan &#60;b&#62; **2,000** labeled examples | a | b | before training [1]. "
        "&lt;script&gt; is just text here [1]."
    )
    fake = ScriptedLLM(
        [
            facts_json(),
            "Label more data first, as the guide says [1].",  # phrasing turn 1 (situation)
            facts_json(),
            passing,  # phrasing turn 2 (answer): allowed through
        ]
    )
    llm = ModelClient(llm=fake, provider=LLMProvider.OPENAI, sleep=lambda _: None)
    advisor = hostile_advisor(hostile_corpus, embed_model, llm)
    conversation = hostile_conversation(advisor)
    answer = conversation.messages[-1].reply
    assert answer is not None
    assert answer.phrased_by.startswith("llm")
    assert "&#60;b&#62;" in answer.text
    assert_inert(safe_markdown(answer.text))
    check_exports(advisor, conversation)
    # the same prose with a link, an image or a tag never reaches the user
    for bad in (
        "See [the sheet](javascript:alert(1)) [1].",
        "![x](http://127.0.0.1:1/t.png) [1].",
        "<img src=x onerror=alert(1)> [1].",
        "Read <http://127.0.0.1:1/auto> [1].",
    ):
        fake.push(facts_json(), bad)
        reply = advisor.reply(conversation, "How many labeled examples do we need for LoRA?")
        assert reply.phrased_by == "rules", bad
        assert any("markup" in n for n in reply.notes), bad


@pytest.mark.parametrize("text", [*HOSTILE, HOSTILE_TEXT, HOSTILE_DOC])
def test_pdf_markup_reads_back_as_the_same_text(text: str) -> None:
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import Paragraph

    paragraph = Paragraph(pdf_markup(text), ParagraphStyle("t", fontName="Vera"))
    read = "".join(f.text for f in paragraph.frags if hasattr(f, "text"))
    assert read.replace("\n", "") == text.replace("\n", "")  # a line break is <br/>
