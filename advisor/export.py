"""Exports of a conversation's summary: Markdown, JSON (re-importable) and PDF.

Each export holds the verdict, the gate trace, the facts with where they came from, the cited
passages, the transcript, a timestamp, and the corpus and rule-set versions. Everything a
user, a document or a model wrote is data: Markdown escapes every character Markdown or HTML
could act on (so no link, image or tag comes alive), PDF text is XML-escaped before
reportlab's paragraph parser sees it, and JSON is JSON. The PDF embeds Bitstream Vera (shipped
with reportlab) and falls back to reportlab's built-in Asian font for CJK; a character
neither has (an emoji) is drawn as "?" instead of crashing the export.
"""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape as xml_escape

from pydantic import BaseModel, ConfigDict, ValidationError

from advisor import __version__
from advisor.chat import Conversation, Role
from advisor.citations import CitedPassage
from advisor.compose import VERDICT_WORDS, label
from advisor.engine import Assessment, Outcome
from advisor.errors import QueryError
from advisor.report import format_value

EXPORT_FORMAT = "fine-tune-advisor/conversation"
EXPORT_VERSION = 1
MAX_IMPORT_BYTES = 20 * 1024 * 1024


class ExportSummary(BaseModel):
    """What every export format carries."""

    model_config = ConfigDict(frozen=True)
    exported_at: datetime
    title: str
    verdict: str
    blockers: list[str]
    gates: list[dict[str, Any]]
    facts: dict[str, Any]
    citations: list[CitedPassage]
    transcript: list[dict[str, Any]]
    corpus_version: str
    rules_version: str
    advisor_version: str = __version__


def summarize(
    conversation: Conversation, assessment: Assessment, corpus_version: str
) -> ExportSummary:
    """The summary of ``conversation`` as it stands now."""
    citations: dict[tuple[str, int, int], CitedPassage] = {}
    for message in conversation.messages:
        if message.reply is None:
            continue
        for c in message.reply.citations:
            key = (c.doc_id, c.start, c.end)
            if key not in citations:
                citations[key] = c.model_copy(update={"marker": len(citations) + 1})
    return ExportSummary(
        exported_at=datetime.now(UTC),
        title=conversation.title,
        verdict=assessment.verdict.value,
        blockers=[t.value for t in assessment.blockers],
        gates=[g.to_json() for g in assessment.gates],
        facts=assessment.facts.to_json(),
        citations=list(citations.values()),
        transcript=[
            {"role": m.role.value, "turn": m.turn, "at": m.at.isoformat(), "text": m.text}
            for m in conversation.messages
        ],
        corpus_version=corpus_version,
        rules_version=assessment.rules_version,
    )


# --------------------------------------------------------------------------- JSON


def to_json(summary: ExportSummary, conversation: Conversation) -> str:
    """The summary plus the whole conversation, which :func:`import_json` reads back."""
    payload = {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "summary": summary.model_dump(mode="json"),
        "conversation": conversation.model_dump(mode="json"),
    }
    return json.dumps(payload, indent=2, ensure_ascii=False)


def import_json(raw: bytes) -> Conversation:
    """A conversation from a JSON export; raises :class:`QueryError` with a clear message."""
    if len(raw) > MAX_IMPORT_BYTES:
        raise QueryError("That file is too large to be a conversation export.")
    try:
        data = json.loads(raw.decode("utf-8-sig"), object_hook=_valid_text)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise QueryError("That file is not a JSON conversation export.") from exc
    if not isinstance(data, dict) or data.get("format") != EXPORT_FORMAT:
        raise QueryError("That JSON file is not a Fine-Tune Advisor conversation export.")
    if data.get("version") != EXPORT_VERSION:
        raise QueryError(f"That export is version {data.get('version')}; this reads version 1.")
    try:
        return Conversation.model_validate(data.get("conversation"))
    except ValidationError as exc:
        raise QueryError("That export's conversation is damaged and cannot be imported.") from exc


def _storable(text: str) -> str:
    """``text`` with each lone surrogate (which no UTF-8 file or database can hold) as "?"."""
    return text.encode("utf-8", "replace").decode("utf-8")


def _valid_text(obj: dict[str, Any]) -> dict[str, Any]:
    """JSON escapes can carry lone surrogates ("\\ud800"): each becomes "?", as in a typed
    message."""
    return {
        key: _storable(value) if isinstance(value, str) else value for key, value in obj.items()
    }


