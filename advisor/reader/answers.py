"""An answer to the advisor's own question, read for the facts that question asks for.

The question names its facts (``Question.facts``), so a short reply needs no frame: "need
90" is the target score, "automated, runs in CI" is an automated eval, "dunno, ask Raj" is
"not known". Each kind of fact has one reading: a yes/no from the fact's value cues, a
leading yes or no, or the polarity of the clause that mentions the fact; a number from the
amounts in the reply (:mod:`advisor.reader.numbers`) in the fact's unit; a choice from its
value cues.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from advisor.facts import SPECS, FactValue
from advisor.reader.clauses import clauses, is_ignorant
from advisor.reader.cues import CueBook, negated_before
from advisor.reader.numbers import Quantity, normalise, quantities

MAX_ANSWER_WORDS = 40

#: "Oh yes", "well, no", "honestly, yeah": a leading word that only sets the tone.
_INTERJECTION = r"(?:(?:oh|ah|well|um|uh|er|so|honestly|haha|lol|hmm+|ok|okay)\W+)?"
YES = re.compile(
    r"^\W*"
    + _INTERJECTION
    + r"(?:yes|yeah|yep|yup|ya|yea|sure|correct|right|true|indeed|absolutely|definitely|"
    r"certainly|of course|affirmative|we do|we have|we did|it is|it does|it has|they are|"
    r"they were|they do|i do|that's right|that is right|100%|totally|for sure|yes we do|sort of|"
    r"kind of|mostly)\b",
    re.IGNORECASE,
)
NO = re.compile(
    r"^\W*"
    + _INTERJECTION
    + r"(?:no|nope|nah|not yet|not really|not at all|never|none|false|negative|"
    r"we don'?t|we do not|we haven'?t|we have not|we didn'?t|it isn'?t|it is not|it'?s not|"
    r"it doesn'?t|they aren'?t|they weren'?t|not|nothing|nobody|no one|zero)\b",
    re.IGNORECASE,
)
SHORT_CLAUSE_WORDS = 6
#: An answer gives a figure, a range, or two figures; more than this is not an answer.
MAX_ANSWER_NUMBERS = 4
_YES_NO_WORD = re.compile(
    r"\b(?:yes|yeah|yep|no|nope|not|never|none|all|every|each|both)\b|n't\b", re.IGNORECASE
)
_PERCENT_FACTS = {"baseline_score_pct", "target_score_pct"}
_MS_FACTS = {"latency_target_ms", "baseline_latency_ms"}
_MONEY_MONTH = {
    "current_cost_per_month",
    "fine_tuned_cost_per_month",
    "hosting_cost_per_month",
    "gap_cost_per_month",
}
_TARGET_WORDS = re.compile(
    r"\b(?:target|goal|need|needs|want|wants|require\w*|must|to ship|sign off|bar|would do|"
    r"thrilled|happy|acceptable|good enough|aim\w*|should (?:be|hit|reach))\b",
    re.I,
)
_NEVER_CHANGES = re.compile(
    r"^\W*never\W*$|\b(?:never (?:changes?|changed)|hasn'?t changed|has not changed|"
    r"doesn'?t change|does not change|"
    r"(?:is|are|been|stays?) (?:stable|static|frozen|fixed|the same)|unchanged)\b",
    re.I,
)
_NO_EXAMPLES = re.compile(
    r"^\W*(?:none|zero|nothing|no(?:ne)? (?:yet|at all))\b"
    r"|\bno (?:labell?ed )?(?:examples|labels|data)\b",
    re.I,
)
_ADVERB_PER_YEAR = {
    "daily": 250.0,
    "weekly": 52.0,
    "biweekly": 26.0,
    "fortnightly": 26.0,
    "monthly": 12.0,
    "quarterly": 4.0,
    "yearly": 1.0,
    "annually": 1.0,
}


def is_ignorance(text: str) -> bool:
    """Does the reply say the speaker does not know (and give no value)?"""
    return is_ignorant(text)


def read_bool(text: str, fact: str, cues: CueBook, *, asked: bool) -> bool | None:
    """A yes/no about ``fact`` from ``text``: its value cues; and when ``asked`` (the reply
    to a question that led with it), a leading yes or no, or the polarity of the clause
    that mentions it."""
    lead_no, lead_yes = NO.match(text), YES.match(text)
    said = []
    for clause in clauses(text):
        cue = cues.value_in(fact, clause.text)
        if cue is not None and isinstance(cue[0], bool):
            value, m = cue[0], cue[1]
            said.append((not value) if negated_before(clause.text, m.start()) else value)
    if said:
        # "labeled by crowd workers and we never audited them": a later clause that says
        # otherwise is the answer's last word
        return said[-1]
    if not asked:
        # a fact the question did not lead with: its value cues, or a short clause that
        # names it with a yes or no ("automated yes, baseline no")
        for clause in clauses(text):
            short = len(clause.text.split()) <= SHORT_CLAUSE_WORDS
            if short and cues.mentions(fact, clause.text) and _YES_NO_WORD.search(clause.text):
                return not clause.negated
        return None
    if lead_no:
        return False
    if lead_yes:
        return True
    for clause in clauses(text):
        if cues.mentions(fact, clause.text):
            return not clause.negated
    return None


def _percent(q: Quantity) -> float | None:
    if q.kind in ("money", "duration", "latency", "frequency") or q.period:
        return None
    value = q.value
    if q.kind != "percent" and 0 < value <= 1 and not float(value).is_integer():
        value *= 100  # 0.81 exact match
    return value if 0 <= value <= 100 else None


def read_number(text: str, fact: str, *, others: Sequence[str] = ()) -> float | None:
    """A number for ``fact`` from ``text`` in the fact's unit, or ``None``."""
    norm = normalise(text, times=True)
    found = quantities(norm)
    if len(found) > MAX_ANSWER_NUMBERS:
        return None  # a list of numbers ("76 65 72 ... 3d") is not one answer
    if fact in _PERCENT_FACTS:
        scores = [(q, v) for q in found if (v := _percent(q)) is not None]
        if not scores:
            return None
        if len(scores) > 1 and {"baseline_score_pct", "target_score_pct"} <= {fact, *others}:
            # "we're at 70, need 85": the one after a target word is the target
            targeted = [
                (q, v)
                for q, v in scores
                if _TARGET_WORDS.search(norm[max(0, q.start - 30) : q.start])
            ]
            rest = [(q, v) for q, v in scores if (q, v) not in targeted]
            pick = targeted if fact == "target_score_pct" else rest
            if pick:
                return pick[0][1]
        return scores[0][1]
    if fact == "prompt_effort_weeks":
        for q in found:
            weeks = q.weeks()
            if weeks is not None:
                return weeks
        if re.search(r"\b(?:zero|0|none|no) (?:prompt|time|effort|work)\b", norm, re.I) or re.match(
            r"^\W*none(?: (?:yet|so far|really|at all))?\W*$", norm, re.I
        ):
            return 0.0
        return None
    if fact == "task_changes_per_year":
        return _changes_per_year(norm, found)
    if fact in _MS_FACTS:
        for q in found:
            ms = q.milliseconds() if q.kind == "latency" else None
            if ms is not None:
                return ms
        bare = [q for q in found if q.kind == "count" and not q.period]
        return bare[0].value if bare and bare[0].value >= 20 else None
    if fact in _MONEY_MONTH or fact == "current_cost_per_call":
        money = [q for q in found if q.kind == "money"] or [
            q for q in found if q.kind == "count" and not q.unit.startswith(("token", "call"))
        ]
        if not money:
            return None
        q = money[0]
        if fact == "current_cost_per_call":
            return q.value
        per_month = q.per_month()
        return per_month if per_month is not None else q.value
    if fact == "monthly_volume":
        counts = [q for q in found if q.kind == "count"]
        if not counts:
            return None
        q = counts[0]
        per_month = q.per_month()
        return per_month if per_month is not None else q.value
    if fact == "labeled_examples":
        counts = [q for q in found if q.kind == "count" and q.value >= 1]
        if counts:
            return counts[0].value
        return 0.0 if _NO_EXAMPLES.search(norm) else None
    counts = [q for q in found if q.kind == "count"]
    return counts[0].value if counts else None


