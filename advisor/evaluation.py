"""Retrieval evaluation against a golden set of questions.

A retrieved passage is relevant to a question when it comes from the named document and
contains the question's *anchor*, a verbatim phrase of the answer. Anchors do not depend
on where passages are cut, so the same golden set judges any chunking.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from statistics import mean
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from advisor.corpus import Corpus, Passage
from advisor.errors import ConfigError
from advisor.retrieval import HybridRetriever, RetrievalMode
from advisor.settings import PROJECT_ROOT

DEFAULT_RETRIEVAL_GOLDEN = PROJECT_ROOT / "evals" / "retrieval.yaml"
#: Written independently of the code and the tuning set; reported, never tuned on.
HOLDOUT_RETRIEVAL_GOLDEN = PROJECT_ROOT / "evals" / "retrieval_holdout.yaml"
CUTOFFS = (1, 5)
DEPTH = 10


class Anchor(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    doc_id: str
    anchor: str = Field(min_length=10)


class GoldenQuestion(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    question: str
    relevant: tuple[Anchor, ...] = Field(min_length=1)

    def is_relevant(self, passage: Passage) -> bool:
        return any(a.doc_id == passage.doc_id and a.anchor in passage.text for a in self.relevant)


class GoldenSet(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    version: int
    questions: tuple[GoldenQuestion, ...]


def load_golden(path: Path = DEFAULT_RETRIEVAL_GOLDEN) -> GoldenSet:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return GoldenSet.model_validate(data)
    except (OSError, yaml.YAMLError, ValueError) as exc:
        raise ConfigError(f"Cannot read the golden set {path}: {exc}") from exc


def unanswerable(golden: GoldenSet, corpus: Corpus) -> list[str]:
    """Questions none of whose anchors lies inside a single passage of ``corpus``."""
    passages = corpus.passages
    return [q.id for q in golden.questions if not any(q.is_relevant(p) for p in passages)]


@dataclass(frozen=True)
class ModeScores:
    mode: str
    n: int
    hit_at: dict[int, float]
    mrr: float
    ranks: dict[str, int | None] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "questions": self.n,
            **{f"hit@{k}": round(v, 4) for k, v in self.hit_at.items()},
            "mrr": round(self.mrr, 4),
        }


def first_relevant_rank(question: GoldenQuestion, passages: Iterable[Passage]) -> int | None:
    for rank, passage in enumerate(passages, start=1):
        if question.is_relevant(passage):
            return rank
    return None


def score_ranks(mode: str, ranks: dict[str, int | None]) -> ModeScores:
    values = list(ranks.values())
    return ModeScores(
        mode=mode,
        n=len(values),
        hit_at={k: mean(1.0 if r is not None and r <= k else 0.0 for r in values) for k in CUTOFFS},
        mrr=mean(1.0 / r if r is not None else 0.0 for r in values),
        ranks=ranks,
    )


def evaluate_retrieval(
    retriever: HybridRetriever,
    golden: GoldenSet,
    modes: Sequence[RetrievalMode] = tuple(RetrievalMode),
    depth: int = DEPTH,
) -> list[ModeScores]:
    """hit@1, hit@5 and MRR@``depth`` for each mode, in one run over the same index."""
    results = []
    for mode in modes:
        ranks = {
            q.id: first_relevant_rank(
                q, (h.passage for h in retriever.search(q.question, k=depth, mode=mode))
            )
            for q in golden.questions
        }
        results.append(score_ranks(mode.value, ranks))
    return results


def format_table(scores: Sequence[ModeScores]) -> str:
    header = f"{'retriever':<10} {'n':>4} " + " ".join(f"{'hit@' + str(k):>7}" for k in CUTOFFS)
    lines = [header + f" {'MRR@' + str(DEPTH):>8}"]
    for s in scores:
        cells = " ".join(f"{s.hit_at[k]:>7.3f}" for k in CUTOFFS)
        lines.append(f"{s.mode:<10} {s.n:>4} {cells} {s.mrr:>8.3f}")
    return "\n".join(lines)
