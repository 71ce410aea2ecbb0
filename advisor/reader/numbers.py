"""Numbers as people write them: words, shorthand, ranges, and amounts per period.

Number words go through `text2num <https://pypi.org/project/text2num/>`_ (``alpha2digit``),
a maintained library with a compiled core that handles compounds ("one thousand two
hundred", "eighty-seven", "fifteen hundred") correctly; it was chosen over
``number-parser`` (which mis-reads "fifteen hundred" and several hyphenated forms) and
``quantulum3`` (a unit extractor that ships a classifier and a large unit table, far more than
a handful of units needs). Neither library knows the idioms people use for amounts, so a
small table here rewrites them first: "half a million", "two and a half", "a dozen",
"a couple of", "twice", "a quarter of a second", "one point five million".

:func:`normalise` returns text with every number as digits; :func:`quantities` finds each
amount in it with its unit, its period ("a day", "/mo") and its range, so a reader can bind
an amount to the noun it belongs to.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from text_to_num import alpha2digit as _alpha2digit

from advisor.reader.spelling import correct


def alpha2digit(text: str, lang: str, threshold: float = 3.0) -> str:
    """text2num's converter, typed (the package ships no type information)."""
    return str(_alpha2digit(text, lang, threshold=threshold))


#: Words that stand for small numbers before a unit ("one week", "a month", "a cent").
_SMALL = {
    "a": 1.0,
    "an": 1.0,
    "one": 1.0,
    "single": 1.0,
    "two": 2.0,
    "a couple of": 2.0,
    "a couple": 2.0,
    "couple of": 2.0,
    "a few": 3.0,
    "a handful of": 4.0,
    "several": 4.0,
    "a dozen": 12.0,
    "dozen": 12.0,
}
#: Words after which "a month", "a week" is one of them (not a period: "500 a month").
_ONE_AFTER = frozenset(
    {
        *("about", "around", "roughly", "for", "took", "takes", "spent", "over", "in", "than"),
        *("just", "only", "nearly", "almost", "under", "maybe", "like", "within", "past"),
        *("last", "full", "whole", "entire"),
    }
)
_SCALE_WORDS = {"hundred": 1e2, "thousand": 1e3, "million": 1e6, "billion": 1e9}
_FRACTIONS = {
    "half": 0.5,
    "a half": 0.5,
    "quarter": 0.25,
    "a quarter": 0.25,
    "third": 1 / 3,
    "fifth": 0.2,
    "tenth": 0.1,
    "hundredth": 0.01,
}

_UNIT_WORDS = (
    r"(?:seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?|wks?|months?|mos?|years?|yrs?|"
    r"sprints?|quarters?|cents?|dollars?|bucks|grand|percent|points?|times|examples|people)"
)


def _fmt(value: float) -> str:
    return format(value, "f").rstrip("0").rstrip(".") or "0"


