"""The gate engine: facts in, verdict, blockers, trace, views, advice and next question out.

:func:`assess` is a pure function of the facts and the rule set: no model, no clock, no
randomness. The same facts always give the same assessment.

Steps:

1. **Derive** the facts the gates need from the stated ones (:func:`derive`): the gap in
   points between the best prompt and the target, whether it is measured and significant,
   whether the current model misses a latency target, and the cost arithmetic
   (advisor/costs.py). When a fact is both stated and derivable, the later of the two wins,
   like any other statement.
2. **Evaluate** each gate's condition, three-valued (advisor/logic.py).
3. **Verdict** (DESIGN.md): ``not_yet`` if any gate fails, ``need_more_info`` if none fails
   and some are unknown, ``fine_tune`` only when all pass.
4. **Views**: each article's own framework evaluated over the same facts and gate outcomes.
5. **Advice** that never blocks (orchestration, caching and routing, hosted vs open model,
   distillation), shown when its condition holds.
6. **Next question** (:func:`rank_questions`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from advisor.costs import CostEstimate, estimate_costs
from advisor.facts import SPECS, FactRecord, Facts, FactValue
from advisor.logic import Condition, Evaluation, Truth, comparisons
from advisor.rules import (
    DERIVED_FACTS,
    GATE_FACT_PREFIX,
    Citation,
    Gate,
    RuleSet,
    Topic,
    View,
    default_rules,
)


class Verdict(StrEnum):
    FINE_TUNE = "fine_tune"
    NOT_YET = "not_yet"
    NEED_MORE_INFO = "need_more_info"


class Outcome(StrEnum):
    PASS = "pass"  # noqa: S105 - a gate outcome, not a password
    FAIL = "fail"
    UNKNOWN = "unknown"

    @classmethod
    def of(cls, truth: Truth) -> Outcome:
        return {Truth.TRUE: cls.PASS, Truth.FALSE: cls.FAIL}.get(truth, cls.UNKNOWN)


def verdict_of(outcomes: list[Outcome]) -> Verdict:
    """DESIGN.md's rule: any fail → not_yet; else any unknown → need_more_info."""
    if Outcome.FAIL in outcomes:
        return Verdict.NOT_YET
    if Outcome.UNKNOWN in outcomes:
        return Verdict.NEED_MORE_INFO
    return Verdict.FINE_TUNE


class DerivedFact(BaseModel):
    """A fact computed from stated ones, with the arithmetic that produced it."""

    model_config = ConfigDict(frozen=True)
    fact: str
    value: FactValue
    explanation: str
    inputs: tuple[str, ...] = ()
    turn: int = 0
    position: int = 0


class FactUse(BaseModel):
    """One fact that decided a gate: its value and where it came from."""

    model_config = ConfigDict(frozen=True)
    fact: str
    value: FactValue
    source: str
    turn: int
    quote: str = ""
    explanation: str = ""


class GateResult(BaseModel):
    model_config = ConfigDict(frozen=True)
    id: str
    topic: Topic
    title: str
    outcome: Outcome
    explanation: str
    deciding: tuple[FactUse, ...]
    open_facts: tuple[str, ...]
    question: str | None
    citations: tuple[Citation, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "topic": self.topic.value,
            "title": self.title,
            "outcome": self.outcome.value,
            "explanation": self.explanation,
            "citation": self.citations[0].model_dump(),
            "citations": [c.model_dump() for c in self.citations],
            "deciding_facts": [u.model_dump(exclude_defaults=True) for u in self.deciding],
            "open_facts": list(self.open_facts),
            "question": self.question,
        }


class Question(BaseModel):
    """What to ask next: ``fact`` is the most decisive unknown fact; ``facts`` every unknown
    fact the same question settles (the gate's other open facts), so an answer that gives
    several of them at once is read for all of them."""

    model_config = ConfigDict(frozen=True)
    fact: str
    facts: tuple[str, ...] = ()
    topic: Topic
    gate: str
    question: str
    why: str

    def to_json(self) -> dict[str, Any]:
        return {**self.model_dump(), "topic": self.topic.value}


class ViewItemResult(BaseModel):
    model_config = ConfigDict(frozen=True)
    id: str
    label: str
    outcome: Outcome
    quote: str
    reached: bool = True


