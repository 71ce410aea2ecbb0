"""Kleene three-valued conditions: the language of the gate table."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from advisor.logic import Truth, parse_condition

EXAMPLES = parse_condition(
    {"all": [{"fact": "labeled", "ge": 1000}, {"fact": "reviewed", "eq": True}]}
)


def test_unknown_is_not_false() -> None:
    result = EXAMPLES.evaluate({})
    assert result.truth is Truth.UNKNOWN
    assert result.open_facts == {"labeled", "reviewed"}


def test_all_is_false_as_soon_as_one_part_is_false() -> None:
    result = EXAMPLES.evaluate({"labeled": 300})
    assert result.truth is Truth.FALSE
    assert result.deciding == {"labeled"}
    assert result.open_facts == frozenset()


def test_all_true_needs_every_part() -> None:
    assert EXAMPLES.evaluate({"labeled": 1000, "reviewed": True}).truth is Truth.TRUE
    partial = EXAMPLES.evaluate({"labeled": 5000})
    assert partial.truth is Truth.UNKNOWN
    assert partial.open_facts == {"reviewed"}


def test_any_and_not() -> None:
    cond = parse_condition(
        {"any": [{"fact": "volume", "ge": 1_000_000}, {"not": {"fact": "latency_ok", "eq": True}}]}
    )
    assert cond.evaluate({"volume": 2_000_000}).truth is Truth.TRUE
    assert cond.evaluate({"latency_ok": False}).truth is Truth.TRUE
    assert cond.evaluate({"volume": 10, "latency_ok": True}).truth is Truth.FALSE
    assert cond.evaluate({"volume": 10}).open_facts == {"latency_ok"}


def test_two_of_four() -> None:
    cond = parse_condition(
        {"at_least": 2, "of": [{"fact": x, "eq": True} for x in ("a", "b", "c", "d")]}
    )
    assert cond.evaluate({"a": True, "c": True}).truth is Truth.TRUE
    assert cond.evaluate({"a": False, "b": False, "c": False}).truth is Truth.FALSE
    assert cond.evaluate({"a": True, "b": False}).truth is Truth.UNKNOWN
    assert cond.evaluate({"a": True, "b": False}).open_facts == {"c", "d"}


def test_membership_and_wrong_types() -> None:
    cond = parse_condition({"fact": "need", "in": ["style", "format"]})
    assert cond.evaluate({"need": "format"}).truth is Truth.TRUE
    assert cond.evaluate({"need": "knowledge"}).truth is Truth.FALSE
    assert parse_condition({"fact": "n", "ge": 5}).evaluate({"n": "lots"}).truth is Truth.FALSE


@pytest.mark.parametrize(
    "bad",
    [
        {"fact": "x"},
        {"fact": "x", "eq": 1, "ge": 2},
        {"all": []},
        {"fact": "x", "eq": 1, "typo": 2},
        {"at_least": 0, "of": [{"fact": "x", "eq": 1}]},
        "fact == 1",
    ],
)
def test_malformed_conditions_are_refused(bad: object) -> None:
    with pytest.raises(ValidationError):
        parse_condition(bad)


# --- property: knowing more never flips a decided outcome (Kleene monotonicity)

FACTS = ("a", "b", "c", "d")
leaf = st.builds(
    lambda f, op, v: {"fact": f, op: v},
    st.sampled_from(FACTS),
    st.sampled_from(["eq", "ne", "lt", "ge"]),
    st.integers(0, 3),
)
condition = st.recursive(
    leaf,
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=3).map(lambda xs: {"all": xs}),
        st.lists(inner, min_size=1, max_size=3).map(lambda xs: {"any": xs}),
        inner.map(lambda x: {"not": x}),
        st.lists(inner, min_size=1, max_size=4).flatmap(
            lambda xs: st.integers(1, len(xs)).map(lambda n: {"at_least": n, "of": xs})
        ),
    ),
    max_leaves=8,
)
partial_facts = st.fixed_dictionaries({f: st.one_of(st.none(), st.integers(0, 3)) for f in FACTS})


@given(
    cond=condition, known=partial_facts, fill=st.lists(st.integers(0, 3), min_size=4, max_size=4)
)
def test_learning_a_fact_never_flips_a_decided_outcome(cond, known, fill) -> None:  # type: ignore[no-untyped-def]
    parsed = parse_condition(cond)
    before = parsed.evaluate(known)
    complete = {f: (v if v is not None else fill[i]) for i, (f, v) in enumerate(known.items())}
    after = parsed.evaluate(complete)
    assert after.truth is not Truth.UNKNOWN
    if before.truth is not Truth.UNKNOWN:
        assert after.truth is before.truth
    else:
        assert before.open_facts, "an undecided condition must name what could decide it"