_IDIOMS: tuple[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]], ...] = (
    # "half a million", "a quarter of a million" -> 500000
    (
        re.compile(
            r"\b(?P<frac>half|a quarter|quarter) (?:of )?an? (?P<scale>hundred|thousand|million|"
            r"billion)\b",
            re.I,
        ),
        lambda m: _fmt(_FRACTIONS[m["frac"].lower()] * _SCALE_WORDS[m["scale"].lower()]),
    ),
    # "half a cent", "a quarter of a second", "half an hour" -> "0.5 cent"
    (
        re.compile(
            r"\b(?P<frac>half|a quarter|quarter|a third|a fifth|a tenth|a hundredth) (?:of )?an? "
            r"(?=\w)",
            re.I,
        ),
        lambda m: _fmt(_FRACTIONS[m["frac"].lower().removeprefix("a ")]) + " ",
    ),
    # "a week and a half", "two months and a half" -> "1.5 week", "2.5 months"
    (
        re.compile(r"\b(?P<whole>\w+) (?P<unit>" + _UNIT_WORDS + r") and a half\b", re.I),
        lambda m: _whole_and_half(m),
    ),
    # "two and a half months", "3 and a half weeks" -> "2.5 months"
    (
        re.compile(r"\b(?P<whole>\w+) and a half\b", re.I),
        lambda m: _whole_and_half(m),
    ),
    # "one point five million" -> "1.5 million"
    (
        re.compile(r"\b(?P<a>[a-z]+) point (?P<b>[a-z]+)\b", re.I),
        lambda m: _point(m),
    ),
    # "a dozen", "a couple of", "one" before a unit -> digits
    (
        re.compile(
            r"(?<![\w-])(?P<w>a couple of|a couple|couple of|a few|a handful of|several|a dozen|"
            r"dozen|one|single|two)[ -](?=" + _UNIT_WORDS + r"\b)",
            re.I,
        ),
        lambda m: _fmt(_SMALL[m["w"].lower()]) + " ",
    ),
    (re.compile(r"\ba dozen\b", re.I), "12"),
    (re.compile(r"\b(?:a|one) fortnight\b", re.I), "2 weeks"),
    (re.compile(r"\ban? (?=cents?\b|penny\b)", re.I), "1 "),
    # "about a month", "took a week", "for an hour": "a" is one only after such words
    (
        re.compile(
            r"(?:^|\b(?P<w>[a-z]+) )an? (?=(?:second|minute|hour|day|week|month|quarter|year|"
            r"sprint)s?\b)",
            re.I,
        ),
        lambda m: (
            (m["w"] + " " if m["w"] else "") + "1 "
            if m["w"] is None or m["w"].lower() in _ONE_AFTER
            else m.group(0)
        ),
    ),
    # "a hundred", "a thousand", "a million" -> "1 hundred" (then read as digits below)
    (re.compile(r"\ban? (?=(?:hundred|thousand|million|billion)\b)", re.I), "1 "),
)


def _whole_and_half(m: re.Match[str]) -> str:
    whole = m["whole"]
    unit = f" {m['unit']}" if "unit" in m.re.groupindex else ""
    if whole.replace(".", "", 1).isdigit():
        return _fmt(float(whole) + 0.5) + unit
    converted = alpha2digit(whole, "en", threshold=0)
    if converted.isdigit():
        return _fmt(float(converted) + 0.5) + unit
    if whole.lower() in ("a", "an", "one"):
        return "1.5" + unit
    return m.group(0)


def _point(m: re.Match[str]) -> str:
    a = alpha2digit(m["a"], "en", threshold=0)
    b = alpha2digit(m["b"], "en", threshold=0)
    if a.isdigit() and b.isdigit():
        return f"{a}.{b}"
    return m.group(0)


#: "1.5 1000000" (alpha2digit turns "million" alone into digits) -> "1500000".
#: "twice", "thrice", "once" -> "2 times" (only where a frequency is read: the sentence
#: rules read these words themselves).
_TIMES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\btwice\b", re.I), "2 times"),
    (re.compile(r"\bthrice\b", re.I), "3 times"),
    (re.compile(r"\bonce\b(?! (?:we|you|they|it|i|the|that|this)\b)", re.I), "1 times"),
)
_DIGIT_SCALE = re.compile(r"\b(\d+(?:\.\d+)?) (?:1 )?(100|1000|1000000|1000000000)\b")
#: "1 hundred", "5 thousand", "1.2 million": scale words after digits.
_SCALE_AFTER = re.compile(r"\b(\d+(?:\.\d+)?) (hundred|thousand|million|billion)\b", re.I)
#: Ordinals are not amounts ("the first one" stays words), nor is "one" alone ("no one").
_THRESHOLD = 2


