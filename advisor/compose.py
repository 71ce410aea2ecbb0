"""Deterministic replies: templated from the engine's assessment and the corpus, no model.

Every reply is plain text (it reads the same in a terminal, a chat bubble and an export) with
citation markers ``[n]`` handed out by a :class:`~advisor.citations.CitationList`, so the
markers and the listed passages always match one-to-one. Anything a user wrote is quoted
through :func:`user_quote` (one line, shortened, bracketed numbers neutralised), never
interpreted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from advisor.answers import Answer
from advisor.citations import CitationList, Citer, Span, neutralize
from advisor.corpus import Corpus, Document
from advisor.engine import Assessment, GateResult, Outcome, Verdict
from advisor.facts import SPECS, FactRecord
from advisor.report import format_value, one_line
from advisor.rules import Citation, RuleSet

VERDICT_WORDS = {
    Verdict.FINE_TUNE: "FINE-TUNE",
    Verdict.NOT_YET: "NOT YET",
    Verdict.NEED_MORE_INFO: "NEED MORE INFO",
}
FACT_LABELS = {
    "need_type": "knowledge or behaviour",
    "needs_external_knowledge": "needs knowledge beyond the input",
    "tacit_expertise": "tacit expertise",
    "retrieval_in_place": "retrieval (RAG) in place",
    "prompt_effort_weeks": "systematic prompt work",
    "few_shot_used": "few-shot examples in the prompt",
    "structured_outputs_used": "structured outputs",
    "eval_automated": "automated eval harness",
    "eval_baseline_recorded": "baseline score recorded",
    "baseline_score_pct": "best prompt's score",
    "target_score_pct": "target score",
    "gap_measured": "gap to target measured",
    "gap_significant": "gap to target is large",
    "quality_plateaued": "quality has plateaued",
    "labeled_examples": "labeled examples",
    "examples_human_reviewed": "examples reviewed by people",
    "task_changes_per_year": "task changes per year",
    "task_narrow": "narrow, well-defined task",
    "monthly_volume": "requests per month",
    "latency_sensitive": "latency matters",
    "latency_target_ms": "latency target",
    "baseline_latency_ms": "current latency",
    "baseline_misses_latency": "current model misses the latency target",
    "strict_format_need": "strict output format",
    "current_cost_per_month": "current model cost per month",
    "current_cost_per_call": "current cost per call",
    "fine_tuned_cost_per_month": "fine-tuned model cost per month",
    "fine_tuned_cost_all_in": "fine-tuned estimate is all-in",
    "hosting_cost_per_month": "hosting cost per month",
    "gap_cost_per_month": "cost of the quality gap per month",
    "orchestration_in_place": "retries, fallbacks and routing",
    "cost_controls_in_place": "caching and routing to cheaper models",
    "privacy_sensitive": "privacy or on-premises requirements",
}
#: The statement every fine_tune verdict rests on, in the words of Zalt's framework.
ALL_GATES_PASS = Citation(
    doc_id="zalt-is-fine-tuning-worth-it",
    quote="If you pass all six gates, fine-tuning is probably the right architectural choice.",
)


def label(fact: str) -> str:
    return FACT_LABELS.get(fact, fact.replace("_", " "))


def user_quote(text: str, limit: int = 140) -> str:
    """A user's words as a one-line quotation that cannot pose as a marker."""
    return f"“{neutralize(one_line(text, limit))}”"


def source_name(document: Document) -> str:
    """Who wrote it, for a reader: the author, else the publisher, else the title."""
    publisher = document.metadata.get("publisher")
    if document.author and publisher:
        return f"{document.author} ({publisher})"
    return document.author or (str(publisher) if publisher else document.title)


@dataclass(frozen=True)
class FactChange:
    """One fact that a turn set or changed."""

    fact: str
    before: object
    record: FactRecord


@dataclass
class Draft:
    """Reply text under construction, with the citations it uses."""

    citer: Citer
    citations: CitationList = field(default_factory=CitationList)
    lines: list[str] = field(default_factory=list)

    def cite(self, citation: Citation) -> tuple[str, str] | None:
        """``(“quote”, marker)`` for a rule citation, or ``None`` if it is not in the corpus."""
        span = self.citer.find(citation.doc_id, citation.quote)
        if span is None:
            return None
        return f"“{one_line(span.quote, 1200)}”", self.citations.mark(span)

    def quoted(self, citation: Citation, lead: str = "") -> str:
        cited = self.cite(citation)
        if cited is None:
            return ""
        quote, marker = cited
        return f"{lead}{quote} {marker}"

    def excerpt(self, span: Span) -> str:
        return f"“{one_line(span.quote, 1200)}” {self.citations.mark(span)}"

    def text(self) -> str:
        while self.lines and not self.lines[-1]:
            self.lines.pop()
        return "\n".join(self.lines)