class ViewResult(BaseModel):
    model_config = ConfigDict(frozen=True)
    id: str
    doc_id: str
    title: str
    policy: str
    quote: str
    verdict: Verdict
    items: tuple[ViewItemResult, ...]
    stopped_at: str | None = None


class AdviceResult(BaseModel):
    model_config = ConfigDict(frozen=True)
    id: str
    title: str
    text: str
    citations: tuple[Citation, ...]


class Assessment(BaseModel):
    """Everything the engine concluded: the one object replies, the CLI and exports use."""

    model_config = ConfigDict(frozen=True)
    verdict: Verdict
    blockers: tuple[Topic, ...]
    gates: tuple[GateResult, ...]
    next_question: Question | None
    open_questions: tuple[Question, ...]
    facts: Facts
    derived: dict[str, DerivedFact]
    views: tuple[ViewResult, ...]
    advice: tuple[AdviceResult, ...]
    costs: CostEstimate | None
    rules_version: str

    def gate(self, topic: Topic | str) -> GateResult:
        return next(g for g in self.gates if g.topic == topic)

    def to_json(self) -> dict[str, Any]:
        """The ``advisor assess --json`` object (DESIGN.md contract, plus the trace)."""
        return {
            "verdict": self.verdict.value,
            "blockers": [t.value for t in self.blockers],
            "facts": self.facts.to_json(),
            "unknown_facts": self.facts.unknown(),
            "derived": {k: v.model_dump(exclude={"position"}) for k, v in self.derived.items()},
            "gates": [g.to_json() for g in self.gates],
            "next_question": self.next_question.to_json() if self.next_question else None,
            "open_questions": [q.to_json() for q in self.open_questions],
            "views": [v.model_dump(mode="json") for v in self.views],
            "advice": [a.model_dump(mode="json") for a in self.advice],
            "costs": self.costs.model_dump(mode="json") if self.costs else None,
            "rules_version": self.rules_version,
        }


# --------------------------------------------------------------------------- derivation


def _later(a: tuple[int, int] | None, b: tuple[int, int] | None) -> bool:
    """Is ``a`` at least as late as ``b`` (``None`` = never stated)?"""
    return a is not None and (b is None or a >= b)


def derive(facts: Facts, rules: RuleSet) -> dict[str, DerivedFact]:
    """The derived facts (module doc, step 1), each with its explanation."""
    return _derive(facts, rules, _estimate(facts, rules))


def _estimate(facts: Facts, rules: RuleSet) -> CostEstimate | None:
    return estimate_costs(
        facts.values(),
        rules.costs,
        rules.thresholds,
        all_in_unknowable="fine_tuned_cost_all_in" in facts.not_known,
    )


