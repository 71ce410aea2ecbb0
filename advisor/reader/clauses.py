"""Clauses, and what each one does to what it says: negates it, hedges it, or withdraws it.

A sentence that says several things is cut into clauses so that a negation or a hedge
applies to its own clause only: "three weeks on prompts but we haven't tried JSON mode" is
two statements, one of them negative.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Where a sentence turns to a new statement: contrast words, "; ", ", and we ...", ", so".
_CLAUSE_BREAK = re.compile(
    r"\s*;\s*|\s+(?:but|although|though|whereas|while|except that|however,?)\s+"
    r"|,\s*(?:and|so|yet|plus|also)\s+|\s+(?:and|so)\s+(?=(?:we|i|it|they|the|our|nobody|"
    r"no one|none|there|that|this|he|she|you)\b)"
    r"|,\s+(?=(?:we|i|it|they|nobody|no one|none|there|that's|this|he|she|you|our)\b)"
    r"|,\s+(?=(?:no idea|not sure|no clue|dunno|unsure|not certain)\b)"
    r"|\s+[-–—]\s+|:\s+",
    re.IGNORECASE,
)

NEGATION = re.compile(
    r"\b(?:no|not|never|without|nobody|no one|no-one|none|nothing|neither|nor|lack(?:s|ing)?|"
    r"missing|don'?t|doesn'?t|didn'?t|haven'?t|hasn'?t|hadn'?t|isn'?t|aren'?t|wasn'?t|"
    r"weren'?t|won'?t|can'?t|cannot|couldn'?t|nope|nah|zero|yet to)\b|n't\b",
    re.IGNORECASE,
)
#: The speaker does not know: no value, and no point asking again.
IGNORANCE = re.compile(
    r"\b(?:not (?:sure|certain|clear)|unsure|uncertain|no idea|no clue|dunno|don'?t know|"
    r"do not know|doesn'?t know|not known|unknown|can'?t (?:tell|say)|couldn'?t (?:tell|say)|"
    r"cannot (?:tell|say)|hard to say|no (?:hard )?(?:number|figure|data|estimate)|"
    r"(?:would|'d) rather not guess|haven'?t (?:a clue|the faintest)|tbd|to be determined|"
    r"not (?:to )?hand|not (?:that|this) i know of|i (?:have|had) no (?:visibility|way)|"
    r"leave (?:that|it|this) open|no (?:one|body) (?:knows|can say)|ask (?:\w+)$|"
    r"i'?m not the (?:right )?person|not my (?:area|team)|heard rumou?rs?|rumou?rs?|"
    r"i (?:think|believe|guess) (?:someone|somebody|they) (?:might|may)|might have|may have|"
    r"possibly|kinda\?|sort of\?|who knows|i wasn'?t (?:around|there|involved|here)|before my time|"
    r"(?:i'?d|i would|we'?d|we would) (?:need|have) to (?:check|ask)|"
    r"(?:need|have) to (?:check|ask) (?:with|whether|if|how))\b",
    re.IGNORECASE,
)
#: What the *model* does not know ("the bot just doesn't know our policies") is a knowledge
#: need, not the speaker's ignorance.
MODEL_NOT_KNOWING = re.compile(
    r"\b(?:model|it|bot|llm|assistant|agent|classifier|chatbot|gpt[\w.-]*|claude)\s+(?:\w+\s+)?"
    r"(?:doesn'?t|does not|didn'?t|did not|won'?t|can'?t|cannot) (?:know|remember)\b",
    re.IGNORECASE,
)


def is_ignorant(text: str) -> bool:
    """The speaker says they do not know something (not that the model does not)."""
    return bool(IGNORANCE.search(MODEL_NOT_KNOWING.sub(" ", text)))


#: The speaker takes back something said before.
WITHDRAWAL = re.compile(
    r"\b(?:scratch|strike|retract\w*|take (?:that |it |this )?back|taking (?:that |it )?back|"
    r"forget (?:what i said|i said|that|about|the)|ignore (?:what i said|my|the (?:\w+ )?(?:number|"
    r"figure|part|bit|comment))|disregard (?:what i said|my|the|it|that|this)|shouldn'?t have said|"
    r"scrap (?:it|that|this|the)|(?:don'?t|do not) (?:rely|count|go) on (?:it|that|this|the)|"
    r"walk(?:ed|s|ing)? back|w(?:as|ere) (?:withdrawn|walked back|retracted|scrapped)|"
    r"i was wrong (?:about|when)|was (?:thinking of|confusing|mixing up)|not (?:actually )?right|"
    r"overstated|oversold|misspoke|mis-spoke|strike that|that was (?:a guess|wrong|made up)|"
    r"(?:was|is|were) (?:just |only |really )?(?:a |an )?(?:guess|ballpark|rough guess|wild guess|"
    r"made[- ]up)|"
    r"no longer (?:true|accurate|the case)|wasn'?t (?:true|accurate|right)|(?:is|was) wrong)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Clause:
    """One clause of a sentence and where it starts in the sentence."""

    text: str
    start: int

    @property
    def negated(self) -> bool:
        return bool(NEGATION.search(self.text))

    @property
    def ignorant(self) -> bool:
        return is_ignorant(self.text)

    @property
    def withdraws(self) -> bool:
        return bool(WITHDRAWAL.search(self.text))


def clauses(sentence: str) -> list[Clause]:
    """The clauses of ``sentence``, in order (the whole sentence when it has one)."""
    out: list[Clause] = []
    start = 0
    for m in _CLAUSE_BREAK.finditer(sentence):
        _add(out, sentence, start, m.start())
        start = m.end()
    _add(out, sentence, start, len(sentence))
    return out


def _add(out: list[Clause], sentence: str, start: int, end: int) -> None:
    chunk = sentence[start:end]
    stripped = chunk.strip(" ,.")
    if stripped:
        out.append(Clause(stripped, start + chunk.index(stripped)))
