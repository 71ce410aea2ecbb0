"""`advisor assess` and the decision evals read a conversation exactly as the chat does."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from advisor.chat import Conversation
from advisor.qa_eval import load_conversations
from advisor.reading import replay
from advisor.rules import default_rules

CHATS = load_conversations().conversations


def test_a_terse_reply_answers_the_question_asked_before_it() -> None:
    messages = [
        "We classify 500k support tickets per day into 12 categories; unchanged for 18 months.",
        "about three weeks, with few-shot examples",
    ]
    facts = replay(messages, default_rules()).resolve().values()
    assert facts["prompt_effort_weeks"] == 3
    # Read alone, the second message states no amount of prompt work.
    alone = replay(messages[1:], default_rules()).resolve().values()
    assert alone.get("prompt_effort_weeks") is None


@pytest.mark.parametrize("chat", CHATS, ids=[c.id for c in CHATS])
def test_replay_gives_the_chats_facts_and_verdict(advisor, chat) -> None:  # type: ignore[no-untyped-def]
    messages = [turn.say for turn in chat.turns]
    conversation = Conversation()
    reply = None
    for message in messages:
        reply = advisor.reply(conversation, message)
    replayed = replay(messages, default_rules()).resolve()
    assert replayed.values() == conversation.ledger.resolve().values()
    assert reply is not None
    assert advisor.assess(conversation).verdict == reply.verdict


def test_the_assess_command_reads_a_terse_reply_in_context() -> None:
    messages = [
        "We classify 500k support tickets per day into 12 categories; unchanged for 18 months.",
        "about three weeks, with few-shot examples",
    ]
    done = subprocess.run(
        [sys.executable, "-m", "advisor.cli", "assess", "-", "--json"],
        input=json.dumps(messages),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    facts = json.loads(done.stdout)["facts"]
    assert "prompt_effort_weeks" in json.dumps(facts)
