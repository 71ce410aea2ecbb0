"""Parsing and passage splitting: verbatim spans that never cross a section."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from advisor.corpus import (
    INTRODUCTION,
    MAX_DOCUMENT_BYTES,
    DocumentError,
    document_from_text,
    load_corpus,
    parse_document,
)
from advisor.settings import MAX_PASSAGE_CHARS

from .conftest import CORPUS

HEADING_LINE = re.compile(r"^ {0,3}#{1,6}[ \t]+\S", re.MULTILINE)


@pytest.fixture(scope="module")
def corpus():  # type: ignore[no-untyped-def]
    return load_corpus([CORPUS])


def test_loads_the_five_articles_with_metadata(corpus) -> None:  # type: ignore[no-untyped-def]
    assert not corpus.problems
    ids = {d.doc_id for d in corpus.documents}
    assert ids == {
        "apptivity-nine-times-out-of-ten",
        "roi-thresholds",
        "zalt-is-fine-tuning-worth-it",
        "apick-when-fine-tuning-is-worth-it",
        "synthetic-mind-fine-tuning-trap",
    }
    roi = corpus.document("roi-thresholds")
    assert roi.source == "unknown"
    assert corpus.document("zalt-is-fine-tuning-worth-it").author == "Mahmoud Zalt"


def test_passages_are_verbatim_bounded_and_inside_one_section(corpus) -> None:  # type: ignore[no-untyped-def]
    for doc in corpus.documents:
        body_start = doc.text.index("\n---", 3) + 4
        for p in doc.passages:
            assert doc.text[p.start : p.end] == p.text
            assert 0 < len(p.text) <= MAX_PASSAGE_CHARS
            assert p.start >= body_start, "front matter must never be a passage"
            assert not HEADING_LINE.search(p.text), f"{p.passage_id} contains a heading"
            # the nearest heading above the passage is the last part of its section path
            above = list(HEADING_LINE.finditer(doc.text, body_start, p.start))
            if p.section != INTRODUCTION:
                last = doc.text[above[-1].start() : doc.text.index("\n", above[-1].start())]
                assert last.lstrip("# ").strip() == p.section.split(" › ")[-1]


def test_sections_restore_the_articles_headings(corpus) -> None:  # type: ignore[no-untyped-def]
    sections = {p.section for p in corpus.document("zalt-is-fine-tuning-worth-it").passages}
    assert (
        "The 4 Times Fine-Tuning Is Not Worth It › 3. Your Eval Harness Does Not Exist Yet"
        in sections
    )
    assert "A Decision Framework: Fine-Tune or Not" in sections


def test_passages_cover_every_body_line(corpus) -> None:  # type: ignore[no-untyped-def]
    """Nothing of an article is lost between passages (headings are in `section`)."""
    for doc in corpus.documents:
        covered = "\n".join(p.text for p in doc.passages)
        body = doc.text[doc.text.index("\n---", 3) + 4 :]
        for line in body.splitlines():
            if line.strip() and not HEADING_LINE.match(line):
                for piece in re.split(r"(?<=[.!?])\s+", line.strip()):
                    assert piece in covered, f"{doc.doc_id}: lost {piece!r}"


def test_ids_are_stable_and_change_with_the_file(tmp_path: Path) -> None:
    path = tmp_path / "note.md"
    path.write_text("# A note\n\nFirst paragraph.\n\n## Part\n\nSecond paragraph.\n")
    first = [p.passage_id for p in parse_document(path).passages]
    assert first == [p.passage_id for p in parse_document(path).passages]
    path.write_text("# A note\n\nFirst paragraph, edited.\n\n## Part\n\nSecond paragraph.\n")
    assert set(first).isdisjoint(p.passage_id for p in parse_document(path).passages)


def test_plain_text_without_front_matter_is_indexed(tmp_path: Path) -> None:
    path = tmp_path / "Team Notes_2024.txt"
    path.write_text("Our policy: evaluate before training.\nAnother line here.\n")
    doc = parse_document(path)
    assert doc.doc_id == "team-notes-2024"
    assert doc.title == "Team notes 2024"
    assert doc.passages[0].section == INTRODUCTION


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\xff\xfe\x00b\x00a\x00d", "binary"),
        (b"caf\xe9 au lait", "not UTF-8"),
        (b"   \n\n  ", "empty"),
        (b"---\nid: [unclosed\n---\ntext", "not valid YAML"),
        (b"---\n- a list\n---\ntext", "mapping"),
        (b"---\nid: Bad Id!\n---\ntext", "invalid id"),
        (b"# Only a heading\n", "no text"),
    ],
)
def test_unusable_files_are_skipped_with_a_clear_message(
    tmp_path: Path, content: bytes, message: str
) -> None:
    (tmp_path / "good.md").write_text("# Good\n\nUseful guidance.\n")
    (tmp_path / "bad.md").write_bytes(content)
    corpus = load_corpus([tmp_path])
    assert [d.doc_id for d in corpus.documents] == ["good"]
    assert len(corpus.problems) == 1
    problem = str(corpus.problems[0])
    assert "bad.md" in problem
    assert message in problem


def test_oversized_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "huge.md").write_bytes(b"a " * (MAX_DOCUMENT_BYTES // 2 + 10))
    corpus = load_corpus([tmp_path])
    assert not corpus.documents
    assert "limited to" in str(corpus.problems[0])


def test_duplicate_ids_keep_the_first(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "same.md").write_text("First.\n")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "same.md").write_text("Second.\n")
    corpus = load_corpus([tmp_path / "a", tmp_path / "b"])
    assert [d.doc_id for d in corpus.documents] == ["same"]
    assert "already used" in str(corpus.problems[0])


def test_hidden_folders_and_other_suffixes_are_ignored(tmp_path: Path) -> None:
    (tmp_path / ".cache").mkdir()
    (tmp_path / ".cache" / "x.md").write_text("hidden\n")
    (tmp_path / "rules.yaml").write_text("a: 1\n")
    (tmp_path / "real.md").write_text("Real text.\n")
    assert [d.doc_id for d in load_corpus([tmp_path]).documents] == ["real"]


def test_long_paragraphs_split_at_sentences_and_words() -> None:
    sentence = "This sentence is about evaluation harnesses and baselines. "
    long_word = "x" * 3000
    text = "# T\n\n" + sentence * 60 + "\n\n" + long_word + "\n"
    doc = document_from_text(text, path=Path("t.md"), target_chars=400)
    for p in doc.passages:
        assert len(p.text) <= MAX_PASSAGE_CHARS
        assert text[p.start : p.end] == p.text
    assert sum(1 for p in doc.passages if p.text.startswith("x")) == 3


def test_code_fences_hide_headings() -> None:
    text = "# T\n\n```\n# not a heading\n```\n\nAfter.\n"
    doc = document_from_text(text, path=Path("t.md"))
    assert all(p.section == INTRODUCTION for p in doc.passages)


_markdownish = st.lists(
    st.one_of(
        st.text(min_size=0, max_size=300),
        st.sampled_from(["# Title", "## Section", "### Sub", "- item", "", "```", "---"]),
    ),
    max_size=40,
).map("\n".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_markdownish, target=st.integers(min_value=100, max_value=1200))
def test_any_text_gives_verbatim_bounded_passages(text: str, target: int) -> None:
    try:
        doc = document_from_text(text, path=Path("fuzz.md"), target_chars=target)
    except DocumentError:  # the documented refusal ("no text", bad front matter)
        return
    for p in doc.passages:
        assert text[p.start : p.end] == p.text
        assert 0 < len(p.text) <= MAX_PASSAGE_CHARS
        assert p.text.strip()
