"""The facts of a team's situation, each with where it came from.

A fact is unknown until someone states it: unknown is ``None``, never ``False``. Every
known value is a :class:`FactRecord` that carries its provenance: the turn, the quoted
span of that turn, and who set it (the deterministic rules extractor, an LLM extractor,
or the user confirming or correcting it in the facts panel).

A conversation accumulates records in a :class:`FactLedger`; :meth:`FactLedger.resolve`
turns them into the current :class:`Facts` with one rule:

* a value the user confirmed or corrected wins over anything extracted (the latest such);
* otherwise the latest statement wins (a later turn beats an earlier one, and within a
  turn the later span beats the earlier one);
* at the same turn and position, the deterministic extractor beats the LLM extractor,
  because it can be audited against its rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class Source(StrEnum):
    """Who set a fact's value."""

    RULES = "rules"
    LLM = "llm"
    USER = "user"


_SOURCE_RANK = {Source.LLM: 0, Source.RULES: 1, Source.USER: 2}

MAX_QUOTE_CHARS = 300

FactValue = bool | int | float | str


class FactSpec(BaseModel):
    """What one fact means: its type, allowed values and a description for people and LLMs."""

    model_config = ConfigDict(frozen=True)
    name: str
    kind: Literal["bool", "number", "choice"]
    description: str
    unit: str = ""
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    #: Answers the reader reads for this fact, shown when a reply could not be read (each is
    #: checked by tests/test_reader.py to read as an answer to a question about the fact).
    forms: tuple[str, ...] = ()
    #: The fact this one says something about (whether *that estimate* is all-in): taking
    #: the other back takes this one back with it.
    qualifies: str = ""


#: The answers shown for a fact of each kind and unit, unless its spec names its own.
_FORMS: dict[str, tuple[str, ...]] = {
    "bool": ("yes", "no", "not sure"),
    "weeks": ("about three weeks", "two months", "none yet"),
    "%": ("82", "0.82 F1", "82%"),
    "examples": ("about 4,000", "12k", "none"),
    "changes/year": ("twice a year", "every quarter", "never"),
    "requests/month": ("50k a day", "1.5M a month"),
    "ms": ("300 ms", "2 seconds"),
    "USD/month": ("$3,000 a month", "$40k a year"),
    "USD/call": ("2 cents a call", "$0.002 per request"),
}


def _spec(
    name: str, kind: Literal["bool", "number", "choice"], description: str, **kw: Any
) -> FactSpec:
    if "forms" not in kw:
        choices: tuple[str, ...] = kw.get("choices", ())
        kw["forms"] = (*choices, "not sure") if choices else _FORMS[kw.get("unit") or kind]
    return FactSpec(name=name, kind=kind, description=description, **kw)


