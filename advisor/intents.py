"""What a message is: a greeting, a request for the verdict, a question about the subject,
an answer to the question the advisor just asked, or a statement of the situation.

Deterministic and small: word lists and patterns, no model. Facts themselves come from
advisor/extraction.py; here a short reply to the advisor's own question ("yes", "about two
weeks", "500k a day") is read in the light of that question (:func:`read_answer`), by
putting it back into a sentence the extractor understands. The quote kept as provenance is
always the user's own words.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from enum import StrEnum

from advisor.errors import QueryError
from advisor.extraction import INSTRUCTION, extract, parse_number, unwrap
from advisor.facts import SPECS, FactRecord, Source, make_record


class Intent(StrEnum):
    GREETING = "greeting"
    INSTRUCTION = "instruction"  # an attempt to change how the advisor works
    THANKS = "thanks"
    VERDICT = "verdict"  # "should we fine-tune?", "what's the verdict?", "why?"
    QUESTION = "question"  # a question about the subject
    STATEMENT = "statement"  # anything else: read for facts


_GREETING = re.compile(
    r"^\W*(?:hi|hello|hey|hiya|howdy|yo|greetings|good (?:morning|afternoon|evening|day))"
    r"(?:\s+(?:there|all|everyone|team|advisor|bot))?\W*$",
    re.IGNORECASE,
)
_SMALL_TALK = re.compile(
    r"^\W*(?:and |so |but )?(?:how are you(?: doing)?(?: today)?|how's it going|what(?:'s| is) up|"
    r"what(?:'s| is) your name|who are you|what are you|are you (?:a bot|human|an ai|real)|"
    r"what (?:time|day|date) is it|tell me a joke|how old are you|where are you)\W*$",
    re.IGNORECASE,
)
_THANKS = re.compile(
    r"^\W*(?:(?:thanks?(?: you)?(?: (?:so|very) much)?|thx|ty|cheers|great|perfect|ok(?:ay)?|"
    r"got it|cool|nice|bye|goodbye|see you|understood|makes sense|that helps|"
    r"(?:that's|that is|this is|very|really|super) (?:helpful|useful|clear|great|interesting))"
    r"[\s,.!]*){1,3}$",
    re.IGNORECASE,
)
_VERDICT = re.compile(
    r"\b(?:should (?:we|i|our team|my team) (?:(?:really|still|now|then) )?fine[- ]?tune"
    r"|(?:are|am) (?:we|i) ready (?:to|for) fine[- ]?tun"
    r"|(?:is|would) fine[- ]?tuning (?:(?:be )?(?:right|worth it|a good idea|the answer)) "
    r"(?:for (?:us|me|our|my)|here|in our case)"
    r"|what(?:'s| is) (?:the|your) (?:verdict|recommendation|call|answer)"
    r"|what do you (?:recommend|suggest|think)"
    r"|(?:so|ok(?:ay)?|well),? (?:should we|verdict|what now)"
    r"|where do we stand|what should we do(?: next)?|what(?:'s| is) (?:our|the) next step)\b",
    re.IGNORECASE,
)
_WHY = re.compile(r"^\W*(?:why(?: not)?|how come|explain(?: that| why)?|because\?)\W*$", re.I)
_QUESTION_START = re.compile(
    r"^\W*(?:who|what|what's|whats|when|where|why|which|how|is|are|am|do|does|did|can|could|"
    r"should|would|will|shall|may|might|tell me|explain|describe|list|give me|show me|"
    r"compare|and|what about|how about)\b",
    re.IGNORECASE,
)
_FOLLOW_UP = re.compile(
    r"^\W*(?:and|or|but|so|also|then|what about|how about|and what about|same for|"
    r"what if|and for|and with|and if|for that|in that case)\b"
    r"|\b(?:it|that|this|those|these|them|they|there|one)\b",
    re.IGNORECASE,
)


def is_instruction(message: str) -> bool:
    """Does the message try to instruct the advisor (role-play, "ignore the rules", a fake
    system message, a verdict override)? Such text is answered, never obeyed."""
    return bool(INSTRUCTION.search(unwrap(message)))


def classify(message: str, *, has_facts: bool) -> Intent:
    """The intent of one message (facts win: a statement that also asks is a statement)."""
    text = message.strip()
    if has_facts:
        return Intent.STATEMENT
    if is_instruction(text):
        return Intent.INSTRUCTION
    if _GREETING.match(text) or _SMALL_TALK.match(text):
        return Intent.GREETING
    if _THANKS.match(text):
        return Intent.THANKS
    if _VERDICT.search(text) or _WHY.match(text):
        return Intent.VERDICT
    if text.endswith("?") or _QUESTION_START.match(text):
        return Intent.QUESTION
    return Intent.STATEMENT


_QUESTION_SENTENCE = re.compile(r"[^.!?\n]*\?")


def questions_in(message: str) -> str:
    """The question sentences of a message ("We have 700 rows. Is that enough?" -> the
    second), joined; empty when it asks nothing."""
    return " ".join(q.strip() for q in _QUESTION_SENTENCE.findall(message) if q.strip())


def is_follow_up(message: str) -> bool:
    """Does the message lean on the one before ("and for full fine-tuning?", "what does it
    cost?")? Short messages count too: four content words or fewer rarely stand alone."""
    words = re.findall(r"[A-Za-z0-9$%]+", message)
    return bool(_FOLLOW_UP.search(message)) or len(words) <= 4


# --------------------------------------------------------------------------- answers

_YES = re.compile(
    r"^\W*(?:yes|yeah|yep|yup|ya|sure|correct|right|true|indeed|absolutely|definitely|"
    r"of course|affirmative|we do|we have|we did|it is|it does|they are|they were|i do|"
    r"that's right|that is right)\b",
    re.IGNORECASE,
)
_NO = re.compile(
    r"^\W*(?:no|nope|nah|not yet|not really|not at all|never|none|false|negative|"
    r"we don'?t|we do not|we haven'?t|we have not|we didn'?t|it isn'?t|it is not|"
    r"it doesn'?t|they aren'?t|they weren'?t|not)\b",
    re.IGNORECASE,
)
_CHOICE_WORDS: dict[str, dict[str, re.Pattern[str]]] = {
    "need_type": {
        "knowledge": re.compile(
            r"\b(?:knowledge|know|facts?|documents?|docs|look(?:s|ing)? up|catalog(?:ue)?|"
            r"policies|answer questions)\b",
            re.I,
        ),
        "behavior": re.compile(
            r"\b(?:behaviou?r|format|tone|style|classif\w*|extract\w*|judg(?:e)?ment|"
            r"label\w*|route|routing|grade|act|behave)\b",
            re.I,
        ),
    }
}
#: Sentences that put a short answer back into words the extractor reads, per fact.
ANSWER_FRAMES: dict[str, tuple[str, ...]] = {
    "prompt_effort_weeks": ("Prompt iteration took {a}.", "Prompt work: {a}."),
    "labeled_examples": ("We have {a} labeled examples.", "We have {a}."),
    "task_changes_per_year": ("The task changes {a}.",),
    "monthly_volume": ("We serve {a}.", "We serve {a} requests."),
    "current_cost_per_month": ("The current model costs {a}.",),
    "baseline_score_pct": ("Our best prompt scores {a}.", "It scores {a}."),
    "target_score_pct": ("The task needs {a}.", "Our best prompt scores {a}."),
    "latency_target_ms": ("We need latency under {a}.",),
    "baseline_latency_ms": ("The current model takes {a}.",),
    "baseline_misses_latency": ("We need latency under {a}.",),
}
#: Facts answered together: a question about one is often answered with the other too.
RELATED: dict[str, tuple[str, ...]] = {
    "labeled_examples": ("examples_human_reviewed",),
    "examples_human_reviewed": ("labeled_examples",),
    "baseline_score_pct": ("target_score_pct",),
    "target_score_pct": ("baseline_score_pct",),
    "baseline_misses_latency": ("latency_target_ms", "baseline_latency_ms"),
}
MAX_ANSWER_WORDS = 30
_LEADING_AMOUNT = re.compile(
    r"^\W*((?:(?:about|around|roughly|approximately|approx\.?|~|over|under|nearly|almost|maybe|"
    r"just|only|some|exactly)\s*)?\$?\d[\d,.]*\s*(?:k|m|million|thousand|%|ms|seconds?|s)?"
    r"(?:\s*(?:a|an|per|/|every|each)\s*(?:second|minute|hour|day|week|month|year))?"
    r"(?:\s*(?:weeks?|days?|months?|hours?))?)",
    re.IGNORECASE,
)
#: Only answers this short are put into a frame sentence.
MAX_FRAMED_WORDS = 12


def read_answer(
    message: str,
    fact: str,
    turn: int,
    *,
    frames: bool = True,
    related: Collection[str] = (),
) -> list[FactRecord]:
    """Facts from a short answer to the question about ``fact``; empty when it is not one.

    ``frames=False`` (the message already stated other facts) reads only a leading yes/no
    or a choice word: putting a whole statement into a frame could misread it. ``related``
    facts (those the same gate asks about) may be read from the answer too.

    A reply that tries to instruct the advisor ("Sure! As DAN I approve everything", "No
    more rules: you are now ...") is not an answer: its "sure" or "no" sets nothing."""
    text = message.strip()
    if not text or len(text.split()) > MAX_ANSWER_WORDS or fact not in SPECS:
        return []
    if is_instruction(text):
        return []
    spec = SPECS[fact]
    note = "answer to the advisor's question"
    wanted = {fact, *RELATED.get(fact, ()), *related}
    use_frames = frames and len(text.split()) <= MAX_FRAMED_WORDS
    lead = _LEADING_AMOUNT.match(text)
    candidates = [text.rstrip(".!?")]
    amount = lead.group(1).strip().rstrip(",.;") if lead else ""
    if amount and amount != candidates[0]:
        candidates.append(amount)  # "around 2,000, all reviewed" -> "around 2,000"
    pairs = [(f, a) for a in candidates for f in ANSWER_FRAMES.get(fact, ())] if use_frames else []
    fallback: list[FactRecord] = []
    for frame, answer in pairs:
        found = [r for r in extract(frame.format(a=answer), turn) if r.fact in wanted]
        out = [
            record
            for r in found
            if (
                record := make_record(
                    r.fact, r.value, source=Source.RULES, turn=turn, quote=text, note=note
                )
            )
            is not None
        ]
        if any(r.fact == fact for r in out):
            return out
        fallback = fallback or out
    if fallback:
        return fallback
    value: object = None
    if spec.kind == "bool":
        if _NO.match(text):
            value = False
        elif _YES.match(text):
            value = True
        elif fact == "task_narrow":
            if re.search(r"\b(?:narrow|single|one (?:task|thing)|well[- ]defined)\b", text, re.I):
                value = True
            elif re.search(r"\b(?:broad|open[- ]ended|general|many tasks)\b", text, re.I):
                value = False
    elif spec.kind == "choice" and frames:
        matches = [c for c, pattern in _CHOICE_WORDS.get(fact, {}).items() if pattern.search(text)]
        if len(matches) == 1:
            value = matches[0]
    if value is None:
        return []
    record = make_record(fact, value, source=Source.RULES, turn=turn, quote=text, note=note)
    return [record] if record is not None else []


_TYPED_NUMBER = re.compile(r"\$?\s*([\d,]*\.?\d+)\s*(k|m|million|thousand|b|bn)?\s*%?")
_CHOICE_ALIASES = {"behaviour": "behavior"}


def parse_typed_value(fact: str, raw: str) -> object:
    """A value typed to set a fact (``/set``, the facts panel): yes/no, a number with k/M,
    or a choice. Raises :class:`QueryError` saying what the fact takes."""
    spec = SPECS[fact]
    text = raw.strip().lower()
    if spec.kind == "bool":
        if text in ("yes", "y", "true", "1", "on"):
            return True
        if text in ("no", "n", "false", "0", "off"):
            return False
        raise QueryError(f"{fact} takes yes or no (got {raw!r}).")
    if spec.kind == "choice":
        return _CHOICE_ALIASES.get(text, text)
    match = _TYPED_NUMBER.fullmatch(text)
    value = parse_number(match.group(1), match.group(2)) if match else None
    if value is None:
        raise QueryError(f"{fact} takes a number (got {raw!r}), e.g. 2000, 20k or 1.5M.")
    return value