@lru_cache(maxsize=256)  # each sentence is normalised by the rules, the reader and the hedges
def normalise(text: str, *, times: bool = False) -> str:
    """``text`` with numbers as digits: "fifteen thousand" -> "15000", "half a million" ->
    "500000", "two and a half months" -> "2.5 months". Other words are unchanged.
    ``times`` also turns "once", "twice" into "1 times", "2 times". Typos of the words
    the reader looks for are spelled right first (:mod:`advisor.reader.spelling`)."""
    out = correct(text)
    # "2,5k": a decimal comma before a multiplier (never a thousands separator)
    out = re.sub(r"(?<![\d,])(\d),(\d)\s?([kKmM])\b", r"\1.\2\3", out)
    if times:
        for pattern, word in _TIMES:
            out = pattern.sub(word, out)
    for pattern, repl in _IDIOMS:
        out = pattern.sub(repl, out)
    # alpha2digit reads "second" as an ordinal ("a quarter of a second" -> "2nd"): hide it.
    out = re.sub(r"\bsecond(s?)\b", r"SECONDUNIT\1", out, flags=re.I)
    out = alpha2digit(out, "en", threshold=_THRESHOLD)
    out = out.replace("SECONDUNIT", "second")
    out = _DIGIT_SCALE.sub(lambda m: _fmt(float(m[1]) * float(m[2])), out)
    out = _SCALE_AFTER.sub(lambda m: _fmt(float(m[1]) * _SCALE_WORDS[m[2].lower()]), out)
    # "2 times, maybe 3 times" / "3 weeks or 4 weeks" -> "2 to 3 times": one range
    out = _UNIT_RANGE.sub(r"\1 to \3 \2", out)
    out = _CORRECTED.sub(_corrected, out)
    return _BELOW.sub(_below, out)


_AMOUNT = r"\$?\d{1,3}(?:,\d{3})+(?:\.\d+)?|\$?\d+(?:\.\d+)?"
#: "12 weeks, actually scratch that, more like 9", "800 labeled, sorry, 600", "3 weeks, no
#: wait, 5": a number taken back in the same breath reads as the one said after it. The
#: second number must end the clause (or repeat the first one's noun), so "800 labeled,
#: actually 600 of them reviewed" is left alone.
_CORRECTED = re.compile(
    r"(?<![\w.,$])(?P<n1>" + _AMOUNT + r")"
    r"(?P<mid>(?:\s*(?:(?:k|K|M)\b|%))?(?:\s+[a-z][\w'-]*){0,4}?)"
    r"\s*[,;:—–-]*\s*(?:(?:no|oh|er|um)[,\s]+)?"
    r"\b(?:actually|sorry|wait|i mean|or rather|make (?:that|it)|scratch that|strike that|"
    r"correction)\b(?:[\s,:;—–-]+(?:actually|scratch that|strike that|sorry|no|it's|it is|that's|"
    r"more like|closer to|rather|make (?:that|it)|like|about|around|roughly|~))*[\s,:;—–-]*"
    r"(?P<n2>" + _AMOUNT + r")(?P<tail>(?:\s*(?:(?:k|K|M)\b|%))?)"
    r"(?=\s*(?:[.;,!?)]|$|ish\b|or so\b))",
    re.IGNORECASE,
)


def _corrected(m: re.Match[str]) -> str:
    mid = m["mid"]
    if m["tail"] and re.match(r"\s*(?:(?:k|K|M)\b|%)", mid):
        mid = re.sub(r"^\s*(?:(?:k|K|M)\b|%)", "", mid)  # "8k, sorry, 6k" -> "6k"
    return m["n2"] + m["tail"] + mid