def _derive(facts: Facts, rules: RuleSet, estimate: CostEstimate | None) -> dict[str, DerivedFact]:
    out: dict[str, DerivedFact] = {}
    rec = facts.records

    def when(*names: str) -> tuple[int, int] | None:
        stamps = [(rec[n].turn, rec[n].position) for n in names if n in rec]
        return max(stamps) if len(stamps) == len(names) else None

    def stated(name: str) -> DerivedFact | None:
        r = rec.get(name)
        if r is None:
            return None
        return DerivedFact(
            fact=name,
            value=r.value,
            explanation="stated",
            inputs=(name,),
            turn=r.turn,
            position=r.position,
        )

    def pick(name: str, computed: DerivedFact | None) -> None:
        """The later of the stated and the computed value; at the same turn and position the
        arithmetic wins, whoever stated the other (so the verdict stays monotone in what is
        known, and independent of provenance)."""
        said = stated(name)
        options = [o for o in (said, computed) if o is not None]
        if options:
            out[name] = max(options, key=lambda o: (o.turn, o.position, o is computed))

    base, target = facts.get("baseline_score_pct"), facts.get("target_score_pct")
    stamp = when("baseline_score_pct", "target_score_pct")
    gap_computed: DerivedFact | None = None
    measured_computed: DerivedFact | None = None
    if isinstance(base, int | float) and isinstance(target, int | float) and stamp:
        points = round(float(target) - float(base), 2)
        need = rules.thresholds.significant_gap_points
        arithmetic = f"target {target:g}% − best prompt {base:g}% = {points:g} points"
        out["gap_points"] = DerivedFact(
            fact="gap_points",
            value=points,
            explanation=arithmetic,
            inputs=("target_score_pct", "baseline_score_pct"),
            turn=stamp[0],
            position=stamp[1],
        )
        gap_computed = DerivedFact(
            fact="gap_significant",
            value=points >= need,
            explanation=f"{arithmetic} ({'at least' if points >= need else 'under'} {need:g})",
            inputs=("target_score_pct", "baseline_score_pct"),
            turn=stamp[0],
            position=stamp[1],
        )
        measured_computed = DerivedFact(
            fact="gap_measured",
            value=True,
            explanation="a baseline score and a target are both stated",
            inputs=("baseline_score_pct", "target_score_pct"),
            turn=stamp[0],
            position=stamp[1],
        )
    pick("gap_significant", gap_computed)
    pick("gap_measured", measured_computed)
    # a best-prompt score the team can quote is a recorded baseline ("best prompt sits at 74")
    base_stamp = when("baseline_score_pct")
    recorded_computed = (
        DerivedFact(
            fact="eval_baseline_recorded",
            value=True,
            explanation=f"the best prompt's score is stated ({base:g}%)",
            inputs=("baseline_score_pct",),
            turn=base_stamp[0],
            position=base_stamp[1],
        )
        if isinstance(base, int | float) and base_stamp
        else None
    )
    pick("eval_baseline_recorded", recorded_computed)

    latency_computed: DerivedFact | None = None
    sensitive = facts.get("latency_sensitive")
    need_ms, got_ms = facts.get("latency_target_ms"), facts.get("baseline_latency_ms")
    if sensitive is False and "latency_sensitive" in rec:
        r = rec["latency_sensitive"]
        latency_computed = DerivedFact(
            fact="baseline_misses_latency",
            value=False,
            explanation="latency does not matter for this task",
            inputs=("latency_sensitive",),
            turn=r.turn,
            position=r.position,
        )
    elif isinstance(need_ms, int | float) and isinstance(got_ms, int | float):
        s = when("latency_target_ms", "baseline_latency_ms") or (0, 0)
        misses = float(got_ms) > float(need_ms)
        latency_computed = DerivedFact(
            fact="baseline_misses_latency",
            value=misses,
            explanation=f"current {got_ms:g} ms {'>' if misses else '≤'} required {need_ms:g} ms",
            inputs=("baseline_latency_ms", "latency_target_ms"),
            turn=s[0],
            position=s[1],
        )
    pick("baseline_misses_latency", latency_computed)

    if estimate is not None and estimate.hinges_on_all_in:
        # neither settled nor unsettled: whether the estimate is all-in decides (costs.py)
        return out
    decided = estimate is not None and estimate.advantage_2x is not None
    out["tco_decided"] = DerivedFact(
        fact="tco_decided",
        value=decided,
        explanation=(
            "the cost figures settle the 2x rule"
            if decided
            else "no cost figures settle the 2x rule; the volume thresholds apply"
        ),
        inputs=("current_cost_per_month",),
    )
    out["tco_advantage_2x"] = DerivedFact(
        fact="tco_advantage_2x",
        value=bool(estimate is not None and estimate.advantage_2x),
        explanation=(
            " ".join(estimate.lines)
            if estimate is not None
            else "no cost figures given, so no 2x cost advantage is shown"
        ),
        inputs=("current_cost_per_month", "fine_tuned_cost_per_month"),
    )
    return out


def evaluation_values(facts: Facts, derived: Mapping[str, DerivedFact]) -> dict[str, object]:
    values: dict[str, object] = dict(facts.values())
    values.update({name: d.value for name, d in derived.items()})
    for name in DERIVED_FACTS:
        values.setdefault(name, None)
    return values


# --------------------------------------------------------------------------- evaluation


def _evaluate_gates(rules: RuleSet, values: Mapping[str, object]) -> list[tuple[Gate, Evaluation]]:
    return [(gate, gate.condition.evaluate(values)) for gate in rules.gates]


