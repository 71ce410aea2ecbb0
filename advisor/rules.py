"""The rule set: gates, thresholds, cost figures, advice and per-article views, loaded from
``corpus/rules/gates.yaml`` and ``corpus/rules/frameworks.yaml``.

The YAML is validated here (pydantic, ``extra="forbid"``): a gate with an unknown topic, a
condition over an unknown fact or a malformed condition fails at start-up with a message
naming the file and the entry, never at the first conversation.
"""

from __future__ import annotations

import hashlib
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from advisor.errors import ConfigError
from advisor.facts import FACT_NAMES
from advisor.logic import Condition, comparisons
from advisor.settings import PROJECT_ROOT

DEFAULT_RULES_DIR = PROJECT_ROOT / "corpus" / "rules"


class Topic(StrEnum):
    """DESIGN.md's fixed vocabulary for gates and blockers."""

    KNOWLEDGE_TASK = "knowledge_task"
    PROMPTING = "prompting"
    RETRIEVAL = "retrieval"
    EVALUATION = "evaluation"
    DATA = "data"
    STABILITY = "stability"
    ECONOMICS = "economics"
    PERFORMANCE_GAP = "performance_gap"


#: Facts the engine derives from stated facts (advisor/engine.py), usable in conditions.
DERIVED_FACTS: tuple[str, ...] = (
    "eval_baseline_recorded",
    "gap_points",
    "gap_measured",
    "gap_significant",
    "baseline_misses_latency",
    "tco_decided",
    "tco_advantage_2x",
)
GATE_FACT_PREFIX = "gate."


class Citation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    doc_id: str
    quote: Annotated[str, Field(min_length=10)]


class Explain(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    pass_: str = Field(alias="pass")
    fail: str
    unknown: str


class NextStep(BaseModel):
    """What to do when a gate fails, in the articles' words where they give one."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    text: str
    citation: Citation


class Gate(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    topic: Topic
    title: str
    question: str
    questions: dict[str, str] = Field(default_factory=dict)
    condition: Condition
    explain: Explain
    citations: tuple[Citation, ...] = Field(min_length=1)
    next_step: NextStep


class Thresholds(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    min_labeled_examples: float
    min_prompt_weeks: float
    max_changes_per_year: float
    volume_pass_per_month: float
    volume_fail_below_per_month: float
    tco_advantage: float
    significant_gap_points: float


class Range(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    low: float
    high: float

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if not 0 < self.low <= self.high:
            raise ValueError("a range needs 0 < low <= high")
        return self


class CostFigures(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    fine_tuned_cost_reduction: Range
    hosting_per_month: Range
    tco_multiplier: Range
    labeling_per_example: Range
    engineering_weeks_per_cycle: Range
    citations: tuple[Citation, ...]


class Advice(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    title: str
    when: Condition | None = None
    unless: Condition | None = None
    text: str
    citations: tuple[Citation, ...] = Field(min_length=1)


class ViewItem(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    label: str
    quote: str
    condition: Condition


class View(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    doc_id: str
    title: str
    policy: Literal["ordered", "all"]
    quote: str
    items: tuple[ViewItem, ...] = Field(min_length=1)


class GatesFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    version: int
    thresholds: Thresholds
    gates: tuple[Gate, ...] = Field(min_length=1)
    costs: CostFigures
    advice: tuple[Advice, ...] = ()


class FrameworksFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    version: int
    views: tuple[View, ...] = ()


class RuleSet(BaseModel):
    """Everything the engine needs, validated, with a version that changes with the files."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    version: str
    thresholds: Thresholds
    gates: tuple[Gate, ...]
    costs: CostFigures
    advice: tuple[Advice, ...]
    views: tuple[View, ...]

    @model_validator(mode="after")
    def _consistent(self) -> RuleSet:
        topics = [g.topic for g in self.gates]
        if sorted(topics) != sorted(set(topics)) or set(topics) != set(Topic):
            raise ValueError("the gates must cover every topic exactly once")
        ids = [g.id for g in self.gates]
        if len(ids) != len(set(ids)):
            raise ValueError("gate ids must be unique")
        known = set(FACT_NAMES) | set(DERIVED_FACTS) | {GATE_FACT_PREFIX + t for t in Topic}
        conditions: list[tuple[str, Condition]] = [(g.id, g.condition) for g in self.gates]
        conditions += [(f"advice {a.id}", c) for a in self.advice for c in (a.when, a.unless) if c]
        conditions += [(f"view {v.id}/{i.id}", i.condition) for v in self.views for i in v.items]
        for where, condition in conditions:
            for compare in comparisons(condition):
                for name in (compare.fact, *compare.ask):
                    if name not in known:
                        raise ValueError(f"{where}: unknown fact {name!r}")
        for gate in self.gates:
            for name in gate.questions:
                if name not in known:
                    raise ValueError(f"gate {gate.id}: question for unknown fact {name!r}")
        return self

    def gate(self, topic: Topic | str) -> Gate:
        for gate in self.gates:
            if gate.topic == topic:
                return gate
        raise KeyError(topic)

    def citations(self) -> list[tuple[str, Citation]]:
        """Every citation in the rule set, with where it is used (for the verbatim test)."""
        out: list[tuple[str, Citation]] = []
        out += [(f"gate {g.id}", c) for g in self.gates for c in g.citations]
        out += [(f"gate {g.id} next step", g.next_step.citation) for g in self.gates]
        out += [("costs", c) for c in self.costs.citations]
        out += [(f"advice {a.id}", c) for a in self.advice for c in a.citations]
        for view in self.views:
            out.append((f"view {view.id}", Citation(doc_id=view.doc_id, quote=view.quote)))
            out += [
                (f"view {view.id}/{i.id}", Citation(doc_id=view.doc_id, quote=i.quote))
                for i in view.items
            ]
        return out


def _read_yaml(path: Path) -> object:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(
            f"Rule file {path} is missing.",
            hint="Restore it from the repository, or point ADVISOR_RULES_DIR at a folder with it.",
        ) from exc
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"Rule file {path} cannot be read: {exc}") from exc


def load_rules(rules_dir: Path | None = None) -> RuleSet:
    """Load and validate the rule set; raises :class:`ConfigError` naming the bad entry."""
    folder = Path(rules_dir) if rules_dir else DEFAULT_RULES_DIR
    gates_path, views_path = folder / "gates.yaml", folder / "frameworks.yaml"
    try:
        gates = GatesFile.model_validate(_read_yaml(gates_path))
    except ValidationError as exc:
        raise ConfigError(f"Rule file {gates_path} is invalid: {_first_error(exc)}") from exc
    try:
        views = FrameworksFile.model_validate(_read_yaml(views_path))
    except ValidationError as exc:
        raise ConfigError(f"Rule file {views_path} is invalid: {_first_error(exc)}") from exc
    digest = hashlib.sha256()
    for path in (gates_path, views_path):
        digest.update(path.read_bytes())
    try:
        return RuleSet(
            version=f"{gates.version}.{views.version}-{digest.hexdigest()[:10]}",
            thresholds=gates.thresholds,
            gates=gates.gates,
            costs=gates.costs,
            advice=gates.advice,
            views=views.views,
        )
    except ValidationError as exc:
        raise ConfigError(f"Rule set in {folder} is inconsistent: {_first_error(exc)}") from exc


@lru_cache(maxsize=4)
def default_rules() -> RuleSet:
    """The repository's rule set, loaded once per process."""
    return load_rules(DEFAULT_RULES_DIR)


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"])
    return f"{where}: {err['msg']}" if where else err["msg"]
