"""Typos of the reader's own words are spelled right; everything else is left alone."""

from __future__ import annotations

import pytest

from advisor.extraction import extract
from advisor.reader.spelling import correct, vocabulary


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("the promt", "the prompt"),
        ("exmaples", "examples"),
        ("Latancy", "Latency"),
        ("retreival", "retrieval"),
        ("labled", "labeled"),
        ("reveiwed", "reviewed"),
        ("taks", "task"),
        ("fewshot", "few-shot"),
        ("waitng", "waiting"),
    ],
)
def test_a_typo_of_a_word_the_reader_knows_is_spelled_right(typed: str, meant: str) -> None:
    assert correct(typed) == meant


@pytest.mark.parametrize(
    "text",
    [
        "Priya said Kubernetes and Snowflake",  # names and products: not English, not ours
        "print sprint",  # English words are never touched, even one edit from ours
        "scaned forms",  # one edit from English words the reader does not look for
        "the SLA is tight",  # short words are left alone
        "re-ranked by the e-mail bot",  # parts of hyphenated words are left alone
        "it doesnt need any outside info",  # a contraction without its apostrophe stays
    ],
)
def test_other_words_are_left_as_they_are(text: str) -> None:
    assert correct(text) == text


def test_the_vocabulary_comes_from_the_rules_and_holds_only_english_words() -> None:
    words = vocabulary()
    assert {"prompt", "latency", "labeled", "retrieval"} <= words
    assert all(w.isalpha() for w in words)


def test_a_fact_read_through_a_typo_keeps_the_users_own_words_as_its_quote() -> None:
    records = extract("we hav about 4k labled examples, all reveiwed by our ops team")
    facts = {r.fact: r for r in records}
    assert facts["labeled_examples"].value == 4000
    assert facts["examples_human_reviewed"].value is True
    assert "labled" in facts["labeled_examples"].quote
