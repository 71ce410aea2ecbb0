"""The deterministic fact extractor: plain English in, facts with their quoted span out.

No language model is involved. A message is cut into sentences; each rule below looks for
one kind of statement in a sentence and, when it finds one, emits a fact with the sentence
as its quote and the match position (so a later statement in the same message wins).

The rules are deliberately conservative: a fact is only set when the text states it.
Negation is handled per statement ("we do not have an eval set", "haven't tried few-shot",
"nobody reviewed them"), and a negative statement beats a positive one in the same
sentence ("I was wrong about the harness - it's Priya spot-checking outputs").

:func:`extract` never raises: whatever the input (empty, huge, binary, hostile), it
returns the facts it could read, possibly none.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from advisor.facts import FactLedger, FactRecord, Source, make_record

log = logging.getLogger(__name__)

#: Only this much of a message is read (a longer one is cut, not rejected, here).
MAX_EXTRACT_CHARS = 20_000

# --------------------------------------------------------------------------- numbers

_WORD_NUMBERS = {
    "zero": 0,
    "a": 1,
    "an": 1,
    "one": 1,
    "single": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "eighteen": 18,
    "twenty": 20,
    "thirty": 30,
    "a couple of": 2,
    "a couple": 2,
    "couple of": 2,
    "a few": 3,
    "few": 3,
    "a handful of": 4,
    "several": 4,
    "half a": 0.5,
    "a half": 0.5,
}
_WORD_NUMBER_RE = "|".join(sorted((re.escape(w) for w in _WORD_NUMBERS), key=len, reverse=True))
_SUFFIXES = {
    "k": 1e3,
    "thousand": 1e3,
    "m": 1e6,
    "mm": 1e6,
    "mn": 1e6,
    "million": 1e6,
    "millions": 1e6,
    "b": 1e9,
    "bn": 1e9,
    "billion": 1e9,
}
# A digit-based number: "2,000", "1.5", "20k", "3 million", "~45k", "1.2M".
NUM = (
    r"(?<![\w.,$])(?<![A-Za-z]-)(?:~|about |around |roughly |approximately |approx\.? |nearly |almost |"
    r"over |under |some |exactly |only |just )?"
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"(?:\s?(?P<suffix>k|K|mm|MM|mn|M|m(?![a-z])|million|millions|thousand|bn|billion|B)\b)?"
    r"\+?"  # "10k+": at least that many, read as the number
)
_NUM_RE = re.compile(NUM)


def parse_number(digits: str, suffix: str | None = None) -> float | None:
    """``"2,000"`` → 2000, ``("20", "k")`` → 20000, ``("3", "million")`` → 3e6."""
    try:
        value = float(digits.replace(",", ""))
    except ValueError:
        return None
    if suffix:
        value *= _SUFFIXES.get(suffix.lower(), 1.0)
    return value


def _word_or_digit(text: str) -> float | None:
    text = text.strip().lower()
    if text in _WORD_NUMBERS:
        return float(_WORD_NUMBERS[text])
    match = _NUM_RE.fullmatch(text)
    if match:
        return parse_number(match.group("num"), match.group("suffix"))
    return None


# Units of time, in weeks / months / per-month multipliers.
_WEEKS_PER = {"hour": 1 / 40, "day": 1 / 7, "week": 1.0, "month": 4.35, "year": 52.0}
_PER_MONTH = {
    "second": 2_592_000.0,
    "sec": 2_592_000.0,
    "minute": 43_200.0,
    "min": 43_200.0,
    "hour": 720.0,
    "hr": 720.0,
    "day": 30.0,
    "week": 52 / 12,
    "wk": 52 / 12,
    "month": 1.0,
    "mo": 1.0,
    "quarter": 1 / 3,
    "year": 1 / 12,
    "yr": 1 / 12,
    "annum": 1 / 12,
}
_PER_YEAR = {"day": 250.0, "week": 52.0, "sprint": 26.0, "month": 12.0, "quarter": 4.0, "year": 1.0}
#: "daily" → "day": one table for volumes (per month) and change rates (per year).
_ADVERB_UNIT = {
    "hourly": "hour",
    "daily": "day",
    "weekly": "week",
    "monthly": "month",
    "quarterly": "quarter",
    "yearly": "year",
    "annually": "year",
}


def _unit(word: str) -> str:
    word = word.lower().rstrip("s")
    return {"hr": "hour", "min": "minute", "sec": "second", "wk": "week", "mo": "month"}.get(
        word, word
    )


# --------------------------------------------------------------------------- sentences


@dataclass(frozen=True)
class Sentence:
    """One sentence of a message and where it starts in the message."""

    text: str
    start: int

    @property
    def lower(self) -> str:
        return self.text.lower()


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=\S)|\n+|;\s+|\s+[-–—]\s+(?=[A-Z])|(?<=:)\s+(?=[A-Z])")


#: A line break inside a sentence: the line runs on without closing punctuation and the
#: next one starts in lower case (text hard-wrapped by an editor or a mail client).
_SOFT_WRAP = re.compile(r"(?<=[^\s.!?:;])[ \t]*\r?\n(?=[ \t]*[a-z])")


def unwrap(message: str) -> str:
    """``message`` with soft line breaks as spaces (same length, so offsets still match)."""
    return _SOFT_WRAP.sub(lambda m: " " * len(m.group(0)), message)


#: Abbreviations people write mid-sentence: a full stop after one does not end the sentence.
_ABBREVIATION = re.compile(
    r"\b(?:est|approx|appx|incl|excl|vs|e\.g|i\.e|etc|ca|avg|esp|resp|approx|min|max|pct)\.$",
    re.IGNORECASE,
)


def split_sentences(message: str) -> list[Sentence]:
    """Sentences (and list items, and clauses after a dash or colon) with their offsets. A
    hard-wrapped sentence stays whole, so an instruction cannot hide its second half on
    the next line."""
    message = unwrap(message)
    sentences: list[Sentence] = []
    start = 0
    for match in _SENTENCE_END.finditer(message):
        if _ABBREVIATION.search(message, max(0, match.start() - 8), match.start()):
            continue  # "est. $1,200/mo", "vs. target": the sentence goes on
        _append(sentences, message, start, match.start())
        start = match.end()
    _append(sentences, message, start, len(message))
    return sentences


def _append(out: list[Sentence], message: str, start: int, end: int) -> None:
    chunk = message[start:end]
    stripped = chunk.strip()
    if stripped:
        out.append(Sentence(stripped, start + chunk.index(stripped)))


def clean_message(message: object) -> str:
    """Text the rules can read: str, NFC, no control characters, at most 20,000 chars."""
    if isinstance(message, bytes):
        message = message.decode("utf-8", errors="replace")
    if not isinstance(message, str):
        return ""
    text = message[:MAX_EXTRACT_CHARS]
    text = text.encode("utf-8", errors="replace").decode("utf-8")
    text = "".join(ch if ch in "\n\t" or unicodedata.category(ch)[0] != "C" else " " for ch in text)
    # Same-length replacements only, so offsets (and quotes) still match the message.
    return text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')


#: A sentence that poses as another role ("SYSTEM: ...", "<|im_start|>system") or gives the
#: advisor orders ("ignore the rules", "the verdict is ...") states no fact.
INSTRUCTION = re.compile(
    r"\b(?:ignore|disregard|forget|override|bypass)\b.{0,40}\b(?:instructions?|rules?|prompts?|"
    r"gates?|guidelines|everything)\b"
    r"|\b(?:you are now|from now on,? you|pretend (?:to be|you)|you (?:must |will |should |now )?"
    r"act as|act as if you|roleplay|role-play|"
    r"jailbreak|developer mode|do anything now)\b|\bDAN\b"
    r"|\b(?:print|show|reveal|repeat|leak|output|tell me) (?:me )?(?:your|the) (?:system|initial|"
    r"hidden|original) (?:prompt|message|instructions?)\b"
    r"|^\W*(?:system|assistant|developer)\s*:|(?-i:\b(?:SYSTEM|ASSISTANT|DEVELOPER)\s*:)"
    r"|<\|?(?:system|im_start)\|?>|\[/?INST\]"
    r"|\b(?:set|force|change|make) (?:the )?verdict\b|\bverdict\s*(?:[:=]|is\b)",
    re.IGNORECASE,
)


# --------------------------------------------------------------------------- rule plumbing


@dataclass(frozen=True)
class Hit:
    fact: str
    value: object
    position: int  # offset of the match in the sentence
    note: str = ""


Rule = Callable[[Sentence], Iterator[Hit]]
RULES: list[Rule] = []


def rule(fn: Rule) -> Rule:
    RULES.append(fn)
    return fn


_NEGATORS = re.compile(
    r"\b(?:no|not|never|without|nobody|none|nothing|neither|nor|lack|lacking|missing|"
    r"don't|doesn't|didn't|haven't|hasn't|hadn't|isn't|aren't|wasn't|weren't|won't|can't|"
    r"cannot|dont|doesnt|didnt|havent|hasnt|isnt|arent|cant|nope|zero)\b|n't\b"
)


def _negated_before(text: str, start: int, words: int = 5) -> bool:
    """Is there a negator among the few words before ``start`` (same clause)?"""
    window = text[max(0, start - 60) : start]
    window = re.split(r"[,;:()]|\bbut\b|\band\b|\bso\b", window)[-1]
    tail = " ".join(window.split()[-words:])
    return bool(_NEGATORS.search(tail.lower()))


def _search(pattern: str, text: str) -> re.Match[str] | None:
    return re.search(pattern, text, re.IGNORECASE)


# --------------------------------------------------------------------------- knowledge vs behaviour

_KNOWLEDGE = (
    r"\b(?:model|it|assistant|bot|llm|agent|chatbot|that|which)\b[^.]{0,40}?\b(?:to |would |will |"
    r"just |actually |really |should |can )?(?:knows?|memori[sz]es?|learns? the facts)\b"
    r"(?! (?:how|what|when|whether|if|nothing))"
    r"|\banswers? (?:\w+ ){0,3}questions? (?:about|from|on|over|using)\b"
    r"|\banswers? from (?:those|the|our|its)\b"
    r"|\b(?:cite|citing|cites) (?:the |a |specific |sources|ticket|section|policy|right|it\b|them\b)"
    r"|\bby heart\b|\bmaking up details\b|\bmakes up (?:facts|details|answers)\b"
    r"|\bwithout looking (?:anything|things) up\b"
)
_NOT_KNOWLEDGE = (
    r"\bnot (?:a )?(?:q&a|qa|question[- ]answering|about (?:facts|knowledge)|facts|knowledge)\b"
    r"|\babout (?:behaviou?r|style|tone|format)\b[^.]{0,20}\bnot (?:about )?(?:facts|knowledge)"
    r"|\b(?:it's|it is|this is|problem is) (?:about |all |really |mostly |just |purely )?(?:behaviou?r|tone|style|"
    r"format(?:ting)?)\b"
    r"|\b(?:fine-?tune|tune|train) (?:it )?for is (?:\w+ )?(?:behaviou?r|tone|style|format)"
    r"|\b(?:need|want|goal) is (?:about )?(?:behaviou?r|tone|style|format)"
    r"|\bbehaviou?r only\b"
)
_BEHAVIOUR_TASK = (
    r"\b(?:classif(?:y|ies|ying|ication|ier)|categori[sz](?:e|es|ing|ation)|triage|"
    r"rout(?:e|es|ing) (?:[\w-]+ ){0,4}(?:into|to) (?:\d+|the right|queues|teams|agents|one of)|(?:ticket|email|chat|call|inbound) routing|\+ routing|routing (?:uses|only|of|into)|tag(?:s|ging)? (?:\w+ ){0,3}with|tagging\b|extract(?:s|ing|ion)?\b|"
    r"pull (?:\w+ ){1,5}out of|moderat(?:e|ion)\b|intent(?: detection)?\b|sentiment\b|"
    r"spam detection|toxicity|detect(?:s|ing|ion)?\b|grade\b|grading|lead scoring|"
    r"scor(?:e|ing) (?:[\w-]+ ){0,4}against|formatting\b|report template|output format|map (?:\w+ ){0,4}to (?:\w+ ){0,3}(?:taxonomy|codes?)|"
    r"language-id|summari[sz](?:e|es|ing) (?:[\w-]+ ){0,5}into|rewrit(?:e|ing) (?:[\w-]+ ){0,4}into|"
    r"tone-rewriting|draft (?:\w+ ){0,4}in (?:our|a) |inline (?:[\w-]+ ){0,2}suggestions?|"
    r"autocomplete|sound (?:more )?like our brand|brand voice|house style)"
)
_NARROW_TASK = (
    r"\b(?:classif(?:y|ies|ying|ication|ier)|categori[sz](?:e|es|ing|ation)|triage|"
    r"rout(?:e|es|ing) (?:[\w-]+ ){0,4}(?:into|to) (?:\d+|the right|queues|teams|agents|one of)|"
    r"(?:ticket|email|chat|call|inbound) routing|\+ routing|tag(?:s|ging)? (?:\w+ ){0,3}with|tagging\b|"
    r"extract(?:s|ing|ion)?\b|pull (?:\w+ ){1,5}out of|moderat(?:e|ion)\b|intent(?: detection)?\b|"
    r"sentiment\b|spam detection|toxicity|detect(?:s|ing|ion)?\b|grade\b|grading|lead scoring|"
    r"scor(?:e|ing) (?:[\w-]+ ){0,4}against|map (?:\w+ ){0,4}to (?:\w+ ){0,3}(?:taxonomy|codes?)|"
    r"language-id|summari[sz](?:e|es|ing) (?:[\w-]+ ){0,5}into|inline (?:[\w-]+ ){0,2}suggestions?|"
    r"(?:one of|into) (?:\d+|the|our|\w+) (?:[\w-]+ ){0,2}(?:themes|categories|codes|classes|labels|queues|"
    r"levels|intents|tracks|families|actions|buckets|types)\b|assign(?:s|ed|ing)? (?:\w+ ){0,4}codes?\b|"
    r"autocomplete|very specific (?:[\w-]+ ){0,3}(?:format|template|register|structure)|"
    r"(?:fixed|standard|rigid) (?:[\w-]+ ){0,2}(?:format|template))"
)
_TACIT = (
    r"\b(?:tacit|judg(?:e)?ment (?:\w+ ){0,3}(?:can't|cannot|couldn't|hard to) (?:\w+ ){0,2}"
    r"(?:write|written|articulate|put)|can't (?:be )?(?:written|write) (?:it |them )?down|"
    r"hard to articulate|in (?:their|people's|practitioners'|experts') heads|"
    r"(?:don't|doesn't) capture the judg(?:e)?ment|gut feel|(?:never|can't|cannot|doesn't|don't) captures? it)"
)
_INPUT_ONLY = (
    r"\b(?:model|it|classifier|routing|task|classification|extraction|extractor|llm|tagger)\s+"
    r"(?:only|just|solely) (?:needs?|uses?|looks? at|reads?|sees?|gets?|works? off)\b"
    r"|\bneeds? (?:only|nothing but|nothing more than) the\b"
    r"|\bworks? off (?:the |its )?\w+(?: \w+)? (?:only|alone)\b"
    r"|\b(?:is|are) all (?:it|the model|they|we) needs?\b|\ball it needs is\b"
    r"|\beverything (?:it needs|needed|required|the model needs) is (?:on|in)\b"
    r"|\b(?:is|are) the only input\b|\bonly input\b"
    r"|\binput is the \w+(?: \w+)? itself\b"
    r"|\b(?:from|on|off|using|uses) (?:just |only |solely )?(?:the |its |our )?(?:[\w-]+ ){0,2}"
    r"(?:text|string|body|transcript|note|notes|utterance)(?: itself| alone| only)?\b"
    r"|\b[\w-]+ (?:text|transcript|body) only\b|\((?:\w+ ){0,2}only\)"
    r"|\bnothing external\b|\bno (?:outside|external|extra|additional) (?:knowledge|context|"
    r"documents|data|info)\b|\bno documents\b"
    r"|\b(?:doesn'?t|does not|don'?t|do not) need (?:any )?(?:outside|external|extra|other) "
    r"(?:knowledge|context|documents|data|info)"
    r"|\bin front of it\b"
    r"|\b(?:is|are) (?:sufficient|enough)\b|\bno (?:\w+ )?lookups? (?:is |are )?(?:required|needed)\b"
    r"|\bnothing else (?:is )?needed\b|\bno (?:records|documents|data|context)(?: or \w+)? (?:are |is )?needed\b"
    r"|\buses? (?:only|just) the\b|\bis everything (?:it|the model) needs\b"
    r"|\bfrom the [\w'-]+(?: [\w'-]+)? (?:message|email|form|document|comment|review|title|query|ticket|"
    r"letter|application|report|input|call|post)s?(?: itself| alone| only)\b"
)
_NEEDS_CONTEXT = (
    r"\bneeds? (?:the |our |a |an )?[\w' -]{0,100}? as context\b"
    r"|\b(?:depends|relies|depend|rely) on (?:our|the) (?:[\w-]+ ){0,5}(?:rules|policies|documents|records|data|"
    r"history|ordinance|knowledge|glossary|playbook|layers|database|catalog|manual|docs)\b"
    r"|\b(?:which|that) (?:the model|it) (?:never|doesn't|does not|can't|cannot) (?:sees?|gets?|has)\b"
    r"|\bwhich live in our\b"
    r"|\bneeds? (?:domain|outside|external|extra) (?:knowledge|context|documents)\b"
)


#: "it doesn't know", and "let the user know" (to tell, not to know facts).
_NOT_KNOWING = re.compile(
    r"\b(?:don't|doesn't|do not|does not) (?:\w+ )?know|\blet(?:s|ting)? (?:\w+ ){0,2}know\b",
    re.IGNORECASE,
)


@rule
def knowledge_or_behaviour(s: Sentence) -> Iterator[Hit]:
    text = s.text
    m: re.Match[str] | None
    for m in re.finditer(_KNOWLEDGE, text, re.IGNORECASE):
        if _negated_before(text, m.start(), 2) or _NOT_KNOWING.search(m.group(0)):
            continue
        if re.search(
            r"\b(?:doesn'?t|does not|don'?t|do not|won'?t|never|no need|not)\b", m.group(0), re.I
        ):
            continue  # "it doesn't need to know facts beyond the notes"
        if re.search(r"\bwhat\s+(?:it|the model|the bot|the llm)\s+knows?\b", text, re.I):
            continue  # "more about how it says things than what it knows"
        if re.search(r"\b(?:already|obviously|of course) knows?\b", m.group(0), re.I):
            continue  # "ICD-10, which the model already knows": nothing to look up
        yield Hit("need_type", "knowledge", m.start())
        yield Hit("needs_external_knowledge", True, m.start())
        break
    for m in re.finditer(_BEHAVIOUR_TASK, text, re.IGNORECASE):
        yield Hit("need_type", "behavior", m.start())
        break
    m = _search(_NOT_KNOWLEDGE, text)
    if m:
        yield Hit("need_type", "behavior", m.start())
    m = _search(_TACIT, text)
    if m:
        if _negated_before(text, m.start(), 4):
            yield Hit("tacit_expertise", False, m.start())
        else:
            yield Hit("tacit_expertise", True, m.start())
            yield Hit("need_type", "behavior", m.start())
    needs_context = _search(_NEEDS_CONTEXT, text)
    if needs_context and _negated_before(text, needs_context.start(), 3):
        # "it doesn't need outside knowledge"
        yield Hit("needs_external_knowledge", False, needs_context.start())
        needs_context = None
    m = _search(_INPUT_ONLY, text)
    if m and not needs_context:
        yield Hit("needs_external_knowledge", False, m.start())
        yield Hit("need_type", "behavior", m.start())
    if needs_context:
        yield Hit("needs_external_knowledge", True, needs_context.start())


# --------------------------------------------------------------------------- retrieval

_RAG = (
    r"\b(?:rag|retrieval|vector (?:search|store|db|database|index)|semantic search|search index|pgvector|"
    r"elasticsearch|opensearch|pinecone|weaviate|qdrant|faiss|chroma(?:db)?|milvus|bm25)\b"
)


@rule
def retrieval(s: Sentence) -> Iterator[Hit]:
    text = s.text
    if _search(
        r"\b(?:no|without) (?:\w+ ){0,2}(?:rag|retrieval|vector search)\b"
        r"|\b(?:don'?t|do not|haven'?t|have not|never|didn'?t|did not|doesn'?t|aren'?t|isn'?t)\b"
        r"(?: \w+){0,6} (?:rag|retrieval|retrieve|vector search)\b"
        r"|\bwe don't retrieve\b",
        text,
    ):
        m = _search(_RAG, text) or _search(r"retriev", text)
        yield Hit("retrieval_in_place", False, m.start() if m else 0)
        return
    m = _search(_RAG, text)
    if not m:
        return
    if _search(
        r"\b(?:doesn'?t|does not|don'?t|do not|isn'?t|is not|aren'?t|not)\s+(?:\w+\s+)?(?:use|using|"
        r"used|hooked|wired|connected|plugged)\w*\s+(?:it|them|that|this)?\b(?:\s+(?:in|up|yet))*",
        text[m.end() :],
    ):
        yield Hit(
            "retrieval_in_place", False, m.start()
        )  # "a search index, but the bot doesn't use it"
        return
    if _search(
        r"\b(?:already|in prod|in production|is live|are live|hooked up|set up|wired|in place|"
        r"stood up|spun up|deployed|rolled out|launched|"
        r"we (?:do )?(?:have|run|use|built|added)|we've (?:got|built|added)|"
        r"(?:prompt|setup|pipeline) ?\+ ?rag|rag (?:setup|pipeline) (?:is|works)|indexed in|"
        r"we retrieve|retrieves? the top|we pull the top)\b"
        r"|\+ ?rag\b",
        text,
    ) and not _search(r"\bshould we\b|\bwould\b|\bplan(?:ning)? to\b", text):
        asks = _search(r"\?\s*$", text) and not states_a_premise(text)
        if not asks:
            yield Hit("retrieval_in_place", True, m.start())


# --------------------------------------------------------------------------- prompting

_DURATION = re.compile(
    rf"(?:~\s?)?(?P<n>{_WORD_NUMBER_RE}|\d+(?:\.\d+)?)[\s-]+(?:(?:real|full|solid|whole|good|straight)\s+)?"
    r"(?P<unit>hours?|hrs?|days?|weeks?|wks?|months?|years?)\b"
    r"|\b(?P<part>an? (?:afternoon|morning|evening))\b",
    re.IGNORECASE,
)


def _durations(text: str) -> Iterator[tuple[float, int]]:
    """(weeks, position) for each duration in ``text`` that is not a period of stability."""
    for m in _DURATION.finditer(text):
        before = text[max(0, m.start() - 25) : m.start()].lower()
        if re.search(
            r"(?:unchanged|changed|same|fixed|since|last|past|ago|in the|for the)\s*$", before
        ) or re.search(r"\b(?:stuck|plateau\w*|budge|flat)\b", before):
            continue
        if m.group("part"):
            yield 0.1, m.start()
            continue
        n = _word_or_digit(m.group("n"))
        if n is None:
            continue
        yield n * _WEEKS_PER[_unit(m.group("unit"))], m.start()


@rule
def prompt_effort(s: Sentence) -> Iterator[Hit]:
    text = s.text
    anchor = _search(r"\bprompt(?:s|ing|ed)?\b|\b(?:the|our|its) (?:system )?instructions\b", text)
    if not anchor:
        return
    none = _search(
        r"\b(?:haven'?t|have not|didn'?t|did not|never|not)\b (?:\w+ ){0,2}(?:worked on|touched|"
        r"iterated on|tried|done|spent time on) (?:the |any |our |it\b)?(?:prompt)?"
        r"|\b(?:it's|it is|just|literally|is) (?:a |literally )?one[- ]line\b|\bone[- ]line prompt\b",
        text,
    )
    if none:
        yield Hit("prompt_effort_weeks", 0, none.start(), "no prompt work yet")
        return
    span = _search(
        r"\b(?:rewr\w+|iterat\w+|tweak\w*|work\w* on|tun\w+|chang\w+)\b[^.]{0,40}?\bprompt\b[^.]{0,40}?"
        r"\b(?:over|in|during|for) the (?:past|last) (?P<n>\w+ )?(?P<unit>weeks?|months?)\b",
        text,
    )
    if span:
        n = _word_or_digit(span.group("n")) if span.group("n") else 1.0
        if n is not None:
            weeks = n * _WEEKS_PER[_unit(span.group("unit"))]
            yield Hit("prompt_effort_weeks", round(weeks, 3), span.start())
            return
    candidates = list(_durations(text))
    if not candidates:
        return
    weeks, pos = min(candidates, key=lambda c: abs(c[1] - anchor.start()))
    yield Hit("prompt_effort_weeks", round(weeks, 3), pos)


@rule
def few_shot(s: Sentence) -> Iterator[Hit]:
    text = s.text
    shot = _search(r"\bfew[- ]?shot\b|\bin-context examples\b", text)
    if shot:
        yield Hit("few_shot_used", not _negated_before(text, shot.start(), 6), shot.start())
        return
    if _search(r"\bprompt", text):
        m = _search(
            r"\bno examples\b|\bwithout (?:any )?examples\b|\bno (?:\w+ )?examples in (?:it|the prompt)",
            text,
        )
        if m:
            yield Hit("few_shot_used", False, m.start())
            return
        m = _search(
            r"\b(?:\d+|a handful of|some|a dozen|a few|several) (?:[\w/-]+ ){0,2}examples in the prompt\b"
            r"|\bincludes? (?:\w+ ){0,2}(?:\d+|a dozen|a few|several|some|a handful of) (?:[\w/-]+ ){0,2}"
            r"(?:examples|demonstrations)\b",
            text,
        )
        if m and not _negated_before(text, m.start()):
            yield Hit("few_shot_used", True, m.start())


@rule
def structured_outputs(s: Sentence) -> Iterator[Hit]:
    m = _search(
        r"\b(?:json mode|function calling|tool calling|structured outputs?|constrained decoding|"
        r"json schema|grammar[- ]based sampling|schema[- ]validated)\b",
        s.text,
    )
    if m:
        dropped = _search(
            r"\b(?:turned (?:it|them) off|stopped using|dropped it|removed it|gave up on)\b", s.text
        )
        used = not _negated_before(s.text, m.start(), 6) and not dropped
        yield Hit("structured_outputs_used", used, m.start())


# --------------------------------------------------------------------------- evaluation

_MANUAL_EVAL = (
    r"\b(?:eyeball(?:s|ing)?|vibe[- ]?check(?:s|ing)?|spot[- ]check(?:s|ing)?|"
    r"look at (?:the |a few )?outputs)\b"
    r"|\b(?:check|test|judge|evaluate|review)(?:s|ing)? (?:\w+ ){0,4}(?:by hand|manually)\b"
)
_NO_EVAL = (
    r"\bno (?:\w+ )?(?:eval|evals|evaluation|test set|golden set|metrics|benchmark|harness)\b"
    r"|\b(?:don't|do not|haven't|have not|never|didn't|did not)\b (?:\w+ ){0,3}"
    r"(?:an? |any )?(?:eval|evals|evaluation|test set|golden set|metrics|harness)\b"
)
_AUTO_EVAL = (
    r"\bautomated (?:\w+ ){0,2}(?:eval|evals|evaluation|pipeline|harness|validator|scoring|"
    r"tests?|scorecard)\b"
    r"|\beval (?:harness|pipeline|suite)\b|\bharness\b|\bregression tests?\b"
    r"|\b(?:promptfoo|braintrust|langfuse|langsmith|ragas|deepeval|openai evals)\b"
    r"|\bon (?:our|the) automated eval\b"
    r"|\b(?:evals?|evaluation|harness|testing|scoring|grading)\b(?: \w+)? (?:is|are|runs?) (?:fully |all )?automated\b"
)


@rule
def evaluation(s: Sentence) -> Iterator[Hit]:
    text = s.text
    negative = _search(_MANUAL_EVAL, text) or _search(_NO_EVAL, text)
    if negative:
        yield Hit("eval_automated", False, negative.start())
    else:
        m = _search(_AUTO_EVAL, text)
        if (
            m
            and not _negated_before(text, m.start(), 4)
            and not _search(r"\bplan(?:ning)? to\b|\bwill build\b|\bshould we\b", text)
        ):
            yield Hit("eval_automated", True, m.start())
    m = _search(
        r"\b(?:never|not|haven't|have not|no|didn't|did not|without|don'?t|do not)\b (?:\w+ ){0,4}baselines?\b",
        text,
    )
    if m:
        yield Hit("eval_baseline_recorded", False, m.start())
        return
    m = _search(
        r"\bbaseline (?:recorded|score recorded|is recorded)\b|\brecorded (?:a |the )?baseline\b"
        r"|\bbest prompt\b[^.]{0,20}\b(?:recorded|logged|saved|tracked) (?:at|as)\b"
        r"|\b(?:that's|that is|as) our baseline\b|\bbaseline (?:score )?(?:is|of|at|:)?\s*~?\d",
        text,
    )
    if m and not negative:
        yield Hit("eval_baseline_recorded", True, m.start())


# --------------------------------------------------------------------------- quality gap

_PCT = r"(?P<{name}>\d{{1,3}}(?:\.\d+)?)\s?(?:%|percent\b|(?:/\s?(?P<{name}_scale>\d+(?:\.\d+)?)))"


def _pct(name: str) -> str:
    return _PCT.format(name=name)


def _to_pct(value: str, scale: str | None, default_scale: float | None = None) -> float | None:
    number = float(value)
    total = float(scale) if scale else default_scale
    if total:
        number = 100 * number / total
    return round(number, 2) if 0 <= number <= 100 else None


@rule
def quality_scores(s: Sentence) -> Iterator[Hit]:
    text = s.text
    lower = s.lower
    if not re.search(
        r"baseline|target|need|eval|accuracy|score|recall|precision|f1|agreement|prompt|"
        r"harness|now at|tops out|rubric|break|fail",
        lower,
    ):
        return
    baseline_scale: float | None = None
    on_eval = bool(_EVAL_WORDS.search(text))
    # "baseline 72% vs a 90% target", "71% vs the 94% we need", "3.2/5 vs a 4.5 target"
    pair = re.search(
        _pct("b") + r"(?:\s+\w+){0,3}?\s*,?\s+(?:vs\.?|versus|against|compared to|and)\s+"
        r"(?:a |an |the |our )?(?P<t>\d{1,3}(?:\.\d+)?)\s?(?:%|/\s?(?P<t_scale>\d+))?"
        r"(?:\s+(?:\w+\s+){0,2}?)?\s*(?=target|we need|needed|goal|required|bar|is needed)",
        text,
        re.IGNORECASE,
    )
    if pair:
        baseline_scale = float(pair.group("b_scale")) if pair.group("b_scale") else None
        b = _to_pct(pair.group("b"), pair.group("b_scale"))
        t = _to_pct(pair.group("t"), pair.group("t_scale"), baseline_scale)
        if b is not None:
            yield Hit("baseline_score_pct", b, pair.start())
            if on_eval:
                yield Hit("eval_baseline_recorded", True, pair.start())
        if t is not None:
            yield Hit("target_score_pct", t, pair.start("t"))
    else:
        for pattern in (
            r"\bbaseline(?: [\w-]+){0,5}?(?: is| of| at| was|:)?\s*(?:~|about |around )?"
            + _pct("b"),
            _pct("b") + r"\s+baseline\b",
            r"\b(?:best|current) prompt (?:\w+ ){0,2}(?:is at|scores|sits at|gets|at|is)\s*"
            + _pct("b"),
            r"\b(?:best|current) prompt(?: is| at| scores)?[:=]?\s*(?:~|about |around )?"
            + _pct("b"),
            r"\b(?:tops out|plateaus?|stuck|now|currently|it's|we're) at\s*~?" + _pct("b"),
            r"\b(?:model|prompt|it) scores\s*~?" + _pct("b"),
            r"\bputs (?:\w+ ){0,3}at\s*" + _pct("b"),
            r"\b(?:stuck at|budge from|flat at|plateaued at|stalled at)\s*(?:about |around |~)?"
            + _pct("b"),
        ):
            m = re.search(pattern, text, re.IGNORECASE)
            if m:
                baseline_scale = float(m.group("b_scale")) if m.group("b_scale") else None
                b = _to_pct(m.group("b"), m.group("b_scale"))
                if b is not None:
                    yield Hit("baseline_score_pct", b, m.start())
                    if on_eval:
                        yield Hit("eval_baseline_recorded", True, m.start())
                break
        else:
            yield from _fraction_scores(text, on_eval)
        for pattern in (
            r"\btarget(?: is| of|:)?\s*(?:~|about )?" + _pct("t"),
            _pct("t") + r"\s+(?:target|goal)\b",
            r"\b(?:we )?(?:need|needs|want|wants|require|requires|required) (?:at least |about )?"
            + _pct("t"),
            r"\b(?:the|a) " + _pct("t") + r"\s+(?:we need|target)",
            r"\btarget(?: is| of|:)?\s*(?P<t>\d(?:\.\d+)?)(?P<t_scale>)\b",
        ):
            m = re.search(pattern, text, re.IGNORECASE)
            if m:
                t = _to_pct(m.group("t"), m.group("t_scale") or None, baseline_scale)
                # a bare small target ("target 4.5") only on the baseline's rating scale
                if t is not None and (m.group("t_scale") or "%" in m.group(0) or baseline_scale):
                    yield Hit("target_score_pct", t, m.start())
                break
    # error rates: "breaks the schema on ~20% of reports ... we need under 2%"
    m = re.search(
        r"\b(?:breaks?|fails?|errors?|wrong|misses|miss)\b[^.]{0,50}?\bon\s*(?:~|about |around |roughly )?"
        r"(?P<e>\d{1,3}(?:\.\d+)?)%",
        text,
        re.IGNORECASE,
    )
    if m:
        yield Hit(
            "baseline_score_pct",
            round(100 - float(m.group("e")), 2),
            m.start(),
            "100% minus the error rate",
        )
        if on_eval:
            yield Hit("eval_baseline_recorded", True, m.start())
        needed = re.search(
            r"\bneed\b[^.%]{0,30}?(?:under|below|less than|fewer than)\s*(?P<e>\d{1,3}(?:\.\d+)?)%",
            text,
            re.I,
        )
        if needed:
            yield Hit(
                "target_score_pct",
                round(100 - float(needed.group("e")), 2),
                needed.start(),
                "100% minus the error rate",
            )
    m = re.search(
        r"\b(?:tops out|plateau(?:ed|s|ing)?|stuck at|stopped improving|can't get (?:it )?(?:past|above|beyond)|"
        r"no longer improv\w*|hit a ceiling|ceiling|won't budge|not budging|stalled|flatlined)\b",
        text,
        re.IGNORECASE,
    )
    if m and not _negated_before(text, m.start(), 3):
        yield Hit("quality_plateaued", True, m.start())


_EVAL_WORDS = re.compile(
    r"\b(?:baseline|eval|evals|evaluation|test set|harness|benchmark|golden|rubric|validator|"
    r"held-out|holdout)\b",
    re.IGNORECASE,
)
_SMALL_NUMBERS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
}


def _fraction_scores(text: str, on_eval: bool) -> Iterator[Hit]:
    """Scores written as fractions: "F1 is 0.83 ... wants 0.90", "right 3 times out of 4"."""
    m = _search(
        r"\b(?:f1|accuracy|precision|recall|score|auc|agreement)\b[^.%$]{0,40}?\b(?:is|of|at|=)\s*"
        r"(?P<b>0?\.\d{1,3})\b",
        text,
    )
    if m:
        yield Hit("baseline_score_pct", round(float(m.group("b")) * 100, 2), m.start())
        if on_eval:
            yield Hit("eval_baseline_recorded", True, m.start())
        t = _search(r"\b(?:wants?|needs?|target(?: is)?|goal(?: is)?)\s*(?P<t>0?\.\d{1,3})\b", text)
        if t:
            yield Hit("target_score_pct", round(float(t.group("t")) * 100, 2), t.start())
        return
    m = _search(
        r"\b(?:right|correct|accurate)\b[^.]{0,20}?\b(?P<k>\d+|one|two|three|four|five|six|seven|"
        r"eight|nine|ten) (?:times )?out of (?P<n>\d+|two|three|four|five|six|seven|eight|nine|ten)\b",
        text,
    )
    if m:
        k = _SMALL_NUMBERS.get(m.group("k").lower()) or float(m.group("k"))
        n = _SMALL_NUMBERS.get(m.group("n").lower()) or float(m.group("n"))
        if n and 0 <= k <= n:
            yield Hit("baseline_score_pct", round(100 * k / n, 2), m.start())


@rule
def gap_statements(s: Sentence) -> Iterator[Hit]:
    text = s.text
    m = _search(
        r"\b(?:haven't|have not|not|never|didn't|did not|no)\b (?:\w+ ){0,3}(?:measured|quantified)"
        r" (?:the |our |that )?gap\b"
        r"|\b(?:haven't|have not|not yet|didn't|no)\b (?:\w+ ){0,2}(?:agreed on|set|defined|picked|chosen)"
        r" (?:a |any |the )?target\b|\bno target\b"
        r"|\bwas (?:just )?a guess\b|\b(?:made[- ]up|guesstimate)\b",
        text,
    )
    if m:
        yield Hit("gap_measured", False, m.start())
    m = _search(
        r"\b(?:basically|already|almost|nearly|pretty much|more or less)\b (?:\w+ ){0,2}"
        r"(?:hitting|meeting|at|reaching|there on) (?:our|the) (?:target|goal|bar)\b"
        r"|\bgood enough already\b"
        r"|\b(?:a few|a handful of|some|couple of|a couple of) (?:\w+ )?(?:edge cases|outliers|exceptions)\b",
        text,
    )
    big = _search(
        r"\bnot (?:just )?(?:a few|a handful of|some) (?:\w+ )?(?:edge cases|outliers|exceptions)\b"
        r"|\b(?:misses|errors|failures|mistakes) are (?:\w+ )?systematic\b|\bwhole (?:categories|classes)\b",
        text,
    )
    if big:
        yield Hit("gap_significant", True, big.start())
    elif m:
        yield Hit("gap_significant", False, m.start())
    m = _search(
        r"\b(?P<d>\d{1,2}(?:\.\d+)?)\s?(?:percentage )?(?:points?|pp|%) (?:below|under|short of|from|off) "
        r"(?:the |our )?(?:target|goal|bar)\b",
        text,
    )
    if m:
        yield Hit("gap_measured", True, m.start())
        yield Hit("gap_significant", float(m.group("d")) >= 5, m.start(), "points below target")
    m = _search(
        r"\b(?:fine-?tune|fine-?tuned model|it|ft)\b (?:\w+ ){0,2}(?:gets|is|performs|scores|does)"
        r" (?:about |only |roughly |~)?(?P<d>\d{1,2}(?:\.\d+)?)\s?(?:%|percent|points?|pp) better\b",
        text,
    )
    if m:
        yield Hit("gap_significant", float(m.group("d")) >= 5, m.start(), "measured improvement")


# --------------------------------------------------------------------------- data

_LABEL_CUE = (
    r"(?:(?:[\w]+-)?lab(?:e)?ll?ed|hand-labell?ed|annotated|graded|scored|tagged|coded|labels|annotations|"
    r"(?:training )?examples|(?:q&a|qa) pairs|rows|samples|reviewed|training data points)\b"
)
_COUNT_THEN_CUE = re.compile(
    NUM + r"\s+(?P<mid>(?:[\w&'/-]+,?\s+){0,4}?)" + _LABEL_CUE, re.IGNORECASE
)
#: "Labeled clauses: 9,800", "gold set = 4k"
_LABEL_COLON = re.compile(
    r"\b(?:labell?ed|annotated|gold|training|reviewed)(?: [\w-]+){0,2}\s*[:=]\s*"
    r"(?:something like |roughly |maybe |approximately |~)?" + NUM,
    re.IGNORECASE,
)
_CUE_THEN_COUNT = re.compile(
    r"\b(?:labell?ed|annotated|reviewed|graded|tagged|coded)(?: and (?:\w+[ -])?(?:reviewed|checked|audited|"
    r"verified|validated))?\s+" + NUM + r"\s+\w+",
    re.IGNORECASE,
)
_COUNT_DONE_BY = re.compile(
    NUM + r"\s+[\w-]+\s+(?:done|written|coded|created|produced|made|rewritten|drafted)\s+by\b",
    re.IGNORECASE,
)
_LABELS_ARE_COUNT = re.compile(
    r"\b(?:labels|labeled data|training (?:data|set)|dataset) (?:is|are|=|:)\s+" + NUM,
    re.IGNORECASE,
)
_DATA_SOURCE_COUNT = re.compile(
    r"\b(?:training data|dataset|fine-tuning data)\b[^.]{0,40}?" + NUM, re.IGNORECASE
)
_SCRAPED_COUNT = re.compile(r"\bscraped\s+" + NUM, re.IGNORECASE)
_EVAL_CONTEXT = re.compile(
    r"\b(?:eval|evals|evaluation|golden|frozen|test set|holdout|held-out|benchmark|few-shot|"
    r"shot|in the prompt|tokens?)\b",
    re.IGNORECASE,
)
_NOT_REVIEWED = (
    r"\b(?:not|never|nobody|no one|none(?: of (?:them|the|our|these|those))?|haven't|hasn't|"
    r"have not|has not)\b[' ]?(?:[\w-]+[' ]){0,4}?"
    r"(?:(?:human|hand|manually)[- ])?(?:reviewed|audited|checked|gone through|looked at|"
    r"verified|filtered|cleaned)\b"
    r"|\bnobody's (?:\w+ ){0,1}(?:reviewed|audited|checked|gone through)\b"
    r"|\bun(?:reviewed|filtered|audited|checked|verified)\b"
)
_REVIEWED = (
    r"\b(?:human|hand|manually|qa|double|expert)[- ]?(?:reviewed|checked|audited|verified|labell?ed)\b"
    r"|\breviewed\b|\bdouble-checked\b|\baudited (?:by|every)\b|\bverified by\b|\bchecked by\b"
    r"|\b(?:checks|audits|reviews|verifies) (?:the \w+|every|each|all)\b|\bchecked (?:them|em|'em|it|all)\b"
    r"|\breviewer\b"
    r"|\b(?:labell?ed|annotated|graded|scored|written|confirmed|approved|signed[- ]off|validated|"
    r"vetted|adjudicated|corrected|decided|judged|rated|triaged|checked|verified) by "
    r"(?!(?:[\w-]+ ){0,3}?(?:gpt|llm|models?|claude|ai|scripts?|heuristics?|regex|rules?|"
    r"classifiers?|bots?|pipelines?)\b)(?:[\w-]+ ){0,3}?[\w-]+"
)
_GENERATED = (
    r"\b(?:generated|auto-generated|synthetic(?:ally)?|scraped|gpt-?\d\w* (?:generated|wrote)|"
    r"(?:llm|model|gpt-?\w*|claude)[- ]generated|distilled from|auto-?(?:labell?ed|tagged|annotated)|"
    r"(?:labell?ed|annotated|tagged|graded|scored|classified) by (?:[\w-]+ ){0,3}?(?:gpt|llm|models?|"
    r"claude|ai|scripts?|heuristics?|regex|rules?|classifiers?|bots?|pipelines?)\b)"
)


#: "8 examples in the prompt" are few-shot examples, not training data.
_IN_PROMPT = re.compile(
    r"\s*(?:[\w-]+\s+){0,2}?(?:examples?|shots?|samples?|demos?)(?:\s+[\w/-]+){0,3}?\s+"
    r"(?:in|inside|into|within)\s+(?:(?:the|our|its|my|a)\s+(?:system\s+)?"
    r"(?:prompt|template|instructions)|there\b)",
    re.I,
)
_UNIT_NOUN = re.compile(
    r"\s*(?:k|m|thousand|million)?\s*(?:years?|yrs?|months?|mos?|weeks?|wks?|days?|hours?|"
    r"minutes?|seconds?|ms|sprints?|quarters?|times|percent|points?|%|dollars?|bucks|cents?|"
    r"people|engineers|lawyers|annotators|reviewers|queues|categories|classes|labels\b(?! each))\b",
    re.I,
)


@rule
def labeled_data(s: Sentence) -> Iterator[Hit]:
    text = s.text
    found: tuple[float, int] | None = None
    zero = _search(
        r"\b(?:zero|no) (?:labell?ed|annotated|training) (?:data|examples)\b"
        r"|\bno (?:target|gold|reference|expected|correct) (?:outputs?|labels?|summaries|answers|categories)\b"
        r"|\b(?:none of them|none of those|nobody|no one|nobody's)\b[^.]{0,30}\b(?:ha(?:s|ve) (?:the )?(?:correct|right|gold|"
        r"target) \w+|(?:tagged|labell?ed|annotated|written|filled in) (?:the |any |an? )?(?:ideal |correct |right |"
        r"gold |target )?(?:\w+ )?(?:summaries|labels?|outputs?|answers|categor\w+|replies|for them))",
        text,
    )
    if zero:
        yield Hit("labeled_examples", 0, zero.start())
        return
    for regex in (
        _COUNT_THEN_CUE,
        _LABEL_COLON,
        _COUNT_DONE_BY,
        _LABELS_ARE_COUNT,
        _CUE_THEN_COUNT,
        _DATA_SOURCE_COUNT,
        _SCRAPED_COUNT,
    ):
        offset = 0
        while (m := regex.search(text, offset)) is not None:
            offset = m.start() + 1
            mid = m.groupdict().get("mid") or ""
            if re.search(r"\b(?:one of|into|among|between|of the)\s*$", text[: m.start()], re.I):
                continue  # "gets one of 5 labels", "into 12 categories": classes, not examples
            clause = re.split(r"[,;:(]|\band\b", text[max(0, m.start() - 40) : m.start()])[-1]
            before = " ".join(clause.split()[-4:])
            if _EVAL_CONTEXT.search(mid) or _EVAL_CONTEXT.search(before):
                continue
            if re.search(
                r"/\s*(?:mo|day|wk|week|month|yr|year)\b|\b(?:a|per|each|every) "
                r"(?:day|week|month|year)\b",
                mid,
                re.IGNORECASE,
            ):
                continue  # "3M reviews/mo, narrow, labels ...": a volume, not examples
            after = text[m.end("num") : m.end("num") + 2]
            if (
                "%" in after
                or _UNIT_NOUN.match(text, m.end("num"))
                or _IN_PROMPT.match(text, m.end("num"))
            ):
                continue  # a number belongs to its own noun: "2 years", "3 weeks" count no examples
            value = parse_number(m.group("num"), m.group("suffix"))
            if value is None or value != value:
                continue
            if value < 20 and re.search(r"\bprompt", text, re.I):
                continue  # "the prompt has 4 examples": few-shot examples, not training data
            found = (value, m.start())
            break
        if found:
            break
    if found:
        yield Hit("labeled_examples", int(found[0]), found[1])
    talks_about_data = found or _search(
        r"\b(?:examples|labels|labell?ed|annotat\w+|training data|dataset|them|those|"
        r"every one|each one|(?:every|each) (?:single )?(?:label|example|item|one|record|row))\b",
        text,
    )
    if not talks_about_data:
        return
    if _search(
        r"\b(?:whether|if) (?:\w+ ){0,3}(?:reviewed|audited|checked|verified)\b|\bnot sure (?:\w+ ){0,4}review"
        r"|\b(?:don't|do not) know (?:\w+ ){0,4}review",
        text,
    ):
        return  # the review status is explicitly unknown
    neg = _search(_NOT_REVIEWED, text)
    if neg:
        yield Hit("examples_human_reviewed", False, neg.start())
        return
    pos = _search(_REVIEWED, text)
    gen = _search(_GENERATED, text)
    if pos and not (gen and gen.start() > pos.start()):
        yield Hit("examples_human_reviewed", True, pos.start())
    elif gen and (found or _search(r"\b(?:examples|labels|data|them|those)\b", text)):
        yield Hit(
            "examples_human_reviewed", False, gen.start(), "generated or scraped, no review stated"
        )


# --------------------------------------------------------------------------- stability

_CHANGE_WORDS = (
    r"\b(?:chang\w*|revis\w*|rev'?d|updat\w*|rewrit\w*|rewritten|add(?:s|ing|ed)?|new (?:categories|labels|"
    r"classes|intents|tags|types|rules|fields|queues)|evolv\w*|shift\w*|tweak\w*|modif\w*|appear\w*|"
    r"reshuffl\w*|reorgani[sz]\w*|restructur\w*|overhaul\w*|redefin\w*|refresh\w*|redone|redo\w*|"
    r"revamp\w*|re-?cut|re-?drawn)\b"
)
_STABLE = re.compile(
    r"\b(?:unchanged|(?:haven't|hasn't|have not|has not) changed|(?:been |stayed |remained )?the same|"
    r"been fixed|is fixed|stable|static|frozen)\b[^.]{0,15}?\b(?:for|in|since|over)\s+(?:the (?:last|past) )?"
    r"(?:(?P<year>(?:19|20)\d\d)\b|(?P<n>"
    + _WORD_NUMBER_RE
    + r"|\d+(?:\.\d+)?)?\s*(?:(?:and a half)\s+)?(?P<unit>years?|months?|weeks?)\b(?P<half> and a half)?)",
    re.IGNORECASE,
)


_COUNT_BEFORE = re.compile(NUM + r"\s+(?:[\w-]+\s+){0,2}$", re.IGNORECASE)


#: "prices and stock levels, which change daily": the data changes, not the task
_DATA_CHANGES = re.compile(
    r"\b(?:prices?|pricing|fees|tariffs|offers|promotions|deals|stock(?: levels)?|inventory|rates|"
    r"news|availability|schedules?|"
    r"content|catalog(?:ue)?|market \w+|facts|data)\b,?\s+(?:which|that)\s+(?:(?:all|also|can)\s+)?$",
    re.IGNORECASE,
)


def _counted(text: str, start: int) -> bool:
    """The word at ``start`` is a counted noun ("40k updates", "900000 approved rewrites"):
    at least a hundred of them is a volume of work items, not a rate of changes to the task."""
    m = _COUNT_BEFORE.search(text[max(0, start - 60) : start])
    if not m:
        return False
    value = parse_number(m.group("num"), m.group("suffix"))
    return value is not None and value >= 100


_TASK_NOUNS = (
    r"\b(?:categor\w+|labels?|label set|schema|taxonomy|rubric|rules|criteria|classes|intents|"
    r"queues|codes|types|tags|format|template|style guide|guidelines|policy|spec)\b"
)


@rule
def stability(s: Sentence) -> Iterator[Hit]:
    text = s.text
    m = _STABLE.search(text)
    if m:
        if m.group("year"):
            yield Hit("task_changes_per_year", 0, m.start(), f"unchanged since {m.group('year')}")
        else:
            n = _word_or_digit(m.group("n")) if m.group("n") else 2.0  # "for years"
            if n is not None:
                months = n * 12 / _PER_YEAR[_unit(m.group("unit"))]
                if m.group("half") or "and a half" in m.group(0):
                    months += 6 if _unit(m.group("unit")) == "year" else 0.5
                if months >= 24:
                    yield Hit(
                        "task_changes_per_year", 0, m.start(), "unchanged for two years or more"
                    )
                elif months >= 3:
                    yield Hit(
                        "task_changes_per_year",
                        round(12 / months, 2),
                        m.start(),
                        f"at most one change in {months:g} months",
                    )
        return
    about_prompt = _search(r"\bprompts?\b", text) and not _search(_TASK_NOUNS, text)
    m = _search(
        r"\b(?:chang|revis|updat|tweak|modif)\w* (?:only |just )?(?:(?P<w>once|twice|thrice)|(?P<n>"
        + _WORD_NUMBER_RE
        + r"|\d+) times?) (?:(?:in|during|over) )?(?:last|this|the last|the past) year\b",
        text,
    )
    if m and not about_prompt:
        word = (m.group("w") or "").lower()
        count = {"once": 1.0, "twice": 2.0, "thrice": 3.0}.get(word) or _word_or_digit(
            m.group("n") or ""
        )
        if count is not None:
            yield Hit("task_changes_per_year", count, m.start(), m.group(0))
            return
    m = _search(
        r"\b(?:chang|revis|updat|modif)\w* (?:zero|0|no) times\b"
        r"|\b(?:zero|no|0) (?:changes|revisions|updates|edits)\b(?! (?:to|in|on) (?:the |our )?prompt)"
        r"|\b(?:locked|frozen|fixed|unchanged|stable|static|the same|untouched) (?:ever |all along )?"
        r"since\b|\b(?:haven't|hasn't|has not|have not|never) (?:been )?(?:changed|revised|updated|"
        r"touched|modified) (?:it |them )?since\b",
        text,
    )
    if m and not about_prompt and not _negated_before(text, m.start(), 2):
        yield Hit("task_changes_per_year", 0, m.start(), "no changes since it was set")
        return
    m = _search(
        r"\bchang(?:ed|es) (?:only |just )?(?P<count>once|twice|\w+ times) (?:in|over|during) "
        r"(?:the )?(?:past|last) (?P<n>\w+ )?(?P<unit>years?|months?)\b",
        text,
    )
    if m:
        count = {"once": 1.0, "twice": 2.0}.get(m.group("count").lower())
        if count is None:
            count = _word_or_digit(m.group("count").split()[0])
        span = _word_or_digit(m.group("n")) if m.group("n") else 1.0
        if count is not None and span:
            years = span if _unit(m.group("unit")) == "year" else span / 12
            rate = round(count / years, 2)
            yield Hit("task_changes_per_year", rate, m.start(), f"{m.group(0)}")
            return
    m = _search(
        r"\b(?:fixed|stable|unchanged) for years\b|\bnever (?:really |actually )?(?:changes?|changed)\b"
        r"|\bin (?:19|20)\d\d\b[^.]{0,60}\b(?:have not|haven't|has not|hasn't) changed since\b",
        text,
    )
    if m:
        yield Hit("task_changes_per_year", 0, m.start(), "unchanged for years")
        return
    m = _search(
        r"\b(?P<cmp>more often than|more than|less (?:often )?than|fewer than)\s+(?:once|1 times) "
        r"(?:a|per|every) "
        r"(?P<unit>week|month|quarter|year)\b",
        text,
    )
    if m and _search(_CHANGE_WORDS, text):
        base = _PER_YEAR[m.group("unit").lower()]
        more = m.group("cmp").lower().startswith("more")
        yield Hit("task_changes_per_year", base + 1 if more else base / 2, m.start())
        return
    if not _search(_CHANGE_WORDS, text):
        return
    if _search(r"\bprompt", text) and not _search(
        r"\b(?:categor\w+|labels?|schema|taxonomy|rubric|rules|criteria|classes|intents|queues|"
        r"codes|types|tags)\b",
        text,
    ):
        return  # the prompt changing is prompt work, not the task changing
    m = _search(
        r"\bevery (?P<k>couple of|few|other|two|three|four|six|\d+)(?: ?(?:to|-|or) ?(?P<k2>two|three|"
        r"four|five|six|\d+))? (?P<unit>weeks|months|years)\b",
        text,
    )
    if m:
        k = {"couple of": 2.0, "few": 3.0, "other": 2.0}.get(
            m.group("k").lower()
        ) or _word_or_digit(m.group("k"))
        upper = _word_or_digit(m.group("k2")) if m.group("k2") else None
        if k and upper:
            k = (k + upper) / 2  # "every 2 to 3 months": every 2.5
        per = _PER_YEAR[_unit(m.group("unit"))]
        if k:
            yield Hit("task_changes_per_year", round(per / k, 2), m.start())
            return
    m = _search(
        r"(?P<n>" + _WORD_NUMBER_RE + r"|\d+) times? (?:in|over) the (?:last|past)\s+"
        r"(?P<m>" + _WORD_NUMBER_RE + r"|\d+)?\s*(?P<unit>weeks?|months?|years?)\b",
        text,
    )
    if m:
        count = _word_or_digit(m.group("n")) or 1.0
        span = _word_or_digit(m.group("m")) if m.group("m") else 1.0
        unit_per_year = _PER_YEAR[_unit(m.group("unit"))]
        yield Hit(
            "task_changes_per_year", round(count * unit_per_year / (span or 1.0), 2), m.start()
        )
        return
    # the rate is said with the change word ("2.2M tickets a month, macros change twice a
    # year": the month is the volume's)
    changes = [
        c
        for c in re.finditer(_CHANGE_WORDS, text, re.IGNORECASE)
        if not _counted(text, c.start()) and not _DATA_CHANGES.search(text[: c.start()])
    ]
    if not changes:
        return  # "900k rewrites a month": the things made are counted, the volume's rate
    first, last = changes[0].start(), changes[-1].end()
    rate_re = (
        r"(?:(?P<n>"
        + _WORD_NUMBER_RE
        + r"|\d+)\s*(?:(?:or|to|-|–)\s*(?P<n2>"
        + _WORD_NUMBER_RE
        + r"|\d+)\s*)?)?(?:new \w+ |times? |changes? |updates? |x ?)?"
        r"(?:(?:every|each|once an?|once per|per|a)\s+(?:school |calendar |fiscal |financial )?|/)"
        r"(?P<unit>day|week|sprint|month|quarter|year|yr|mo)\b"
        r"|\b(?P<adv>daily|weekly|monthly|quarterly|yearly|annually)\b"
    )
    # the rate after the change word first: in "2.2M tickets a month, macros change twice a
    # year" the month before it is the volume's
    offset = first
    m = _search(rate_re, text[first : last + 60])
    if not m:
        offset = max(0, first - 40)
        m = _search(rate_re, text[offset : last + 60])
    if m:
        if m.group("adv"):
            unit = _ADVERB_UNIT[m.group("adv").lower()]
            count = 1.0
        else:
            unit = {"yr": "year", "mo": "month"}.get(
                m.group("unit").lower(), m.group("unit").lower()
            )
            n_text = m.group("n")
            said = _word_or_digit(n_text) if n_text and n_text.lower() not in ("a", "an") else None
            upper = _word_or_digit(m.group("n2")) if m.group("n2") else None
            if said is not None and upper is not None:
                said = (said + upper) / 2  # "two or three times a year": the middle
            count = 1.0 if said is None else said
        yield Hit("task_changes_per_year", round(count * _PER_YEAR[unit], 2), offset + m.start())
        return
    m = _search(
        r"\b(?:keeps? (?:evolving|changing)|still (?:evolving|changing)|constantly (?:chang|evolv)\w*|"
        r"chang\w* (?:all the time|frequently|often|a lot|constantly)|evolving|in flux)\b",
        text,
    )
    if m and not _negated_before(text, m.start(), 3):
        yield Hit("task_changes_per_year", 12, m.start(), "changes frequently (no rate given)")


@rule
def narrowness(s: Sentence) -> Iterator[Hit]:
    text = s.text
    broad = _search(
        r"\b(?:general(?:-purpose)? reasoning|arbitrary (?:requests|tasks|questions)|whatever \w+ throw|"
        r"(?:about|with) (?:just )?anything\b(?! (?:else|related|to do with))|"
        r"open-ended|broad\b|all kinds of|anything (?:\w+ ){0,2}(?:asks|throws|needs)|"
        r"many different tasks|general assistant)",
        text,
    )
    if broad and not _negated_before(text, broad.start(), 3):
        yield Hit("task_narrow", False, broad.start())
        return
    m = _search(
        r"\binto (?:~?\d+|our|the|a|\w+) (?:\w+ ){0,3}(?:categories|queues|types|buckets|labels|levels|"
        r"codes|intents|classes|tags|taxonomy|schema|format|template|sections?|priority levels)\b"
        r"|\b\d+ (?:\w+ )?(?:categories|queues|types|buckets|intents|classes|tags|labels|priority levels)\b"
        r"|\bas (?:\w+ ?/ ?){1,4}\w+\b"
        + "|"
        + _NARROW_TASK
        + r"|\b(?:single|one),? (?:narrow|well-defined|specific)\b"
        r"|\bnarrow(?:,? (?:and )?(?:well-defined|stable|specific))? (?:task|use case|problem|job)\b"
        r"|\bwell-defined (?:task|use case|problem|job)\b",
        text,
    )
    if m and not _negated_before(text, m.start(), 3):
        yield Hit("task_narrow", True, m.start())


# --------------------------------------------------------------------------- volume and money

_RATE = re.compile(
    NUM + r"\s*(?P<mid>(?:[\w&'-]+(?:\s+|(?=/))){0,3}?)(?:per|a|an|each|every|/)\s*"
    r"(?P<unit>second|sec|minute|min|hour|hr|day|week|wk|month|mo|year|yr|annum)\b"
    r"|"
    + NUM.replace("num>", "num2>").replace("suffix>", "suffix2>")
    + r"\s+(?P<adv>daily|weekly|monthly|hourly)\b",
    re.IGNORECASE,
)
_NOT_VOLUME_WORDS = re.compile(
    r"\b(?:examples?|labels?|labell?ed|annotat\w*|tokens?|dollars?|usd|hours?|weeks?|days?|"
    r"months?|years?|minutes?|seconds?|ms|times?|changes?|people|engineers?|employees?|"
    r"gpus?|users?|categories|percent|points?|releases?|grand|bucks|cents?|euros?)\b",
    re.IGNORECASE,
)


@rule
def volume(s: Sentence) -> Iterator[Hit]:
    text = s.text
    best: tuple[float, int] | None = None
    for m in _RATE.finditer(text):
        digits = m.group("num") or m.group("num2")
        suffix = m.group("suffix") or m.group("suffix2")
        start = m.start("num") if m.group("num") else m.start("num2")
        if (
            text[max(0, start - 2) : start].strip().endswith("$")
            or "%" in text[m.end() : m.end() + 1]
        ):
            continue
        if "$" in text[max(0, start - 3) : start]:
            continue
        mid = m.group("mid") or ""
        if _NOT_VOLUME_WORDS.search(mid):
            continue
        n = parse_number(digits, suffix)
        if n is not None and n < 100 and re.search(_CHANGE_WORDS, mid, re.IGNORECASE):
            continue  # "3 updates a month": changes to the task, not requests
        after_num = text[start + len(digits) : start + len(digits) + 6].lower()
        if re.match(r"\s*(?:ms|s\b|sec|%|x\b)", after_num) or re.match(
            r"\s*(?:k\s*)?(?:grand|bucks|dollars?|usd|euros?|cents?)\b",
            text[start + len(digits) : start + len(digits) + 14],
            re.IGNORECASE,
        ):
            continue
        n = parse_number(digits, suffix)
        if n is None or n < 1:
            continue
        unit = _ADVERB_UNIT[m.group("adv").lower()] if m.group("adv") else _unit(m.group("unit"))
        if unit in ("year", "annum") and n < 10:
            continue  # "3 times a year", "2 per year": not request volumes
        monthly = n * _PER_MONTH[unit]
        if re.match(r"\s*(?:ago|old)\b", text[m.end() : m.end() + 5]):
            continue
        best = (monthly, m.start())
        break
    if best:
        note = "" if best[0] == 0 else "converted to requests per month"
        yield Hit("monthly_volume", round(best[0]), best[1], note)


_PER_CALL_COST = re.compile(
    r"\b(?:each|per|a|every|one) (?:call|request|query)\b[^.$]{0,30}?\$\s?(?P<num>\d+(?:\.\d+)?)",
    re.IGNORECASE,
)
_MONEY = re.compile(
    r"\$\s?(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)\s?(?P<suffix>k|K|M|m(?![a-z])|million|thousand)?"
    r"\s*(?:(?:/|per|a|an|each|every)\s*(?P<unit>call|request|query|day|week|month|year|mo|yr))?",
)


@rule
def money(s: Sentence) -> Iterator[Hit]:
    text = s.text
    lower = s.lower
    per_call = _PER_CALL_COST.search(text)
    if per_call and not re.search(r"fine-?tun|small model|self-host", lower):
        yield Hit("current_cost_per_call", float(per_call.group("num")), per_call.start())
        return
    previous_end = 0
    for m in _MONEY.finditer(text):
        amount = parse_number(m.group("num"), m.group("suffix"))
        unit = (m.group("unit") or "").lower()
        # what is said between the previous amount and this one names it too: "our all-in
        # fine-tune estimate (hosting + retraining) is $22k/mo"
        lead, previous_end = lower[previous_end : m.start()], m.end()
        if amount is None:
            continue
        around = _clause(lower, m.start(), m.end())
        if not unit:
            period = re.search(
                r"\b(annual|yearly|per year|a year|monthly|per month|a month|daily|per day|a day)\b",
                around,
            )
            if not period or not re.search(r"\b(?:spend|bill|cost|costs|paying)\b", around):
                continue
            word = period.group(1)
            unit = (
                "year"
                if "year" in word or word == "annual"
                else "day"
                if "day" in word or word == "daily"
                else "month"
            )
        if unit in ("call", "request", "query"):
            if not re.search(r"fine-?tun|small model|self-host", around):
                yield Hit("current_cost_per_call", amount, m.start())
            continue
        monthly = amount * _PER_MONTH[_unit(unit)]
        tuned = (
            r"fine-?tun\w*|tuned[- ]model|small(?:er)? model|self-host|would cost|distilled|mistral|"
            r"llama|qwen|\bft\b"
        )
        # "a tuned model on a hosted endpoint comes to $8k a month all-in": an estimate
        estimate = re.search(tuned, lead) and (
            re.search(
                r"\ball[- ]in\b(?! (?:the|our|a|an|one|their|its|this|that|there)\b)|\bestimate|\bincluding\b|\bincl\b|\btco\b|\btotal\b",
                lead,
            )
            or re.search(
                r"\ball[- ]in\b(?! (?:the|our|a|an|one|their|its|this|that|there)\b)|\btco\b|\btotal cost of ownership\b",
                around,
            )
        )
        if (
            re.search(
                r"\bhosting|\bto host\b|\bgpus?\b|\bserver|\b(?:dedicated|serving|inference|gpu|private|own) "
                r"endpoint|\binstances?\b",
                around,
            )
            and not estimate
            and not re.search(r"\b(?:incl\w*|with|plus) (?:the )?hosting", around)
        ):
            yield Hit("hosting_cost_per_month", round(monthly, 2), m.start())
        elif estimate or re.search(tuned, around):
            yield Hit("fine_tuned_cost_per_month", round(monthly, 2), m.start())
            all_in = _search(
                r"\ball[- ]in\b(?! (?:the|our|a|an|one|their|its|this|that|there)\b)|\btotal cost of ownership\b|\btco\b|\b(?:incl(?:uding|udes|\.)?|counting) (?:\w+, )*(?:hosting|"
                r"retraining|label\w*|engineering)",
                text[m.start() :],
            ) or _search(
                r"\ball[- ]in\b(?! (?:the|our|a|an|one|their|its|this|that|there)\b)|\btotal cost of ownership\b|\btco\b",
                lead,
            )
            if all_in:
                yield Hit("fine_tuned_cost_all_in", True, m.start() + all_in.start())
        elif re.search(
            r"\b(?:miss\w*|misrout\w*|misclassif\w*|errors?|rework|re-handling|re-review|escalat\w*|"
            r"bad (?:answers?|outputs?|replies)|mistakes?|wrong|churn|"
            r"refunds?|complaints?|loses? us|lost|penalt\w*|fines?(?!-)|chargebacks?)\b",
            around,
        ):
            yield Hit("gap_cost_per_month", round(monthly, 2), m.start())
        elif re.search(
            r"\b(?:cost(?:s|ing)?|spend(?:ing)?|spent|bill|paying|pay|current(?:ly)?)\b", around
        ):
            yield Hit("current_cost_per_month", round(monthly, 2), m.start())


_CLAUSE_BREAKS = (",", ";", " and ", " but ", " — ", " – ", " - ", "—")


def _clause(text: str, start: int, end: int) -> str:
    """The clause around ``text[start:end]``: up to the nearest comma, semicolon, dash, "and"
    or "but" ("$1,800/mo for the tuned model but hosting isn't in it": no hosting figure)."""
    left = max(
        (i + len(b) - 1 for b in _CLAUSE_BREAKS if (i := text.rfind(b, 0, start)) != -1),
        default=-1,
    )
    right_candidates = [i for b in _CLAUSE_BREAKS if (i := text.find(b, end)) != -1]
    right = min(right_candidates) if right_candidates else len(text)
    return text[left + 1 : right]


# --------------------------------------------------------------------------- latency

_MS = r"(?P<{n}>\d+(?:\.\d+)?)[\s-]?(?P<{n}_unit>ms|milliseconds?|s|secs?|seconds?)\b"


def _ms(value: str, unit: str) -> float:
    return float(value) * (1.0 if unit.lower().startswith("m") else 1000.0)


@rule
def latency(s: Sentence) -> Iterator[Hit]:
    text = s.text
    m = _search(
        r"\blatency (?:\w+ ){0,2}(?:doesn'?t|does not|don'?t|won'?t) matter\b"
        r"|\bbatch (?:thing|mode|run)\b|\bruns? (?:as an? )?(?:overnight|nightly)\b(?! \w+ (?:in|on|with))"
        r"|\b(?:overnight|nightly) (?:job|run|batch)\b|\bbatch\b[^.]{0,20}\b(?:overnight|nightly)\b"
        r"|\blatency (?:isn't|is not|not) (?:a |an )?(?:concern|important|an issue|issue|critical|a problem)\b"
        r"|\bnot latency[- ]sensitive\b|\bno latency (?:requirement|constraint|target)s?\b"
        r"|\b(?:nightly|overnight|offline) batch\b|\bbatch (?:job|process|pipeline)\b|\bruns? as a batch\b"
        r"|\basync(?:hronous(?:ly)?)?\b|\bnobody(?:'s| is) waiting\b|\bnobody needs it fast\b"
        r"|\b(?:a few|several) seconds is fine\b|\bno one is waiting\b|\bnobody minds waiting\b"
        r"|\b(?:meets|within|inside) (?:the |our )?latency (?:requirement|budget|target)\b",
        text,
    )
    if m:
        yield Hit("latency_sensitive", False, m.start())
        return
    target = re.search(
        r"\b(?:under|below|within|less than|<|sub-?)\s*~?" + _MS.format(n="t"), text, re.IGNORECASE
    ) or re.search(
        r"\b" + _MS.format(n="t") + r" (?:budget|target|sla|limit|requirement)\b",
        text,
        re.IGNORECASE,
    )
    if target and re.search(
        r"latency|respon|answer|need|require|suggest|real-time|realtime|must", s.lower
    ):
        # a target alone says what is needed, not that someone waits: latency_sensitive is
        # left to what the user says about it (no gate needs it to be true)
        yield Hit(
            "latency_target_ms", _ms(target.group("t"), target.group("t_unit")), target.start()
        )
    base = re.search(
        r"\b(?:averages?|takes?|gives us|is at|runs at|comes in at|(?:responds|answers|returns|comes back) in|"
        r"p50 (?:is|of)|p95 (?:is|of)|currently|"
        r"latency (?:is|of))\s*(?:about |around |~)?" + _MS.format(n="b"),
        text,
        re.IGNORECASE,
    )
    if base:
        yield Hit("baseline_latency_ms", _ms(base.group("b"), base.group("b_unit")), base.start())
    miss = _search(
        r"\b(?:misses (?:it |that |the target |the budget )?(?:badly|by)?|too slow|can't meet|cannot meet|"
        r"doesn't meet|does not meet|not fast enough)\b",
        text,
    )
    if miss and re.search(r"latency|ms\b|slow|fast|api|real-time", s.lower):
        yield Hit("baseline_misses_latency", True, miss.start())
    waits = _search(
        r"\b(?:users?|agents?|customers?|reps?|shoppers?|callers?|clinicians?|people|someone|"
        r"somebody)\s+(?:\w+\s+)?(?:wait|waits|are waiting|is waiting|sit there waiting|feel)\b"
        r"|\btyping path\b|\binteractive\b"
        r"|\b(?:is|are) (?:\w+ ){0,5}waiting (?:for|on) (?:it|the \w+|them)\b",
        text,
    )
    if waits and not _negated_before(text, waits.start(), 3):
        yield Hit("latency_sensitive", True, waits.start())
    if re.search(r"\bhard (?:latency )?(?:requirement|constraint)\b|\breal-time\b", s.lower):
        hm = _search(r"\bhard (?:latency )?(?:requirement|constraint)\b|\breal-time\b", text)
        if hm and re.search(r"latency|ms\b|real-time", s.lower):
            yield Hit("latency_sensitive", True, hm.start())


# --------------------------------------------------------------------------- format, ops, privacy


@rule
def strict_format(s: Sentence) -> Iterator[Hit]:
    m = _search(
        r"\bstrict (?:json |output |response )?(?:schema|format|template|style)\b|\bmust follow\b"
        r"|\brigid (?:template|format|structure)\b|\bexact (?:format|template|schema)\b"
        r"|\bnested (?:\w+ )?schema\b|\bbreak(?:s|ing)? (?:the |our )(?:\w+ ){0,3}(?:schema|template|format)\b"
        r"|\bvery specific (?:\w+ ){0,3}(?:format|template|register|structure)\b"
        r"|\bproprietary (?:markup|format|notation)\b",
        s.text,
    )
    loose = _search(
        r"\bformat is (?:loose|flexible|free)\b|\bany (?:readable )?(?:format|paragraph|structure) (?:works|is fine)\b"
        r"|\bno (?:strict|particular|specific) format\b",
        s.text,
    )
    if loose:
        yield Hit("strict_format_need", False, loose.start())
    elif m:
        yield Hit("strict_format_need", True, m.start())


@rule
def operations(s: Sentence) -> Iterator[Hit]:
    text = s.text
    m = _search(r"\b(?:retr(?:y|ies)|fallbacks?|failover)\b", text)
    if m:
        negated = _negated_before(text, m.start(), 4) or _search(r"\bno (?:retr|fallback)", text)
        if negated or _search(
            r"\b(?:we have|in place|set up|already|we use|we run|handles?)\b", text
        ):
            yield Hit("orchestration_in_place", not negated, m.start())
    m = _search(
        r"\bcach(?:e|es|ing)\b|\brout(?:e|ing) (?:simple|easy|cheap)\w* (?:queries|requests)\b|\bmodel routing\b",
        text,
    )
    if m:
        negated = _negated_before(text, m.start(), 4) or _search(
            r"\bno (?:caching|cache|routing)\b", text
        )
        if negated or _search(
            r"\b(?:we have|in place|set up|already|we use|we cache|we route)\b", text
        ):
            yield Hit("cost_controls_in_place", not negated, m.start())


@rule
def privacy(s: Sentence) -> Iterator[Hit]:
    m = _search(
        r"\bon-?prem(?:ise|ises)?\b|\bhipaa\b|\bgdpr\b|\bair-?gapped\b|\bdata (?:can't|cannot|must not|may not) leave\b"
        r"|\b(?:can't|cannot) send (?:\w+ ){0,3}to (?:an? |the )?(?:external|third-party|hosted|cloud|openai)"
        r"|\bprivacy[- ](?:sensitive|requirements?|constraints?)\b",
        s.text,
    )
    none = _search(
        r"\bno (?:pii|personal data|sensitive data|privacy (?:concerns?|requirements?|constraints?))\b"
        r"|\bnothing sensitive\b|\bnot sensitive\b|\bprivacy[- ]wise\b[^.]{0,10}\bfine\b|\bfine privacy[- ]wise\b",
        s.text,
    )
    if none:
        yield Hit("privacy_sensitive", False, none.start())
    elif m and not _negated_before(s.text, m.start(), 3):
        yield Hit("privacy_sensitive", True, m.start())


# --------------------------------------------------------------------------- entry points

_HYPOTHETICAL = re.compile(
    r"^\W*(?:if|what if|suppose|supposing|assuming|imagine|hypothetically)\b"
    r"|^\W*(?:(?:so|and|but|ok|okay|then|also|roughly|honestly|quick question:?|just curious:?|"
    r"out of curiosity:?)[,\s]+)?(?:is|are|do|does|did|how|what|which|should|shall|can|could|"
    r"would|will|when|why|where|who|roughly how)\b[^.]*\?\s*$"
    # a plan to fine-tune is the question asked, not a hypothesis: the sentence's facts stand
    r"|\b(?:we|i)(?:'re| are| am)? (?:plan(?:ning)?|going) to\b(?! (?:fine[- ]?tune|train|tune|try "
    r"fine|do (?:a )?fine))|\b(?:we'll|we will)\b(?! (?:fine[- ]?tune|train|tune))"
    r"|\bnext (?:year|quarter|month)\b"
    # reported words are someone's claim, not a fact of the case ("people keep saying 'the
    # model doesn't know our domain'")
    r"|\b(?:say(?:s|ing)?|said|claim(?:s|ing|ed)?|jok(?:es|ed|ing))\s*[:,]?\s*['\"“‘]"
    # someone else's project: "my friend at a bank said they fine-tuned with 20k examples"
    r"|\b(?:my|a|our) (?:friend|colleague|buddy|contact|peer|mate|cousin|ex-colleague)s?\b[^.]{0,40}"
    r"\b(?:said|says|told|claims?|mentioned)\b"
    r"|\basked (?:(?:us|me) )?(?:if|whether) (?:[\w']+ ){0,4}['\"“‘]",
    re.IGNORECASE,
)


#: "Does it matter that our eval is just me eyeballing twenty outputs?": the question is about
#: a fact it states.
_PREMISE_QUESTION = re.compile(
    r"^\W*(?:(?:so|and|but|ok|okay)[,\s]+)?(?:(?:does|would|will|is|isn't|doesn't) it (?:matter|count|"
    r"make a difference|change anything|hurt|help|a problem|bad|ok|okay|an issue|fine) that\s+"
    r"|(?:since|given that|now that|considering that|seeing as)\s+(?=[^,?]+,))",
    re.IGNORECASE,
)


def states_a_premise(sentence: str) -> bool:
    """A question that states the fact it asks about ("does it matter that we have no eval?")."""
    return bool(_PREMISE_QUESTION.match(sentence))


def is_hypothetical(sentence: str) -> bool:
    """A plan, a hypothesis, a question or reported words state no fact ("if we hit 1M a
    month ..."); a question about a premise it states does ("does it matter that ...?")."""
    premise = _PREMISE_QUESTION.match(sentence)
    if premise:
        stated = sentence[premise.end() :]
        if (
            premise.group(0)
            .strip()
            .lower()
            .startswith(("since", "given", "now", "consider", "seeing"))
        ):
            stated = stated.split(",", 1)[0]  # "Since the vector store is live, is ...?"
        return bool(_HYPOTHETICAL.search(stated.rstrip(" ?") + "."))
    return bool(_HYPOTHETICAL.search(sentence))


def extract(message: object, turn: int = 0, *, source: Source = Source.RULES) -> list[FactRecord]:
    """Facts stated in one message, in the order they appear.

    Numbers are read as people write them (:func:`advisor.reader.numbers.normalise`:
    "fifteen thousand", "half a million"); the quote stays the user's own sentence. A rule
    that raises is a bug and propagates: the boundary that called the reader reports it."""
    from advisor.reader.numbers import normalise

    records: list[FactRecord] = []
    text = clean_message(message)
    original = message[:MAX_EXTRACT_CHARS] if isinstance(message, str) else text
    if len(original) != len(text):
        original = text
    if not text.strip():
        return records
    for raw in split_sentences(text):
        if INSTRUCTION.search(raw.text):
            continue
        if is_hypothetical(raw.text):
            continue
        quote = _quote(raw, original)
        sentence = Sentence(normalise(raw.text, times=True), raw.start)
        for hit in _sentence_hits(sentence):
            record = make_record(
                hit.fact,
                hit.value,
                source=source,
                turn=turn,
                quote=quote,
                position=sentence.start + min(hit.position, len(raw.text)),
                note=hit.note,
            )
            if record is not None:
                records.append(record)
    records.sort(key=lambda r: r.position)
    return records


#: A clause that points back at another ("but turned it off") reads only with it.
_REFERS_BACK = re.compile(r"\b(?:it|that|them|this|those|these|one)\b", re.IGNORECASE)


def _hits(sentence: Sentence) -> list[Hit]:
    return [hit for rule_fn in RULES for hit in rule_fn(sentence)]


def _sentence_hits(sentence: Sentence) -> list[Hit]:
    """The rules' hits in ``sentence``, where a "no" or a zero the sentence reads but no
    clause of it does alone takes the clauses' reading: a negation in one clause ("two
    weeks on the prompt but we haven't tried JSON mode") is not the other's."""
    from advisor.reader.clauses import clauses

    hits = _hits(sentence)
    parts = clauses(sentence.text)
    if len(parts) < 2:
        return hits
    local: dict[str, list[tuple[int, Hit]]] = {}
    for index, part in enumerate(parts):
        for hit in _hits(Sentence(part.text, sentence.start + part.start)):
            hit = Hit(hit.fact, hit.value, part.start + hit.position, hit.note)
            local.setdefault(hit.fact, []).append((index, hit))
    out: list[Hit] = []
    for hit in hits:
        home = max(i for i, part in enumerate(parts) if part.start <= hit.position or i == 0)
        mine = local.get(hit.fact, [])
        # the clause the reading came from says the same alone: the sentence reading stands
        if any(i == home and h.value == hit.value for i, h in mine):
            out.append(hit)
        elif (
            hit.value in (False, 0)
            and mine
            and all(h.value != hit.value for _, h in mine)
            and not _REFERS_BACK.search(parts[home].text)
        ):
            # a negation in one clause read into another's statement
            out.extend(h for _, h in mine if h not in out)
        else:
            out.append(hit)
    return out


def _quote(sentence: Sentence, original: str) -> str:
    """The sentence as the user wrote it (a verbatim slice of the message), at most 300 chars."""
    end = sentence.start + len(sentence.text)
    text = original[sentence.start : end] if len(original) >= end else sentence.text
    return text[:300]


def extract_conversation(messages: Sequence[str]) -> FactLedger:
    """A ledger of the facts stated across ``messages`` (turn 1 is the first message)."""
    ledger = FactLedger()
    for turn, message in enumerate(messages, start=1):
        ledger.add(extract(message, turn))
    return ledger
