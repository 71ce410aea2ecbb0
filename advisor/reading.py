"""How a conversation's messages become facts: one rule for the chat, ``assess`` and the evals.

A message is read by the reader (:mod:`advisor.reader`) in the light of the question the
advisor asked last: the facts that question named are read from a terse reply ("about
three weeks", "yes", "no idea"). When the reader finds none of them, the older framed reading
(:func:`advisor.intents.read_answer`) is tried. :func:`replay` reads a whole list of
messages the way the chat would have, asking after each turn what the engine would have
asked next, so ``advisor assess`` and the decision evals give the facts (and verdict) the
chat gives.
"""

from __future__ import annotations

from collections.abc import Sequence

from advisor.engine import assess
from advisor.facts import FactLedger, Facts
from advisor.intents import RELATED, read_answer
from advisor.reader import Reading, read
from advisor.rules import RuleSet


def related_facts(fact: str, rules: RuleSet) -> set[str]:
    """Facts often answered together with ``fact``: those the same gate asks about."""
    related = {fact, *RELATED.get(fact, ())}
    for gate in rules.gates:
        if fact in gate.questions:
            related |= set(gate.questions)
    return related


def read_turn(
    text: str,
    turn: int,
    asked: Sequence[str] | str | None,
    rules: RuleSet,
    known: Facts | None = None,
) -> Reading:
    """The facts of one message, read in the light of the facts the advisor last asked for."""
    facts = [asked] if isinstance(asked, str) else list(asked or ())
    reading = read(text, turn, facts, known=known)
    if facts and reading.unread:
        related = related_facts(facts[0], rules)
        frames = all(r.fact in related for r in reading.records)
        found = read_answer(text, facts[0], turn, frames=frames, related=related)
        reading.records += found
        reading.unread = not found
    return reading


def replay(messages: Sequence[str], rules: RuleSet) -> FactLedger:
    """A ledger of ``messages`` read turn by turn as the chat reads them (turn 1 first)."""
    ledger = FactLedger()
    asked: tuple[str, ...] = ()
    for turn, message in enumerate(messages, start=1):
        ledger.add(read_turn(message, turn, asked, rules, ledger.resolve()).statements())
        question = assess(ledger.resolve(), rules).next_question
        asked = question.facts or (question.fact,) if question else ()
    return ledger