# --------------------------------------------------------------------------- Markdown

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|>~])")
#: What GFM renderers (Streamlit's among them) turn into links without any markup:
#: "www.", "scheme://" and "user@host". A character reference breaks the pattern and still
#: shows the same character.
_AUTOLINK = re.compile(r"(?i)(?<=www)\\\.|:(?=//)|@")
_AUTOLINK_BREAK = {"\\.": "&#46;", ":": "&#58;", "@": "&#64;"}


def md(text: object) -> str:
    """Text as inert Markdown: HTML entities, then every Markdown punctuation escaped, and
    the autolink triggers of GFM (``www.``, ``://``, ``@``) written as character references."""
    escaped = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    escaped = _MD_SPECIAL.sub(r"\\\1", escaped).replace("\r", "")
    return _AUTOLINK.sub(lambda m: _AUTOLINK_BREAK[m.group(0)], escaped)


def _quote_block(text: str) -> list[str]:
    return ["> " + md(line) if line.strip() else ">" for line in text.splitlines()] or [">"]


def to_markdown(summary: ExportSummary) -> str:
    out = [
        f"# {md(summary.title)}",
        "",
        f"**Verdict: {VERDICT_WORDS[_verdict(summary)]}**"
        + (f" — blockers: {md(', '.join(summary.blockers))}" if summary.blockers else ""),
        "",
        f"Exported {summary.exported_at:%Y-%m-%d %H:%M} UTC · "
        f"corpus {md(summary.corpus_version)} · rule set {md(summary.rules_version)} · "
        f"Fine-Tune Advisor {md(summary.advisor_version)}",
        "",
        "## Gate trace",
        "",
        "| Gate | Outcome | Why | Source |",
        "|---|---|---|---|",
    ]

    def cell(value: object) -> str:
        return md(" ".join(str(value).split()))

    for gate in summary.gates:
        source = f"{gate['citation']['doc_id']}: “{gate['citation']['quote']}”"
        out.append(
            f"| {cell(gate['title'])} | {cell(gate['outcome'].upper())} | "
            f"{cell(gate['explanation'])} | {cell(source)} |"
        )
    out += ["", "## Facts", ""]
    if not summary.facts:
        out.append("No facts were stated.")
    for name, fact in summary.facts.items():
        where = f"turn {fact['turn']}, {fact['source']}"
        line = f"- **{md(label(name))}**: {md(format_value(name, fact['value']))} ({md(where)})"
        if fact.get("quote"):
            line += f" — “{md(' '.join(fact['quote'].split()))}”"
        out.append(line)
    out += ["", "## Cited passages", ""]
    if not summary.citations:
        out.append("None.")
    for c in summary.citations:
        out.append(f"{c.marker}. **{md(c.title)}** — {md(c.section)} ({md(c.doc_id)})")
        out += ["   " + line for line in _quote_block(c.quote)]
        out.append("")
    out += ["## Transcript", ""]
    for entry in summary.transcript:
        who = {"user": "You", "assistant": "Advisor", "correction": "Correction"}[entry["role"]]
        out.append(f"**{who}** (turn {entry['turn']}):")
        out += _quote_block(entry["text"])
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def _verdict(summary: ExportSummary) -> Any:
    from advisor.engine import Verdict

    return Verdict(summary.verdict)


# --------------------------------------------------------------------------- PDF

_FONTS: dict[str, Any] = {}


def _fonts() -> dict[str, Any]:
    """Register Vera (Latin, embedded) and a CID font for CJK, once."""
    if not _FONTS:
        from reportlab.pdfbase import pdfmetrics
        from reportlab.pdfbase.cidfonts import UnicodeCIDFont
        from reportlab.pdfbase.ttfonts import TTFont

        vera = TTFont("Vera", "Vera.ttf")
        pdfmetrics.registerFont(vera)
        pdfmetrics.registerFont(TTFont("VeraBd", "VeraBd.ttf"))
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
        _FONTS["vera"] = set(vera.face.charToGlyph)
    return _FONTS


def _is_cjk(code: int) -> bool:
    return (
        0x2E80 <= code <= 0x9FFF
        or 0xAC00 <= code <= 0xD7AF
        or 0xF900 <= code <= 0xFAFF
        or 0xFF00 <= code <= 0xFFEF
    )


