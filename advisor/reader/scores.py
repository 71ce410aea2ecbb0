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
        *("overall", "right", "correct", "points", "pts", "ish", "or", "not", "instead"),
        *("rather", "last", "this", "yesterday", "already", "tops", "max", "at"),
        *("minimum", "min", "floor", "field-level", "token-level", "for"),
    }
)
#: "81 field accuracy", "0.74 token-level F1": a qualifier word, then the metric
_METRIC_NEXT = re.compile(
    r"^\s+[\w-]+\s+(?:accuracy|acc|f1|f-1|exact[- ]match|precision|recall|agreement|auc|bleu|"
    r"rouge|kappa|score)\b",
    re.IGNORECASE,
)
_TARGET_BEFORE = re.compile(
    r"(?:target(?:ing|ed|s)?|need(?:s|ed)?(?: to (?:hit|get to|reach|be at))?|goal|"
    r"aim(?:ing)?(?: for)?|"
    r"want(?:s|ed)?(?: to (?:hit|reach|get to))?|bar(?: is)?|require[sd]?|must (?:hit|reach|be)|"
    r"should (?:hit|reach|be)|->|→|=>|up to|get (?:it )?to|reach|hit|over|happy (?:at|with)|"
    r"satisfied (?:at|with)|settle for|good enough at|fine at)\W*(?:\w+\W+){0,2}$",
    re.IGNORECASE,
)
#: "84 needed", "95 or better"; but not "82, target 95" (that target word is the next one's)
_TARGET_AFTER = re.compile(
    r"^\W*(?:needed|required|(?:target|goal)(?!\W*(?:is |of |at |=|:)?\W*\d)|to ship|to launch|"
    r"is (?:the|our|their) (?:bar|target|goal|floor|minimum|threshold|cut-?off)|"
    r"or (?:better|higher|above|more))\b",
    re.I,
)
_BASELINE_BEFORE = re.compile(
    r"(?:baseline|currently|current(?:ly)?|today|now|gets?|getting|got|hits?|hitting|sits?|"
    r"sitting|stuck|lands?|landing|at|scores?|scoring|we'?re|is|are|best prompt)"
    r"\W*(?:\w+\W+){0,2}$",
    re.IGNORECASE,
)
#: "baseline is 78 not 87", "82 instead of 88": the second is the figure set aside
_STRUCK_OUT = re.compile(r"\b(?:not|instead of|rather than|no longer)\W*$", re.I)
#: "15 points short", "6 pts below target": a difference, not a score
_DIFFERENCE = re.compile(
    r"^\s*(?:%|percent|points?|pts|percentage points?|pp)?\s*(?:short|below|behind|off|under|"
    r"away|shy|lower|higher|better|worse|gap|of (?:a )?gap)\b",
    re.I,
)
#: "the 70 was from the old prompt": a figure said to be out of date
_OUTDATED = re.compile(
    r"^\s*(?:%|percent)?\s*(?:was|were|is|came)\s+(?:from|on|for|with|measured on)\s+"
    r"(?:the |an? |our )?(?:old|older|previous|earlier|last|original|first|prior)\b",
    re.I,
)
_BASELINE_AFTER = re.compile(r"^\W*(?:now|today|currently|at the moment|right now)\b", re.I)


@dataclass(frozen=True)
class Score:
    fact: str  # baseline_score_pct or target_score_pct
    value: float
    start: int


#: "anything under 88 creates rework": the bar, said as what falls short of it
_FLOOR = re.compile(
    r"\b(?:anything|everything|whatever|something)\s+(?:(?:under|below|less than)\s*)?$", re.I
)


def _as_score(q: Quantity, text: str) -> float | None:
    if q.kind not in ("count", "percent", "score") or q.period:
        return None
    floor = _FLOOR.search(text[max(0, q.start - 30) : q.start])
    if q.bound == "at_most" and not floor:
        return None
    if (
        q.kind == "count"
        and not floor
        and q.unit not in _AFTER_SCORE
        and not _METRIC_NEXT.match(text[q.end :])
    ):
        return None
    value = q.value
    if q.kind != "percent" and 0 < value < 1:
        value *= 100
    return value if 1 <= value <= 100 else None


def _role(text: str, q: Quantity, since: int) -> str | None:
    """What the words next to a score say it is: the target, where they are, or neither."""
    # the words since the previous score only: "baseline 68 vs 82" - 82 is not a baseline
    before = text[max(since, q.start - 30) : q.start]
    after = text[q.end : q.end + 20]
    if (
        q.bound == "at_least"
        or _TARGET_BEFORE.search(before)
        or _TARGET_AFTER.match(after)
        or _FLOOR.search(before)
    ):
        return "target_score_pct"
    if _BASELINE_BEFORE.search(before) or _BASELINE_AFTER.match(after):
        return "baseline_score_pct"
    return None


def scores(text: str, *, follows_eval: bool = False) -> list[Score]:
    """The baseline and target scores one normalised sentence states, if it is about
    evaluation (or says of two bare numbers which is where they are and which is needed:
    "we need 99 and we're at 93"). ``follows_eval``: the sentence before was about
    evaluation, so a number the words call a target or a baseline is one ("Baseline 69.
    The leads want 82 minimum.")."""
    # "82/100" is a percentage (same length, so positions hold)
    text = re.sub(r"(?<=\d)\s?/\s?100\b", lambda m: "%".ljust(len(m.group(0))), text)
    found: list[tuple[Quantity, float]] = []
    roles: list[str | None] = []
    since = 0
    for q in quantities(text):
        value = _as_score(q, text)
        if value is not None and (
            _STRUCK_OUT.search(text[max(0, q.start - 16) : q.start])
            or _DIFFERENCE.match(text[q.end :])
            or _OUTDATED.match(text[q.end :])
        ):
            value = None  # "78, not 87": the figure set aside; "15 points short": a gap
        if value is not None:
            found.append((q, value))
            roles.append(_role(text, q, since))
        since = q.end  # any amount before: its words are not this score's
    if not SCORE_CONTEXT.search(text):
        both = {"target_score_pct", "baseline_score_pct"} <= set(roles)
        keep = [
            (q.kind == "percent" or both or follows_eval)
            and role is not None
            and not re.match(r"\s*(?:of|percent of)\b", text[q.end :], re.I)
            for (q, _), role in zip(found, roles, strict=True)
        ]
        found = [f for f, k in zip(found, keep, strict=True) if k]
        roles = [r for r, k in zip(roles, keep, strict=True) if k]
    if not found:
        return []
    if re.search(r"\d\s*/\s*\d", text) or all(q.kind != "percent" and v < 10 for q, v in found):
        return []  # a rating scale ("3.2/5 vs a 4.5 target"): the sentence rules read those
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
