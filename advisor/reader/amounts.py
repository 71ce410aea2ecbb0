"""Volumes and costs, as the numbers module reads them: "on a normal day about 100k queries
hit the endpoint", "API spend is $10-14k/mo", "we pay the vendor $180k annually", "about 2
cents a call".

A count over a period is the volume when its noun is a unit of work (requests, tickets,
emails ...); money over a period is what the current model costs when the words around it
say it is spent, and nothing says it is a fine-tuned model's, hosting's or the gap's.
"""

from __future__ import annotations

import re
from dataclasses import replace

from advisor.reader.clauses import clauses
from advisor.reader.numbers import Quantity, quantities

_WORK = re.compile(
    r"^(?:requests?|quer(?:y|ies)|calls?|tickets?|messages?|emails?|mails?|documents?|docs?|"
    r"items?|conversations?|chats?|transcripts?|invoices?|claims?|orders?|listings?|reviews?|"
    r"posts?|forms?|pages?|records?|images?|summar(?:y|ies)|tags?|titles?|notes?|utterances?|"
    r"submissions?|applications?|letters?|articles?|reports?|contracts?|events?|sessions?|"
    r"lookups?|predictions?|rows?|files?|jobs?|inferences?|completions?|generations?|runs?|"
    r"answers?|questions?|users?|products?|descriptions?|comments?|cases?|leads?|alerts?)$",
    re.IGNORECASE,
)
_SPENT = re.compile(
    r"\b(?:spend\w*|spent|pay(?:s|ing)?|paid|bills?|billed|invoices?|cost(?:s|ing)?|charges?|"
    r"charged|budget|we'?re at|we are at|running us|runs us)\b",
    re.IGNORECASE,
)
_NOT_CURRENT = re.compile(
    r"\b(?:fine-?tun\w*|tuned|small(?:er)? model|self-host\w*|distill\w*|host\w*|gpus?|"
    r"servers?|would|could|estimate\w*|rework|re-review|escalat\w*|errors?|mistakes?|misrout\w*|"
    r"wrong|bad (?:answers?|outputs?)|lose|lost|"
    r"loss|penalt\w*|churn|refunds?)\b",
    re.IGNORECASE,
)

_TUNED = re.compile(
    r"fine-?tun\w*|tuned[- ]model|small(?:er)? model|self-host\w*|distill\w*|\bft\b", re.I
)
_PER_CALL = re.compile(r"\b(?:each|per|every|a|one|an?) (?:api )?(?:call|request|query)\b", re.I)


def volumes(text: str) -> list[Quantity]:
    """Counts of work over a period in one normalised sentence."""
    return [
        q
        for q in quantities(text)
        if q.kind == "count" and q.per_month() is not None and _WORK.match(q.unit or "")
    ]


def _home(text: str, q: Quantity) -> tuple[int, str]:
    """Where the clause of ``text`` that ``q`` sits in starts, and its text (a "; " or
    "but" ends it)."""
    for clause in clauses(text):
        if clause.start <= q.start < clause.start + len(clause.text):
            return clause.start, clause.text
    return 0, text


def current_costs(text: str) -> list[Quantity]:
    """Money spent over a period on the current model, in one normalised sentence: said as
    money, or as a bare amount right after a spending word ("current spend 24k/mo"), in a
    clause that says nothing of a fine-tuned model, hosting or the gap's cost."""
    out = []
    for q in quantities(text):
        if q.per_month() is None or q.kind not in ("money", "count"):
            continue
        _, home = _home(text, q)
        if _NOT_CURRENT.search(home) or not _SPENT.search(text[: q.end]):
            continue
        if q.kind == "count" and not (
            q.unit in _NO_NOUN and _SPENT.search(text[max(0, q.start - 24) : q.start])
        ):
            continue
        out.append(q)
    return out


_PRICED = re.compile(
    r"\b(?:cost\w*|estimate\w*|quot(?:e|ed|es)|priced?|comes? (?:out )?(?:to|at)|works? out "
    r"(?:to|at)|would (?:be|run)|budget\w*|dollars?|bucks)\b|\$",
    re.IGNORECASE,
)
_HOSTING_ONLY = re.compile(r"\b(?:hosting|gpus?|servers?|endpoint|instances?)\b", re.IGNORECASE)
_INCLUDED = re.compile(r"\b(?:all[- ]in|incl\w*|with)\b", re.IGNORECASE)


def fine_tuned_costs(text: str) -> list[Quantity]:
    """What a fine-tuned model would cost over a period, in a sentence that names one and
    prices it: money ("$7k a month") or an amount with no noun of its own in a priced
    clause ("an all-in estimate for a tuned model comes to seven thousand a month"). An
    amount said without a period takes the period of the one before it ("$16k/mo now and a
    tuned model would be ~6k all in")."""
    found = quantities(text)
    out = []
    for i, q in enumerate(found):
        if q.kind not in ("money", "count") or (q.kind == "count" and q.unit not in _NO_NOUN):
            continue
        _, home = _home(text, q)
        # the tuned model is named before the amount, or just after it ("$3k a month for
        # the tuned model"); "$16k/mo now and a tuned model ..." is not its price
        if not (_TUNED.search(text[: q.start]) or _FOR_TUNED.match(text, q.end)):
            continue
        if not (_PRICED.search(home) or q.kind == "money"):
            continue
        if _HOSTING_ONLY.search(home) and not _INCLUDED.search(home):
            continue  # the endpoint's price: hosting, for the sentence rules
        if q.per_month() is None:
            earlier = [p for p in found[:i] if p.period and p.per_month() is not None]
            if not earlier or earlier[-1].kind != "money":
                continue
            q = replace(q, kind="money", period=earlier[-1].period)
        out.append(q)
    return out[:1]


_FOR_TUNED = re.compile(
    r"[^,;.]{0,30}?\b(?:for|on|with) (?:the |a |an |our )?(?:[\w-]+ )?(?:" + _TUNED.pattern + ")",
    re.IGNORECASE,
)
#: What follows an amount that has no noun of its own ("7000 a month", "7000 per month").
_NO_NOUN = frozenset({"", "a", "an", "per", "each", "every", "all", "in", "total", "tops", "max"})


def per_call_costs(text: str) -> list[Quantity]:
    """What one call costs today: money per call, request or query ("about 2 cents a
    call"), when the sentence is not about a fine-tuned model's price."""
    if _TUNED.search(text):
        return []
    return [
        q
        for q in quantities(text)
        if q.kind == "money"
        and (q.period in ("call", "request", "query") or _PER_CALL.search(text, 0, q.start))
    ][:1]
