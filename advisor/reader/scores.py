"""Quality scores as people write them: "baseline 82, target 95", "a 71 now, we need 84",
"0.79 macro-F1 ... we need 0.88", "79 -> 90", "68 vs 82".

A bare number is a score only in a sentence about evaluation, only when nothing but a metric
name or a word like "now" or "needed" follows it ("60 intents", "5 weeks" are not scores),
and only when it fits a 0-100 scale (0.79 reads as 79). Which of two is the target comes
from the words around each; failing that, the first is where they are and the second where
they want to be.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from advisor.reader.numbers import Quantity, quantities

#: The sentence talks about measured quality.
SCORE_CONTEXT = re.compile(
    r"\b(?:baseline|target|scor\w*|accuracy|acc|f1|f-1|macro|micro|precision|recall|agreement|"
    r"exact[- ]match|auc|bleu|rouge|evals?|evaluat\w*|harness|benchmark|pass(?:es)? rate|"
    r"hit rate|kappa|quality|sign(?:s|ed)? off|or (?:better|higher|above)|best prompt)\b",
    re.IGNORECASE,
)
#: Words that may follow a bare score: metric names, "now", "needed", joining words.
_AFTER_SCORE = frozenset(
    {
        *("", "now", "today", "currently", "needed", "required", "target", "baseline", "vs"),
        *("versus", "to", "and", "or", "on", "with", "at", "recorded", "logged", "measured"),
        *("is", "was", "we", "but", "so", "before", "from", "in", "both", "which", "after"),
        *("f1", "macro-f1", "micro-f1", "macro", "micro", "accuracy", "acc", "precision"),
        *("recall", "em", "exact", "agreement", "auc", "bleu", "rouge", "score", "kappa"),
        *("overall", "right", "correct", "points", "pts", "ish", "or"),
    }
)
_TARGET_BEFORE = re.compile(
    r"(?:target(?:ing|ed|s)?|need(?:s|ed)?(?: to (?:hit|get to|reach|be at))?|goal|"
    r"aim(?:ing)?(?: for)?|"
    r"want(?:s|ed)?(?: to (?:hit|reach|get to))?|bar(?: is)?|require[sd]?|must (?:hit|reach|be)|"
    r"should (?:hit|reach|be)|->|→|=>|up to|get (?:it )?to|reach|hit|over)\W*(?:\w+\W+){0,2}$",
    re.IGNORECASE,
)
#: "84 needed", "95 or better"; but not "82, target 95" (that target word is the next one's)
_TARGET_AFTER = re.compile(
    r"^\W*(?:needed|required|(?:target|goal)(?!\W*(?:is |of |at |=|:)?\W*\d)|to ship|to launch|"
    r"or (?:better|higher|above|more))\b",
    re.I,
)
_BASELINE_BEFORE = re.compile(
    r"(?:baseline|currently|current(?:ly)?|today|now|gets?|getting|got|hits?|hitting|sits?|"
    r"sitting|stuck|lands?|landing|at|scores?|scoring|we'?re|is|are|best prompt)"
    r"\W*(?:\w+\W+){0,2}$",
    re.IGNORECASE,
)
_BASELINE_AFTER = re.compile(r"^\W*(?:now|today|currently|at the moment|right now)\b", re.I)


@dataclass(frozen=True)
class Score:
    fact: str  # baseline_score_pct or target_score_pct
    value: float
    start: int


def _as_score(q: Quantity) -> float | None:
    if q.kind not in ("count", "percent", "score") or q.period or q.bound:
        return None
    if q.kind == "count" and q.unit not in _AFTER_SCORE:
        return None
    value = q.value
    if q.kind != "percent" and 0 < value < 1:
        value *= 100
    return value if 1 <= value <= 100 else None


def scores(text: str) -> list[Score]:
    """The baseline and target scores one normalised sentence states, if it is about
    evaluation."""
    found = [(q, v) for q in quantities(text) if (v := _as_score(q)) is not None]
    if not SCORE_CONTEXT.search(text):
        # no word about evaluation: only a percentage said to be where they are or want to be
        found = [
            (q, v)
            for q, v in found
            if q.kind == "percent"
            and not re.match(r"\s*(?:of|percent of)\b", text[q.end :], re.I)
            and (
                _BASELINE_BEFORE.search(text[max(0, q.start - 30) : q.start])
                or _TARGET_BEFORE.search(text[max(0, q.start - 30) : q.start])
            )
        ]
    if not found:
        return []
    roles: list[str | None] = []
    previous_end = 0
    for q, _ in found:
        # the words since the previous score only: "baseline 68 vs 82" - 82 is not a baseline
        before = text[max(previous_end, q.start - 30) : q.start]
        previous_end = q.end
        after = text[q.end : q.end + 20]
        if _TARGET_BEFORE.search(before) or _TARGET_AFTER.match(after):
            roles.append("target_score_pct")
        elif _BASELINE_BEFORE.search(before) or _BASELINE_AFTER.match(after):
            roles.append("baseline_score_pct")
        else:
            roles.append(None)
    if len(found) >= 2:
        # "84 vs 92", "79 -> 90": where they are, then where they want to be
        first, second = roles[0], roles[1]
        if first is None and second != "baseline_score_pct":
            roles[0] = "baseline_score_pct"
        if roles[1] is None and roles[0] == "baseline_score_pct":
            roles[1] = "target_score_pct"
        if roles[0] == roles[1] == "baseline_score_pct" and second is None:
            roles[1] = "target_score_pct"
    elif roles[0] is None and re.search(r"\bbaseline\b", text, re.I):
        roles[0] = "baseline_score_pct"
    out: list[Score] = []
    seen: set[str] = set()
    for (q, value), role in zip(found, roles, strict=True):
        if role is None or role in seen:
            continue
        seen.add(role)
        out.append(Score(role, value, q.start))
    return out
