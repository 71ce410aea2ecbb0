"""Volumes and costs, as the numbers module reads them: "on a normal day about 100k queries
hit the endpoint", "API spend is $10-14k/mo", "we pay the vendor $180k annually", "about 2
cents a call".

A count over a period is the volume when its noun is a unit of work (requests, tickets,
emails ...); money over a period is what the current model costs when the words around it
say it is spent, and nothing says it is a fine-tuned model's, hosting's or the gap's.
"""

from __future__ import annotations

import re

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
    r"charged|budget)\b",
    re.IGNORECASE,
)
_NOT_CURRENT = re.compile(
    r"\b(?:fine-?tun\w*|tuned|small(?:er)? model|self-host\w*|distill\w*|host\w*|gpus?|"
    r"servers?|would|could|estimate\w*|rework|errors?|mistakes?|misrout\w*|wrong|lose|lost|"
    r"loss|penalt\w*|churn|refunds?)\b",
    re.IGNORECASE,
)

_TUNED = re.compile(r"fine-?tun\w*|tuned model|small(?:er)? model|self-host\w*|distill\w*", re.I)
_PER_CALL = re.compile(r"\b(?:each|per|every|a|one|an?) (?:api )?(?:call|request|query)\b", re.I)


def volumes(text: str) -> list[Quantity]:
    """Counts of work over a period in one normalised sentence."""
    return [
        q
        for q in quantities(text)
        if q.kind == "count" and q.per_month() is not None and _WORK.match(q.unit or "")
    ]


def current_costs(text: str) -> list[Quantity]:
    """Money spent over a period on the current model, in one normalised sentence."""
    if not _SPENT.search(text) or _NOT_CURRENT.search(text):
        return []
    return [q for q in quantities(text) if q.kind == "money" and q.per_month() is not None]


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
    sentence ("an all-in estimate for a tuned model comes to seven thousand a month")."""
    tuned = _TUNED.search(text)
    if tuned is None or not _PRICED.search(text):
        return []
    if _HOSTING_ONLY.search(text) and not _INCLUDED.search(text):
        return []  # the endpoint's price: hosting, for the sentence rules
    return [
        q
        for q in quantities(text)
        if q.start > tuned.start()
        and q.per_month() is not None
        and (q.kind == "money" or (q.kind == "count" and q.unit in _NO_NOUN))
    ][:1]


#: What follows an amount that has no noun of its own ("7000 a month", "7000 per month").
_NO_NOUN = frozenset({"", "a", "an", "per", "each", "every"})


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
