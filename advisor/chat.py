"""The conversation: one :class:`Reply` per turn, for the UI, the CLI and the exports.

:meth:`Advisor.reply` (or :meth:`Advisor.stream`, which yields text as it is written and then
the :class:`Reply`) runs DESIGN.md's turn:

1. read the message for facts (the rules extractor; a short answer is read in the light of
   the question the advisor just asked; the language model too, when configured);
2. assess the facts (advisor/engine.py): verdict, blockers, gate trace, next question;
3. decide what the message is (advisor/intents.py) and compose the reply from the
   assessment and, for questions, from retrieved passages (advisor/compose.py);
4. when a language model is configured, let it phrase the reply under the guard
   (advisor/guard.py); any failure falls back to the deterministic text, with a note.

The conversation changes only when a turn completes: a refused message or a failure
leaves it as it was.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from advisor.answers import Answer, ExcerptPicker
from advisor.citations import CitedPassage, marker_problems, renumber
from advisor.compose import Composer, Draft, FactChange, label
from advisor.engine import Assessment, GateResult, Question, Verdict, assess
from advisor.errors import LLMError, QueryError
from advisor.extraction import clean_message
from advisor.facts import FactLedger, FactRecord, FactValue
from advisor.intents import (
    Intent,
    classify,
    is_follow_up,
    questions_in,
)
from advisor.llm import Deadline, ModelClient
from advisor.reading import read_turn, related_facts
from advisor.report import format_value
from advisor.rules import RuleSet, Topic

log = logging.getLogger(__name__)


#: A question inside a situation statement is answered too when it has this many words
#: ("Is that enough?" is answered by the verdict itself).
MIN_QUESTION_WORDS = 6


class ReplyKind(StrEnum):
    SITUATION = "situation"  # facts changed: verdict, why, next steps, next question
    VERDICT = "verdict"  # "should we fine-tune?", "why?"
    ANSWER = "answer"  # a question answered from the corpus, quoted and cited
    OUT_OF_SCOPE = "out_of_scope"  # the corpus cannot support an answer: said plainly
    GREETING = "greeting"
    INSTRUCTION = "instruction"  # an attempt to instruct the advisor: answered, not obeyed
    THANKS = "thanks"
    NO_FACTS = "no_facts"  # a statement with nothing that bears on the decision
    CORRECTION = "correction"  # the user set a fact in the facts panel


class ChangedFact(BaseModel):
    """A fact this turn set or changed, with where the new value came from."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    fact: str
    label: str
    before: FactValue | None
    after: FactValue
    source: str
    quote: str = ""


class Reply(BaseModel):
    """Everything one turn produced. ``text`` carries markers ``[n]`` that map one-to-one to
    ``citations``; the verdict and gates are always the engine's."""

    model_config = ConfigDict(extra="forbid")
    kind: ReplyKind
    text: str
    verdict: Verdict
    blockers: list[Topic]
    gates: list[GateResult]
    next_question: Question | None
    changed_facts: list[ChangedFact]
    citations: list[CitedPassage]
    notes: list[str] = Field(default_factory=list)
    phrased_by: str = "rules"
    retrieval_query: str | None = None
    rules_version: str = ""
    corpus_version: str = ""
    seconds: float = 0.0
    assessment: Assessment | None = Field(default=None, exclude=True)

    def to_json(self) -> dict[str, Any]:
        data = self.model_dump(mode="json", exclude={"gates"})
        data["gates"] = [g.to_json() for g in self.gates]
        return data


class Role(StrEnum):
    USER = "user"
    ASSISTANT = "assistant"
    CORRECTION = "correction"


NEW_TITLE = "New conversation"
#: Replies whose message would make a poor conversation title.
_NOT_TITLES = {ReplyKind.GREETING, ReplyKind.THANKS, ReplyKind.INSTRUCTION, ReplyKind.NO_FACTS}


class Message(BaseModel):
    """One entry of the transcript."""

    model_config = ConfigDict(extra="forbid")
    role: Role
    text: str
    turn: Annotated[int, Field(ge=0)]
    at: datetime
    reply: Reply | None = None


def _now() -> datetime:
    return datetime.now(UTC)


