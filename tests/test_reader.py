"""The reader (:mod:`advisor.reader`): numbers as people write them, clause by clause, hedges
and withdrawals as "not known", and a conversation that never asks for a fact twice.

The sentences here are written for these tests; none comes from an eval set
(``tests/test_pattern_overlap.py`` checks the rules do not quote those either).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from advisor.chat import Advisor, Conversation, ReplyKind
from advisor.compose import Composer
from advisor.corpus import load_corpus
from advisor.engine import Verdict, assess
from advisor.facts import SPECS, FactLedger, NotKnown, Source, make_record
from advisor.reader import read
from advisor.reader.clauses import clauses
from advisor.reader.numbers import normalise, quantities
from advisor.reading import read_turn, replay
from advisor.rules import default_rules

from .conftest import CORPUS

# --- numbers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value", "kind"),
    [
        ("we see twenty-two thousand orders", 22_000, "count"),
        ("roughly seven hundred and fifty samples", 750, "count"),
        ("about ninety-one percent right", 91, "percent"),
        ("it took three and a half weeks", 3.5, "duration"),
        ("half a million pages", 500_000, "count"),
        ("~3M/mo", 3_000_000, "count"),
        ("north of 5k rows", 5_000, "count"),
        ("20k+ invoices", 20_000, "count"),
        ("$2.5k a month", 2_500, "money"),
        ("a cent and a half per call", 0.015, "money"),
        ("one point two seconds", 1.2, "latency"),
    ],
)
def test_a_number_as_people_write_it(text: str, value: float, kind: str) -> None:
    found = quantities(normalise(text))
    assert found, f"no number in {text!r}"
    assert found[0].value == pytest.approx(value)
    assert found[0].kind == kind


def test_a_range_reads_as_its_middle_with_both_ends() -> None:
    (q,) = quantities(normalise("somewhere between 40 and 60k tickets"))
    assert (q.low, q.high, q.value) == (40_000, 60_000, 50_000)
    (q,) = quantities(normalise("two to four weeks"))
    assert q.is_range
    assert q.weeks() == pytest.approx(3)


@pytest.mark.parametrize(
    ("text", "per_month"),
    [
        ("1,000 requests a day", 30_000),
        ("6k per week", 6_000 * 4.345),
        ("120k every quarter", 40_000),
        ("2.4M a year", 200_000),
        ("900 daily", 27_000),
    ],
)
def test_an_amount_per_period_becomes_per_month(text: str, per_month: float) -> None:
    (q,) = quantities(normalise(text))
    assert q.per_month() == pytest.approx(per_month, rel=0.01)


def test_a_bound_is_kept() -> None:
    (q,) = quantities(normalise("at least 300 ms"))
    assert q.bound == "at_least"
    assert q.milliseconds() == 300
    (q,) = quantities(normalise("under two seconds"))
    assert q.bound == "at_most"
    assert q.milliseconds() == 2_000


@pytest.mark.parametrize(
    ("text", "fact", "value"),
    [
        ("we have just under a thousand labeled examples", "labeled_examples", 950),
        ("a tad shy of 1k graded examples", "labeled_examples", 950),
        ("not quite 2 weeks on the prompt so far", "prompt_effort_weeks", 1.9),
        ("fewer than 100k requests per month", "monthly_volume", 95_000),
        ("nearly a million calls a month", "monthly_volume", 950_000),
    ],
)
def test_an_amount_said_to_be_short_of_a_round_number_stays_below_it(
    text: str, fact: str, value: float
) -> None:
    """The gates compare with ">=": "almost 1k examples" must not pass a 1,000 gate."""
    facts = {r.fact: r.value for r in read(text, 1).records}
    assert facts[fact] == pytest.approx(value)


@pytest.mark.parametrize(
    "text", ["it has to answer in under 2 seconds", "hosting must cost under $2k a month"]
)
def test_a_plain_under_before_a_latency_or_money_stays_a_bound(text: str) -> None:
    assert normalise(text) == text


def test_ordinary_words_are_not_numbers() -> None:
    assert quantities(normalise("one of the teams handles it, a second one reviews it")) == []


# --- clauses ---------------------------------------------------------------------------


def test_a_negation_applies_to_its_own_clause() -> None:
    parts = clauses("We spent a month on prompts but we never tried function calling")
    assert [c.negated for c in parts] == [False, True]


def test_hedges_and_withdrawals_are_seen() -> None:
    assert clauses("honestly no clue how many we have")[0].ignorant
    assert clauses("scratch that number, it was a guess")[0].withdraws
    assert not clauses("we have 800 of them")[0].ignorant


# --- reading one message ---------------------------------------------------------------


def _values(text: str, asked: tuple[str, ...] = ()) -> dict[str, object]:
    return {r.fact: r.value for r in read(text, 1, asked).records}


def _assert_reads(text: str, expected: dict[str, object]) -> None:
    """Each expected fact reads as its value (``None``: not read at all)."""
    values = _values(text)
    for fact, value in expected.items():
        assert values.get(fact) == value, (fact, values)


def test_a_compound_sentence_is_several_statements() -> None:
    values = _values("We iterated on the prompt for two weeks but haven't tried JSON mode.")
    assert values["prompt_effort_weeks"] == pytest.approx(2)
    assert values["structured_outputs_used"] is False


def test_no_new_facts_to_learn_is_a_behaviour_need() -> None:
    values = _values("It only routes mail to the right desk; it never has to know any facts.")
    assert values["need_type"] == "behavior"


def test_a_number_belongs_to_its_own_noun() -> None:
    values = _values("We get 2M receipts a month and have 3k checked examples.")
    assert values["monthly_volume"] == pytest.approx(2_000_000)
    assert values["labeled_examples"] == pytest.approx(3_000)


def test_a_hedge_is_not_a_value() -> None:
    reading = read("Not sure anyone ever recorded a baseline score.", 1)
    assert "baseline_score_pct" not in {r.fact for r in reading.records}


@pytest.mark.parametrize(
    ("answer", "fact", "value"),
    [
        ("roughly five weeks", "prompt_effort_weeks", 5),
        ("yep, every release", "eval_automated", True),
        ("nope", "structured_outputs_used", False),
        ("about 4,000", "labeled_examples", 4_000),
        ("a 68 right now", "baseline_score_pct", 68),
        ("0.81 F1", "baseline_score_pct", 81),
    ],
)
def test_a_terse_answer_is_read_for_the_fact_asked(answer: str, fact: str, value: object) -> None:
    reading = read_turn(answer, 2, (fact,), default_rules())
    assert {r.fact: r.value for r in reading.records}.get(fact) == pytest.approx(value)
    assert not reading.unread


def test_one_answer_may_settle_every_fact_the_question_names() -> None:
    asked = ("eval_automated", "eval_baseline_recorded")
    reading = read_turn("automated yes, baseline no", 2, asked, default_rules())
    values = {r.fact: r.value for r in reading.records}
    assert values == {"eval_automated": True, "eval_baseline_recorded": False}


def test_not_knowing_the_answer_is_recorded_and_nothing_is_read() -> None:
    reading = read_turn("no idea, honestly", 2, ("labeled_examples",), default_rules())
    assert [n.fact for n in reading.not_known] == ["labeled_examples"]
    assert not reading.records
    assert not reading.unread


def test_an_answer_that_cannot_be_read_is_flagged() -> None:
    reading = read_turn("purple monkey dishwasher", 2, ("prompt_effort_weeks",), default_rules())
    assert reading.unread
    assert not reading.records


# --- the ledger and the engine ---------------------------------------------------------


def _record(fact: str, value: object, turn: int, source: Source = Source.RULES):  # type: ignore[no-untyped-def]
    record = make_record(fact, value, source=source, turn=turn, quote="")
    assert record is not None
    return record


def test_a_withdrawal_clears_the_earlier_value() -> None:
    ledger = FactLedger()
    ledger.add([_record("labeled_examples", 800, 1)])
    ledger.add([NotKnown(fact="labeled_examples", turn=2, reason="withdrawn")])
    facts = ledger.resolve()
    assert facts.values().get("labeled_examples") is None
    assert "labeled_examples" in facts.not_known


def test_a_later_statement_beats_not_known() -> None:
    ledger = FactLedger()
    ledger.add([NotKnown(fact="labeled_examples", turn=1)])
    ledger.add([_record("labeled_examples", 1200, 2)])
    facts = ledger.resolve()
    assert facts.values()["labeled_examples"] == 1200
    assert "labeled_examples" not in facts.not_known


def test_what_the_user_set_beats_a_later_hedge() -> None:
    ledger = FactLedger()
    ledger.add([_record("labeled_examples", 1200, 1, Source.USER)])
    ledger.add([NotKnown(fact="labeled_examples", turn=3)])
    assert ledger.resolve().values()["labeled_examples"] == 1200


def test_the_withdrawn_figure_is_cleared_in_a_replay() -> None:
    messages = [
        "We classify support emails into 9 queues and have 800 labeled examples.",
        "Actually scratch the 800 figure, I am not sure how many we really have.",
    ]
    facts = replay(messages, default_rules()).resolve()
    assert facts.values().get("labeled_examples") is None
    assert "labeled_examples" in facts.not_known


def test_a_fact_the_user_does_not_know_is_never_asked_again() -> None:
    rules = default_rules()
    ledger = FactLedger()
    ledger.add(read_turn("We want to fine-tune a model to tag invoices.", 1, (), rules).records)
    asked: list[tuple[str, ...]] = []
    for turn in range(2, 30):
        question = assess(ledger.resolve(), rules).next_question
        if question is None:
            break
        facts = question.facts or (question.fact,)
        assert facts not in asked, f"asked again for {facts}"
        asked.append(facts)
        ledger.add(read_turn("no idea, sorry", turn, facts, rules).statements())
    assert asked, "the advisor asked nothing"


def test_next_question_in_assess_json_names_the_facts_it_asks_for() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "advisor.cli", "assess", "-", "--json"],
        input=json.dumps(["We want to fine-tune a model to sort tickets into 12 queues."]),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    question = json.loads(done.stdout)["next_question"]
    assert question["facts"]
    assert question["fact"] == question["facts"][0]
    assert all(isinstance(f, str) for f in question["facts"])


def test_a_question_asks_for_every_open_fact_of_its_gate_in_one_go() -> None:
    rules = default_rules()
    facts = replay(
        ["We want a model to classify invoices by cost centre from the invoice text."], rules
    )
    question = assess(facts.resolve(), rules).next_question
    assert question is not None
    assert question.facts == ("prompt_effort_weeks", "few_shot_used")
    # the text asks for both, in the order of `facts`
    effort, few_shot = (question.question.index(w) for w in ("How long", "few-shot"))
    assert effort < few_shot


def test_an_answer_in_several_sentences_settles_the_facts_in_the_order_asked() -> None:
    asked = ("prompt_effort_weeks", "few_shot_used")
    reading = read_turn("About five weeks. Yes, eight of them.", 2, asked, default_rules())
    assert {r.fact: r.value for r in reading.records} == {
        "prompt_effort_weeks": 5,
        "few_shot_used": True,
    }


def test_a_sentence_that_says_more_about_an_answered_fact_stays_with_it() -> None:
    asked = ("target_score_pct", "gap_significant", "gap_measured")
    text = "We need 90. It is wide. Not just a couple of edge cases. Measured, yes."
    values = {r.fact: r.value for r in read_turn(text, 3, asked, default_rules()).records}
    assert values["target_score_pct"] == 90
    assert values["gap_significant"] is True
    assert values["gap_measured"] is True


def test_not_sure_about_one_of_the_facts_asked_is_not_a_no() -> None:
    asked = ("prompt_effort_weeks", "few_shot_used")
    reading = read_turn("Three weeks. Not sure about that one.", 2, asked, default_rules())
    values = {r.fact: r.value for r in reading.records}
    assert values == {"prompt_effort_weeks": 3}
    assert [n.fact for n in reading.not_known] == ["few_shot_used"]


# --- answers the reader could not read -------------------------------------------------


@pytest.mark.parametrize(
    ("fact", "form"), [(f, form) for f, spec in SPECS.items() for form in spec.forms]
)
def test_every_answer_form_the_advisor_shows_is_read(fact: str, form: str) -> None:
    reading = read_turn(form, 2, (fact,), default_rules())
    if form == "not sure":
        assert [n.fact for n in reading.not_known] == [fact]
    else:
        assert fact in {r.fact for r in reading.records}, reading


@pytest.fixture(scope="module")
def bare() -> Advisor:
    rules = default_rules()
    return Advisor(
        rules=rules, composer=Composer(load_corpus([CORPUS]), rules), search=None, picker=None
    )


def test_an_unreadable_answer_gets_the_forms_it_can_read_not_the_same_question(
    bare: Advisor,
) -> None:
    conversation = Conversation()
    first = bare.reply(conversation, "We want to classify support tickets from the ticket text.")
    assert first.next_question is not None
    asked = first.next_question.facts
    reply = bare.reply(conversation, "purple monkey dishwasher")
    assert reply.kind is ReplyKind.NO_FACTS
    assert "I could not read an answer about" in reply.text
    assert "“purple monkey dishwasher”" in reply.text
    for fact in asked:
        assert f"“{SPECS[fact].forms[0]}”" in reply.text
    assert first.next_question.question not in reply.text
    # and the forms it shows do answer it
    reply = bare.reply(conversation, f"{SPECS[asked[0]].forms[0]}")
    assert reply.changed_facts


def test_when_nothing_is_left_to_ask_the_reply_says_what_would_decide_it(bare: Advisor) -> None:
    conversation = Conversation()
    opening = (
        "We classify support tickets into 9 queues from the ticket text alone, nothing "
        "external. Five weeks of prompt work with few-shot examples. Automated eval, baseline "
        "70 recorded, target 85. Queues change once a year; it is one narrow task. 3,000 "
        "tickets labeled by our agents. About 300k tickets a month, nobody waits on it; we pay "
        "$6,000 a month today."
    )
    reply = bare.reply(conversation, opening)
    for _ in range(8):
        if reply.next_question is None:
            break
        reply = bare.reply(conversation, "no idea, sorry")
    assert reply.verdict is Verdict.NEED_MORE_INFO
    assert reply.next_question is None
    assert "I would need:" in reply.text
    assert "(you said you do not know yet)" in reply.text
    assert "Noted: you do not know" in reply.text


@pytest.mark.parametrize(
    ("text", "baseline", "target"),
    [
        ("Our eval has the best prompt on 66 and the business wants 81.", 66, 81),
        ("F1 is 0.72 today, product asked for 0.9 or better.", 72, 90),
        ("We have to reach 97 and currently sit at 90.", 90, 97),
        ("baseline 58 -> 77 needed", 58, 77),
        ("The grader puts the current prompt at 71/100 and we need 88.", 71, 88),
        ("Baseline on record: 64 token accuracy. Support wants 80 minimum.", 64, 80),
        ("Our eval baseline is 75 not 57, and we want 85.", 75, 85),
    ],
)
def test_bare_scores_are_told_apart(text: str, baseline: float, target: float) -> None:
    values = _values(text)
    assert values.get("baseline_score_pct") == pytest.approx(baseline)
    assert values.get("target_score_pct") == pytest.approx(target)


@pytest.mark.parametrize(
    "text",
    [
        "We need 12 queues and have 5 so far.",  # counts of things, not scores
        "Raters give it 3.4/5 and we want a 4.2.",  # a rating scale: not percentages
        "The eval set has 40 items.",
        "On the eval we sit 12 points below where legal wants us.",  # a difference
        "The target is 3 seconds end to end.",  # a latency, not a score
    ],
)
def test_numbers_that_are_not_scores(text: str) -> None:
    values = _values(text)
    assert "baseline_score_pct" not in values
    assert "target_score_pct" not in values


@pytest.mark.parametrize(
    ("text", "fact", "value"),
    [
        ("On a busy day roughly 60k chats come through.", "monthly_volume", 1_800_000),
        ("Weekly volume is modest, about 2,000 tickets.", "monthly_volume", 8_690),
        ("We're billed $4-6k/mo for the API.", "current_cost_per_month", 5_000),
        ("We pay around $96k a year for it.", "current_cost_per_month", 8_000),
    ],
)
def test_amounts_over_a_period(text: str, fact: str, value: float) -> None:
    values = _values(text)
    assert values.get(fact) == pytest.approx(value, rel=0.01)
    assert "monthly_volume" not in values or fact == "monthly_volume"


def test_a_stated_best_prompt_score_is_a_recorded_baseline(bare: Advisor) -> None:
    conversation = Conversation()
    bare.reply(conversation, "We classify support emails into 14 queues from the email alone.")
    bare.reply(conversation, "Six weeks on the prompt, with a dozen examples in it.")
    reply = bare.reply(conversation, "A CI job scores every change; the best prompt is at 74.")
    assert reply.next_question is None or "eval_baseline_recorded" not in reply.next_question.facts
    assert bare.assess(conversation).gate("evaluation").outcome.value == "pass"


def test_a_hedge_about_another_fact_is_acknowledged_not_called_unreadable(
    bare: Advisor,
) -> None:
    conversation = Conversation()
    bare.reply(conversation, "We classify support emails into 14 queues from the email alone.")
    reply = bare.reply(conversation, "honestly no clue how many labeled examples we have")
    assert "I could not read" not in reply.text
    assert "Noted: you do not know labeled examples" in reply.text


def test_a_sentence_that_gives_the_figure_asked_for_answers_that_fact() -> None:
    asked = ("examples_human_reviewed", "labeled_examples")
    text = "Four thousand approved answers. Each was checked by a pharmacist."
    values = {r.fact: r.value for r in read_turn(text, 2, asked, default_rules()).records}
    assert values["labeled_examples"] == pytest.approx(4_000)
    assert values["examples_human_reviewed"] is True


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("We hold 2,500 contracts with clean redlines written by counsel.", 2_500),
        ("There are 9k commits + messages our engineers hand-checked.", 9_000),
        ("Roughly twelve thousand validated by the support leads.", 12_000),
    ],
)
def test_examples_are_recognised_by_what_they_are(text: str, count: float) -> None:
    assert _values(text)["labeled_examples"] == pytest.approx(count)


@pytest.mark.parametrize(
    "text",
    ["Our best prompt's 81 is written down.", "The eval runs over 250 labeled chats."],
)
def test_a_figure_near_a_review_word_is_not_an_example_count(text: str) -> None:
    assert "labeled_examples" not in _values(text)


@pytest.mark.parametrize(
    ("text", "fixed"),
    [
        ("Nine weeks, actually scratch that, it's more like six.", "6 weeks."),
        ("We hold 900 tagged, sorry, 700.", "We hold 700 tagged."),
        ("Latency is about 400 ms, no wait, 450.", "Latency is about 450 ms."),
        ("It hits 71%, I mean 74%.", "It hits 74%."),
    ],
)
def test_a_number_taken_back_in_the_same_breath_reads_as_the_new_one(text: str, fixed: str) -> None:
    assert normalise(text, times=True) == fixed


def test_a_correction_followed_by_more_words_is_left_alone() -> None:
    text = "We hold 900 tagged items, actually 300 of them double-checked."
    assert normalise(text, times=True) == text


@pytest.mark.parametrize(
    "text",
    [
        "Around six hundred thousand rewrites a month.",
        "The bot produces 40k updates a week for the catalogue.",
    ],
)
def test_counted_work_items_are_volume_not_task_changes(text: str) -> None:
    values = _values(text)
    assert "task_changes_per_year" not in values
    assert values["monthly_volume"] > 100_000


def test_a_model_name_is_not_a_count() -> None:
    asked = ("labeled_examples", "examples_human_reviewed")
    text = "Those were tagged by a Llama-3 script."
    values = {r.fact: r.value for r in read_turn(text, 2, asked, default_rules()).records}
    assert "labeled_examples" not in values
    assert values["examples_human_reviewed"] is False


def test_a_review_said_in_its_own_sentence_is_read() -> None:
    asked = ("labeled_examples", "examples_human_reviewed")
    text = "About 3,100 coded visits. Every label was adjudicated by a senior nurse."
    values = {r.fact: r.value for r in read_turn(text, 2, asked, default_rules()).records}
    assert values["labeled_examples"] == pytest.approx(3_100)
    assert values["examples_human_reviewed"] is True


def test_money_in_grand_is_not_a_volume() -> None:
    assert "monthly_volume" not in _values("Mistakes cost us maybe 12 grand a month.")


@pytest.mark.parametrize(
    ("messages", "gone"),
    [
        # the value the sentence names is the one it takes back
        (
            ["We get 30k requests a day.", "That 30k/day came from a stress test; disregard it."],
            ["monthly_volume"],
        ),
        # "it" is what the sentence before said
        (
            [
                "Each call costs about 4 cents.",
                "4 cents a call was the list price. Our real rate differs, so don't rely on it.",
            ],
            ["current_cost_per_call"],
        ),
        # withdrawing an estimate withdraws what was said about it
        (
            [
                "A tuned model would be $900 a month all-in.",
                "That $900 estimate for the tuned model, scrap it.",
            ],
            ["fine_tuned_cost_per_month", "fine_tuned_cost_all_in"],
        ),
    ],
)
def test_a_withdrawal_takes_back_what_it_points_at(messages: list[str], gone: list[str]) -> None:
    facts = replay(messages, default_rules()).resolve()
    for fact in gone:
        assert facts.values().get(fact) is None, fact
        assert fact in facts.not_known, fact


def test_no_change_to_the_prompt_is_not_the_task_standing_still() -> None:
    assert "task_changes_per_year" not in _values("We've made no changes to the prompt since May.")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the hosting named after "but" is not what the amount is
        (
            "They quoted $2,400/mo for the tuned model but hosting is extra.",
            {"fine_tuned_cost_per_month": 2400, "fine_tuned_cost_all_in": False},
        ),
        ("A serving endpoint for the small model runs $30/day.", {"hosting_cost_per_month": 900}),
        (
            "FT: ~$5k/mo incl hosting and retraining.",
            {"fine_tuned_cost_per_month": 5000, "fine_tuned_cost_all_in": True},
        ),
        ("current: $14k/mo on the big model.", {"current_cost_per_month": 14000}),
    ],
)
def test_a_monthly_amount_is_named_by_its_own_clause(
    text: str, expected: dict[str, object]
) -> None:
    values = _values(text)
    for fact, value in expected.items():
        assert values.get(fact) == pytest.approx(value), (fact, values)


def test_reported_words_are_not_the_users_facts() -> None:
    text = "Our VP says 'the model doesn't know our pricing'. Is that a reason to fine-tune?"
    assert _values(text) == {}


@pytest.mark.parametrize(
    ("text", "sensitive"),
    [
        ("Answers must come back in under 200 ms.", None),  # a target alone
        ("Callers sit there waiting, so it needs to be under 400 ms.", True),
    ],
)
def test_a_latency_target_alone_does_not_say_someone_waits(
    text: str, sensitive: bool | None
) -> None:
    values = _values(text)
    assert "latency_target_ms" in values
    assert values.get("latency_sensitive") is sensitive


@pytest.mark.parametrize(
    ("messages", "fact", "value"),
    [
        (
            ["We have 700 labeled tickets.", "make that 1,700, I left out a digit"],
            "labeled_examples",
            1700,
        ),
        (
            [
                "Annotated data: roughly 9k chats, all checked by leads. "
                "Sorry, after dedup it's 7,200."
            ],
            "labeled_examples",
            7200,
        ),
    ],
)
def test_a_correction_that_gives_a_bare_figure_corrects_the_figure_said_last(
    messages: list[str], fact: str, value: float
) -> None:
    facts = replay(messages, default_rules()).resolve()
    assert facts.values()[fact] == pytest.approx(value)


def test_a_correction_keeps_what_else_was_said_about_the_figure() -> None:
    text = "Annotated data: roughly 9k chats, all checked by leads. Sorry, after dedup it's 7,200."
    facts = replay([text], default_rules()).resolve()
    assert facts.values()["examples_human_reviewed"] is True


@pytest.mark.parametrize(
    ("text", "fact", "value"),
    [
        (
            "Our harness has the best prompt at 70, and anything under 86 means rework.",
            "target_score_pct",
            86,
        ),
        ("The eval's baseline is 75. We need 88 for launch.", "target_score_pct", 88),
        (
            "Fine-tuning would come to about six thousand a month, all-in.",
            "fine_tuned_cost_per_month",
            6000,
        ),
        ("Annotators tagged and double-checked some 4,000 receipts.", "labeled_examples", 4000),
        ("We hold 20k+ labeled rows.", "labeled_examples", 20000),
    ],
)
def test_more_ways_people_state_a_figure(text: str, fact: str, value: float) -> None:
    assert _values(text)[fact] == pytest.approx(value)


def test_an_estimate_without_a_currency_is_not_a_volume() -> None:
    values = _values("Fine-tuning would come to about six thousand a month, all-in.")
    assert "monthly_volume" not in values


def test_a_correction_about_something_else_leaves_the_last_figure_alone() -> None:
    messages = [
        "We have 4,000 reviewed labels and an automated harness.",
        "Actually I was wrong about the harness: it's Sam reading 30 replies by hand.",
    ]
    facts = replay(messages, default_rules()).resolve()
    assert facts.values()["labeled_examples"] == 4000


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "current spend 31k/mo; FT estimate 8k/mo all-in.",
            {"current_cost_per_month": 31000, "fine_tuned_cost_per_month": 8000},
        ),
        (
            "The bill is $20k/mo today and a tuned model would be ~5k all in.",
            {"current_cost_per_month": 20000, "fine_tuned_cost_per_month": 5000},
        ),
        (
            "A quote for a fine-tuned model, hosting (~$2k of it) and retraining included, "
            "is $7,500 a month.",
            {"fine_tuned_cost_per_month": 7500},
        ),
    ],
)
def test_each_amount_goes_to_the_model_it_prices(text: str, expected: dict[str, float]) -> None:
    values = _values(text)
    for fact, value in expected.items():
        assert values.get(fact) == pytest.approx(value), (fact, values)
    assert "monthly_volume" not in values


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("We have 2,100 invoices corrected by clerks.", True),
        ("There are 1,600 replies that agents approved as final.", True),
        ("It doesn't need outside knowledge; the form has it all.", False),
    ],
)
def test_review_and_outside_knowledge_said_plainly(text: str, expected: bool) -> None:
    values = _values(text)
    fact = "needs_external_knowledge" if "knowledge" in text else "examples_human_reviewed"
    assert values[fact] is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("It doesn't need to know facts beyond the email.", {"needs_external_knowledge": False}),
        ("Everything needed is in the screenshot.", {"needs_external_knowledge": False}),
        ("Jobs go into a queue and results are mailed later.", {"latency_sensitive": False}),
        (
            "The best prompt scores 81 on our harness; we'd be happy at 88.",
            {"target_score_pct": 88},
        ),
        (
            "about 6k tagged rows in the sheet, not sure anyone audited them",
            {"labeled_examples": 6000},
        ),
    ],
)
def test_plain_statements_read_as_meant(text: str, expected: dict[str, object]) -> None:
    _assert_reads(text, expected)


def test_looking_at_outputs_in_a_spreadsheet_is_no_recorded_baseline() -> None:
    asked = ("eval_automated", "eval_baseline_recorded")
    text = "we just skim the outputs in a spreadsheet"
    values = {r.fact: r.value for r in read_turn(text, 2, asked, default_rules()).records}
    assert values == {"eval_automated": False}


def test_a_number_taken_back_in_the_next_sentence_keeps_its_unit() -> None:
    asked = ("prompt_effort_weeks", "few_shot_used")
    text = "Three weeks. Actually, four; the last one went on examples. Yes, a handful of them."
    values = {r.fact: r.value for r in read_turn(text, 2, asked, default_rules()).records}
    assert values["prompt_effort_weeks"] == pytest.approx(4)
    assert values["few_shot_used"] is True


def test_a_sentence_that_answers_nothing_asked_does_not_use_up_a_fact() -> None:
    asked = ("target_score_pct", "baseline_score_pct", "gap_significant")
    text = "92. Legal won't sign off below it. 84% exact match today."
    values = {r.fact: r.value for r in read_turn(text, 2, asked, default_rules()).records}
    assert values["target_score_pct"] == 92
    assert values["baseline_score_pct"] == 84


def test_an_interjection_before_yes_is_still_yes() -> None:
    text = "Oh yes, there are eight worked examples in there."
    values = {
        r.fact: r.value for r in read_turn(text, 2, ("few_shot_used",), default_rules()).records
    }
    assert values["few_shot_used"] is True


@pytest.mark.parametrize(
    ("messages", "fact", "value"),
    [
        (["Each call costs us a tenth of a cent."], "current_cost_per_call", 0.001),
        (
            ["Harness note: the 64 was from the previous prompt, today's best is 69."],
            "baseline_score_pct",
            69,
        ),
        (["The rubric changes three or four times a year."], "task_changes_per_year", 3.5),
        (
            [
                "We have 3000 labeled examples.",
                "that 3000 figure is wrong, it's eighteen hundred now",
            ],
            "labeled_examples",
            1800,
        ),
    ],
)
def test_figures_as_people_restate_them(messages: list[str], fact: str, value: float) -> None:
    facts = replay(messages, default_rules()).resolve()
    assert facts.values()[fact] == pytest.approx(value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "p95 is 2s against a hard 500ms SLA.",
            {"latency_target_ms": 500, "baseline_latency_ms": 2000},
        ),
        ("After the cache change latency is down to about 380ms.", {"baseline_latency_ms": 380}),
        (
            "Transcripts carry card numbers, so it must be kept in-house.",
            {"privacy_sensitive": True},
        ),
        ("The F1 hasn't moved in three rounds of prompt edits.", {"quality_plateaued": True}),
        ("It makes up dosages it should be looking up.", {"need_type": "knowledge"}),
        ("In short we're at about $28k/mo on the API.", {"current_cost_per_month": 28000}),
    ],
)
def test_said_in_passing(text: str, expected: dict[str, object]) -> None:
    _assert_reads(text, expected)


def test_a_use_case_example_in_quotes_is_still_the_users_case() -> None:
    text = "An agent asks 'what did we promise Acme?' and the model answers from our contracts."
    assert _values(text)["need_type"] == "knowledge"


def test_a_figure_called_a_guess_is_taken_back() -> None:
    messages = ["Errors cost us about $20k a month in rework.", "The 20k was a guess, ignore it."]
    facts = replay(messages, default_rules()).resolve()
    assert facts.values().get("gap_cost_per_month") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Three weeks on the prompt, but we haven't put any worked examples in it.",
            {"few_shot_used": False},
        ),
        (
            "We want the bot to just know our fare rules, so we're planning to fine-tune it.",
            {"need_type": "knowledge"},
        ),
        (
            "The estimate for a tuned model, counting hosting and retraining, is $4,000 a month.",
            {"fine_tuned_cost_per_month": 4000, "fine_tuned_cost_all_in": True},
        ),
        ("It's a companion app that talks with people about anything.", {"task_narrow": False}),
        ("There are 300 answers I wrote by hand.", {"labeled_examples": 300}),
    ],
)
def test_what_a_plan_or_an_aside_still_says(text: str, expected: dict[str, object]) -> None:
    _assert_reads(text, expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The facts are all in the form, it just rewrites them.", {"fine_tuned_cost_all_in": None}),
        ("The rules are all in the SOP; it's basically a checklist.", {"tacit_expertise": False}),
        (
            "We already run Elasticsearch over the manuals, wired into the bot.",
            {"retrieval_in_place": True},
        ),
        ("Roughly 3,5k examples, tagged by our analysts.", {"labeled_examples": 3500}),
        (
            "The layout has to be exact: exactly 4 columns in a fixed order.",
            {"strict_format_need": True},
        ),
        ("Nobody's in a rush for these summaries.", {"latency_sensitive": False}),
        ("We took the few-shot examples out last sprint.", {"few_shot_used": False}),
        (
            "There's a retry wrapper with fallback to a second vendor.",
            {"orchestration_in_place": True},
        ),
    ],
)
def test_everyday_phrasings(text: str, expected: dict[str, object]) -> None:
    _assert_reads(text, expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("we dont use retrieval at all", {"retrieval_in_place": False}),
        ("It has to answer from a wiki of 8,000 pages.", {"need_type": "knowledge"}),
        ("It needs today's exchange rates to price the quote.", {"need_type": "knowledge"}),
        ("It must know our fees, which change weekly.", {"task_changes_per_year": None}),
        ("Every 3 to 5 months the label set is redone.", {"task_changes_per_year": 3}),
        ("The gap to the target is huge.", {"gap_significant": True}),
        (
            "We keep 40 sample replies in the wiki but none of them are in the prompt.",
            {"few_shot_used": False},
        ),
    ],
)
def test_more_everyday_phrasings(text: str, expected: dict[str, object]) -> None:
    _assert_reads(text, expected)


@pytest.mark.parametrize(
    ("text", "absent"),
    [
        ("Our score is 74 on the eval and we need 85.", "eval_automated"),
        ("The prompt has 6 examples and the best score is 80.", "labeled_examples"),
        ("We need it under 300ms now, 2s was the old SLA.", "baseline_latency_ms"),
        ("Nobody waits on it; it doesn't matter if it takes an hour.", "baseline_latency_ms"),
        ("Rework costs five to ten grand a year.", "monthly_volume"),
        ("A colleague at another firm said they trained on 30k examples.", "labeled_examples"),
        ("Weekly traffic averaged 20k requests, pretty flat.", "quality_plateaued"),
    ],
)
def test_what_a_sentence_does_not_say(text: str, absent: str) -> None:
    assert absent not in _values(text)


def test_the_cost_of_hosting_the_tuned_model_is_hosting() -> None:
    values = _values("It would cost about $900 a month to host the fine-tuned model.")
    assert values.get("hosting_cost_per_month") == 900
    assert "fine_tuned_cost_per_month" not in values


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("RAG: y. few-shot: n.", {"retrieval_in_place": True, "few_shot_used": False}),
        (
            "3 wks prompting, FS yes, JSON mode yes",
            {"few_shot_used": True, "structured_outputs_used": True},
        ),
        ("no FS yet", {"few_shot_used": False}),
        (
            "The harness is automated, though I couldn't tell you if anyone kept the baseline.",
            {"eval_automated": True},
        ),
        (
            "Does it matter that our eval is just me skimming ten outputs?",
            {"eval_automated": False},
        ),
        (
            "Our best prompt was logged at 0.71 F1 on the dashboard.",
            {"eval_baseline_recorded": True},
        ),
        ("So we don't really have a recorded baseline.", {"eval_baseline_recorded": False}),
        (
            "It's privileged material, nothing can go to a third-party API.",
            {"privacy_sensitive": True},
        ),
        ("Not privacy sensitive, it's anonymized telemetry.", {"privacy_sensitive": False}),
        ("Applicants don't wait on it.", {"latency_sensitive": False}),
        ("In the prompt we show the model three sample outputs.", {"few_shot_used": True}),
    ],
)
def test_checklists_premises_and_asides(text: str, expected: dict[str, object]) -> None:
    _assert_reads(text, expected)


def test_an_answer_about_the_baseline_that_gives_it_is_read_as_the_baseline() -> None:
    asked = ("eval_baseline_recorded",)
    values = {
        r.fact: r.value
        for r in read_turn("yep, 0.77 on the frozen set", 2, asked, default_rules()).records
    }
    assert values == {"eval_baseline_recorded": True, "baseline_score_pct": 77}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "There's a vector index, but the assistant doesn't use it yet.",
            {"retrieval_in_place": False},
        ),
        ("A pharmacist is standing there waiting for it.", {"latency_sensitive": True}),
        (
            "We have 900 old chats, but none of them have the correct intent tagged.",
            {"labeled_examples": 0},
        ),
        (
            "Since the search index is already live, do we still need to fine-tune?",
            {"retrieval_in_place": True},
        ),
        (
            "We do hit the latency SLA; the misses were one bad deploy.",
            {"baseline_misses_latency": False},
        ),
        ("Every prompt change lands on the same score.", {"quality_plateaued": True}),
        ("evals: manual.", {"eval_automated": False}),
        (
            "We have 3k labels, but I'd need to check whether anyone reviewed them.",
            {"examples_human_reviewed": None},
        ),
    ],
)
def test_what_people_say_about_their_setup(text: str, expected: dict[str, object]) -> None:
    _assert_reads(text, expected)


def test_the_last_word_of_a_yes_no_answer_wins() -> None:
    asked = ("examples_human_reviewed",)
    text = "They were tagged by crowd workers and we never audited them."
    values = {r.fact: r.value for r in read_turn(text, 2, asked, default_rules()).records}
    assert values.get("examples_human_reviewed") is False


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "The output has to match the partner's XML schema or the batch gets rejected.",
            {"strict_format_need": True},
        ),
        (
            "It has to cite it, so we stood up vector search over the manual.",
            {"retrieval_in_place": True},
        ),
        ("We're not privacy constrained at all.", {"privacy_sensitive": False}),
        ("Every prompt tweak still bumps the score a point.", {"quality_plateaued": False}),
        ("We measured it on the holdout set: 12 points short.", {"gap_measured": True}),
        ("Bad answers cost us about $3k a week in escalations.", {"gap_cost_per_month": 13000}),
        (
            "The codes are standard ones the model already knows.",
            {"needs_external_knowledge": None},
        ),
    ],
)
def test_requirements_and_costs_said_plainly(text: str, expected: dict[str, object]) -> None:
    values = _values(text)
    for fact, value in expected.items():
        got = values.get(fact)
        if isinstance(value, int) and not isinstance(value, bool):
            assert got == pytest.approx(value, rel=0.01), (fact, values)
        else:
            assert got == value, (fact, values)


def test_not_having_been_there_is_not_knowing() -> None:
    asked = ("examples_human_reviewed",)
    text = "I believe some of them were spot-checked but I wasn't around for that."
    reading = read_turn(text, 2, asked, default_rules())
    assert "examples_human_reviewed" not in {r.fact for r in reading.records}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the reply skips the first fact asked and answers the next ones
        (
            "$18k/mo on the API today. The tuned-model estimate is $6k/mo.",
            {"current_cost_per_month": 18000, "fine_tuned_cost_per_month": 6000},
        ),
        ("$9k a month on the API.", {"current_cost_per_month": 9000}),
        # a volume correction is not a cost
        (
            "Correction on volume: 500k was one region. Overall it's about 2M a month.",
            {"monthly_volume": 2000000},
        ),
    ],
)
def test_a_reply_to_a_cost_question_gives_each_figure_its_fact(
    text: str, expected: dict[str, float]
) -> None:
    asked = ("baseline_misses_latency", "current_cost_per_month", "fine_tuned_cost_per_month")
    values = {r.fact: r.value for r in read_turn(text, 3, asked, default_rules()).records}
    assert values == expected


def test_a_no_about_something_else_does_not_answer_the_next_fact_asked() -> None:
    asked = ("prompt_effort_weeks", "few_shot_used")
    values = {
        r.fact: r.value for r in read_turn("No eval set yet.", 2, asked, default_rules()).records
    }
    assert "few_shot_used" not in values