def pdf_markup(text: str) -> str:
    """``text`` as safe reportlab paragraph markup: escaped, with per-character fonts."""
    covered = _fonts()["vera"]
    out: list[str] = []
    run_cjk = False
    for ch in text:
        code = ord(ch)
        if ch == "\n":
            piece, cjk = "<br/>", False
        elif code in covered or ch in " \t":
            piece, cjk = xml_escape(ch), False
        elif _is_cjk(code):
            piece, cjk = xml_escape(ch), True
        else:
            piece, cjk = "?", False
        if cjk != run_cjk:
            out.append('<font name="STSong-Light">' if cjk else "</font>")
            run_cjk = cjk
        out.append(piece)
    if run_cjk:
        out.append("</font>")
    return "".join(out)


def to_pdf(summary: ExportSummary) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    _fonts()
    body = ParagraphStyle("body", fontName="Vera", fontSize=9.5, leading=13, spaceAfter=4)
    small = ParagraphStyle("small", parent=body, fontSize=8, textColor="#555555")
    quote = ParagraphStyle("quote", parent=body, leftIndent=10 * mm, textColor="#333333")
    h1 = ParagraphStyle("h1", parent=body, fontName="VeraBd", fontSize=16, leading=20)
    h2 = ParagraphStyle("h2", parent=body, fontName="VeraBd", fontSize=12, spaceBefore=8)

    def p(text: str, style: ParagraphStyle = body) -> Paragraph:
        return Paragraph(pdf_markup(text), style)

    story: list[Any] = [
        p(summary.title, h1),
        p(
            f"Verdict: {VERDICT_WORDS[_verdict(summary)]}"
            + (f" (blockers: {', '.join(summary.blockers)})" if summary.blockers else ""),
            h2,
        ),
        p(
            f"Exported {summary.exported_at:%Y-%m-%d %H:%M} UTC; corpus {summary.corpus_version}; "
            f"rule set {summary.rules_version}; Fine-Tune Advisor {summary.advisor_version}",
            small,
        ),
        p("Gate trace", h2),
    ]
    marks = {Outcome.PASS.value: "PASS", Outcome.FAIL.value: "FAIL", Outcome.UNKNOWN.value: "?"}
    for gate in summary.gates:
        story.append(p(f"{marks[gate['outcome']]}  {gate['title']}: {gate['explanation']}"))
        story.append(p(f"“{gate['citation']['quote']}” ({gate['citation']['doc_id']})", quote))
    story.append(p("Facts", h2))
    for name, fact in summary.facts.items() or []:
        quoted = f" — “{fact['quote']}”" if fact.get("quote") else ""
        story.append(
            p(
                f"{label(name)}: {format_value(name, fact['value'])} "
                f"(turn {fact['turn']}, {fact['source']}){quoted}"
            )
        )
    if not summary.facts:
        story.append(p("No facts were stated."))
    story.append(p("Cited passages", h2))
    for c in summary.citations:
        story.append(p(f"[{c.marker}] {c.title} — {c.section} ({c.doc_id})"))
        story.append(p(c.quote, quote))
    story.append(p("Transcript", h2))
    for entry in summary.transcript:
        who = {"user": "You", "assistant": "Advisor", "correction": "Correction"}[entry["role"]]
        story.append(p(f"{who} (turn {entry['turn']})", small))
        story.append(p(entry["text"], quote))
    story.append(Spacer(1, 4 * mm))
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=_storable(summary.title[:200]),
        author="Fine-Tune Advisor",
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=16 * mm,
    )
    doc.build(story)
    return buffer.getvalue()


FORMATS = ("md", "json", "pdf")


def export(
    conversation: Conversation, assessment: Assessment, corpus_version: str, fmt: str
) -> bytes:
    """One format: ``md``, ``json`` or ``pdf``."""
    return _render(summarize(conversation, assessment, corpus_version), conversation, fmt)


def _render(summary: ExportSummary, conversation: Conversation, fmt: str) -> bytes:
    # "replace": a lone surrogate (which no UTF-8 file can hold) becomes "?"
    if fmt == "md":
        return to_markdown(summary).encode("utf-8", "replace")
    if fmt == "json":
        return to_json(summary, conversation).encode("utf-8", "replace")
    if fmt == "pdf":
        return to_pdf(summary)
    raise ValueError(f"unknown export format {fmt!r}")


def export_all(
    conversation: Conversation, assessment: Assessment, corpus_version: str
) -> dict[str, bytes]:
    """Every format at once: ``{"md": …, "json": …, "pdf": …}``."""
    summary = summarize(conversation, assessment, corpus_version)
    return {fmt: _render(summary, conversation, fmt) for fmt in FORMATS}


__all__ = [
    "ExportSummary",
    "Role",
    "export",
    "export_all",
    "import_json",
    "summarize",
    "to_json",
    "to_markdown",
    "to_pdf",
]
