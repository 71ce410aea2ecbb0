"""The ``advisor`` command as a user runs it: a real process, real index, no network."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import CORPUS


def run(args: list[str], data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "ADVISOR_DATA_DIR": str(data_dir),
        "ADVISOR_CORPUS_DIR": str(CORPUS),
    }
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-m", "advisor.cli", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=300,
        check=False,
    )


def test_help_reads_well(tmp_path: Path) -> None:
    out = run(["--help"], tmp_path)
    assert out.returncode == 0
    for command in ("index", "search", "eval"):
        assert command in out.stdout
    search_help = run(["search", "--help"], tmp_path).stdout
    assert "QUERY" in search_help
    assert "--json" in search_help


@pytest.mark.parametrize(
    ("query", "expected"),
    [("", "The query is empty"), ("y" * 100_000, "100,000 characters")],
)
def test_bad_queries_give_one_clear_line(tmp_path: Path, query: str, expected: str) -> None:
    out = run(["search", query], tmp_path)
    assert out.returncode == 2
    assert expected in out.stderr
    assert "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_bad_setting_is_named(tmp_path: Path) -> None:
    out = run(["index"], tmp_path, ADVISOR_PASSAGE_TARGET_CHARS="5000")
    assert out.returncode == 1
    assert "ADVISOR_PASSAGE_TARGET_CHARS" in out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.slow
def test_index_then_search_json_contract(tmp_path: Path) -> None:
    first = run(["index", "--json"], tmp_path)
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert report["embedded"] == report["passages"] > 50

    again = run(["index"], tmp_path)
    assert "0 embedded" in again.stdout

    out = run(["search", "how many labeled examples do we need", "-k", "3", "--json"], tmp_path)
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert len(rows) == 3
    assert rows[0]["doc_id"] == "zalt-is-fine-tuning-worth-it"
    for row in rows:
        assert {"doc_id", "title", "section", "text", "score"} <= row.keys()
        assert len(row["text"]) <= 1200
        source = (CORPUS / f"{row['doc_id']}.md").read_text(encoding="utf-8")
        assert row["text"] in source

    text = run(["search", "hosting cost", "-k", "2"], tmp_path)
    assert text.returncode == 0
    assert "[1]" in text.stdout
    assert "[2]" in text.stdout


@pytest.mark.slow
def test_corrupt_index_is_reported_in_one_line_and_rebuilt(tmp_path: Path) -> None:
    assert run(["index"], tmp_path).returncode == 0
    sqlite = tmp_path / "chroma" / "chroma.sqlite3"
    sqlite.write_bytes(sqlite.read_bytes()[:20000])
    out = run(["index"], tmp_path)
    assert out.returncode == 0, out.stderr
    notices = [line for line in out.stderr.splitlines() if "damaged" in line]
    assert len(notices) == 1
    assert "rebuilding it from the corpus" in notices[0]
    assert "embedded, 0 removed" in out.stdout


@pytest.mark.slow
def test_unreadable_corpus_file_is_named_and_the_rest_indexes(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "fine.md").write_text("# Fine\n\nEvaluate before you train.\n")
    (corpus / "latin1.txt").write_bytes("r\xe9sum\xe9 of our policy".encode("latin-1"))
    out = run(["index", "--json"], tmp_path / "data", ADVISOR_CORPUS_DIR=str(corpus))
    assert out.returncode == 0, out.stderr
    assert "latin1.txt" in out.stderr
    assert "not UTF-8" in out.stderr
    assert json.loads(out.stdout)["documents"] == 1