# The table of facts the gates reason over. Order is the order facts are shown in.
FACT_SPECS: tuple[FactSpec, ...] = (
    _spec(
        "need_type",
        "choice",
        "Is the need knowledge (the model should know or look up facts) or behaviour "
        "(format, style, classification, extraction, judgement)?",
        choices=("knowledge", "behavior"),
    ),
    _spec(
        "needs_external_knowledge",
        "bool",
        "Does the task need facts or context beyond the input it is given?",
    ),
    _spec(
        "tacit_expertise",
        "bool",
        "Does the task rest on judgement experts cannot write down as rules?",
    ),
    _spec("retrieval_in_place", "bool", "Is retrieval (RAG) over the needed knowledge in place?"),
    _spec(
        "prompt_effort_weeks",
        "number",
        "How long the team has worked systematically on the prompt.",
        unit="weeks",
        minimum=0,
        maximum=520,
    ),
    _spec("few_shot_used", "bool", "Does the prompt include few-shot examples?"),
    _spec(
        "structured_outputs_used",
        "bool",
        "Are structured outputs used (JSON mode, function calling, constrained decoding)?",
    ),
    _spec("eval_automated", "bool", "Is there an automated evaluation harness?"),
    _spec(
        "eval_baseline_recorded",
        "bool",
        "Has a baseline score of the current best prompt been recorded on it?",
    ),
    _spec(
        "baseline_score_pct",
        "number",
        "Quality of the current best setup on the eval, as a percentage.",
        unit="%",
        minimum=0,
        maximum=100,
    ),
    _spec(
        "target_score_pct",
        "number",
        "Quality the task needs, as a percentage.",
        unit="%",
        minimum=0,
        maximum=100,
    ),
    _spec("gap_measured", "bool", "Has the gap between current quality and target been measured?"),
    _spec(
        "gap_significant",
        "bool",
        "Is the gap between the best prompt and the target large (not a few edge cases)?",
    ),
    _spec(
        "quality_plateaued",
        "bool",
        "Has quality plateaued despite disciplined prompt and eval work?",
    ),
    _spec(
        "labeled_examples",
        "number",
        "How many labeled examples the team has.",
        unit="examples",
        minimum=0,
        maximum=1e9,
    ),
    _spec(
        "examples_human_reviewed",
        "bool",
        "Were the labeled examples reviewed by people (not scraped, generated or unaudited)?",
    ),
    _spec(
        "task_changes_per_year",
        "number",
        "How often the task (labels, schema, rules, format) changes.",
        unit="changes/year",
        minimum=0,
        maximum=10_000,
    ),
    _spec("task_narrow", "bool", "Is the task narrow and well defined (not general reasoning)?"),
    _spec(
        "monthly_volume",
        "number",
        "Requests per month the task serves.",
        unit="requests/month",
        minimum=0,
        maximum=1e13,
    ),
    _spec("latency_sensitive", "bool", "Does anyone wait on the answer (latency matters)?"),
    _spec(
        "latency_target_ms",
        "number",
        "The latency the task must meet.",
        unit="ms",
        minimum=0,
        maximum=3.6e6,
    ),
    _spec(
        "baseline_latency_ms",
        "number",
        "The latency the current model achieves.",
        unit="ms",
        minimum=0,
        maximum=3.6e6,
    ),
    _spec(
        "baseline_misses_latency",
        "bool",
        "Does the current model miss a hard latency requirement?",
    ),
    _spec(
        "strict_format_need",
        "bool",
        "Must the output follow a strict format, schema or style prompts cannot enforce?",
    ),
    _spec(
        "current_cost_per_month",
        "number",
        "What the current model costs per month to run on this task.",
        unit="USD/month",
        minimum=0,
        maximum=1e12,
    ),
    _spec(
        "current_cost_per_call",
        "number",
        "What one call to the current model costs.",
        unit="USD/call",
        minimum=0,
        maximum=1e6,
    ),
    _spec(
        "fine_tuned_cost_per_month",
        "number",
        "Estimated inference cost per month of the fine-tuned model.",
        unit="USD/month",
        minimum=0,
        maximum=1e12,
    ),
    _spec(
        "fine_tuned_cost_all_in",
        "bool",
        "Does that fine-tuned estimate already include hosting, retraining, labeling and "
        "engineering (a total cost of ownership)?",
        qualifies="fine_tuned_cost_per_month",
    ),
    _spec(
        "hosting_cost_per_month",
        "number",
        "Hosting cost per month for a fine-tuned model.",
        unit="USD/month",
        minimum=0,
        maximum=1e12,
    ),
    _spec(
        "gap_cost_per_month",
        "number",
        "What the quality gap costs per month (rework, misroutes, lost revenue).",
        unit="USD/month",
        minimum=0,
        maximum=1e12,
    ),
    _spec(
        "orchestration_in_place",
        "bool",
        "Are retries, fallbacks and model routing in place?",
    ),
    _spec("cost_controls_in_place", "bool", "Are caching and routing to cheaper models in place?"),
    _spec("privacy_sensitive", "bool", "Do privacy or on-premises requirements apply?"),
)

SPECS: Mapping[str, FactSpec] = {spec.name: spec for spec in FACT_SPECS}
FACT_NAMES: tuple[str, ...] = tuple(SPECS)


def coerce_value(name: str, value: object) -> FactValue:
    """Check ``value`` against the fact's spec; raise ``ValueError`` with a readable reason."""
    spec = SPECS.get(name)
    if spec is None:
        raise ValueError(f"unknown fact {name!r}")
    if spec.kind == "bool":
        if isinstance(value, bool):
            return value
        raise ValueError(f"{name} must be true or false")
    if spec.kind == "choice":
        if isinstance(value, str) and value in spec.choices:
            return value
        raise ValueError(f"{name} must be one of {', '.join(spec.choices)}")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number")
    number = float(value)
    if number != number or number in (float("inf"), float("-inf")):
        raise ValueError(f"{name} must be a finite number")
    if spec.minimum is not None and number < spec.minimum:
        raise ValueError(f"{name} must be at least {spec.minimum:g}")
    if spec.maximum is not None and number > spec.maximum:
        raise ValueError(f"{name} must be at most {spec.maximum:g}")
    return int(number) if number.is_integer() and abs(number) < 2**53 else number


