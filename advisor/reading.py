"""How a conversation's messages become facts: one rule for the chat, ``assess`` and the evals.

A message is read by the extractor; when the advisor's previous reply asked about a fact and
the message did not state it, the message is also read as a terse answer to that question
("about three weeks", "yes"). :func:`replay` reads a whole list of messages the way the chat
would have, asking after each turn what the engine would have asked next, so ``advisor
assess`` and the decision evals give the facts (and verdict) the chat gives.
"""

from __future__ import annotations

from collections.abc import Sequence

from advisor.engine import assess
from advisor.extraction import extract
from advisor.facts import FactLedger, FactRecord
from advisor.intents import RELATED, read_answer
from advisor.rules import RuleSet


def related_facts(fact: str, rules: RuleSet) -> set[str]:
    """Facts often answered together with ``fact``: those the same gate asks about."""
    related = {fact, *RELATED.get(fact, ())}
    for gate in rules.gates:
        if fact in gate.questions:
            related |= set(gate.questions)
    return related


def read_turn(text: str, turn: int, asked: str | None, rules: RuleSet) -> list[FactRecord]:
    """The facts of one message, read in the light of the fact the advisor last asked about."""
    records = extract(text, turn)
    if asked and asked not in {r.fact for r in records}:
        related = related_facts(asked, rules)
        # A frame sentence ("about three weeks") is safe only when nothing else was stated.
        frames = all(r.fact in related for r in records)
        records += read_answer(text, asked, turn, frames=frames, related=related)
    return records


def replay(messages: Sequence[str], rules: RuleSet) -> FactLedger:
    """A ledger of ``messages`` read turn by turn as the chat reads them (turn 1 first)."""
    ledger = FactLedger()
    asked: str | None = None
    for turn, message in enumerate(messages, start=1):
        ledger.add(read_turn(message, turn, asked, rules))
        question = assess(ledger.resolve(), rules).next_question
        asked = question.fact if question else None
    return ledger