#: "almost 1k", "just shy of a million", "not quite 2 weeks", "fewer than 1000": a number the
#: amount is *below*. The gates compare with ">=", so such an amount must never read as the
#: round number itself ("just under a thousand examples" does not pass a 1,000-example gate):
#: it reads as 5% below it (a percentage or score as one point below). A plain "under" or
#: "less than" is often a requirement ("under 250ms", "less than $2k a month") and is left
#: to the readers, except before a count or a duration in days, weeks or months.
_SHORT_OF = (
    r"(?:(?:just|a bit|a little|slightly|a hair|a tad|somewhat)\s+(?:under|below|less than|"
    r"fewer than)|(?:just\s+|a bit\s+|a little\s+)?(?:shy|short) of|not quite|almost|nearly|"
    r"not even)"
)
_BELOW = re.compile(
    r"(?<![\w-])(?:(?P<short>" + _SHORT_OF + r")|(?P<under>under|below|less than|fewer than))\s+"
    r"(?P<cur>\$|€|£)?(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"(?:\s?(?P<mult>k|K|M|mm|MM|mil|million|thousand|grand|bn|billion)\b)?"
    r"(?P<unit>\s?(?:%|percent\b|pct\b|points?\b|pts?\b|ms\b|msec|millisec\w*|s\b|secs?\b|"
    r"seconds?\b|mins?\b|minutes?\b|h\b|hrs?\b|hours?\b|x\b|times\b|bucks\b|dollars?\b|"
    r"usd\b|days?\b|weeks?\b|wks?\b|months?\b|mos?\b|years?\b|yrs?\b))?",
    re.IGNORECASE,
)
_CLOCK = re.compile(r"\s?(?:ms|msec|millisec|s|sec|second|min|minute|h|hr|hour|x|times)", re.I)
_MONEY = re.compile(r"\s?(?:bucks|dollars?|usd)", re.I)
_PERCENT = re.compile(r"\s?(?:%|percent|pct|points?|pts?)", re.I)


def _below(m: re.Match[str]) -> str:
    unit = m["unit"] or ""
    if _CLOCK.match(unit) and not re.match(r"\s?(?:days?|weeks?|wks?|months?|mos?)", unit, re.I):
        return m.group(0)  # a latency or a factor: "under 2s" is a requirement
    money = bool(m["cur"]) or bool(_MONEY.match(unit))
    if m["under"] and (money or _PERCENT.match(unit)):
        return m.group(0)  # "under $2k a month", "under 5%": a bound, for the readers
    if m["under"] and re.search(
        r"\b(?:anything|everything|whatever|something)\s+$",
        m.string[max(0, m.start() - 12) : m.start()],
        re.I,
    ):
        return m.group(0)  # "anything under 88 is rework": the bar itself, for the readers
    value = float(m["num"].replace(",", ""))
    if m["mult"]:
        value *= _MULTIPLIERS[m["mult"].lower()]
    below = value - 1 if _PERCENT.match(unit) else value * 0.95
    return f"~{m['cur'] or ''}{_fmt(round(below, 2))}{unit}"


_UNIT_RANGE = re.compile(
    r"\b(\d+(?:\.\d+)?) (times|weeks?|months?|days?|years?|hours?|cents?),? "
    r"(?:maybe|perhaps|possibly|or|to|and|sometimes) (\d+(?:\.\d+)?) \2",
    re.I,
)


# --------------------------------------------------------------------------- quantities

Kind = Literal["count", "percent", "money", "duration", "latency", "frequency", "score"]

_MULTIPLIERS = {
    "k": 1e3,
    "thousand": 1e3,
    "grand": 1e3,
    "m": 1e6,
    "mm": 1e6,
    "mn": 1e6,
    "mil": 1e6,
    "million": 1e6,
    "b": 1e9,
    "bn": 1e9,
    "billion": 1e9,
}
#: Time units in weeks (prompt effort) and in milliseconds (latency).
_WEEKS = {
    "hour": 1 / 40,
    "day": 1 / 7,
    "week": 1.0,
    "sprint": 2.0,
    "month": 4.345,
    "quarter": 13.0,
    "year": 52.14,
}
_MS = {"ms": 1.0, "millisecond": 1.0, "second": 1000.0, "minute": 60_000.0, "hour": 3_600_000.0}
#: Periods, as how many of them make a month.
PER_MONTH = {
    "second": 2_592_000.0,
    "minute": 43_200.0,
    "hour": 720.0,
    "day": 30.0,
    "weekday": 21.7,
    "business day": 21.7,
    "working day": 21.7,
    "week": 4.345,
    "month": 1.0,
    "quarter": 1 / 3,
    "year": 1 / 12,
}
_UNIT_ALIASES = {
    "s": "second",
    "sec": "second",
    "secs": "second",
    "seconds": "second",
    "ms": "ms",
    "msec": "ms",
    "milliseconds": "millisecond",
    "min": "minute",
    "mins": "minute",
    "minutes": "minute",
    "hr": "hour",
    "hrs": "hour",
    "hours": "hour",
    "h": "hour",
    "days": "day",
    "d": "day",
    "wk": "week",
    "wks": "week",
    "weeks": "week",
    "w": "week",
    "mo": "month",
    "mos": "month",
    "months": "month",
    "mth": "month",
    "yr": "year",
    "yrs": "year",
    "years": "year",
    "y": "year",
    "sprints": "sprint",
    "quarters": "quarter",
    "qtr": "quarter",
    "annum": "year",
}
_ADVERBS = {
    "hourly": "hour",
    "daily": "day",
    "nightly": "day",
    "weekly": "week",
    "biweekly": "2 week",
    "fortnightly": "2 week",
    "monthly": "month",
    "quarterly": "quarter",
    "yearly": "year",
    "annually": "year",
}