def _with_gate_facts(
    values: Mapping[str, object], results: list[tuple[Gate, Evaluation]]
) -> dict[str, object]:
    out = dict(values)
    for gate, ev in results:
        out[GATE_FACT_PREFIX + gate.topic.value] = {Truth.TRUE: True, Truth.FALSE: False}.get(
            ev.truth
        )
    return out


def _fact_use(name: str, facts: Facts, derived: Mapping[str, DerivedFact]) -> list[FactUse]:
    d = derived.get(name)
    if d is not None and d.explanation != "stated":
        uses = [
            FactUse(
                fact=name,
                value=d.value,
                source="derived",
                turn=d.turn,
                explanation=d.explanation,
            )
        ]
        for input_name in d.inputs:
            uses += _fact_use(input_name, facts, {})
        return uses
    record: FactRecord | None = facts.records.get(name)
    if record is None:
        return []
    return [
        FactUse(
            fact=name,
            value=record.value,
            source=record.source.value,
            turn=record.turn,
            quote=record.quote,
            explanation=record.note,
        )
    ]


def _question_for(gate: Gate, fact: str) -> str:
    return gate.questions.get(fact) or gate.question


#: One question asks for at most this many facts of its gate (one answer may settle all).
MAX_FACTS_PER_QUESTION = 3


def _facts_to_ask(
    gate: Gate,
    ask: str,
    values: Mapping[str, object],
    not_known: Collection[str],
    open_here: Mapping[str, Collection[str]],
) -> tuple[str, ...]:
    """``ask`` and the gate's other open facts the user has not said they do not know."""
    others = [
        f
        for f in gate.questions
        if f != ask
        and f in SPECS
        and values.get(f) is None
        and f not in not_known
        and f in open_here[gate.id]
    ]
    return (ask, *others)[:MAX_FACTS_PER_QUESTION]


def assess(facts: Facts, rules: RuleSet | None = None) -> Assessment:
    """The verdict and its full trace for ``facts`` (module doc)."""
    rules = rules or default_rules()
    estimate = _estimate(facts, rules)
    derived = _derive(facts, rules, estimate)
    values = evaluation_values(facts, derived)
    results = _evaluate_gates(rules, values)
    outcomes = [Outcome.of(ev.truth) for _, ev in results]
    verdict = verdict_of(outcomes)

    gate_results = []
    for (gate, ev), outcome in zip(results, outcomes, strict=True):
        deciding: list[FactUse] = []
        seen: set[str] = set()
        for name in sorted(ev.deciding, key=_fact_order):
            for use in _fact_use(name, facts, derived):
                if use.fact not in seen:
                    seen.add(use.fact)
                    deciding.append(use)
        open_facts = tuple(
            sorted((f for f in ev.open_facts if values.get(f) is None), key=_fact_order)
        )
        gate_results.append(
            GateResult(
                id=gate.id,
                topic=gate.topic,
                title=gate.title,
                outcome=outcome,
                explanation=getattr(
                    gate.explain, "pass_" if outcome is Outcome.PASS else outcome.value
                ),
                deciding=tuple(deciding),
                open_facts=open_facts,
                question=gate.question if outcome is Outcome.UNKNOWN else None,
                citations=gate.citations,
            )
        )

    questions = rank_questions(rules, values, results, not_known=set(facts.not_known))
    full_values = _with_gate_facts(values, results)
    return Assessment(
        verdict=verdict,
        blockers=tuple(
            g.topic for g, o in zip(rules.gates, outcomes, strict=True) if o is Outcome.FAIL
        ),
        gates=tuple(gate_results),
        next_question=questions[0] if verdict is Verdict.NEED_MORE_INFO and questions else None,
        open_questions=tuple(questions),
        facts=facts,
        derived={k: v for k, v in derived.items() if v.explanation != "stated"},
        views=tuple(_evaluate_view(view, full_values) for view in rules.views),
        advice=tuple(_advice(rules, full_values)),
        costs=estimate,
        rules_version=rules.version,
    )


