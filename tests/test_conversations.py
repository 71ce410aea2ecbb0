"""Golden multi-turn conversations (evals/conversations.yaml) through Advisor.reply, no LLM."""

from __future__ import annotations

from typing import Any

import pytest

from advisor.chat import Conversation
from advisor.citations import marker_problems
from advisor.qa_eval import load_conversations, turn_problems

pytestmark = pytest.mark.slow
GOLDEN = load_conversations().conversations


def test_the_golden_set_is_big_and_varied() -> None:
    assert len(GOLDEN) >= 15
    assert all(len(c.turns) >= 2 for c in GOLDEN)
    kinds = {t.expect.kind for c in GOLDEN for t in c.turns}
    assert {"situation", "answer", "verdict", "instruction", "greeting"} <= kinds
    verdicts = {t.expect.verdict for c in GOLDEN for t in c.turns}
    assert verdicts == {"fine_tune", "not_yet", "need_more_info"}


@pytest.mark.parametrize("chat", GOLDEN, ids=[c.id for c in GOLDEN])
def test_golden_conversation(advisor: Any, chat: Any) -> None:
    conversation = Conversation()
    for number, turn in enumerate(chat.turns, start=1):
        reply = advisor.reply(conversation, turn.say)
        problems = turn_problems(reply, turn.expect)
        assert problems == [], f"{chat.id} turn {number} ({turn.say!r}): {problems}"
        assert marker_problems(reply.text, reply.citations) == []