def unit_name(word: str) -> str:
    """The canonical name of a time unit ("wks" -> "week", "s" -> "second")."""
    w = word.lower().strip(".")
    return _UNIT_ALIASES.get(w, w.rstrip("s") if len(w) > 3 else w)


@dataclass(frozen=True)
class Quantity:
    """One amount in a text: its value (the middle of a range), its kind and unit, and the
    period it is counted over ("a day", "/mo"), with where it is in the text."""

    value: float
    kind: Kind
    start: int
    end: int
    unit: str = ""  # the time unit (duration, latency) or the noun after a count
    period: str = ""  # day, week, month, year, call ... ("" for none)
    low: float = 0.0
    high: float = 0.0
    approximate: bool = False
    bound: Literal["", "at_least", "at_most"] = ""

    @property
    def is_range(self) -> bool:
        return self.low != self.high

    def per_month(self) -> float | None:
        """A rate as an amount per month; ``None`` when it has no time period."""
        per = PER_MONTH.get(self.period)
        return None if per is None else self.value * per

    def per_year(self) -> float | None:
        per = PER_MONTH.get(self.period)
        return None if per is None else self.value * per * 12

    def weeks(self) -> float | None:
        """A duration in weeks; ``None`` when it is not one."""
        factor = _WEEKS.get(self.unit)
        return None if self.kind != "duration" or factor is None else self.value * factor

    def milliseconds(self) -> float | None:
        factor = _MS.get(self.unit)
        return None if factor is None else self.value * factor


_APPROX = (
    r"(?:~|about|around|roughly|approximately|approx\.?|circa|ca\.|some|maybe|perhaps|like|"
    r"probably|nearly|almost|close to|on the order of|in the region of|ballpark|somewhere around)"
)
_AT_LEAST = r"(?:over|more than|above|at least|north of|upwards of|in excess of|>=?|\bmin(?:imum)?)"
_AT_MOST = r"(?:under|less than|below|at most|no more than|fewer than|up to|south of|<=?|\bmax)"
_NUMBER = r"(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)"
_MULT = r"(?:k|K|mm|MM|mn|mil|M|m(?![a-z])|million|thousand|grand|bn|billion|B)"


def _one(n: str) -> str:
    return rf"(?P<{n}cur>\$|usd ?|€|£|eur ?)?(?P<{n}num>{_NUMBER})(?:\s?(?P<{n}mult>{_MULT})\b)?"