class FactRecord(BaseModel):
    """One statement of one fact: the value, and where it came from."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    fact: str
    value: FactValue
    source: Source
    turn: Annotated[int, Field(ge=0)]
    quote: Annotated[str, Field(max_length=MAX_QUOTE_CHARS)] = ""
    position: Annotated[int, Field(ge=0)] = 0
    note: Annotated[str, Field(max_length=300)] = ""

    @model_validator(mode="after")
    def _valid_value(self) -> FactRecord:
        coerced = coerce_value(self.fact, self.value)
        if coerced != self.value or type(coerced) is not type(self.value):
            object.__setattr__(self, "value", coerced)
        return self

    def sort_key(self) -> tuple[int, int, int, int]:
        user = 1 if self.source is Source.USER else 0
        return (user, self.turn, self.position, _SOURCE_RANK[self.source])


def make_record(
    fact: str,
    value: object,
    *,
    source: Source,
    turn: int,
    quote: str = "",
    position: int = 0,
    note: str = "",
) -> FactRecord | None:
    """Build a record, or ``None`` when the value does not fit the fact (never raises)."""
    try:
        return FactRecord(
            fact=fact,
            value=value,
            source=source,
            turn=turn,
            quote=quote[:MAX_QUOTE_CHARS],
            position=position,
            note=note[:300],
        )
    except (ValidationError, ValueError):
        return None


class NotKnown(BaseModel):
    """A statement that a fact is not known: the user was asked and did not know, hedged
    ("I believe someone might have"), or withdrew an earlier value ("scratch the 800 figure").

    It clears an earlier value of the fact and tells the engine not to ask for it again."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    fact: str
    turn: Annotated[int, Field(ge=0)]
    quote: Annotated[str, Field(max_length=MAX_QUOTE_CHARS)] = ""
    position: Annotated[int, Field(ge=0)] = 0
    reason: Literal["not_known", "withdrawn"] = "not_known"

    @model_validator(mode="after")
    def _known_fact(self) -> NotKnown:
        if self.fact not in SPECS:
            raise ValueError(f"unknown fact {self.fact!r}")
        return self

    def sort_key(self) -> tuple[int, int, int, int]:
        return (0, self.turn, self.position, _SOURCE_RANK[Source.RULES])


class Facts(BaseModel):
    """The current value of every fact (``None`` = unknown) and the record that set it.

    ``not_known`` holds the facts the user said they do not know (or withdrew) and has not
    stated since: still unknown, but not to be asked again."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    records: dict[str, FactRecord] = Field(default_factory=dict)
    not_known: dict[str, NotKnown] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _keys_match(self) -> Facts:
        for name, record in self.records.items():
            if name != record.fact or name not in SPECS:
                raise ValueError(f"record for {record.fact!r} filed under {name!r}")
        return self

    @classmethod
    def from_values(
        cls, values: Mapping[str, object], *, source: Source = Source.USER, turn: int = 0
    ) -> Facts:
        """Facts from plain values (tests, imports); raises ``ValueError`` on a bad value."""
        records = {}
        for name, value in values.items():
            if value is None:
                continue
            records[name] = FactRecord(
                fact=name,
                value=coerce_value(name, value),
                source=source,
                turn=turn,
            )
        return cls(records=records)

    def get(self, name: str) -> FactValue | None:
        record = self.records.get(name)
        return None if record is None else record.value

    def values(self) -> dict[str, FactValue | None]:
        """Every fact by name, ``None`` for unknown: what the conditions evaluate over."""
        return {name: self.get(name) for name in FACT_NAMES}

    def known(self) -> dict[str, FactValue]:
        return {name: r.value for name, r in self.records.items()}

    def unknown(self) -> list[str]:
        return [name for name in FACT_NAMES if name not in self.records]

    def to_json(self) -> dict[str, Any]:
        return {
            name: {
                "value": self.records[name].value,
                "source": self.records[name].source.value,
                "turn": self.records[name].turn,
                "quote": self.records[name].quote,
                **({"note": self.records[name].note} if self.records[name].note else {}),
            }
            for name in FACT_NAMES
            if name in self.records
        }


class FactLedger(BaseModel):
    """Every statement of every fact in a conversation, in the order they were made."""

    model_config = ConfigDict(extra="forbid")
    records: list[FactRecord] = Field(default_factory=list)
    not_known: list[NotKnown] = Field(default_factory=list)

    def add(self, records: Iterable[FactRecord | NotKnown]) -> None:
        for record in records:
            if isinstance(record, NotKnown):
                self.not_known.append(record)
            else:
                self.records.append(record)

    def confirm(self, fact: str, value: object, *, turn: int, note: str = "") -> FactRecord:
        """Record a user's confirmation or correction; raises ``ValueError`` on a bad value."""
        record = FactRecord(
            fact=fact,
            value=coerce_value(fact, value),
            source=Source.USER,
            turn=turn,
            quote="",
            note=note or "set by the user",
        )
        self.records.append(record)
        return record

    def resolve(self) -> Facts:
        """The current facts: user-confirmed wins, then the latest statement (module doc)."""
        best: dict[str, FactRecord] = {}
        for record in self.records:
            current = best.get(record.fact)
            if current is None or record.sort_key() >= current.sort_key():
                best[record.fact] = record
        unknown: dict[str, NotKnown] = {}
        for statement in self.not_known:
            value = best.get(statement.fact)
            if value is not None and value.sort_key() > statement.sort_key():
                continue  # stated (or set by the user) since
            best.pop(statement.fact, None)
            unknown[statement.fact] = statement
        return Facts(
            records={name: best[name] for name in FACT_NAMES if name in best},
            not_known={name: unknown[name] for name in FACT_NAMES if name in unknown},
        )

    def history(self, fact: str) -> list[FactRecord]:
        return [r for r in self.records if r.fact == fact]
