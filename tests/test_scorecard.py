"""The scorecard in CI: every score at or above the committed baseline (evals/baseline.json)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from advisor.scorecard import BASELINE, build_scorecard, load_baseline, regressions

pytestmark = pytest.mark.slow


def test_no_score_falls_below_the_baseline(shared_deps: Any, advisor: Any) -> None:
    card = build_scorecard(shared_deps, advisor)
    assert regressions(card, load_baseline()) == []
    assert card["scores"]["citations.verbatim"] == 1.0
    assert card["scores"]["citations.markers_one_to_one"] == 1.0
    assert card["counts"]["decisions.golden.conversations"] >= 40
    assert card["counts"]["extraction.statements"] >= 100
    assert card["latency_ms"]["p95"] >= card["latency_ms"]["p50"] > 0


def test_the_baseline_gates_every_kind_of_score() -> None:
    scores = json.loads(BASELINE.read_text())["scores"]
    for prefix in ("retrieval.", "decisions.", "extraction.", "answers.", "citations."):
        assert any(name.startswith(prefix) for name in scores), prefix


def test_a_lower_score_is_reported() -> None:
    card = {"scores": {"answers.answered": 0.5}}
    assert regressions(card, {"answers.answered": 0.78, "x.y": 1.0}) == [
        "answers.answered: 0.5000 < baseline 0.7800",
        "x.y: missing (baseline 1.0000)",
    ]
