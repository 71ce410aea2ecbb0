"""Faults at the HTTP level, through the real OpenAI-compatible client (OpenAILike + openai):
timeouts, 429 with Retry-After, 5xx, refused connections, a stream cut half-way and malformed
bodies each end in a useful deterministic reply with a note, and the conversation is intact."""

from __future__ import annotations

import time
from typing import Any

import pytest

from advisor.chat import Conversation
from advisor.engine import Verdict
from advisor.errors import LLMBadOutput, LLMRateLimited, LLMServerError, LLMTimeout, LLMUnavailable
from advisor.llm import Deadline, ModelClient
from advisor.settings import load_settings
from tests.fault_server import Act, FaultServer, free_port

SITUATION = "We classify 500k support tickets a day into 12 categories. No eval set yet."


class Sleeps:
    """Records the backoff the client asked for (and sleeps a little of it)."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        time.sleep(min(seconds, 0.05))


def model(url: str, *, timeout_s: float = 2.0, attempts: int = 3) -> tuple[ModelClient, Sleeps]:
    settings = load_settings(
        llm_provider="openai",
        llm_model="fault-server",
        llm_base_url=url,
        llm_timeout_s=timeout_s,
        llm_max_attempts=attempts,
        llm_backoff_s=0.2,
    )
    client = ModelClient.from_settings(settings)
    assert client is not None
    sleeps = Sleeps()
    client.sleep = sleeps
    return client, sleeps


def ask(client: ModelClient, deadline_s: float = 20.0) -> str:
    from llama_index.core.llms import ChatMessage

    return client.chat([ChatMessage(role="user", content="hi")], Deadline(deadline_s))


def test_a_normal_answer_passes_through() -> None:
    with FaultServer(Act(text="Hello there.")) as server:
        client, _ = model(server.url)
        assert ask(client) == "Hello there."
        assert len(server.requests) == 1
        assert server.requests[0]["model"] == "fault-server"


def test_timeouts_are_retried_then_reported() -> None:
    with FaultServer(Act(delay_s=1.5)) as server:
        client, sleeps = model(server.url, timeout_s=0.3, attempts=2)
        with pytest.raises(LLMTimeout):
            ask(client)
        assert len(server.requests) == 2  # one retry layer: SDK and library retries are off
        assert len(sleeps.waits) == 1


def test_429_waits_for_retry_after_then_succeeds() -> None:
    with FaultServer(Act(status=429, headers={"Retry-After": "1"}), Act(text="ok now")) as server:
        client, sleeps = model(server.url)
        assert ask(client) == "ok now"
        assert sleeps.waits == [1.0]
        assert len(server.requests) == 2


def test_429_asking_for_longer_than_the_turn_allows_gives_up_at_once() -> None:
    with FaultServer(Act(status=429, headers={"Retry-After": "120"})) as server:
        client, sleeps = model(server.url)
        with pytest.raises(LLMRateLimited):
            ask(client, deadline_s=10)
        assert len(server.requests) == 1
        assert sleeps.waits == []


def test_5xx_is_retried_with_backoff() -> None:
    with FaultServer(Act(status=500), Act(status=503), Act(text="third time")) as server:
        client, sleeps = model(server.url)
        assert ask(client) == "third time"
        assert len(server.requests) == 3
        assert len(sleeps.waits) == 2
        assert sleeps.waits[1] > sleeps.waits[0] * 1.0 or sleeps.waits[1] >= 0.2


def test_5xx_that_persists_is_reported() -> None:
    with FaultServer(Act(status=500)) as server:
        client, _ = model(server.url)
        with pytest.raises(LLMServerError, match="HTTP 500"):
            ask(client)
        assert len(server.requests) == 3


def test_4xx_is_not_retried() -> None:
    with FaultServer(Act(status=400)) as server:
        client, _ = model(server.url)
        with pytest.raises(LLMServerError, match="HTTP 400"):
            ask(client)
        assert len(server.requests) == 1


def test_connection_refused_is_unavailable() -> None:
    client, sleeps = model(f"http://127.0.0.1:{free_port()}/v1", attempts=2)
    with pytest.raises(LLMUnavailable) as caught:
        ask(client)
    assert "ADVISOR_LLM_BASE_URL" in str(caught.value)
    assert len(sleeps.waits) == 1


def test_malformed_and_empty_bodies_are_bad_output() -> None:
    with FaultServer(Act(raw_body=b"{not json")) as server:
        client, _ = model(server.url, attempts=1)
        with pytest.raises(LLMBadOutput, match="malformed"):
            ask(client)
    with FaultServer(Act(text="")) as server:
        client, _ = model(server.url, attempts=1)
        with pytest.raises(LLMBadOutput):
            ask(client)


def test_a_stream_cut_half_way_is_bad_output() -> None:
    from llama_index.core.llms import ChatMessage

    with FaultServer(Act(text="one two three four five six", cut_after_chunks=3)) as server:
        client, _ = model(server.url)
        got: list[str] = []

        def consume() -> None:
            for delta in client.stream([ChatMessage(role="user", content="x")], Deadline(10)):
                got.append(delta)

        with pytest.raises(LLMBadOutput, match="mid-answer"):
            consume()
        assert "".join(got).startswith("one two")
        assert len(server.requests) == 1  # text had arrived: not retried


@pytest.mark.slow
@pytest.mark.parametrize(
    ("acts", "note"),
    [
        ((Act(delay_s=1.5),), "did not answer in time"),
        ((Act(status=429, headers={"Retry-After": "120"}),), "rate-limiting"),
        ((Act(status=500),), "returned an error"),
        ((Act(raw_body=b"<html>oops</html>"),), "unusable"),
        ((Act(text=""),), "unusable"),
    ],
    ids=["timeout", "429", "500", "malformed", "empty"],
)
def test_every_fault_ends_in_a_deterministic_reply_with_a_note(
    make_advisor: Any, acts: tuple[Act, ...], note: str
) -> None:
    with FaultServer(*acts) as server:
        client, _ = model(server.url, timeout_s=0.3, attempts=2)
        advisor = make_advisor(llm=client, turn_deadline_s=10)
        conversation = Conversation()
        reply = advisor.reply(conversation, SITUATION)
    assert reply.verdict is Verdict.NOT_YET
    assert reply.phrased_by == "rules"
    assert reply.text.startswith("Noted:")
    assert reply.notes
    assert all(note in n for n in reply.notes), reply.notes
    assert len(conversation.messages) == 2


@pytest.mark.slow
def test_a_cut_stream_through_the_advisor_keeps_the_conversation(make_advisor: Any) -> None:
    extraction = '{"facts": []}'
    acts = (
        Act(text=extraction),
        Act(text="You need an eval harness first. " * 4, cut_after_chunks=6),
    )
    with FaultServer(*acts) as server:
        client, _ = model(server.url)
        advisor = make_advisor(llm=client)
        conversation = Conversation()
        reply = advisor.reply(conversation, SITUATION)
    assert reply.phrased_by == "rules"
    assert any("mid-answer" in n for n in reply.notes)
    assert len(conversation.messages) == 2
    assert server.requests[1]["stream"] is True


def ollama(url: str, attempts: int = 2) -> ModelClient:
    settings = load_settings(
        llm_provider="ollama",
        llm_model="fault-server",
        llm_base_url=url,
        llm_timeout_s=0.5,
        llm_max_attempts=attempts,
        llm_backoff_s=0.05,
    )
    client = ModelClient.from_settings(settings)
    assert client is not None
    client.sleep = Sleeps()
    return client


def test_ollama_answers_streams_and_gets_the_schema() -> None:
    from llama_index.core.llms import ChatMessage

    with FaultServer(Act(text="one two three")) as server:
        client = ollama(server.root)
        messages = [ChatMessage(role="user", content="x")]
        assert client.chat(messages, Deadline(10), **client.structured_kwargs({"type": "object"}))
        assert server.requests[0]["format"] == {"type": "object"}
        deltas = list(client.stream(messages, Deadline(10)))
        assert "".join(deltas).split() == ["one", "two", "three"]


def test_ollama_faults_are_classified() -> None:
    from llama_index.core.llms import ChatMessage

    messages = [ChatMessage(role="user", content="x")]
    with FaultServer(Act(status=500)) as server:
        with pytest.raises(LLMServerError):
            ollama(server.root).chat(messages, Deadline(10))
        assert len(server.requests) == 2
    with FaultServer(Act(delay_s=1.5)) as server, pytest.raises(LLMTimeout):
        ollama(server.root, attempts=1).chat(messages, Deadline(10))
    with pytest.raises(LLMUnavailable):
        ollama(f"http://127.0.0.1:{free_port()}", attempts=1).chat(messages, Deadline(10))
    with FaultServer(Act(text="a b c d e f", cut_after_chunks=2)) as server:
        client = ollama(server.root)
        with pytest.raises(LLMBadOutput):
            list(client.stream(messages, Deadline(10)))
