"""Free questions (evals/questions.yaml): answered with quotes when the corpus answers them,
refused without sources when it does not. Floors sit just under the measured scores, so a
regression fails CI."""

from __future__ import annotations

from typing import Any

import pytest

from advisor.qa_eval import load_questions, score_questions

pytestmark = pytest.mark.slow


def test_the_question_set_is_big_enough() -> None:
    qs = load_questions()
    assert len(qs.answerable) >= 40
    assert len(qs.follow_ups) >= 15
    assert len(qs.off_topic) >= 25
    assert len(qs.unsupported) >= 15


def test_answers_scorecard_floors(advisor: Any) -> None:
    score = score_questions(advisor)
    assert score.markers_one_to_one == 1.0
    assert score.off_topic_refused >= 0.95
    assert score.unsupported_refused >= 0.85
    assert score.answered >= 0.75
    assert score.span_recall >= 0.40
    assert score.doc_hit >= 0.65
    assert score.follow_up_answered >= 0.65
    assert score.follow_up_span_recall >= 0.50