class Conversation(BaseModel):
    """A transcript and the facts stated in it. Serialisable as is (JSON, SQLite)."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    title: str = "New conversation"  # NEW_TITLE until a substantive message names it
    created_at: datetime = Field(default_factory=_now)
    updated_at: datetime = Field(default_factory=_now)
    messages: list[Message] = Field(default_factory=list)
    ledger: FactLedger = Field(default_factory=FactLedger)

    @property
    def user_turns(self) -> int:
        return sum(1 for m in self.messages if m.role is Role.USER)

    def last_reply(self) -> Reply | None:
        return next((m.reply for m in reversed(self.messages) if m.reply is not None), None)

    def last_question_asked(self) -> str | None:
        """The fact the advisor's last reply asked about, if that reply asked one."""
        reply = self.last_reply()
        if reply is None or reply.next_question is None:
            return None
        return reply.next_question.fact

    def last_question_facts(self) -> tuple[str, ...]:
        """Every fact the advisor's last question asked for, most decisive first."""
        reply = self.last_reply()
        if reply is None or reply.next_question is None:
            return ()
        question = reply.next_question
        return tuple(dict.fromkeys((question.fact, *question.facts)))

    def previous_question(self) -> str | None:
        """The question sentences of the user's last message that asked something (for
        follow-ups): "How many examples for LoRA?" before "and for full fine-tuning?"."""
        for message in reversed(self.messages):
            if message.role is Role.USER and (asked := questions_in(message.text)):
                return asked
        return None


def _changes(before: dict[str, FactRecord], after: dict[str, FactRecord]) -> list[FactChange]:
    out = []
    for name, record in after.items():
        old = before.get(name)
        if old is None or old != record:
            if old is not None and old.value == record.value:
                continue
            out.append(FactChange(name, None if old is None else old.value, record))
    return out