def _evaluate_view(view: View, values: Mapping[str, object]) -> ViewResult:
    items: list[ViewItemResult] = []
    stopped_at: str | None = None
    for item in view.items:
        outcome = Outcome.of(item.condition.evaluate(values).truth)
        reached = stopped_at is None
        items.append(
            ViewItemResult(
                id=item.id, label=item.label, outcome=outcome, quote=item.quote, reached=reached
            )
        )
        if view.policy == "ordered" and outcome is Outcome.FAIL and stopped_at is None:
            stopped_at = item.id
    outcomes = [i.outcome for i in items if i.reached]
    return ViewResult(
        id=view.id,
        doc_id=view.doc_id,
        title=view.title,
        policy=view.policy,
        quote=view.quote,
        verdict=verdict_of(outcomes),
        items=tuple(items),
        stopped_at=stopped_at,
    )


def _advice(rules: RuleSet, values: Mapping[str, object]) -> list[AdviceResult]:
    shown = []
    for advice in rules.advice:
        if advice.when is not None and advice.when.evaluate(values).truth is not Truth.TRUE:
            continue
        if advice.unless is not None and advice.unless.evaluate(values).truth is Truth.TRUE:
            continue
        shown.append(
            AdviceResult(
                id=advice.id, title=advice.title, text=advice.text, citations=advice.citations
            )
        )
    return shown


# --------------------------------------------------------------------------- next question

#: Derived facts are asked about through the stated facts a person can answer: the first of
#: them that is still unknown.
ASK_INSTEAD: dict[str, tuple[str, ...]] = {
    "gap_measured": ("target_score_pct", "baseline_score_pct"),
    "gap_significant": ("target_score_pct", "baseline_score_pct"),
    "gap_points": ("target_score_pct", "baseline_score_pct"),
    "tco_decided": ("current_cost_per_month", "fine_tuned_cost_all_in"),
    "tco_advantage_2x": ("current_cost_per_month", "fine_tuned_cost_all_in"),
}


def _ask_about(fact: str, values: Mapping[str, object], not_known: Collection[str]) -> str | None:
    """The stated fact to ask for an unknown one (a derived fact is asked through what it is
    derived from); ``None`` when the user already said they do not know it."""
    options = [o for o in ASK_INSTEAD.get(fact, ()) if values.get(o) is None] + [fact]
    return next((o for o in options if o not in not_known), None)


def _probe_values(fact: str, conditions: list[Condition]) -> list[FactValue]:
    """Values worth trying for an unknown fact: both booleans, every choice, and each
    numeric threshold the rules test it against, just below, at and just above."""
    spec = SPECS.get(fact)
    if spec is None or spec.kind == "bool":
        return [True, False]  # booleans, and derived facts (all boolean)
    if spec.kind == "choice":
        return list(spec.choices)
    probes: set[float] = {0.0}
    for condition in conditions:
        for compare in comparisons(condition):
            if compare.fact != fact:
                continue
            for t in compare.thresholds():
                if isinstance(t, int | float) and not isinstance(t, bool):
                    step = max(abs(float(t)) * 1e-6, 1e-6)
                    probes.update({float(t) - step, float(t), float(t) + step})
    return [p for p in sorted(probes) if p >= 0]


#: Stated facts that gates see only through derived ones: an answer is tried through the
#: derived values it can produce (a cost figure settles the 2x rule either way).
_COST_SETTLES: tuple[dict[str, object], ...] = (
    {"tco_decided": True, "tco_advantage_2x": True},
    {"tco_decided": True, "tco_advantage_2x": False},
)
_DERIVED_TRIALS: dict[str, tuple[dict[str, object], ...]] = {
    "current_cost_per_month": _COST_SETTLES,
    # the estimate's range is wide until the fine-tuned side is known: its cost settles it
    "fine_tuned_cost_per_month": _COST_SETTLES,
    "hosting_cost_per_month": _COST_SETTLES,
    # unknown only while the estimate hinges on being all-in: the answer settles both
    "tco_advantage_2x": _COST_SETTLES,
    "tco_decided": _COST_SETTLES,
}


def _trials(fact: str, conditions: list[Condition]) -> list[dict[str, object]]:
    """The value sets worth trying for an unknown fact (see :func:`_probe_values`)."""
    trials: list[dict[str, object]] = [{fact: p} for p in _probe_values(fact, conditions)]
    for derived in _DERIVED_TRIALS.get(fact, ()):
        trials.append({fact: 1.0, **derived})
    return trials


