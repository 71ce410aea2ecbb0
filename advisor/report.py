"""Plain-text renderings of an assessment and of the gate table (for the terminal).

Everything a user or a document wrote is printed as data: quotes are collapsed to one line
and shown inside quotation marks; nothing here interprets markup.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from advisor.engine import Assessment, Outcome, Verdict
from advisor.facts import SPECS, Facts, FactValue
from advisor.rules import RuleSet

if TYPE_CHECKING:
    from advisor.chat import Reply
    from advisor.citations import CitedPassage

WIDTH = 92
_VERDICT_LINE = {
    Verdict.FINE_TUNE: "FINE-TUNE: every gate passes; fine-tuning is a reasonable next step.",
    Verdict.NOT_YET: "NOT YET: at least one gate fails; fix the blockers first.",
    Verdict.NEED_MORE_INFO: "NEED MORE INFO: nothing fails yet, but some gates are unknown.",
}
_MARK = {Outcome.PASS: "PASS", Outcome.FAIL: "FAIL", Outcome.UNKNOWN: " ?  "}


def one_line(text: str, limit: int = 240) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def format_value(name: str, value: FactValue) -> str:
    spec = SPECS.get(name)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        unit = f" {spec.unit}" if spec and spec.unit else ""
        return f"{value:,.4g}{unit}" if abs(value) < 1e4 else f"{value:,.0f}{unit}"
    return str(value)


def _wrap(text: str, indent: str) -> str:
    return textwrap.fill(
        one_line(text, 2000),
        width=WIDTH,
        initial_indent=indent,
        subsequent_indent=" " * len(indent),
    )


def format_assessment(a: Assessment, titles: Mapping[str, str] | None = None) -> str:
    """A short report: verdict, gates with their reasons and sources, next question."""
    titles = titles or {}
    out = [f"Verdict: {_VERDICT_LINE[a.verdict]}"]
    if a.blockers:
        out.append("Blockers: " + ", ".join(t.value for t in a.blockers))
    out += ["", "Gates"]
    for g in a.gates:
        out.append(f"  {_MARK[g.outcome]}  {g.topic.value:<16} {g.title}")
        out.append(_wrap(g.explanation, " " * 8))
        for use in g.deciding:
            where = f"turn {use.turn}, {use.source}" if use.source != "derived" else "derived"
            line = f"{use.fact} = {format_value(use.fact, use.value)} ({where})"
            if use.quote:
                line += f': "{one_line(use.quote, 160)}"'
            elif use.explanation:
                line += f": {use.explanation}"
            out.append(_wrap(line, " " * 8 + "· "))
        cite = g.citations[0]
        source = titles.get(cite.doc_id, cite.doc_id)
        out.append(_wrap(f'Source: "{cite.quote}" ({source})', " " * 8))
    out.append("")
    if a.next_question:
        out.append(_wrap(f"Next question: {a.next_question.question}", ""))
        out.append(_wrap(f"(why this one: {a.next_question.why})", "  "))
    elif a.verdict is Verdict.NOT_YET and a.open_questions:
        out.append(
            "Still unknown (cannot change the verdict until the blockers are fixed): "
            + ", ".join(q.fact for q in a.open_questions)
        )
    out += ["", "Each article's own framework"]
    for view in a.views:
        line = f"  {view.title}: {view.verdict.value}"
        if view.stopped_at:
            stop = next(i for i in view.items if i.id == view.stopped_at)
            line += f" (stops at: {stop.label})"
        out.append(line)
    if a.costs:
        out += ["", "Cost arithmetic"]
        out += [_wrap(line, "  ") for line in a.costs.lines]
    if a.advice:
        out += ["", "Advice (does not block)"]
        for adv in a.advice:
            out.append(_wrap(f"{adv.title}: {adv.text}", "  - "))
    out += ["", "Facts"]
    if not a.facts.records:
        out.append("  none stated yet")
    for name, record in a.facts.records.items():
        line = f"{name} = {format_value(name, record.value)} (turn {record.turn}, {record.source})"
        if record.quote:
            line += f': "{one_line(record.quote, 160)}"'
        out.append(_wrap(line, "  "))
    out += ["", f"Rule set {a.rules_version}"]
    return "\n".join(out)


def format_gates(rules: RuleSet, titles: Mapping[str, str] | None = None) -> str:
    """The gate table with its conditions' questions and every citation."""
    titles = titles or {}
    out = [f"Rule set {rules.version}: {len(rules.gates)} gates", ""]
    for i, g in enumerate(rules.gates, start=1):
        out.append(f"{i}. {g.topic.value}: {g.title}  [{g.id}]")
        out.append(_wrap(f"Asks: {g.question}", "   "))
        out.append(_wrap(f"Fails when: {g.explain.fail}", "   "))
        for c in g.citations:
            out.append(_wrap(f'"{c.quote}" ({titles.get(c.doc_id, c.doc_id)})', "   - "))
        out.append("")
    out.append("Thresholds: " + ", ".join(f"{k}={v:g}" for k, v in rules.thresholds))
    return "\n".join(out)


def format_sources(citations: Sequence[CitedPassage]) -> str:
    """The numbered sources under a reply: title, section and the quoted span."""
    out = ["Sources"]
    for c in citations:
        who = f"{c.author}, " if c.author else ""
        out.append(_wrap(f"[{c.marker}] {who}{c.title} — {c.section}", "  "))
        out.append(_wrap(f"“{c.quote}”", "      "))
    return "\n".join(out)


def format_reply(reply: Reply, *, show_sources: bool = True) -> str:
    """A reply for the terminal: its text, its notes, then its sources."""
    out = [reply.text]
    for note in reply.notes:
        out += ["", _wrap(f"Note: {note}", "")]
    if show_sources and reply.citations:
        out += ["", format_sources(reply.citations)]
    return "\n".join(out)


def format_facts(facts: Facts) -> str:
    """The facts the advisor holds, with where each came from."""
    if not facts.records:
        return "No facts yet."
    out = []
    for name, record in facts.records.items():
        line = f"{name} = {format_value(name, record.value)} (turn {record.turn}, {record.source})"
        if record.quote:
            line += f': "{one_line(record.quote, 120)}"'
        out.append(_wrap(line, "  "))
    return "\n".join(out)
