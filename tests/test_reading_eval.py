"""The people-2026-12 scorer (evaluation/reading.py): its files load, and it scores what it
says it scores (a number within tolerance, an unknown left unknown, a profile's answers)."""

from __future__ import annotations

from advisor.rules import default_rules
from evaluation.reading import (
    DONT_KNOW,
    load,
    same,
    score_situations,
    score_statements,
    simulate,
)


def test_every_split_loads_and_the_facts_are_real() -> None:
    for kind in ("statements", "situations", "profiles"):
        dev, test = load(kind, "dev"), load(kind, "test")
        assert dev
        assert test
        assert not {i["id"] for i in dev} & {i["id"] for i in test}


def test_numbers_match_within_tolerance_and_other_values_exactly() -> None:
    assert same("prompt_effort_weeks", 8.69, 8.7)
    assert not same("prompt_effort_weeks", 8.0, 8.7)
    assert not same("labeled_examples", True, 1)
    assert same("need_type", "behavior", "behavior")


def test_statements_are_scored_on_what_was_read() -> None:
    rules = default_rules()
    items = [
        {"id": "a", "text": "We have 300 labeled examples.", "expected": {"labeled_examples": 300}},
        {"id": "b", "text": "We have 300 labeled examples.", "expected": {"labeled_examples": 9}},
        {"id": "c", "text": "Hello there.", "expected": {}, "unknown": ["labeled_examples"]},
    ]
    card = score_statements(items, rules)
    assert card["all_right"] == 2
    assert [f["id"] for f in card["failures"]] == ["b"]
    assert card["unknown_left_unknown"] == 1.0


def test_a_situation_is_scored_against_the_engine_on_its_labelled_facts() -> None:
    item = {
        "id": "s",
        "messages": ["We have 300 labeled examples, all reviewed by people."],
        "expected_facts": {"labeled_examples": 300, "examples_human_reviewed": True},
        "expected_verdict": "not_yet",
        "expected_blockers": ["data"],
    }
    card = score_situations([item], default_rules())
    assert card["verdict_and_blockers_right"] == 1
    assert card["labels_agreeing_with_engine"] == 1


def test_a_simulated_user_answers_the_question_asked() -> None:
    profile = {
        "id": "p",
        "opening": "Should we fine-tune our ticket router?",
        "facts": {"need_type": "knowledge"},
        "dont_know": [],
        "phrasings": {"need_type": ["It has to know our policies, the facts in our manual."]},
    }
    run = simulate(profile, default_rules())
    said = [t["said"] for t in run["transcript"]]
    assert said[0] == profile["phrasings"]["need_type"][0] or DONT_KNOW in said
    assert run["truth"] == "not_yet"