def _changes_per_year(norm: str, found: list[Quantity]) -> float | None:
    if _NEVER_CHANGES.search(norm):
        return 0.0
    for q in found:
        if q.kind == "frequency" and q.period:
            return q.per_year()
        if q.kind == "duration" and re.search(r"\bevery\s*$", norm[max(0, q.start - 12) : q.start]):
            weeks = q.weeks()
            if weeks:
                return 52.14 / weeks
    m = re.search(r"\b(" + "|".join(_ADVERB_PER_YEAR) + r")\b", norm, re.I)
    if m:
        return _ADVERB_PER_YEAR[m.group(1).lower()]
    m = re.search(r"\bevery (day|week|month|quarter|year)\b", norm, re.I)
    if m:
        return {"day": 250.0, "week": 52.0, "month": 12.0, "quarter": 4.0, "year": 1.0}[m[1]]
    return None


def read_choice(text: str, fact: str, cues: CueBook) -> str | None:
    for clause in clauses(text):
        cue = cues.value_in(fact, clause.text)
        if cue is not None and isinstance(cue[0], str):
            return cue[0]
    return None


def read_value(
    text: str, fact: str, cues: CueBook, *, others: Sequence[str] = ()
) -> FactValue | None:
    """The value a reply to a question about ``fact`` gives it, or ``None`` (and always
    ``None`` for "not sure": a hedge is not a no)."""
    if is_ignorance(text):
        return None
    kind = SPECS[fact].kind
    if kind == "bool":
        return read_bool(text, fact, cues, asked=True)
    if kind == "choice":
        return read_choice(text, fact, cues)
    return read_number(text, fact, others=others)


def too_long(text: str) -> bool:
    return len(text.split()) > MAX_ANSWER_WORDS
