"""Scoring free-question answers against evals/questions.yaml.

For every answerable question (and every follow-up, asked after its first question in the
same conversation) the reply must be an answer, not a refusal, and its quoted excerpts must
contain the question's ``must_contain`` spans ("span recall"); off-topic and unsupported
messages must get no sources. The same numbers set :data:`advisor.answers.ANSWERABLE_MEANING`.
A question asked inside a situation statement counts as answered when its reply quotes an
answer below the verdict.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from advisor.settings import PROJECT_ROOT

QUESTIONS_GOLDEN = PROJECT_ROOT / "evals" / "questions.yaml"


class AnswerableQuestion(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    question: str
    doc_ids: tuple[str, ...]
    must_contain: Annotated[tuple[str, ...], Field(min_length=1)]


class FollowUp(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    first: str
    then: str
    doc_ids: tuple[str, ...]
    must_contain: Annotated[tuple[str, ...], Field(min_length=1)]


class Unanswerable(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    text: str


class QuestionsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    answerable: tuple[AnswerableQuestion, ...]
    follow_ups: tuple[FollowUp, ...]
    off_topic: tuple[Unanswerable, ...]
    unsupported: tuple[Unanswerable, ...]


def load_questions(path: Path = QUESTIONS_GOLDEN) -> QuestionsFile:
    return QuestionsFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


class QAScore(BaseModel):
    """How the advisor answers free questions."""

    model_config = ConfigDict(frozen=True)
    answered: float  # share of answerable questions answered (not refused)
    span_recall: float  # share of must_contain spans found in the quoted excerpts
    doc_hit: float  # share of answers citing one of the expected articles
    follow_up_answered: float
    follow_up_span_recall: float
    off_topic_refused: float  # share of off-topic messages given no sources
    unsupported_refused: float
    markers_one_to_one: float
    failures: tuple[dict[str, Any], ...] = ()


def _answered(reply: Any) -> bool:
    from advisor.chat import ReplyKind

    return bool(reply.kind is ReplyKind.ANSWER or "On your question" in reply.text)


def _spans_found(reply: Any, spans: tuple[str, ...]) -> int:
    quoted = " ".join(c.quote for c in reply.citations)
    return sum(1 for span in spans if span in quoted)


def score_questions(
    advisor: Any, questions: QuestionsFile | None = None, replies: list[Any] | None = None
) -> QAScore:
    """Run every question through ``advisor`` (an :class:`~advisor.chat.Advisor`); every
    reply is also appended to ``replies`` when given."""
    from advisor.chat import Conversation
    from advisor.citations import marker_problems

    qs = questions or load_questions()
    failures: list[dict[str, Any]] = []
    replies = replies if replies is not None else []
    first_reply = len(replies)

    def ask(*messages: str) -> Any:
        conversation = Conversation()
        replies.extend(advisor.reply(conversation, message) for message in messages)
        return replies[-1]

    answered = spans = total_spans = doc_hits = 0
    for q in qs.answerable:
        reply = ask(q.question)
        found = _spans_found(reply, q.must_contain)
        answered += _answered(reply)
        spans += found
        total_spans += len(q.must_contain)
        doc_hits += any(c.doc_id in q.doc_ids for c in reply.citations)
        if found < len(q.must_contain):
            failures.append({"id": q.id, "kind": reply.kind.value, "missing": q.must_contain})
    f_answered = f_spans = f_total = 0
    for f in qs.follow_ups:
        reply = ask(f.first, f.then)
        found = _spans_found(reply, f.must_contain)
        f_answered += _answered(reply)
        f_spans += found
        f_total += len(f.must_contain)
        if found < len(f.must_contain):
            failures.append({"id": f.id, "kind": reply.kind.value, "missing": f.must_contain})
    refused = {"off_topic": 0, "unsupported": 0}
    for group in ("off_topic", "unsupported"):
        for item in getattr(qs, group):
            reply = ask(item.text)
            if reply.citations:
                failures.append({"id": item.id, "kind": reply.kind.value, "cited": True})
            else:
                refused[group] += 1
    mine = replies[first_reply:]
    one_to_one = sum(1 for r in mine if not marker_problems(r.text, r.citations))
    return QAScore(
        answered=answered / len(qs.answerable),
        span_recall=spans / total_spans,
        doc_hit=doc_hits / len(qs.answerable),
        follow_up_answered=f_answered / len(qs.follow_ups),
        follow_up_span_recall=f_spans / f_total,
        off_topic_refused=refused["off_topic"] / len(qs.off_topic),
        unsupported_refused=refused["unsupported"] / len(qs.unsupported),
        markers_one_to_one=one_to_one / len(mine),
        failures=tuple(failures),
    )


# --------------------------------------------------------------------------- conversations

CONVERSATIONS_GOLDEN = PROJECT_ROOT / "evals" / "conversations.yaml"


class TurnExpectation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: str
    verdict: str
    blockers: tuple[str, ...] = ()
    next_question_topic: str | None = "unspecified"
    cites: tuple[str, ...] = ()
    no_citations: bool = False
    text_contains: tuple[str, ...] = ()


class GoldenTurn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    say: str
    expect: TurnExpectation


class GoldenChat(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    note: str = ""
    turns: Annotated[tuple[GoldenTurn, ...], Field(min_length=1)]


class ConversationsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    version: int = 1
    conversations: tuple[GoldenChat, ...]


def load_conversations(path: Path = CONVERSATIONS_GOLDEN) -> ConversationsFile:
    return ConversationsFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def turn_problems(reply: Any, expect: TurnExpectation) -> list[str]:
    """How one reply differs from its expectation (empty when it matches)."""
    problems = []
    if reply.kind.value != expect.kind:
        problems.append(f"kind {reply.kind.value}, expected {expect.kind}")
    if reply.verdict.value != expect.verdict:
        problems.append(f"verdict {reply.verdict.value}, expected {expect.verdict}")
    blockers = sorted(b.value for b in reply.blockers)
    if blockers != sorted(expect.blockers):
        problems.append(f"blockers {blockers}, expected {sorted(expect.blockers)}")
    if expect.next_question_topic != "unspecified":
        topic = reply.next_question.topic.value if reply.next_question else None
        if topic != expect.next_question_topic:
            problems.append(f"next question on {topic}, expected {expect.next_question_topic}")
    cited = {c.doc_id for c in reply.citations}
    if missing := sorted(set(expect.cites) - cited):
        problems.append(f"does not cite {missing}")
    if expect.no_citations and cited:
        problems.append(f"cites {sorted(cited)}, expected no sources")
    problems += [f"text lacks {s!r}" for s in expect.text_contains if s not in reply.text]
    return problems
