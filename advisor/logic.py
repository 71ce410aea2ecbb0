"""Three-valued (Kleene) conditions over facts: the language the gate table is written in.

A fact is either known (a value) or unknown (``None``: not stated, which is not ``False``).
A comparison with an unknown fact is UNKNOWN; ``all``/``any``/``not`` follow Kleene's strong
logic, so a condition is decided as soon as the known facts decide it: ``all`` is FALSE
once any part is FALSE, ``any`` is TRUE once any part is TRUE.

Evaluation also reports which facts decided the outcome, and, when the outcome is UNKNOWN,
which unknown facts could still decide it: the raw material of the gate trace and of the
next question.

Conditions are data (parsed from YAML), e.g.::

    all:
      - {fact: labeled_examples, ge: 1000}
      - {fact: examples_human_reviewed, eq: true}
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Truth(StrEnum):
    TRUE = "true"
    FALSE = "false"
    UNKNOWN = "unknown"

    @classmethod
    def of(cls, value: bool) -> Truth:
        return cls.TRUE if value else cls.FALSE


@dataclass(frozen=True)
class Evaluation:
    """An outcome, the facts that decided it, and the unknown facts that still could."""

    truth: Truth
    deciding: frozenset[str] = frozenset()
    open_facts: frozenset[str] = frozenset()


_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "band": lambda value, band: False,  # evaluated by Compare._band
    "eq": operator.eq,
    "ne": operator.ne,
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
    "in": lambda value, options: value in options,
}


class Band(BaseModel):
    """A three-valued threshold: FALSE below ``fail_below``, TRUE from ``pass_from``, UNKNOWN
    in between (the value is known but does not settle the question by itself)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    fail_below: float
    pass_from: float

    @model_validator(mode="after")
    def _ordered(self) -> Band:
        if self.fail_below > self.pass_from:
            raise ValueError("band needs fail_below <= pass_from")
        return self


class Compare(BaseModel):
    """``{fact: NAME, <op>: VALUE}`` with exactly one operator.

    ``ask`` names facts that could settle an UNKNOWN ``band`` (they become open facts).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    fact: str
    eq: Any = None
    ne: Any = None
    lt: float | None = None
    le: float | None = None
    gt: float | None = None
    ge: float | None = None
    in_: tuple[Any, ...] | None = Field(default=None, alias="in")
    band: Band | None = None
    ask: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _one_operator(self) -> Compare:
        if len(self._given()) != 1:
            raise ValueError(f"condition on {self.fact!r} needs exactly one of {list(_OPERATORS)}")
        return self

    def _given(self) -> list[tuple[str, Any]]:
        values = {
            "eq": self.eq,
            "ne": self.ne,
            "lt": self.lt,
            "le": self.le,
            "gt": self.gt,
            "ge": self.ge,
            "in": self.in_,
            "band": self.band,
        }
        return [(op, v) for op, v in values.items() if v is not None or op in self.model_fields_set]

    def evaluate(self, facts: Mapping[str, object]) -> Evaluation:
        value = facts.get(self.fact)
        if value is None:
            return Evaluation(Truth.UNKNOWN, open_facts=frozenset({self.fact}))
        op, expected = self._given()[0]
        if op == "band":
            return self._band(value, expected)
        try:
            result = _OPERATORS[op](value, expected)
        except TypeError:  # a fact of the wrong type cannot satisfy the condition
            result = False
        return Evaluation(Truth.of(bool(result)), deciding=frozenset({self.fact}))

    def _band(self, value: object, band: Band) -> Evaluation:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return Evaluation(Truth.FALSE, deciding=frozenset({self.fact}))
        if value >= band.pass_from:
            return Evaluation(Truth.TRUE, deciding=frozenset({self.fact}))
        if value < band.fail_below:
            return Evaluation(Truth.FALSE, deciding=frozenset({self.fact}))
        return Evaluation(
            Truth.UNKNOWN, deciding=frozenset({self.fact}), open_facts=frozenset(self.ask)
        )

    def thresholds(self) -> list[object]:
        """The constants this comparison tests against (to probe an unknown fact)."""
        op, expected = self._given()[0]
        if op == "band":
            return [expected.fail_below, expected.pass_from]
        if op == "in":
            return list(expected)
        return [expected]


def _at_least(parts: list[Evaluation], needed: int) -> Evaluation:
    """Kleene threshold: TRUE once ``needed`` parts are TRUE, FALSE once too many are FALSE.

    ``all`` is ``needed == len(parts)`` and ``any`` is ``needed == 1``. The deciding facts
    are those of the parts that settled the outcome (the TRUE ones, or the FALSE ones).
    """
    true = [p for p in parts if p.truth is Truth.TRUE]
    false = [p for p in parts if p.truth is Truth.FALSE]
    if len(true) >= needed:
        return Evaluation(Truth.TRUE, deciding=_union(p.deciding for p in true))
    if len(parts) - len(false) < needed:
        return Evaluation(Truth.FALSE, deciding=_union(p.deciding for p in false))
    return Evaluation(
        Truth.UNKNOWN,
        deciding=_union(p.deciding for p in parts),
        open_facts=_union(p.open_facts for p in parts),
    )


class AllOf(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    all: tuple[Condition, ...] = Field(min_length=1)

    def evaluate(self, facts: Mapping[str, object]) -> Evaluation:
        return _at_least([c.evaluate(facts) for c in self.all], len(self.all))


class AnyOf(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    any: tuple[Condition, ...] = Field(min_length=1)

    def evaluate(self, facts: Mapping[str, object]) -> Evaluation:
        return _at_least([c.evaluate(facts) for c in self.any], 1)


class Not(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    not_: Condition = Field(alias="not")

    def evaluate(self, facts: Mapping[str, object]) -> Evaluation:
        inner = self.not_.evaluate(facts)
        flipped = {Truth.TRUE: Truth.FALSE, Truth.FALSE: Truth.TRUE}.get(inner.truth, inner.truth)
        return Evaluation(flipped, inner.deciding, inner.open_facts)


class AtLeast(BaseModel):
    """``{at_least: N, of: [...]}``: TRUE when N parts are TRUE (e.g. two-of-four ROI rule)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    at_least: Annotated[int, Field(ge=1)]
    of: tuple[Condition, ...] = Field(min_length=1)

    def evaluate(self, facts: Mapping[str, object]) -> Evaluation:
        return _at_least([c.evaluate(facts) for c in self.of], self.at_least)


Condition = Compare | AllOf | AnyOf | Not | AtLeast
for _model in (AllOf, AnyOf, Not, AtLeast):
    _model.model_rebuild()


class ConditionDoc(BaseModel):
    """Wrapper that parses one condition from YAML data."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    condition: Condition


def parse_condition(data: object) -> Condition:
    """Parse a condition from plain data; raises ``pydantic.ValidationError`` when malformed."""
    return ConditionDoc.model_validate({"condition": data}).condition


def _union(sets: Iterable[frozenset[str]]) -> frozenset[str]:
    return frozenset().union(*sets)


def comparisons(condition: Condition) -> Iterable[Compare]:
    """Every comparison inside ``condition`` (depth first)."""
    if isinstance(condition, Compare):
        yield condition
    elif isinstance(condition, AllOf):
        for part in condition.all:
            yield from comparisons(part)
    elif isinstance(condition, AnyOf):
        for part in condition.any:
            yield from comparisons(part)
    elif isinstance(condition, AtLeast):
        for part in condition.of:
            yield from comparisons(part)
    elif isinstance(condition, Not):
        yield from comparisons(condition.not_)