_SEPARATOR = r"(?P<sep>-|–|—|to|and|or|,? (?:maybe|perhaps|possibly|sometimes|or so,?))"
#: An amount's lead ("about", "north of") and first number; and what may follow it (a unit).
_LEAD = (
    r"(?<![\w.,$€£/-])"
    r"(?:(?P<approx>"
    + _APPROX
    + r")\s+|(?P<least>"
    + _AT_LEAST
    + r")\s+|(?P<most>"
    + _AT_MOST
    + r")\s+)?"
    + _one("a")
)
_TAIL = (
    r"(?P<plus>\+)?(?:\s?-?ish\b)?"
    r"(?:\s?(?P<unit>%|percent\b|pct\b|per ?cent\b|percentage points?\b|points?\b|pts?\b|"
    r"ms\b|msec\b|milliseconds?\b|s\b|secs?\b|seconds?\b|mins?\b|minutes?\b|h\b|hrs?\b|hours?\b|"
    r"days?\b|d\b|wks?\b|weeks?\b|w\b|months?\b|mos?\b|mths?\b|years?\b|yrs?\b|y\b|sprints?\b|"
    r"quarters?\b|cents?\b|c\b|dollars?\b|bucks\b|usd\b|euros?\b|times\b|x\b))?"
    r"(?P<plus2>\+)?"
)
_QUANTITY = re.compile(
    _LEAD + r"(?:\s*" + _SEPARATOR + r"\s*" + _one("b") + r")?" + _TAIL, re.IGNORECASE
)
#: The same amount without a second number: what a match falls back to when its "range" is
#: not one ("60 and 80" without "between", "2019 to 2023"-like descending pairs).
_SINGLE = re.compile(_LEAD + _TAIL, re.IGNORECASE)
_PERIOD_AFTER = re.compile(
    r"\s*(?:[a-z-]+\s+){0,3}?(?:(?:a|an|per|/|every|each|in a|in an|a single|last|this|"
    r"in the (?:last|past)|over the (?:last|past)|the (?:last|past))\s*"
    r"(?P<n>\d+\s+)?(?P<unit>second|sec|minute|min|hour|hr|business day|working day|weekday|day|"
    r"week|wk|month|mo|mth|quarter|qtr|year|yr|annum|call|request|query|ticket|document|item|"
    r"message|conversation|run|prediction|response)s?\b|(?P<adverb>hourly|daily|nightly|weekly|"
    r"biweekly|fortnightly|monthly|quarterly|yearly|annually)\b)",
    re.IGNORECASE,
)
_PERIOD_WORD = (
    r"(?:(?P<adverb>hourly|daily|weekly|monthly|quarterly|yearly|annual|annually)|"
    r"(?:per|a|each|every|on an? (?:normal|typical|average|busy|good|quiet)|on a) (?P<unit>day|"
    r"week|month|year|quarter))"
)
#: "daily volume is about", "per day we see", "on a normal day about": the period before it.
_PERIOD_BEFORE = re.compile(
    _PERIOD_WORD + r"\s*(?:(?:[a-z]+\s+){0,3}?"
    r"(?:(?:is|are)(?: (?:small|tiny|low|modest|light|big|large|high|huge|heavy))?,?|of|at|runs?|"
    r"sits?|hits?|comes? to|=|:|we (?:get|see|handle|process|serve|receive|do)|"
    r"(?:it|that|this) (?:is|was|'s))|(?:volume|traffic|throughput|load|usage)\s*,?|)"
    r"\s*(?:about|around|roughly|maybe|~|like)?\s*$",
    re.IGNORECASE,
)
_NOUN_AFTER = re.compile(r"\s*(?:(?:[a-z][\w'-]*|\d[\w-]*)\s+){0,4}?([a-z][\w'-]*)", re.I)


def _number(cur: str | None, num: str | None, mult: str | None) -> float | None:
    if num is None:
        return None
    value = float(num.replace(",", ""))
    if mult:
        factor = _MULTIPLIERS.get(mult.lower())
        if factor is None:
            return None
        # "M" is million after a currency or before "/mo"; "m" alone is minutes or metres
        # only in latency text, which the latency reader handles with the unit.
        value *= factor
    return value


def _group(m: re.Match[str], name: str) -> str | None:
    return m.groupdict().get(name)


def _scale_low(low: float, high: float) -> float:
    """ "between 5 and 10 thousand" reads as 5000-10000: the scale word of the second number
    also belongs to the first when the first is too small to stand alone."""
    if high >= 1000 and low < high / 100:
        for scale in (1e9, 1e6, 1e3):
            if high % scale == 0 and low * scale <= high:
                return low * scale
    return low


