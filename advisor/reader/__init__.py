"""The reader: the facts one message states, without a language model.

One turn is read in three passes, all deterministic:

1. **statements** (:mod:`advisor.extraction`): the sentence rules, over text whose numbers
   are normalised (:mod:`advisor.reader.numbers`);
2. **the answer** (:mod:`advisor.reader.answers`): when the advisor has just asked a
   question, the reply is read for the facts that question names, in their units;
3. **what is not known** (:mod:`advisor.reader.clauses`): a hedge, "no idea", or a withdrawal
   ("scratch the 800 figure") leaves the fact unknown, clears an earlier value, and tells
   the engine not to ask for it again.

Which fact a clause is about comes from the cue vocabulary (``corpus/rules/cues.yaml``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from advisor.extraction import INSTRUCTION, extract, split_sentences
from advisor.facts import SPECS, FactRecord, Facts, NotKnown, Source, make_record
from advisor.reader.answers import is_ignorance, read_bool, read_value, too_long
from advisor.reader.clauses import clauses
from advisor.reader.cues import CueBook, default_cues
from advisor.reader.numbers import normalise, quantities

ANSWER_NOTE = "answer to the advisor's question"

__all__ = ["ANSWER_NOTE", "Reading", "read"]


@dataclass
class Reading:
    """What one message said: values, facts said to be unknown, and whether an answer to
    the advisor's question gave none of the facts it asked for (``unread``)."""

    records: list[FactRecord] = field(default_factory=list)
    not_known: list[NotKnown] = field(default_factory=list)
    unread: bool = False

    def statements(self) -> list[FactRecord | NotKnown]:
        return [*self.records, *self.not_known]


def read(
    text: str,
    turn: int,
    asked: Sequence[str] = (),
    *,
    known: Facts | None = None,
    cues: CueBook | None = None,
) -> Reading:
    """The facts of one message, read in the light of the facts the advisor just asked for
    (``asked``, most decisive first) and of what is already known (``known``)."""
    cues = cues or default_cues()
    reading = Reading(records=extract(text, turn))
    asked = [f for f in dict.fromkeys(asked) if f in SPECS]
    answering = bool(asked) and not too_long(text) and not INSTRUCTION.search(text)
    if answering:
        _read_answer(reading, text, turn, asked, cues)
    _read_not_known(reading, text, turn, asked if answering else [], known, cues)
    stated = {r.fact for r in reading.records} | {n.fact for n in reading.not_known}
    reading.unread = bool(asked) and not stated & set(asked)
    return reading


def _read_answer(
    reading: Reading, text: str, turn: int, asked: Sequence[str], cues: CueBook
) -> None:
    have = {r.fact for r in reading.records}
    primary = asked[0]
    for fact in asked:
        if fact in have:
            continue
        if fact == primary:
            value = read_value(text, fact, cues, others=asked)
        elif SPECS[fact].kind == "bool":
            value = read_bool(text, fact, cues, asked=False)
        elif SPECS[fact].kind == "number" and {fact, primary} <= {
            "baseline_score_pct",
            "target_score_pct",
        }:
            value = read_value(text, fact, cues, others=asked)
            if value is not None and any(r.value == value for r in reading.records):
                value = None
        else:
            value = None
        if value is None:
            continue
        record = make_record(
            fact, value, source=Source.RULES, turn=turn, quote=text[:300], note=ANSWER_NOTE
        )
        if record is not None:
            reading.records.append(record)
            have.add(fact)
    if primary not in have and is_ignorance(text):
        reading.not_known.append(NotKnown(fact=primary, turn=turn, quote=text[:300]))


def _read_not_known(
    reading: Reading,
    text: str,
    turn: int,
    asked: Sequence[str],
    known: Facts | None,
    cues: CueBook,
) -> None:
    """Hedges and withdrawals: the facts they are about become "not known"."""
    already = {n.fact for n in reading.not_known}
    for sentence in split_sentences(text):
        if INSTRUCTION.search(sentence.text):
            continue
        norm = normalise(sentence.text)
        stated_here = {r.fact for r in reading.records if r.quote == sentence.text[:300]}
        for clause in clauses(norm):
            withdraws, ignorant = clause.withdraws, clause.ignorant
            if not (withdraws or ignorant):
                continue
            facts: list[str] = []
            if withdraws:
                facts += cues.facts_mentioned(norm)
                facts += _facts_with_value(norm, known)
            else:
                facts += cues.facts_mentioned(clause.text)
                if not facts:
                    facts += asked[:1]
            for fact in dict.fromkeys(facts):
                if fact in already or (fact in stated_here and not ignorant):
                    continue
                if ignorant and fact in stated_here:
                    # the value came from the hedged clause itself: it is not a value
                    reading.records = [
                        r
                        for r in reading.records
                        if not (r.fact == fact and r.quote == sentence.text[:300])
                    ]
                if (
                    withdraws
                    and known is not None
                    and fact not in known.records
                    and fact not in asked
                ):
                    # a withdrawal is about something said before
                    continue
                reading.not_known.append(
                    NotKnown(
                        fact=fact,
                        turn=turn,
                        quote=sentence.text[:300],
                        position=sentence.start + clause.start,
                        reason="withdrawn" if withdraws else "not_known",
                    )
                )
                already.add(fact)


def _facts_with_value(text: str, known: Facts | None) -> list[str]:
    """Facts whose known value is a number this text names ("scratch the 800 figure")."""
    if known is None:
        return []
    values = {q.value for q in quantities(text)}
    return [
        name
        for name, record in known.records.items()
        if isinstance(record.value, int | float)
        and not isinstance(record.value, bool)
        and record.value in values
    ]
