"""``advisor ask`` and ``advisor chat`` as a user runs them: real processes, no LLM, no network."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import CORPUS

pytestmark = pytest.mark.slow


def run(
    args: list[str], data_dir: Path, stdin: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "ADVISOR_DATA_DIR": str(data_dir),
        "ADVISOR_CORPUS_DIR": str(CORPUS),
        "ADVISOR_LLM_PROVIDER": "none",
    }
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-m", "advisor.cli", *args],
        capture_output=True,
        text=True,
        env=environment,
        input=stdin,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One index for the module: the first command builds it, the rest reuse it."""
    return tmp_path_factory.mktemp("cli-chat-data")


def test_ask_gives_a_cited_verdict_and_continues_a_conversation(
    data_dir: Path, tmp_path: Path
) -> None:
    talk = tmp_path / "talk.json"
    first = run(
        [
            "ask",
            "We classify 500k tickets a day into 12 categories. No eval set yet.",
            "--conversation",
            str(talk),
        ],
        data_dir,
    )
    assert first.returncode == 0, first.stderr
    assert "Verdict: NOT YET" in first.stdout
    assert "Sources" in first.stdout
    assert "[1] Mahmoud Zalt" in first.stdout
    second = run(
        ["ask", "How many examples do we need for LoRA?", "--conversation", str(talk), "--json"],
        data_dir,
    )
    assert second.returncode == 0, second.stderr
    reply = json.loads(second.stdout)
    assert reply["kind"] == "answer"
    assert reply["verdict"] == "not_yet"  # the conversation's verdict carried over
    assert reply["blockers"] == ["evaluation"]
    assert [c["marker"] for c in reply["citations"]] == list(range(1, len(reply["citations"]) + 1))
    assert all(c["quote"] and c["doc_id"] for c in reply["citations"])
    assert reply["gates"][0]["citation"]["quote"]
    saved = json.loads(talk.read_text())
    assert len(saved["messages"]) == 4


@pytest.mark.parametrize(
    ("message", "expected"),
    [("", "The message is empty"), ("x" * 20_001, "20,001 characters")],
)
def test_ask_refuses_bad_messages_with_one_line(
    data_dir: Path, message: str, expected: str
) -> None:
    out = run(["ask", message], data_dir)
    assert out.returncode == 2
    assert expected in out.stderr
    assert "Traceback" not in out.stderr


def test_a_broken_conversation_file_is_named(data_dir: Path, tmp_path: Path) -> None:
    talk = tmp_path / "talk.json"
    talk.write_text("{not a conversation")
    out = run(["ask", "hello", "--conversation", str(talk)], data_dir)
    assert out.returncode == 1
    assert "not a conversation file" in out.stderr
    assert talk.read_text() == "{not a conversation"  # nothing lost


def test_chat_reaches_a_verdict_in_the_terminal(data_dir: Path, tmp_path: Path) -> None:
    lines = "\n".join(
        [
            "hi",
            "We route 2M tickets a month into 15 fixed categories, unchanged for two years.",
            "behaviour: it classifies tickets",
            "the input is all it needs",
            "three weeks, with few-shot examples",
            "/facts",
            "/set labeled_examples 40",
            "/set labeled_examples lots",
            "/why",
            "/quit",
        ]
    )
    out = run(["chat", "--conversation", str(tmp_path / "c.json")], data_dir, stdin=lines)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "Hello!" in text
    assert "Next question:" in text
    assert "prompt_effort_weeks = 3 weeks" in text  # /facts, with provenance
    assert "labeled examples: 40 examples — set by you" in text
    assert "takes a number" in text  # a bad /set is a clear message, not a crash
    assert "Verdict: NOT YET" in text
    assert "FAIL  data" in text  # /why prints the full gate trace
    saved = json.loads((tmp_path / "c.json").read_text())
    assert [m["role"] for m in saved["messages"]].count("correction") == 1


def test_chat_ends_cleanly_on_end_of_input(data_dir: Path) -> None:
    out = run(["chat"], data_dir, stdin="")
    assert out.returncode == 0
    assert "Traceback" not in out.stderr