class Composer:
    """Writes the deterministic replies (module doc)."""

    def __init__(self, corpus: Corpus, rules: RuleSet) -> None:
        self.corpus = corpus
        self.rules = rules
        self.citer = Citer(corpus)

    def draft(self) -> Draft:
        return Draft(self.citer)

    # ------------------------------------------------------------------ pieces

    def changes(self, draft: Draft, changes: Sequence[FactChange]) -> None:
        if not changes:
            return
        draft.lines.append("Noted:")
        for change in changes:
            r = change.record
            value = format_value(r.fact, r.value)
            if change.before is not None and change.before != r.value:
                value = f"{format_value(r.fact, change.before)} → {value}"  # type: ignore[arg-type]
            where = f" — {user_quote(r.quote)}" if r.quote else ""
            if r.source.value == "user":
                where = " — set by you"
            elif r.source.value == "llm":
                where += " (read by the language model)"
            draft.lines.append(f"- {label(r.fact)}: {value}{where}")
        draft.lines.append("")

    def verdict_line(self, a: Assessment) -> str:
        word = VERDICT_WORDS[a.verdict]
        total = len(a.gates)
        passed = sum(g.outcome is Outcome.PASS for g in a.gates)
        unknown = sum(g.outcome is Outcome.UNKNOWN for g in a.gates)
        if a.verdict is Verdict.NOT_YET:
            failing = len(a.blockers)
            names = ", ".join(t.value for t in a.blockers)
            verb = "fails" if failing == 1 else "fail"
            return f"Verdict: {word}. {failing} of {total} gates {verb}: {names}."
        if a.verdict is Verdict.NEED_MORE_INFO:
            return (
                f"Verdict: {word}. Nothing fails so far: {passed} of {total} gates pass, "
                f"{unknown} still open."
            )
        return f"Verdict: {word}. All {total} gates pass."

    def _blocker(self, draft: Draft, gate: GateResult) -> None:
        because = ""
        if gate.deciding:
            use = gate.deciding[0]
            shown = format_value(use.fact, use.value)
            because = f" (you said {label(use.fact)}: {shown})"
            if use.source == "derived":
                because = f" ({use.explanation})"
        quote = draft.quoted(gate.citations[0], " ")
        draft.lines.append(f"- {gate.title}: {gate.explanation}{because}{quote}")

    def assessment(self, draft: Draft, a: Assessment) -> None:
        """The verdict, why (each blocker with its quoted sentence), next steps, next question."""
        draft.lines.append(self.verdict_line(a))
        draft.lines.append("")
        if a.verdict is Verdict.NOT_YET:
            failing = [g for g in a.gates if g.outcome is Outcome.FAIL]
            draft.lines.append("Why:")
            for gate in failing:
                self._blocker(draft, gate)
            draft.lines.append("")
            draft.lines.append("Next steps, in the articles' order:")
            for number, gate in enumerate(failing, start=1):
                step = self.rules.gate(gate.topic).next_step
                draft.lines.append(f"{number}. {step.text}{draft.quoted(step.citation, ' ')}")
            draft.lines.append("")
            if a.open_questions:
                open_facts = ", ".join(label(q.fact) for q in a.open_questions[:6])
                draft.lines.append(
                    f"Still unknown, but no answer can lift the verdict until the blockers are "
                    f"fixed: {open_facts}."
                )
        elif a.verdict is Verdict.NEED_MORE_INFO:
            passing = [g for g in a.gates if g.outcome is Outcome.PASS]
            if passing:
                draft.lines.append("Passing so far: " + "; ".join(g.title for g in passing) + ".")
                draft.lines.append("")
            if a.next_question is not None:
                gate = next(g for g in a.gates if g.id == a.next_question.gate)
                draft.lines.append(f"Next question: {a.next_question.question}")
                draft.lines.append(
                    f"Why it matters: {gate.title.lower()}{draft.quoted(gate.citations[0], ': ')}"
                )
            else:
                self.still_needed(draft, a)
        else:
            draft.lines.append(draft.quoted(ALL_GATES_PASS))
            if a.advice:
                draft.lines.append("")
                draft.lines.append("Before you start:")
                for advice in a.advice:
                    draft.lines.append(
                        f"- {advice.title}: {advice.text}{draft.quoted(advice.citations[0], ' ')}"
                    )

    # ------------------------------------------------------------------ whole replies

    def situation(self, a: Assessment, changes: Sequence[FactChange]) -> Draft:
        draft = self.draft()
        self.changes(draft, changes)
        self.assessment(draft, a)
        return draft

    def answer(self, answer: Answer, a: Assessment, draft: Draft | None = None) -> Draft:
        """A question answered with quoted excerpts, and what it means for this team.

        With ``draft``, the answer is added below a situation reply (a message that stated
        facts and asked a question too)."""
        if draft is not None:
            draft.lines += ["", "On your question, from the guidance articles:"]
            return self._excerpts(draft, answer, a, relate=False)
        draft = self.draft()
        draft.lines.append("From the guidance articles:")
        return self._excerpts(draft, answer, a, relate=True)

    def _excerpts(self, draft: Draft, answer: Answer, a: Assessment, *, relate: bool) -> Draft:
        gates: list[GateResult] = []
        for excerpt in answer.excerpts:
            span = self.citer.span(excerpt.passage, excerpt.start, excerpt.end)
            if span is None:
                continue
            draft.lines.append(f"- {source_name(span.document)}: {draft.excerpt(span)}")
            for gate in a.gates:
                if gate in gates:
                    continue
                for citation in gate.citations:
                    found = self.citer.find(citation.doc_id, citation.quote)
                    if found and found.passage.passage_id == excerpt.passage.passage_id:
                        gates.append(gate)
                        break
        if relate and gates and a.facts.records:
            draft.lines.append("")
            for gate in gates[:2]:
                state = {Outcome.PASS: "passes", Outcome.FAIL: "fails", Outcome.UNKNOWN: "is open"}
                draft.lines.append(
                    f"For your situation, the gate “{gate.title}” {state[gate.outcome]}: "
                    f"{gate.explanation}"
                )
        return draft

    def out_of_scope(self, a: Assessment, nearest: Answer | None = None) -> Draft:
        """No answer in the corpus: said plainly, no sources; where the articles come near,
        the section is named (not quoted) so the user can ask about that instead."""
        draft = self.draft()
        draft.lines.append(
            "The guidance articles I answer from do not cover that, so I won't guess. I can "
            "answer questions about whether and when to fine-tune (data, evals, prompting, "
            "retrieval, cost, latency), and give a verdict on your situation."
        )
        if nearest is not None and nearest.nearby:
            sections: list[str] = []
            for excerpt in nearest.excerpts:
                where = f"“{excerpt.passage.section}” in {excerpt.passage.title}"
                if where not in sections:
                    sections.append(where)
            draft.lines.append("")
            draft.lines.append(
                "The nearest they come is " + "; and ".join(sections[:2]) + ", which does not "
                "answer it directly."
            )
        self._nudge(draft, a)
        return draft

    def instruction(self, a: Assessment) -> Draft:
        draft = self.draft()
        draft.lines.append(
            "I can't change how I work: the verdict comes from fixed decision gates checked "
            "against the facts of your situation, and no message can override them. Tell me "
            "about your situation, or ask a question about fine-tuning."
        )
        self._nudge(draft, a)
        return draft

    def greeting(self, a: Assessment) -> Draft:
        draft = self.draft()
        draft.lines.append(
            "Hello! I help you decide whether fine-tuning a model is the right next step, "
            "checking your situation against the decision gates of five guidance articles. "
            "Describe the task, its volume, how you measure quality and what data you have, "
            "or ask me anything about fine-tuning."
        )
        self._nudge(draft, a)
        return draft

    def thanks(self, a: Assessment) -> Draft:
        draft = self.draft()
        draft.lines.append("You're welcome.")
        self._nudge(draft, a)
        return draft

    def no_facts(self, a: Assessment, not_known: Sequence[str] = ()) -> Draft:
        draft = self.draft()
        if not_known:
            draft.lines.append(
                f"Noted: you do not know {' or '.join(label(f) for f in not_known)} yet. I will "
                "not ask for it again."
            )
        else:
            draft.lines.append(
                "I could not read anything from that message that bears on the decision, so "
                "nothing changed."
            )
        self._nudge(draft, a)
        return draft

    def not_understood(self, a: Assessment, asked: Sequence[str], text: str) -> Draft:
        """The reply to an answer that gave none of the facts the question asked for: what
        was not understood and the answers that can be read, instead of the same question."""
        draft = self.draft()
        wanted = " and ".join(label(f) for f in asked)
        draft.lines.append(
            f"I could not read an answer about {wanted} from {user_quote(text)}, so nothing "
            "changed."
        )
        draft.lines.append("")
        draft.lines.append("Answers I can read:")
        for fact in asked:
            forms = ", ".join(f"“{form}”" for form in SPECS[fact].forms)
            draft.lines.append(f"- {label(fact)}: {forms}")
        draft.lines.append("")
        draft.lines.append(
            "If you do not know, say “not sure”: I will not ask for it again, and the verdict "
            "will say what it still needs."
        )
        return draft

    def still_needed(self, draft: Draft, a: Assessment, *, blank_before: bool = False) -> None:
        """No question is left but the verdict is open: what would decide it, gate by gate,
        naming the facts the user said they do not know."""
        lines = []
        for gate in a.gates:
            if gate.outcome is not Outcome.UNKNOWN:
                continue
            needed = []
            for fact in gate.open_facts:
                unknown = " (you said you do not know yet)" if fact in a.facts.not_known else ""
                needed.append(f"{label(fact)}{unknown}")
            if needed:
                lines.append(
                    f"To decide “{gate.title}”, I would need: {', '.join(needed)}. Tell me any "
                    "of these when you have it and the verdict will follow."
                )
        if lines and blank_before:
            draft.lines.append("")
        draft.lines += lines

    def _nudge(self, draft: Draft, a: Assessment) -> None:
        if a.next_question is not None:
            draft.lines.append("")
            draft.lines.append(f"Next question: {a.next_question.question}")
        elif a.verdict is not Verdict.NEED_MORE_INFO:
            draft.lines.append("")
            draft.lines.append(self.verdict_line(a))
        else:
            self.still_needed(draft, a, blank_before=True)