def quantities(text: str) -> list[Quantity]:
    """Every amount in ``text`` (already :func:`normalise`\\ d), in order."""
    return list(_quantities(text))


@lru_cache(maxsize=256)
def _quantities(text: str) -> tuple[Quantity, ...]:
    # one sentence is read by several components (scores, examples, latency, amounts ...):
    # the cache reads it once
    out: list[Quantity] = []
    pos = 0
    while (m := _QUANTITY.search(text, pos)) is not None:
        a = _number(m["acur"], m["anum"], m["amult"])
        b = _number(m["bcur"], m["bnum"], m["bmult"])
        sep = (m["sep"] or "").strip(", ").lower()
        if b is not None and not m["amult"] and m["bmult"]:
            a = _number(None, m["anum"], m["bmult"])  # "100-200k": the k is shared
        elif b is not None and a is not None and not m["amult"]:
            a = _scale_low(a, b)
        between = text[max(0, m.start() - 8) : m.start()].lower().endswith("between ")
        if b is not None and a is not None and (b < a or (sep == "and" and not between)):
            single = _SINGLE.match(text, m.start())
            assert single is not None
            m, b = single, None
        pos = max(m.end(), pos + 1)
        if a is None:
            continue
        out.append(_quantity(text, m, a, b))
    return tuple(out)


def _quantity(text: str, m: re.Match[str], a: float, b: float | None) -> Quantity:
    cur = _group(m, "acur") or _group(m, "bcur")
    mults = ((_group(m, "amult") or "") + (_group(m, "bmult") or "")).lower()
    unit_raw = (m["unit"] or "").lower()
    low, high = (a, b) if b is not None else (a, a)
    value = (low + high) / 2
    kind: Kind = "count"
    unit = ""
    if unit_raw in ("%", "percent", "pct", "per cent", "percent"):
        kind = "percent"
    elif unit_raw.startswith(("point", "pt", "percentage")):
        kind = "score"
        unit = "points"
    elif (
        cur
        or unit_raw in ("dollar", "dollars", "bucks", "usd", "euro", "euros")
        or ("grand" in mults)
    ):
        kind = "money"
    elif unit_raw in ("cent", "cents", "c"):
        kind = "money"
        value, low, high = value / 100, low / 100, high / 100
    elif unit_raw in ("times", "x"):
        kind = "frequency"
        unit = "times"
    elif unit_raw:
        unit = unit_name(unit_raw)
        kind = "latency" if unit in ("ms", "millisecond", "second", "minute") else "duration"
    end = m.end()
    period = ""
    after = _PERIOD_AFTER.match(text, end)
    if after and (after["unit"] or after["adverb"]):
        period = _ADVERBS[after["adverb"].lower()] if after["adverb"] else unit_name(after["unit"])
        every = 1.0
        if " " in period and period[0].isdigit():  # "biweekly": every 2 weeks
            n, period = period.split(" ", 1)
            every = float(n)
        elif after["n"]:
            every = float(after["n"]) or 1.0
        value, low, high = value / every, low / every, high / every
    elif re.match(r"\s*/\s*(?:mo|month)\b", text[end:], re.I):
        period = "month"
    if not period:
        before = _PERIOD_BEFORE.search(text[max(0, m.start() - 60) : m.start()])
        if before:
            period = (
                unit_name(before["unit"])
                if before["unit"]
                else _ADVERBS.get(before["adverb"].lower(), "year")
            )
    if kind == "count":
        noun = _NOUN_AFTER.match(text, end)
        unit = noun.group(1).lower() if noun else ""
    bound: Literal["", "at_least", "at_most"] = ""
    if m["least"] or m["plus"] or m["plus2"]:
        bound = "at_least"
    elif m["most"]:
        bound = "at_most"
    return Quantity(
        value=value,
        kind=kind,
        start=m.start(),
        end=end,
        unit=unit,
        period=period,
        low=low,
        high=high,
        approximate=bool(m["approx"]) or "ish" in m.group(0).lower(),
        bound=bound,
    )
