"""The scorecard: every measure of the advisor in one run, compared with a committed baseline.

``advisor eval`` prints it (``--json`` for machines) and exits non-zero when any score falls
below ``evals/baseline.json``; a test runs the same comparison in CI, so a regression in
retrieval, extraction, decisions, answers or citations fails the build. Scores are
deterministic (same corpus, same model, same rules, same numbers), so the comparison is
exact; turn latency is reported but never gated (wall-clock limits do not belong in tests).
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path
from typing import Any

from advisor.settings import PROJECT_ROOT

BASELINE = PROJECT_ROOT / "evals" / "baseline.json"
#: Scores compare exactly, up to float noise.
TOLERANCE = 1e-9


def build_scorecard(retriever: Any, advisor: Any) -> dict[str, Any]:
    """All scores: ``{"scores": {name: value}, "latency_ms": {...}, "counts": {...}}``."""
    from advisor.chat import Conversation
    from advisor.citations import marker_problems
    from advisor.decision_eval import (
        DECISIONS_GOLDEN,
        DECISIONS_SECOND_AUTHOR,
        load_decisions,
        score_decisions,
        score_extraction,
    )
    from advisor.evaluation import (
        DEFAULT_RETRIEVAL_GOLDEN,
        HOLDOUT_RETRIEVAL_GOLDEN,
        evaluate_retrieval,
        load_golden,
    )
    from advisor.qa_eval import load_conversations, score_questions, turn_problems

    scores: dict[str, float] = {}
    counts: dict[str, int] = {}
    for name, path in (("tuning", DEFAULT_RETRIEVAL_GOLDEN), ("holdout", HOLDOUT_RETRIEVAL_GOLDEN)):
        golden = load_golden(path)
        counts[f"retrieval.{name}.questions"] = len(golden.questions)
        for mode in evaluate_retrieval(retriever, golden):
            scores[f"retrieval.{name}.{mode.mode}.hit@1"] = mode.hit_at[1]
            scores[f"retrieval.{name}.{mode.mode}.hit@5"] = mode.hit_at[5]
            scores[f"retrieval.{name}.{mode.mode}.mrr"] = mode.mrr

    for name, path in (("golden", DECISIONS_GOLDEN), ("second_author", DECISIONS_SECOND_AUTHOR)):
        decided = score_decisions(load_decisions(path))
        counts[f"decisions.{name}.conversations"] = decided.conversations
        scores[f"decisions.{name}.verdict_accuracy"] = decided.verdict_accuracy
        scores[f"decisions.{name}.blocker_accuracy"] = decided.blocker_accuracy

    extraction = score_extraction()
    total = extraction.totals()
    counts["extraction.statements"] = extraction.statements
    scores["extraction.precision"] = total.precision
    scores["extraction.recall"] = total.recall

    replies: list[Any] = []
    started = time.perf_counter()
    answers = score_questions(advisor, replies=replies)
    answer_seconds = time.perf_counter() - started
    for field in (
        "answered",
        "span_recall",
        "doc_hit",
        "follow_up_answered",
        "follow_up_span_recall",
        "off_topic_refused",
        "unsupported_refused",
    ):
        scores[f"answers.{field}"] = getattr(answers, field)

    chats = load_conversations().conversations
    turns_ok = turns = 0
    for chat in chats:
        conversation = Conversation()
        for turn in chat.turns:
            reply = advisor.reply(conversation, turn.say)
            replies.append(reply)
            turns += 1
            turns_ok += not turn_problems(reply, turn.expect)
    counts["conversations"] = len(chats)
    counts["conversation_turns"] = turns
    scores["conversations.turns_as_expected"] = turns_ok / turns

    corpus = advisor.composer.corpus
    cited = [c for r in replies for c in r.citations]
    verbatim = 0
    for c in cited:
        document = corpus.document(c.doc_id)
        verbatim += document is not None and document.text[c.start : c.end] == c.quote
    counts["replies"] = len(replies)
    counts["citations"] = len(cited)
    scores["citations.verbatim"] = verbatim / len(cited) if cited else 1.0
    scores["citations.markers_one_to_one"] = sum(
        1 for r in replies if not marker_problems(r.text, r.citations)
    ) / len(replies)

    seconds = sorted(r.seconds for r in replies)
    latency = {
        "p50": round(1000 * statistics.median(seconds), 2),
        "p95": round(1000 * seconds[int(0.95 * (len(seconds) - 1))], 2),
        "replies": len(seconds),
        "answers_suite_seconds": round(answer_seconds, 2),
    }
    return {
        "scores": {k: round(v, 4) for k, v in scores.items()},
        "counts": counts,
        "latency_ms": latency,
    }


def load_baseline(path: Path = BASELINE) -> dict[str, float]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return {k: float(v) for k, v in data["scores"].items()}


def regressions(card: dict[str, Any], baseline: dict[str, float]) -> list[str]:
    """Every score below its baseline (or missing), as a line a person can read."""
    out = []
    for name, floor in sorted(baseline.items()):
        value = card["scores"].get(name)
        if value is None:
            out.append(f"{name}: missing (baseline {floor:.4f})")
        elif value < floor - TOLERANCE:
            out.append(f"{name}: {value:.4f} < baseline {floor:.4f}")
    return out


def write_baseline(card: dict[str, Any], path: Path = BASELINE) -> None:
    payload = {
        "note": "Scores of `advisor eval` at the last intentional change; CI fails below them. "
        "Update with `advisor eval --update-baseline` and say why in the commit.",
        "scores": card["scores"],
        "counts": card["counts"],
    }
    path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")


def format_scorecard(card: dict[str, Any], baseline: dict[str, float] | None = None) -> str:
    baseline = baseline or {}
    lines = [f"{'score':<44} {'value':>7} {'baseline':>9}"]
    for name, value in card["scores"].items():
        floor = baseline.get(name)
        mark = "" if floor is None or value >= floor - TOLERANCE else "  REGRESSED"
        shown = f"{floor:9.4f}" if floor is not None else " " * 9
        lines.append(f"{name:<44} {value:7.4f} {shown}{mark}")
    latency = card["latency_ms"]
    lines.append(
        f"turn latency, deterministic path: p50 {latency['p50']} ms, p95 {latency['p95']} ms "
        f"over {latency['replies']} replies (not gated)"
    )
    lines.append("counts: " + ", ".join(f"{k} {v}" for k, v in card["counts"].items()))
    return "\n".join(lines)
