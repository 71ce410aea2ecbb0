"""Reading a conversation: `advisor assess` and the evals read it as the chat does; the
sentence cache of answers stays bounded."""

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


def test_the_sentence_cache_keeps_only_the_most_recently_used_passages(
    shared_deps, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    from advisor import answers

    monkeypatch.setattr(answers, "MAX_CACHED_PASSAGES", 3)
    picker = answers.ExcerptPicker(shared_deps.corpus, shared_deps.store.embed_model)
    question = "How many examples do we need for LoRA?"
    hits = shared_deps.search(question, k=6)
    first = picker.pick(hits, question)
    assert len(picker._sentences) == 3
    assert picker._sentences.keys() <= {h.passage.passage_id for h in hits}
    # Forgotten passages are embedded again on demand; the answer does not change.
    assert picker.pick(hits, question) == first
