"""Training examples recognised by what they are, not only by the word "labeled":
"6,000 lawyer-checked clause rewrites", "40k emails tagged with the team that handled them",
"12k titles our merch team fixed by hand", "3k auto-tagged questions".

A count is a set of examples when a word that says someone (or something) judged each item
is attached to it: before its noun as a hyphenated adjective, or after it as a participle
within a few words. Who did it says whether a person reviewed them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from advisor.reader.numbers import quantities

#: Somebody judged, labelled or corrected each item.
_JUDGED = (
    r"(?:labell?ed|labell?ing|checked|verified|reviewed|graded|coded|approved|tagged|annotated|"
    r"picked|chosen|fixed|corrected|audited|vetted|rated|scored|re-?routed|re-?assigned|"
    r"classified|validated|categori[sz]ed|triaged|marked|signed[- ]off|written|wrote|rewritten|"
    r"edited|resolved)"
)
#: "7k agent-picked macros", "1,500 editor-checked conversions", "5k human-verified rewrites"
_ADJECTIVE = re.compile(
    r"^\s*(?:[a-z]+\s+)?(?P<who>(?:[\w&]+-)+)" + _JUDGED + r"\s+(?:[\w-]+\s+){0,2}?[a-z][\w-]*",
    re.IGNORECASE,
)
#: "40k utterances labeled by call-centre staff", "22k tickets that agents re-routed by hand",
#: "3k notes with gold summaries written by nurses", "25k diffs + messages our folks
#: hand-reviewed", and with the noun left out: "fourteen thousand corrected by our team"
_PARTICIPLE = re.compile(
    r"^\s*(?:(?:[\w-]+\s+){0,2}?(?!(?:is|was|has|does|its|this|thus|yes|us|as)\b)[a-z][\w-]+s\b\s+"
    r"(?:(?:with|and|\+|&)\s+(?:[\w-]+\s+){0,2}?[a-z][\w-]+s\b\s+)?"
    r"(?:(?:that|which|we|i|our|the|their|have been|"
    r"were|was|all|already|each)\s+){0,2}(?:[\w-]+\s+){0,2}?(?:(?:hand|human|manually)[- ]?)?"
    + _JUDGED
    + r"|(?:(?:hand|human|manually)[- ]?)?"
    + _JUDGED
    + r"(?= by\b))\b(?P<tail>[^.;]{0,40})",
    re.IGNORECASE,
)
#: "our mods have labeled ~30k", "the agents hand-checked about 4,000"
_JUDGED_BEFORE = re.compile(
    r"\b(?P<who>[\w&-]+)\s+(?:have|has|had|already)?\s*(?:hand-?)?"
    + _JUDGED
    + r"\s+(?:about|around|roughly|some|over|nearly|almost|~)?\s*$",
    re.IGNORECASE,
)
_MACHINE = re.compile(
    r"\b(?:auto(?:matically)?|machine|model|llm|gpt|ai|synthetic|rules?(?: engine)?|script|"
    r"heuristic|regex|weak(?:ly)?|bot|system|pipeline|classifier)\b",
    re.IGNORECASE,
)
#: A set that measures the model, not one to train it on: "a harness of 500 frozen
#: contracts with human-verified labels", "the eval runs over 400 graded chats".
_EVAL_SET = re.compile(
    r"\b(?:evals?|evaluation|harness|test ?set|held[- ]?out|hold[- ]?out|frozen|golden|"
    r"gold set|benchmark|regression set)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Examples:
    count: float
    start: int
    reviewed: bool | None  # a person judged them (True), a machine did (False), unsaid (None)


def examples(text: str) -> list[Examples]:
    """Sets of examples one normalised sentence names."""
    out: list[Examples] = []
    for q in quantities(text):
        if q.kind != "count" or q.period or q.value < 20 or q.bound == "at_most":
            continue
        rest = text[q.end :]
        lead = re.split(r"[.;]|\b(?:and|but|plus)\b", text[max(0, q.start - 40) : q.start])[-1]
        if _EVAL_SET.search(lead) or _EVAL_SET.match(rest.lstrip()):
            continue
        before = _JUDGED_BEFORE.search(text[max(0, q.start - 50) : q.start])
        if before is not None:
            # "our mods have labeled ~30k messages"
            out.append(Examples(q.value, q.start, _reviewed(before["who"] + "-")))
            continue
        m = _ADJECTIVE.match(rest)
        who = m["who"] if m else None
        if m is None:
            m = _PARTICIPLE.match(rest)
            who = m["tail"] if m else None
            if m is None:
                continue
            who = f"{rest[: m.end()]} {who}"
        out.append(Examples(q.value, q.start, _reviewed(who or "")))
    return out


def _reviewed(words: str) -> bool | None:
    if _MACHINE.search(words):
        return False
    if re.search(
        r"\b(?:by hand|manually|hand|human|by (?:our|the|a|an|two|\w+ of)\b|[\w&]+-)", words, re.I
    ):
        return True
    # "corrected by dispatchers", "postings that recruiters approved": people did it (a
    # machine was ruled out above)
    if re.search(r"\bby [a-z][\w-]*", words, re.I) or re.search(
        r"\b(?:that|which) (?:our |the |their )?[a-z][\w-]+ (?:have |had )?(?:hand-?)?" + _JUDGED,
        words,
        re.I,
    ):
        return True
    return None
