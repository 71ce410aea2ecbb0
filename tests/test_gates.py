"""The rule set as data: every citation verbatim in the corpus, validation that names the
bad entry, and the ``assess`` / ``gates`` commands' contracts."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from advisor.corpus import load_corpus
from advisor.errors import ConfigError
from advisor.rules import DEFAULT_RULES_DIR, Topic, default_rules, load_rules

from .conftest import CORPUS

RULES = default_rules()
DOCUMENTS = {d.doc_id: d for d in load_corpus([CORPUS]).documents}


@pytest.mark.parametrize(
    ("where", "citation"), RULES.citations(), ids=[w for w, _ in RULES.citations()]
)
def test_every_citation_is_verbatim_in_its_article(where: str, citation: object) -> None:
    doc_id, quote = citation.doc_id, citation.quote  # type: ignore[attr-defined]
    assert doc_id in DOCUMENTS, f"{where}: unknown document {doc_id}"
    assert quote in DOCUMENTS[doc_id].text, f"{where}: quote not verbatim in {doc_id}"


def test_each_gate_is_stated_by_an_article_and_asks_a_question() -> None:
    for gate in RULES.gates:
        assert gate.citations
        assert gate.question.endswith("?")
        for fact, question in gate.questions.items():
            assert question.endswith("?"), (gate.id, fact)


def test_thresholds_match_the_quotes_they_come_from() -> None:
    quotes = {g.topic: " ".join(c.quote for c in g.citations) for g in RULES.gates}
    assert RULES.thresholds.min_labeled_examples == 1000
    assert "1,000" in quotes[Topic.DATA]
    assert RULES.thresholds.min_prompt_weeks == 2
    assert "2 weeks" in quotes[Topic.PROMPTING]
    assert RULES.thresholds.max_changes_per_year == 4
    assert "once a quarter" in quotes[Topic.STABILITY]
    assert RULES.thresholds.volume_fail_below_per_month == 100_000
    assert "under 100k" in quotes[Topic.ECONOMICS]
    assert RULES.thresholds.tco_advantage == 2
    assert "2x" in quotes[Topic.ECONOMICS]


def _broken_rules(tmp_path: Path, edit: object) -> Path:
    folder = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR, folder)
    data = yaml.safe_load((folder / "gates.yaml").read_text(encoding="utf-8"))
    edit(data)  # type: ignore[operator]
    (folder / "gates.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["gates"][0].update(topic="vibes"), "gates.0.topic"),
        (lambda d: d["gates"][0].update(condition={"fact": "mood", "eq": 1}), "unknown fact"),
        (lambda d: d["gates"][0].update(condition={"fact": "need_type"}), "exactly one of"),
        (lambda d: d["gates"].pop(), "every topic"),
        (lambda d: d["gates"][0].update(surprise=True), "surprise"),
    ],
)
def test_a_broken_rule_file_is_named(tmp_path: Path, edit: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_rules(_broken_rules(tmp_path, edit))


def test_a_missing_rule_file_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="missing") as info:
        load_rules(tmp_path)
    assert "ADVISOR_RULES_DIR" in str(info.value)


# --------------------------------------------------------------------------- CLI


def advisor(
    *args: str, stdin: bytes | None = None, **env: str
) -> subprocess.CompletedProcess[bytes]:
    import os

    return subprocess.run(
        [sys.executable, "-m", "advisor.cli", *args],
        input=stdin,
        capture_output=True,
        env={**os.environ, "ADVISOR_CORPUS_DIR": str(CORPUS), **env},
        timeout=120,
        check=False,
    )


def test_assess_json_contract_from_a_file(tmp_path: Path) -> None:
    convo = tmp_path / "convo.json"
    convo.write_text(
        json.dumps(
            [
                "We classify 500k posts per day into 12 categories, unchanged for 18 months.",
                "No eval set yet. ~700 labeled rows.",
            ]
        ),
        encoding="utf-8",
    )
    out = advisor("assess", str(convo), "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["verdict"] == "not_yet"
    assert set(data["blockers"]) == {"evaluation", "data"}
    assert data["next_question"] is None
    assert data["facts"]["monthly_volume"]["value"] == 15_000_000
    assert data["facts"]["monthly_volume"]["turn"] == 1
    assert {g["topic"] for g in data["gates"]} == {t.value for t in Topic}
    for gate in data["gates"]:
        assert gate["outcome"] in {"pass", "fail", "unknown"}
        assert {"doc_id", "quote"} <= gate["citation"].keys()
    assert len(data["views"]) == 5


def test_assess_plain_text_from_stdin_reads_like_a_report() -> None:
    out = advisor("assess", stdin=b"Should we fine-tune? We want our bot to know our HR policies.")
    assert out.returncode == 0, out.stderr
    text = out.stdout.decode()
    assert text.startswith("Verdict: NOT YET")
    assert "knowledge_task" in text
    assert "Source:" in text
    assert "Is the task knowledge-retrieval or behavior-shaping?" in text


def test_assess_asks_the_next_question_when_nothing_fails() -> None:
    out = advisor("assess", "-", "--json", stdin=b'"Hi"')
    data = json.loads(out.stdout)
    assert data["verdict"] == "need_more_info"
    assert data["next_question"]["fact"] == "need_type"
    assert data["next_question"]["question"].endswith("?")


@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (b"\x00\x01\x02binary", "binary"),
        (b"\xff\xfe\xfa not utf-8", "UTF-8"),
        (b"[1, 2, 3]", "array of strings"),
        (b"[]", "empty"),
    ],
)
def test_assess_bad_input_gets_one_clear_line(stdin: bytes, message: str) -> None:
    out = advisor("assess", stdin=stdin)
    assert out.returncode == 2
    err = out.stderr.decode()
    assert message in err
    assert "Traceback" not in err


def test_assess_missing_file(tmp_path: Path) -> None:
    out = advisor("assess", str(tmp_path / "nope.json"))
    assert out.returncode == 1
    assert "No such file" in out.stderr.decode()


def test_gates_lists_every_gate_with_citations() -> None:
    out = advisor("gates", "--json")
    data = json.loads(out.stdout)
    assert [g["topic"] for g in data["gates"]] == [g.topic.value for g in RULES.gates]
    assert all(g["citations"] and g["question"] for g in data["gates"])
    text = advisor("gates").stdout.decode()
    assert "1,000+ high-quality labeled examples" in text


def test_eval_decisions_and_extraction_commands() -> None:
    decisions = json.loads(advisor("eval", "decisions", "--json").stdout)
    scores = {row["name"]: row for row in decisions["sets"]}
    assert scores["decisions"]["verdict_accuracy"] == 1.0
    assert scores["decisions_second_author"]["conversations"] >= 30
    extraction = json.loads(advisor("eval", "extraction", "--json").stdout)
    assert extraction["statements"] >= 100
    assert 0 < extraction["precision"] <= 1


def test_a_closed_pipe_is_not_an_error() -> None:
    """`advisor gates | head -0`: the reader leaves early; no traceback, no error message."""
    import os

    proc = subprocess.Popen(
        [sys.executable, "-m", "advisor.cli", "gates"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "ADVISOR_CORPUS_DIR": str(CORPUS)},
    )
    assert proc.stdout is not None
    assert proc.stderr is not None
    proc.stdout.close()  # before a byte is read: every write the command makes fails
    err = proc.stderr.read().decode()
    proc.wait(timeout=60)
    assert "Traceback" not in err
    assert "went wrong" not in err
