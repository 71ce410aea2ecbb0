"""The cost calculator: Zalt's "run the math", with the articles' own figures.

When the conversation gives what the current model costs (per month, per day, or per call
together with a volume), the calculator compares it with the total cost of ownership of a
fine-tuned model, as a range:

* fine-tuned inference: the stated estimate, or the current cost divided by 10 to 50
  ("drop per-token cost by 10x-50x");
* hosting: the stated figure, or $500 to $5,000 a month when the fine-tuned estimate was not
  given (a stated fine-tuned estimate is taken to include serving);
* total cost of ownership: that compute times 3 to 5 ("3-5x the naive compute-only
  estimate"), which is where labeling, evaluation, maintenance and the 4-8 engineer-weeks
  per retraining cycle go.

The 2x rule is then three-valued: fine-tuning wins when even the pessimistic ratio is at
least 2, loses when even the optimistic ratio is below 2, and is undecided in between (the
economics gate then falls back to the volume thresholds). Every step is written out in
``lines`` so the trace shows the arithmetic.

A stated fine-tuned estimate is read as compute only (the 3-5x applies) unless it is said to
be all-in. When that reading alone decides the 2x rule against fine-tuning and the user has
not said either way, the estimate is ``hinges_on_all_in``: the question to ask is whether
the figure is all-in, not a verdict from an assumption (a user who does not know gets the
compute-only reading).
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict

from advisor.rules import CostFigures, Thresholds


class CostEstimate(BaseModel):
    """The arithmetic behind the economics gate, for the trace."""

    model_config = ConfigDict(frozen=True)
    current_per_month: float
    fine_tuned_tco_low: float
    fine_tuned_tco_high: float
    ratio_pessimistic: float
    ratio_optimistic: float
    advantage_2x: bool | None
    lines: tuple[str, ...]
    #: the 2x rule goes one way if the stated estimate is all-in and the other if not
    hinges_on_all_in: bool = False


def usd(amount: float) -> str:
    return f"${amount:,.0f}" if amount >= 100 else f"${amount:,.2f}"


def estimate_costs(
    values: Mapping[str, object],
    figures: CostFigures,
    thresholds: Thresholds,
    *,
    all_in_unknowable: bool = False,
) -> CostEstimate | None:
    """The cost comparison, or ``None`` when the conversation gives no current cost.

    ``all_in_unknowable``: the user said they do not know whether the fine-tuned estimate is
    all-in, so it is read as compute only without asking (module doc)."""
    lines: list[str] = []
    current = _number(values.get("current_cost_per_month"))
    per_call = _number(values.get("current_cost_per_call"))
    volume = _number(values.get("monthly_volume"))
    if current is not None:
        lines.append(f"Current model: {usd(current)}/month (stated).")
    elif per_call is not None and volume is not None:
        current = per_call * volume
        lines.append(
            f"Current model: {usd(per_call)}/call × {volume:,.0f} calls/month "
            f"= {usd(current)}/month."
        )
    else:
        return None
    if current <= 0:
        return None

    stated_ft = _number(values.get("fine_tuned_cost_per_month"))
    stated_hosting = _number(values.get("hosting_cost_per_month"))
    all_in = values.get("fine_tuned_cost_all_in") is True
    reduction = figures.fine_tuned_cost_reduction
    if stated_ft is not None:
        ft_low = ft_high = stated_ft
        lines.append(f"Fine-tuned inference: {usd(stated_ft)}/month (stated).")
    else:
        ft_low, ft_high = current / reduction.high, current / reduction.low
        lines.append(
            f"Fine-tuned inference: {usd(current)} ÷ {reduction.high:g} to ÷ {reduction.low:g} "
            f"= {usd(ft_low)} to {usd(ft_high)}/month (10x-50x cheaper per token)."
        )
    if stated_hosting is not None:
        host_low = host_high = stated_hosting
        lines.append(f"Hosting: {usd(stated_hosting)}/month (stated).")
    elif stated_ft is not None:
        host_low = host_high = 0.0
        lines.append("Hosting: taken to be included in the fine-tuned estimate you gave.")
    else:
        host_low, host_high = figures.hosting_per_month.low, figures.hosting_per_month.high
        lines.append(f"Hosting: {usd(host_low)} to {usd(host_high)}/month.")
    mult = figures.tco_multiplier
    if all_in and stated_ft is not None:
        tco_low = tco_high = stated_ft
        lines[-1] = "Hosting: included in the all-in estimate you gave."
        lines.append(
            f"Fine-tuned total cost of ownership: {usd(stated_ft)}/month (stated all-in: "
            "hosting, retraining, labeling and engineering included)."
        )
        return _conclude(current, tco_low, tco_high, thresholds, lines)
    tco_low = (ft_low + host_low) * mult.low
    tco_high = (ft_high + host_high) * mult.high
    lines.append(
        f"Fine-tuned total cost of ownership: ({usd(ft_low)} + {usd(host_low)}) × {mult.low:g} "
        f"= {usd(tco_low)} to ({usd(ft_high)} + {usd(host_high)}) × {mult.high:g} "
        f"= {usd(tco_high)}/month (3-5x the compute-only estimate: labeling, evals, "
        f"{figures.engineering_weeks_per_cycle.low:g}-{figures.engineering_weeks_per_cycle.high:g}"
        " engineer-weeks per retraining cycle)."
    )
    estimate = _conclude(current, tco_low, tco_high, thresholds, lines)
    said_either_way = values.get("fine_tuned_cost_all_in") is not None
    if stated_ft is None or said_either_way or all_in_unknowable or estimate.advantage_2x:
        return estimate
    as_all_in = current / (stated_ft + (stated_hosting or 0.0)) if stated_ft > 0 else float("inf")
    if as_all_in < thresholds.tco_advantage:
        return estimate
    return estimate.model_copy(
        update={
            "advantage_2x": None,
            "hinges_on_all_in": True,
            "lines": (
                *estimate.lines,
                f"If {usd(stated_ft)}/month is all-in, the ratio is {_ratio(as_all_in)}: "
                f"whether the estimate is all-in decides the {thresholds.tco_advantage:g}x rule.",
            ),
        }
    )


def _conclude(
    current: float, tco_low: float, tco_high: float, thresholds: Thresholds, lines: list[str]
) -> CostEstimate:
    """Apply the 2x rule, three-valued, to the range of fine-tuned costs."""
    optimistic = current / tco_low if tco_low > 0 else float("inf")
    pessimistic = current / tco_high if tco_high > 0 else float("inf")
    need = thresholds.tco_advantage
    if pessimistic >= need:
        advantage: bool | None = True
        verdict = f"fine-tuning wins by at least {need:g}x even in the pessimistic case"
    elif optimistic < need:
        advantage = False
        verdict = f"fine-tuning does not win by {need:g}x even in the optimistic case"
    else:
        advantage = None
        verdict = f"the {need:g}x rule is not settled by these figures"
    lines.append(
        f"Ratio current ÷ fine-tuned: {_ratio(pessimistic)} (pessimistic) to "
        f"{_ratio(optimistic)} (optimistic): {verdict}."
    )
    return CostEstimate(
        current_per_month=current,
        fine_tuned_tco_low=tco_low,
        fine_tuned_tco_high=tco_high,
        ratio_pessimistic=pessimistic,
        ratio_optimistic=optimistic,
        advantage_2x=advantage,
        lines=tuple(lines),
    )


def labeling_cost(missing_examples: float, figures: CostFigures) -> tuple[float, float]:
    """One-off cost of labeling ``missing_examples`` at $5-$20 per example."""
    rate = figures.labeling_per_example
    return missing_examples * rate.low, missing_examples * rate.high


def _ratio(value: float) -> str:
    return "∞" if value == float("inf") else f"{value:.2f}x"


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