class Advisor:
    """The one object the UI and the CLI call: a turn in, a :class:`Reply` out."""

    def __init__(
        self,
        *,
        rules: RuleSet,
        composer: Composer,
        search: Callable[[str, int], list[Any]] | None,
        picker: ExcerptPicker | None,
        llm: ModelClient | None = None,
        max_message_chars: int = 20_000,
        turn_deadline_s: float = 60.0,
        llm_extract: bool = True,
        llm_phrase: bool = True,
        corpus_version: str = "",
    ) -> None:
        self.rules = rules
        self.composer = composer
        self.search = search
        self.picker = picker
        self.llm = llm
        self.max_message_chars = max_message_chars
        self.turn_deadline_s = turn_deadline_s
        self.llm_extract = llm_extract
        self.llm_phrase = llm_phrase
        self.corpus_version = corpus_version

    @classmethod
    def from_deps(cls, deps: Any, llm: ModelClient | None = None) -> Advisor:
        """Build from :class:`~advisor.deps.AdvisorDeps` (its settings decide the model)."""
        from advisor.rules import load_rules

        settings = deps.settings
        rules = load_rules(settings.rules_dir)
        client = llm if llm is not None else ModelClient.from_settings(settings)
        return cls(
            rules=rules,
            composer=Composer(deps.corpus, rules),
            search=lambda query, k: deps.retriever.search(query, k=k),
            picker=ExcerptPicker(deps.corpus, deps.store.embed_model, deps.store.embed_query),
            llm=client,
            max_message_chars=settings.max_message_chars,
            turn_deadline_s=settings.llm_turn_deadline_s,
            llm_extract=settings.llm_extract,
            llm_phrase=settings.llm_phrase,
            corpus_version=deps.corpus.version,
        )

    # ------------------------------------------------------------------ public API

    def assess(self, conversation: Conversation) -> Assessment:
        return assess(conversation.ledger.resolve(), self.rules)

    def reply(self, conversation: Conversation, message: str) -> Reply:
        """One turn: the conversation gains the message and the reply (module doc)."""
        final: Reply | None = None
        for event in self.stream(conversation, message):
            if isinstance(event, Reply):
                final = event
        assert final is not None
        return final

    def stream(self, conversation: Conversation, message: str) -> Iterator[str | Reply]:
        """Like :meth:`reply`, yielding text as it is written, then the :class:`Reply`.

        Streamed text is provisional: the final ``Reply.text`` is the one to keep (it may be
        the deterministic text if the model's was set aside)."""
        started = time.perf_counter()
        text = self.check_message(message)
        turn = conversation.user_turns + 1
        deadline = Deadline(self.turn_deadline_s)
        notes: list[str] = []

        before = conversation.ledger.resolve()
        reading = read_turn(text, turn, conversation.last_question_facts(), self.rules, before)
        records = reading.records
        if self.llm is not None and self.llm_extract:
            try:
                found = extract_with_model(self.llm, text, turn, deadline, records)
                records += found
            except LLMError as exc:
                notes.append(_note(exc, "facts were read by the rules alone"))
        ledger = conversation.ledger.model_copy(deep=True)
        ledger.add(records)
        ledger.add(reading.not_known)
        facts = ledger.resolve()
        assessment = assess(facts, self.rules)
        changes = _changes(before.records, facts.records)

        intent = classify(text, has_facts=bool(changes))
        unread = (
            conversation.last_question_facts()
            if reading.unread and not records and not reading.not_known
            else ()
        )
        kind, draft, query = self._compose(
            conversation,
            text,
            intent,
            assessment,
            changes,
            unread=unread,
            not_known=[n.fact for n in reading.not_known],
        )

        reply_text = draft.text()
        citations = draft.citations.cited()
        phrased_by = "rules"
        if self._phrases(kind):
            assert self.llm is not None
            streamed: list[str] = []
            try:
                from advisor.llm_tasks import phrase_messages, phrase_stream

                messages = phrase_messages(
                    user_message=text,
                    verdict=assessment.verdict,
                    draft=reply_text,
                    sources=citations,
                    next_question=(
                        assessment.next_question.question if assessment.next_question else None
                    ),
                )
                header = self.composer.verdict_line(assessment) + "\n\n"
                if kind is not ReplyKind.ANSWER:
                    yield header
                for sentence in phrase_stream(
                    self.llm,
                    messages,
                    deadline,
                    verdict=assessment.verdict,
                    sources=citations,
                    user_message=text,
                ):
                    streamed.append(sentence)
                    yield sentence
                prose, used, _ = renumber("".join(streamed).strip(), citations)
                if kind is not ReplyKind.ANSWER:
                    prose = header + prose
                if assessment.next_question and assessment.next_question.question not in prose:
                    prose += f"\n\nNext question: {assessment.next_question.question}"
                reply_text, citations, phrased_by = prose, used, f"llm ({self.llm.name})"
            except LLMError as exc:
                notes.append(_note(exc, "this is the advisor's own wording"))
                yield "\n\n"  # the UI replaces what streamed with the final text
        else:
            yield reply_text

        problems = marker_problems(reply_text, citations)
        if problems:  # a bug, never a user's doing: keep the user safe, log it
            log.error("citation markers do not match: %s", problems)
            reply_text, citations = draft.text(), draft.citations.cited()

        reply = self._reply(
            kind,
            reply_text,
            citations,
            assessment,
            changes,
            started,
            notes=notes,
            phrased_by=phrased_by,
            retrieval_query=query,
        )
        now = _now()
        conversation.ledger = ledger
        conversation.messages.append(Message(role=Role.USER, text=text, turn=turn, at=now))
        conversation.messages.append(
            Message(role=Role.ASSISTANT, text=reply.text, turn=turn, at=now, reply=reply)
        )
        if conversation.title == NEW_TITLE and kind not in _NOT_TITLES:
            conversation.title = _title(text)
        conversation.updated_at = now
        yield reply

    def correct(self, conversation: Conversation, fact: str, value: object) -> Reply:
        """The user sets a fact (facts panel, ``/set``): it wins over anything extracted, the
        verdict is recomputed at once, and the transcript records the correction."""
        started = time.perf_counter()
        before = conversation.ledger.resolve()
        ledger = conversation.ledger.model_copy(deep=True)
        try:
            record = ledger.confirm(fact, value, turn=conversation.user_turns)
        except ValueError as exc:
            raise QueryError(f"Cannot set {fact}: {exc}.") from exc
        facts = ledger.resolve()
        assessment = assess(facts, self.rules)
        changes = _changes(before.records, facts.records)
        draft = self.composer.situation(assessment, changes)
        reply = self._reply(
            ReplyKind.CORRECTION,
            draft.text(),
            draft.citations.cited(),
            assessment,
            changes,
            started,
        )
        now = _now()
        conversation.ledger = ledger
        shown = format_value(fact, record.value)
        conversation.messages.append(
            Message(
                role=Role.CORRECTION,
                text=f"Set {label(fact)} to {shown}.",
                turn=conversation.user_turns,
                at=now,
            )
        )
        conversation.messages.append(
            Message(
                role=Role.ASSISTANT,
                text=reply.text,
                turn=conversation.user_turns,
                at=now,
                reply=reply,
            )
        )
        conversation.updated_at = now
        return reply

    # ------------------------------------------------------------------ internals

    def _reply(
        self,
        kind: ReplyKind,
        text: str,
        citations: list[CitedPassage],
        assessment: Assessment,
        changes: list[FactChange],
        started: float,
        **extra: Any,
    ) -> Reply:
        """A Reply whose verdict, blockers, gates and next question are the engine's."""
        return Reply(
            kind=kind,
            text=text,
            verdict=assessment.verdict,
            blockers=list(assessment.blockers),
            gates=list(assessment.gates),
            next_question=assessment.next_question,
            changed_facts=[_changed(c) for c in changes],
            citations=citations,
            rules_version=self.rules.version,
            corpus_version=self.corpus_version,
            seconds=round(time.perf_counter() - started, 4),
            assessment=assessment,
            **extra,
        )

    def check_message(self, message: object) -> str:
        """The message, cleaned; raises :class:`QueryError` with a message a user can act on."""
        return self.check_message_text(message, self.max_message_chars)

    @staticmethod
    def check_message_text(message: object, max_chars: int) -> str:
        """:meth:`check_message` without an advisor (the CLI checks before loading one)."""
        if isinstance(message, bytes):
            raise QueryError("The message is binary data, not text.")
        if not isinstance(message, str):
            raise QueryError("The message must be text.")
        if "\x00" in message:
            raise QueryError(
                "The message contains binary data (NUL characters).",
                hint="Paste the text itself, not a file's raw bytes.",
            )
        if len(message) > max_chars:
            raise QueryError(
                f"The message is {len(message):,} characters long; the limit is {max_chars:,}.",
                hint="Describe the situation in a few sentences, or split it into messages.",
            )
        text = clean_message(message).strip()
        if not text:
            raise QueryError(
                "The message is empty.",
                hint='Describe your situation, e.g. "We classify 500k posts a day".',
            )
        return text

    def related_facts(self, fact: str) -> set[str]:
        """Facts often answered together with ``fact``: those the same gate asks about."""
        return related_facts(fact, self.rules)

    def _phrases(self, kind: ReplyKind) -> bool:
        return (
            self.llm is not None
            and self.llm_phrase
            and kind in (ReplyKind.SITUATION, ReplyKind.VERDICT, ReplyKind.ANSWER)
        )

    def _compose(
        self,
        conversation: Conversation,
        text: str,
        intent: Intent,
        a: Assessment,
        changes: list[FactChange],
        *,
        unread: Sequence[str] = (),
        not_known: Sequence[str] = (),
    ) -> tuple[ReplyKind, Draft, str | None]:
        """The reply's kind and draft; ``unread`` are the facts the advisor asked for when
        this message, an answer to it, could not be read; ``not_known`` the facts it says
        the user does not know."""
        c = self.composer
        if intent in (Intent.STATEMENT, Intent.VERDICT) and (changes or intent is Intent.VERDICT):
            kind = ReplyKind.SITUATION if changes else ReplyKind.VERDICT
            draft = c.situation(a, changes)
            asked = questions_in(text)
            query = None
            if len(asked.split()) >= MIN_QUESTION_WORDS:
                answer, query = self.answer(asked)
                if answer.answerable:
                    c.answer(answer, a, draft)
            return kind, draft, query
        if intent is Intent.GREETING:
            return ReplyKind.GREETING, c.greeting(a), None
        if intent is Intent.INSTRUCTION:
            return ReplyKind.INSTRUCTION, c.instruction(a), None
        if intent is Intent.THANKS:
            return ReplyKind.THANKS, c.thanks(a), None
        if intent is Intent.QUESTION:
            context = conversation.previous_question() if is_follow_up(text) else None
            answer, query = self.answer(text, context)
            if answer.answerable:
                return ReplyKind.ANSWER, c.answer(answer, a), query
            return ReplyKind.OUT_OF_SCOPE, c.out_of_scope(a, answer), query
        if unread and intent is Intent.STATEMENT:
            return ReplyKind.NO_FACTS, c.not_understood(a, unread, text), None
        return ReplyKind.NO_FACTS, c.no_facts(a, not_known), None

    def answer(self, question: str, context: str | None = None) -> tuple[Answer, str]:
        """The excerpts that answer ``question`` (read with the one it follows, if any)."""
        query = f"{context} {question}" if context else question
        if self.search is None or self.picker is None:
            return Answer((), 0.0), query
        hits = self.search(query[:1500], 6)
        return self.picker.pick(hits, question, context), query


def extract_with_model(
    client: ModelClient, text: str, turn: int, deadline: Deadline, rules: list[FactRecord]
) -> list[FactRecord]:
    from advisor.llm_tasks import extract_facts

    found = extract_facts(client, text, turn, deadline, rules_found={r.fact for r in rules})
    return list(found.records)


def _changed(change: FactChange) -> ChangedFact:
    r = change.record
    return ChangedFact(
        fact=r.fact,
        label=label(r.fact),
        before=change.before,
        after=r.value,
        source=r.source.value,
        quote=r.quote,
    )


def _note(exc: LLMError, what: str) -> str:
    return f"{exc.note}: {exc.message} So {what}."


def _title(text: str) -> str:
    words = " ".join(text.split())
    return words if len(words) <= 60 else words[:59].rstrip() + "…"
