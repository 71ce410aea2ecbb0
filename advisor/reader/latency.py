"""Latency as people write it: "need 200ms, we get ~700ms", "has to be under 800 ms, right
now it's about 2.5 s", "the SLA is 300 ms at p95".

A duration in milliseconds or seconds is the target when the words before it set a limit
(need, SLA, budget, under, at most) and the current latency when they describe today (now,
currently, we get, it takes, sits at).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from advisor.reader.numbers import quantities

_TARGET_BEFORE = re.compile(
    r"(?:need(?:s|ed)?|sla|slo|budget|target|limit|requirement|required|must|has to|have to|"
    r"should|under|below|within|less than|at most|max(?:imum)?|no more than|sub|ceiling|goal)"
    r"\W*(?:\w+\W+){0,3}$",
    re.IGNORECASE,
)
_BASELINE_BEFORE = re.compile(
    r"(?:now|currently|current(?:ly)?|today|we get|we'?re getting|getting|gets|takes?|taking|"
    r"sits?|sitting|averages?|runs? at|is at|comes? in at|p50|p9\d|at the moment|actual(?:ly)?|"
    r"down to|dropped to|it'?s|we'?re at)"
    r"\W*(?:\w+\W+){0,3}$",
    re.IGNORECASE,
)
#: "a hard 1s SLA", "800 ms budget": the limit named after the figure
_TARGET_AFTER = re.compile(
    r"^\s*(?:hard |strict )?(?:sla|slo|budget|target|limit|requirement|cap|ceiling|max(?:imum)?)\b",
    re.IGNORECASE,
)
_SET_ASIDE = re.compile(
    r"^\s*(?:was|used to be|were)\s+(?:the |our )?(?:old|previous|original|earlier|former)\b",
    re.IGNORECASE,
)
_LATENCY_CONTEXT = re.compile(
    r"\b(?:latency|respon\w*|fast|slow|wait\w*|sla|slo|p50|p9\d|ms|millisec\w*|seconds?|"
    r"real[- ]?time)\b|\d\s?(?:ms|s)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Latency:
    fact: str  # latency_target_ms or baseline_latency_ms
    ms: float
    start: int


def latencies(text: str) -> list[Latency]:
    """The target and current latency one normalised sentence states."""
    if not _LATENCY_CONTEXT.search(text):
        return []
    out: list[Latency] = []
    seen: set[str] = set()
    previous_end = 0
    for q in quantities(text):
        if q.kind != "latency":
            continue
        ms = q.milliseconds()
        before = text[max(previous_end, q.start - 40) : q.start]
        previous_end = q.end
        if ms is None or ms <= 0:
            continue
        if _SET_ASIDE.match(text[q.end :]) or re.search(r"\bif\b[^,;.]*$", before, re.I):
            continue  # "1s was the old SLA", "it doesn't matter if it takes ten minutes"
        if (
            q.bound == "at_most"
            or _TARGET_BEFORE.search(before)
            or _TARGET_AFTER.match(text[q.end :])
        ):
            fact = "latency_target_ms"
        elif _BASELINE_BEFORE.search(before):
            fact = "baseline_latency_ms"
        else:
            continue
        if fact not in seen:
            seen.add(fact)
            out.append(Latency(fact, ms, q.start))
    return out
