"""The cue vocabulary (``corpus/rules/cues.yaml``): every example row reads as it says, and a
broken row fails at load time instead of being skipped while a message is read."""

from __future__ import annotations

from typing import Any

import pytest

from advisor.facts import SPECS, FactValue
from advisor.reader.cues import CueBook, CueExample, default_cues
from advisor.reading import read_turn
from advisor.rules import default_rules

BOOK = default_cues()
EXAMPLES: list[tuple[str, CueExample]] = [
    (fact, example) for fact, cues in BOOK.facts.items() for example in cues.examples
]


def _close(got: FactValue, want: FactValue) -> bool:
    if isinstance(want, bool) or isinstance(got, bool):
        return got == want
    if isinstance(want, (int, float)) and isinstance(got, (int, float)):
        return abs(float(got) - float(want)) <= 0.01 * max(1.0, abs(float(want)))
    return got == want


def test_every_fact_has_cues_and_examples() -> None:
    assert set(BOOK.facts) == set(SPECS)
    for name, cues in BOOK.facts.items():
        assert cues.topic, f"{name} has no topic cue"
        assert cues.examples, f"{name} has no example sentence"


@pytest.mark.parametrize(
    ("fact", "example"), EXAMPLES, ids=[f"{f}:{e.text[:40]}" for f, e in EXAMPLES]
)
def test_the_example_reads_as_the_row_says(fact: str, example: CueExample) -> None:
    reading = read_turn(example.text, 1, example.asked, default_rules())
    values = {r.fact: r.value for r in reading.records}
    not_known = {n.fact for n in reading.not_known}
    for name, want in example.reads.items():
        if want is None:
            assert name in not_known, (name, not_known)
            assert name not in values, (name, values)
        else:
            assert name in values, f"{name} not read from {example.text!r}: {values}"
            assert _close(values[name], want), (name, values[name], want)


@pytest.mark.parametrize(
    ("facts", "message"),
    [
        ({"no_such_fact": {"topic": ["x"]}}, "unknown fact 'no_such_fact'"),
        (
            {"need_type": {"topic": ["x"], "values": [{"value": "vibes", "pattern": "x"}]}},
            "need_type",
        ),
        ({"need_type": {"topic": ["(unclosed"]}}, "bad pattern"),
        (
            {"need_type": {"topic": ["x"], "examples": [{"text": "t", "reads": {"nope": 1}}]}},
            "example reads unknown 'nope'",
        ),
        ({"need_type": {"topic": ["x"], "examples": [{"text": "t", "reads": {}}]}}, "reads"),
        ({"need_type": {"topic": ["x"], "colour": "red"}}, "colour"),
    ],
    ids=["unknown-fact", "bad-value", "bad-regex", "example-fact", "empty-example", "extra-key"],
)
def test_a_broken_row_fails_loudly(facts: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CueBook.model_validate({"version": 1, "facts": facts})