def rank_questions(
    rules: RuleSet,
    values: Mapping[str, object],
    results: list[tuple[Gate, Evaluation]],
    *,
    not_known: Collection[str] = (),
) -> list[Question]:
    """The unknown facts that could still settle a gate, most decisive first.

    Ordering, for each unknown fact that an unknown gate is waiting on:

    1. **Verdicts it can reach on its own** (more first): every answer is tried (both
       booleans, each choice, each numeric threshold just below/at/above) and the verdict is
       recomputed. A fact that can flip the verdict either way (the last missing fact) beats
       one that can only end in ``not_yet``.
    2. **Gates it can settle on its own** (more first): a fact several gates wait on
       (e.g. how often the task changes: stability and the latency route to economics) is
       asked before a fact only one gate needs.
    3. **Gate order** in gates.yaml: Zalt's ordered framework (knowledge before prompting
       before evaluation ... data last), so the cheapest, most common blockers are asked
       about first, as the articles' own order of interventions does.
    4. **Fact order** within the gate (the order of the gate's ``questions``).

    Only gates whose outcome is unknown contribute: once a gate has failed, no answer can
    change the verdict from ``not_yet`` (Kleene evaluation is monotone in information), so
    the remaining questions are listed as open but not asked.

    A fact the user said they do not know (``not_known``) is never asked again: the question
    moves on to what else could settle the gate, and when nothing can, the verdict stays
    open with that fact named as what is missing.
    """
    gate_index = {gate.id: i for i, gate in enumerate(rules.gates)}
    conditions = [gate.condition for gate in rules.gates]
    current = verdict_of([Outcome.of(ev.truth) for _, ev in results])
    candidates: dict[str, Gate] = {}
    open_here: dict[str, set[str]] = {}
    for gate, ev in results:
        if ev.truth is not Truth.UNKNOWN:
            continue
        open_here[gate.id] = set(ev.open_facts) | {
            o for f in ev.open_facts for o in ASK_INSTEAD.get(f, ())
        }
        ordered = list(gate.questions) + sorted(ev.open_facts, key=_fact_order)
        for fact in ordered:
            if fact in ev.open_facts and values.get(fact) is None and fact not in candidates:
                candidates[fact] = gate

    scored: list[tuple[tuple[int, int, int, int], Question]] = []
    for fact, gate in candidates.items():
        reachable: set[Verdict] = set()
        settled = 0
        for trial_values in _trials(fact, conditions):
            trial = dict(values)
            trial.update(trial_values)
            trial_results = _evaluate_gates(rules, trial)
            trial_outcomes = [Outcome.of(ev.truth) for _, ev in trial_results]
            reachable.add(verdict_of(trial_outcomes))
            settled = max(
                settled,
                sum(
                    1
                    for (_, before), (_, after) in zip(results, trial_results, strict=True)
                    if before.truth is Truth.UNKNOWN and after.truth is not Truth.UNKNOWN
                ),
            )
        if settled == 0:
            continue
        ask = _ask_about(fact, values, not_known)
        if ask is None:
            continue
        order = list(gate.questions)
        fact_rank = order.index(ask) if ask in order else len(order)
        key = (-len(reachable - {current}), -settled, gate_index[gate.id], fact_rank)
        reach = ", ".join(sorted(v.value for v in reachable - {current})) or "no other verdict"
        scored.append(
            (
                key,
                Question(
                    fact=ask,
                    facts=(facts := _facts_to_ask(gate, ask, values, not_known, open_here)),
                    topic=gate.topic,
                    gate=gate.id,
                    question=" ".join(dict.fromkeys(_question_for(gate, f) for f in facts)),
                    why=f"settles {settled} gate{'s' if settled > 1 else ''}; can lead to {reach}",
                ),
            )
        )
    scored.sort(key=lambda item: item[0])
    seen: set[str] = set()
    questions: list[Question] = []
    for _, question in scored:
        if question.fact not in seen:
            seen.add(question.fact)
            questions.append(question)
    return questions


_ORDER = {name: i for i, name in enumerate(SPECS)}


def _fact_order(name: str) -> tuple[int, str]:
    return (_ORDER.get(name, len(_ORDER)), name)
