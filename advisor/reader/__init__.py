"""The reader: the facts one message states, without a language model.

One turn is read in three passes, all deterministic:

1. **statements** (:mod:`advisor.extraction`): the sentence rules, over text whose numbers
   are normalised (:mod:`advisor.reader.numbers`);
2. **the answer** (:mod:`advisor.reader.answers`): when the advisor has just asked a
   question, the reply is read for the facts that question names, in their units;
3. **what is not known** (:mod:`advisor.reader.clauses`): a hedge, "no idea", or a withdrawal
   ("scratch the 800 figure") leaves the fact unknown, clears an earlier value, and tells
   the engine not to ask for it again.

Which fact a clause is about comes from the cue vocabulary (``corpus/rules/cues.yaml``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from advisor.extraction import (
    INSTRUCTION,
    clean_message,
    extract,
    is_hypothetical,
    split_sentences,
    states_a_premise,
)
from advisor.facts import SPECS, FactRecord, Facts, FactValue, NotKnown, Source, make_record
from advisor.reader.amounts import current_costs, fine_tuned_costs, per_call_costs, volumes
from advisor.reader.answers import (
    NO,
    YES,
    is_ignorance,
    read_bool,
    read_number,
    read_value,
    too_long,
)
from advisor.reader.clauses import IGNORANCE, WITHDRAWAL, Clause, clauses
from advisor.reader.cues import CueBook, default_cues
from advisor.reader.examples import examples
from advisor.reader.latency import latencies
from advisor.reader.numbers import normalise, quantities
from advisor.reader.scores import SCORE_CONTEXT, scores

ANSWER_NOTE = "answer to the advisor's question"
#: More examples than this in a prompt would be a training set, not few-shot examples.
FEW_SHOT_MAX = 100

__all__ = ["ANSWER_NOTE", "Reading", "read"]


@dataclass
class Reading:
    """What one message said: values, facts said to be unknown, and whether an answer to
    the advisor's question gave none of the facts it asked for (``unread``)."""

    records: list[FactRecord] = field(default_factory=list)
    not_known: list[NotKnown] = field(default_factory=list)
    unread: bool = False

    def statements(self) -> list[FactRecord | NotKnown]:
        return [*self.records, *self.not_known]


def read(
    text: str,
    turn: int,
    asked: Sequence[str] = (),
    *,
    known: Facts | None = None,
    cues: CueBook | None = None,
) -> Reading:
    """The facts of one message, read in the light of the facts the advisor just asked for
    (``asked``, most decisive first) and of what is already known (``known``)."""
    cues = cues or default_cues()
    reading = Reading(records=extract(text, turn))
    text = clean_message(text)  # what extract read: no control characters or surrogates
    _read_statements(reading, text, turn, cues)
    _read_terse(reading, text, turn, cues)
    asked = [f for f in dict.fromkeys(asked) if f in SPECS]
    answering = bool(asked) and not INSTRUCTION.search(text)
    if answering:
        parts = _answer_parts(text, asked, cues)
        answering = any(not too_long(part) for part, _, _ in parts)
        for part, order, start in parts:
            if not too_long(part):
                _read_answer(reading, part, turn, order, cues, start)
    _read_corrections(reading, text, turn, known)
    _read_not_known(reading, text, turn, asked if answering else [], known, cues)
    stated = {r.fact for r in reading.records} | {n.fact for n in reading.not_known}
    reading.unread = bool(asked) and not stated & set(asked)
    return reading


def _append(
    reading: Reading,
    fact: str,
    value: FactValue,
    turn: int,
    quote: str,
    position: int,
    note: str = "",
) -> FactRecord | None:
    """Add what the rules read: one place for the record's provenance. ``None`` when the
    value is refused (out of range or of the wrong type)."""
    record = make_record(
        fact, value, source=Source.RULES, turn=turn, quote=quote, position=position, note=note
    )
    if record is not None:
        reading.records.append(record)
    return record


def _read_statements(reading: Reading, text: str, turn: int, cues: CueBook) -> None:
    """What the sentence rules missed: scores written without a percent sign, and the
    yes/no and choice facts whose value cues a clause carries. A fact the rules read in a
    sentence keeps their reading there."""
    follows_eval = False
    for sentence in split_sentences(text):
        about_eval, follows_eval = follows_eval, bool(SCORE_CONTEXT.search(sentence.text))
        if INSTRUCTION.search(sentence.text) or is_hypothetical(sentence.text):
            continue
        if sentence.text.rstrip().endswith("?") and not states_a_premise(sentence.text):
            continue  # a question to the advisor states nothing
        quote = sentence.text[:300]
        have = {r.fact for r in reading.records}
        norm = normalise(sentence.text)
        parts = clauses(norm)
        if any(c.ignorant or c.withdraws for c in parts):
            # a hedge or a withdrawal is read by _read_not_known; the sentence's other
            # clauses still say what they say ("the eval is automated, but I couldn't tell
            # you whether anyone saved the baseline")
            _read_plain_clauses(reading, parts, quote, sentence.start, turn, cues)
            continue
        said = scores(norm, follows_eval=about_eval)
        # a baseline and a target side by side are read together, over the sentence rules
        pair = len(said) == 2
        found: list[tuple[str, FactValue, int, bool]] = [
            (s.fact, s.value, s.start, pair) for s in said
        ]
        for q in volumes(norm)[:1]:
            found.append(("monthly_volume", q.per_month() or q.value, q.start, False))
        for q in current_costs(norm)[:1]:
            found.append(("current_cost_per_month", q.per_month() or q.value, q.start, False))
            # "$10-14k/mo" is money, whatever the sentence rules made of its numbers
            money = {q.low, q.high, q.value}
            reading.records = [
                r
                for r in reading.records
                if not (r.fact == "monthly_volume" and r.quote == quote and r.value in money)
            ]
            have = {r.fact for r in reading.records}
        for q in fine_tuned_costs(norm):
            found.append(("fine_tuned_cost_per_month", q.per_month() or q.value, q.start, False))
            # "comes to seven thousand a month" is the estimate, not a volume
            reading.records = [
                r
                for r in reading.records
                if not (r.fact == "monthly_volume" and r.quote == quote and r.value == q.value)
            ]
            have = {r.fact for r in reading.records}
        for lat in latencies(norm):
            found.append((lat.fact, lat.ms, lat.start, False))
        for cost in per_call_costs(norm):
            found.append(("current_cost_per_call", cost.value, cost.start, False))
        for ex in examples(norm):
            found.append(("labeled_examples", ex.count, ex.start, False))
            if ex.reviewed is not None:
                found.append(("examples_human_reviewed", ex.reviewed, ex.start, False))
        for clause in parts:
            for fact, value, decisive in cues.values_in(clause.text):
                found.append((fact, value, clause.start, decisive))
        for fact, value, start, decisive in found:
            if decisive:
                reading.records = [
                    r for r in reading.records if not (r.fact == fact and r.quote == quote)
                ]
                have = {r.fact for r in reading.records}
            if fact in have:
                continue
            if _append(reading, fact, value, turn, quote, sentence.start + start):
                have.add(fact)
    reading.records.sort(key=lambda r: r.position)


def _gives(text: str, fact: str, asked: Sequence[str], cues: CueBook) -> bool:
    """``text`` gives a value for ``fact`` in its own terms: a money fact only from money
    ("$18k/mo", not "1.3M a month"), a yes/no only when it names the fact."""
    if read_value(text, fact, cues, others=asked) is None:
        return False
    if SPECS[fact].kind != "number" and not cues.mentions(fact, text):
        return False  # "No eval set yet." is a no about the eval, not about few-shot
    if SPECS[fact].unit.startswith("USD"):
        return any(q.kind == "money" for q in quantities(normalise(text)))
    return True


def _answer_parts(
    text: str, asked: Sequence[str], cues: CueBook
) -> list[tuple[str, list[str], int]]:
    """The answer to a question that asked for several facts, part by part: each sentence
    with the asked fact it is about first (a fact not yet answered that it names, else one
    whose value it states, else the next one asked), so "Two weeks. Yes, with examples."
    answers prompt work, then few-shot."""
    sentences = split_sentences(text)
    if len(asked) < 2 or len(sentences) < 2:
        return [(text, list(asked), 0)]
    parts: list[tuple[str, list[str], int]] = []
    waiting = list(asked)
    for index, sentence in enumerate(sentences):
        fresh = [f for f in waiting if cues.mentions(f, sentence.text)]
        valued = [f for f in asked if cues.value_in(f, sentence.text)]
        if fresh:
            primary = fresh[0]
        elif valued:
            primary = valued[0]  # more about a fact answered just before ("not a corner case")
        elif waiting:
            # the first fact still waiting that this sentence gives a value for
            primary = next(
                (f for f in waiting if _gives(sentence.text, f, asked, cues)), waiting[0]
            )
            value = read_value(sentence.text, primary, cues, others=asked)
            named = cues.facts_mentioned(sentence.text)
            if index >= len(asked) + 2:
                continue  # a long reply's later sentences are statements, not answers
            if not is_ignorance(sentence.text) and (
                value is None
                or (
                    len(sentences) > len(asked)
                    and (NO.match(sentence.text) or YES.match(sentence.text))
                    and named
                    and not set(named) & set(asked)
                )
            ):
                # "96. Ops won't accept less. 80% now.": said, but nothing asked is answered;
                # "We don't have automated scoring": a no about another fact
                continue
        else:
            continue  # more sentences than facts asked: read as statements only
        if SPECS[primary].kind != "number":
            # "Three thousand approved rewrites. Every one signed off by an editor.": a
            # sentence that gives the figure a waiting fact asks for answers that fact
            figure = [
                f
                for f in waiting
                if SPECS[f].kind == "number"
                and read_number(sentence.text, f, others=asked) is not None
            ]
            if figure:
                primary = figure[0]
        if primary in waiting:
            waiting.remove(primary)
        parts.append(
            (sentence.text, [primary, *(f for f in asked if f != primary)], sentence.start)
        )
    return parts


_CORRECTION_NOTE = "a correction of the figure said before"
#: A sentence that opens by taking back what was just said ("Actually scratch that, after
#: dedup it's 6,500", "make that 1,800").
_CORRECTION_LEAD = re.compile(
    r"^\W*(?:(?:oh|no|um|er|ok|okay)[,\s]+)*(?:actually|sorry|correction|make (?:that|it)|"
    r"scratch that|strike that|wait|i mean|typo)\b",
    re.IGNORECASE,
)


def _read_corrections(reading: Reading, text: str, turn: int, known: Facts | None) -> None:
    """A correction sentence that gives a bare figure corrects the figure said last: in this
    message before it, else the latest one already known. It is read in that fact's unit."""
    for sentence in split_sentences(text):
        _replace_withdrawn_figure(reading, sentence.text, sentence.start, turn, known)
        if not _CORRECTION_LEAD.match(sentence.text):
            continue
        quote = sentence.text[:300]
        if any(r.quote == quote and SPECS[r.fact].kind == "number" for r in reading.records):
            continue  # the sentence names its own figure ("actually volume is 30k")
        earlier = [
            r
            for r in reading.records
            if SPECS[r.fact].kind == "number" and r.position < sentence.start
        ]
        if not earlier and known is not None:
            earlier = [r for r in known.records.values() if SPECS[r.fact].kind == "number"]
        if not earlier:
            continue
        last = max(earlier, key=lambda r: (r.turn, r.position))
        norm = normalise(sentence.text)
        lead = _CORRECTION_LEAD.match(norm)
        figures = quantities(norm)
        if lead is None or not figures:
            continue
        figure = figures[0]
        said_next = len(norm[lead.end() : figure.start].split()) <= 4
        if len(figures) > 1 and not said_next:
            continue
        noun = figure.unit.lower()
        if figure.kind == "count" and noun not in ("", "of") and noun not in last.quote.lower():
            continue  # "it's Priya spot-checking 20 outputs": a figure of its own
        value = read_number(norm[: figure.end], last.fact) if said_next else None
        value = value if value is not None else read_number(sentence.text, last.fact)
        if value is None and said_next and isinstance(last.value, int | float):
            # "Two weeks. Actually, three": the new figure in the old one's unit
            before = quantities(normalise(last.quote))
            if before and before[0].value:
                value = figure.value * float(last.value) / before[0].value
        if value is None or value == last.value:
            continue
        if _append(reading, last.fact, value, turn, quote, sentence.start, _CORRECTION_NOTE):
            reading.records = [r for r in reading.records if r is not last]


#: "FS yes", "few-shot: n", "JSON mode yes": a fact's name, then a bare yes or no.
_TERSE_YES_NO = re.compile(
    r"^\W*(?P<topic>[\w /+-]{2,30}?)\s*[:=-]?\s+(?P<answer>y|yes|yep|yeah|n|no|nope|nah)\W*$",
    re.IGNORECASE,
)


#: "no FS yet", "no RAG": a bare no before a fact's name.
_TERSE_NO = re.compile(
    r"^\W*(?P<answer>no|not|without) (?P<topic>[\w /+-]{2,20}?)(?: yet| so far| at all)?\W*$",
    re.IGNORECASE,
)


def _read_plain_clauses(
    reading: Reading, parts: Sequence[Clause], quote: str, start: int, turn: int, cues: CueBook
) -> None:
    """The value cues of the clauses of a sentence that neither hedge nor take back, for the
    facts the hedge is not about; a hedge that names nothing ("hmm, hard to say") is about
    the whole sentence."""
    have = {r.fact for r in reading.records if r.quote == quote}
    hedged: set[str] = set()
    for clause in parts:
        if clause.ignorant or clause.withdraws:
            named = cues.facts_mentioned(IGNORANCE.sub(" ", WITHDRAWAL.sub(" ", clause.text)))
            if not named:
                return
            hedged.update(named)
    for clause in parts:
        if clause.ignorant or clause.withdraws:
            continue
        for fact, value, _ in cues.values_in(clause.text):
            if fact in have or fact in hedged or SPECS[fact].kind == "number":
                continue
            if _append(reading, fact, value, turn, quote, start + clause.start):
                have.add(fact)


def _read_terse(reading: Reading, text: str, turn: int, cues: CueBook) -> None:
    """Checklist answers: "RAG: y. few-shot: n.", "FS yes, JSON mode yes": each part names one
    yes/no fact and answers it."""
    done: set[str] = set()
    for sentence in split_sentences(text):
        offset = 0
        for part in re.split(r"[,;.]", sentence.text):
            m = _TERSE_YES_NO.match(part) or _TERSE_NO.match(part)
            position = sentence.start + offset
            offset += len(part) + 1
            if m is None:
                _read_terse_value(reading, part, sentence.text[:300], position, turn, cues, done)
                continue
            named = [f for f in cues.facts_named_most(m["topic"]) if SPECS[f].kind == "bool"]
            if len(named) != 1 or named[0] in done:
                continue
            value = m["answer"].lower() in ("y", "yes", "yep", "yeah")
            new = _append(reading, named[0], value, turn, sentence.text[:300], position)
            if new is not None:
                reading.records = [r for r in reading.records if r.fact != named[0] or r is new]
                done.add(named[0])


#: "evals: manual", "latency: batch": a fact's name, a colon, and what it is.
_TERSE_LABEL = re.compile(r"^\W*[\w /+-]{2,30}:\s*\w[\w /-]{0,25}\W*$")


def _read_terse_value(
    reading: Reading, part: str, quote: str, position: int, turn: int, cues: CueBook, done: set[str]
) -> None:
    if not _TERSE_LABEL.match(part):
        return
    have = {r.fact for r in reading.records}
    for fact, value, _ in cues.values_in(part.strip()):
        if SPECS[fact].kind != "bool" or fact in done or fact in have:
            continue
        if _append(reading, fact, value, turn, quote, position):
            done.add(fact)


def _replace_withdrawn_figure(
    reading: Reading, text: str, start: int, turn: int, known: Facts | None
) -> None:
    """ "The 2000 number is wrong, it's twelve hundred after dedup": the figure a withdrawal
    names is known, and the one said after it replaces it (read in that fact's unit)."""
    norm = normalise(text)
    if known is None or not WITHDRAWAL.search(norm):
        return
    facts = _facts_with_value(norm, known)
    if len(facts) != 1 or any(
        r.fact == facts[0] and r.quote == text[:300] for r in reading.records
    ):
        return
    fact, old = facts[0], known.records[facts[0]].value
    figures = quantities(norm)
    after = [q for q in figures if q.value != old and q.start > min(f.start for f in figures)]
    if len(after) != 1:
        return
    value = read_number(norm[after[0].start :], fact)
    if value is None and after[0].kind == "count" and after[0].unit in ("", "after", "now"):
        value = after[0].value
    if value is not None:
        _append(reading, fact, value, turn, text[:300], start + after[0].start, _CORRECTION_NOTE)


def _read_answer(
    reading: Reading, text: str, turn: int, asked: Sequence[str], cues: CueBook, start: int = 0
) -> None:
    have = {r.fact for r in reading.records}
    primary = asked[0]
    named = [f for f in asked if cues.mentions(f, text)]
    if (
        named
        and primary not in named
        and SPECS[primary].kind == "number"
        and SPECS[named[0]].kind == "number"
        and SPECS[primary].unit == SPECS[named[0]].unit
    ):
        # "The tuned-model estimate is $6k/mo." to "current cost? fine-tuned cost?": the
        # figure is the one the reply names
        primary = named[0]
        asked = [primary, *(f for f in asked if f != primary)]
    if read_value(text, primary, cues, others=asked) is None and not is_ignorance(text):
        # "$18k/mo on the API." to "is latency missed? what does it cost?": the reply skips
        # the first fact and answers the next one it gives a value for
        answered = [f for f in asked[1:] if _gives(text, f, asked, cues)]
        if answered:
            primary = answered[0]
            asked = [primary, *(f for f in asked if f != primary)]
    for fact in asked:
        if fact == primary:
            # the reply is read for the fact asked first, in its unit; that reading beats
            # what the sentence rules made of the same words ("no. the email has it all")
            value = read_value(text, fact, cues, others=asked)
            if value is not None:
                reading.records = [
                    r for r in reading.records if not (r.fact == fact and r.quote[:60] in text)
                ]
                have = {r.fact for r in reading.records}
        elif fact in have:
            continue
        elif SPECS[fact].kind == "bool":
            value = read_bool(text, fact, cues, asked=False)
        elif SPECS[fact].kind == "number" and {fact, primary} <= {
            "baseline_score_pct",
            "target_score_pct",
        }:
            value = read_value(text, fact, cues, others=asked)
            if value is not None and any(r.value == value for r in reading.records):
                value = None
        else:
            value = None
        if value is None:
            continue
        if _append(reading, fact, value, turn, text[:300], start, ANSWER_NOTE):
            have.add(fact)
    if primary == "eval_baseline_recorded" and "baseline_score_pct" not in have:
        # "yeah, 0.81 on the v2 set": the recorded figure is the baseline
        score = read_number(text, "baseline_score_pct")
        if score is not None:
            _append(reading, "baseline_score_pct", score, turn, text[:300], start, ANSWER_NOTE)
    if primary == "few_shot_used":
        # in a reply about the prompt's examples, a small count of examples is the few-shot
        # count ("yes, a dozen examples in there"), not training data
        reading.records = [
            r
            for r in reading.records
            if not (r.fact == "labeled_examples" and float(r.value) < FEW_SHOT_MAX)
        ]
    if primary in have or not is_ignorance(text):
        return
    named = cues.facts_mentioned(IGNORANCE.sub(" ", normalise(text)))
    if not named or primary in named:
        # "no idea" to a question that asked for several facts: none of them is known (a
        # hedge about something else, "no clue how big the gap is", is about that instead)
        unread = (
            [primary] if len(split_sentences(text)) > 1 else [f for f in asked if f not in have]
        )
        for fact in unread:
            reading.not_known.append(
                NotKnown(fact=fact, turn=turn, quote=text[:300], position=start)
            )


def _read_not_known(
    reading: Reading,
    text: str,
    turn: int,
    asked: Sequence[str],
    known: Facts | None,
    cues: CueBook,
) -> None:
    """Hedges and withdrawals: the facts they are about become "not known"."""
    already = {n.fact for n in reading.not_known}
    previous = ""
    for sentence in split_sentences(text):
        before, previous = previous, sentence.text[:300]
        if INSTRUCTION.search(sentence.text):
            continue
        norm = normalise(sentence.text)
        stated_here = {r.fact for r in reading.records if r.quote == sentence.text[:300]}
        for clause in clauses(norm):
            withdraws, ignorant = clause.withdraws, clause.ignorant
            if not (withdraws or ignorant):
                continue
            facts: list[str] = []
            # what the clause is about, without the hedge's own words ("don't know")
            if withdraws:
                facts += cues.facts_mentioned(WITHDRAWAL.sub(" ", norm))
                facts += _facts_with_value(norm, known)
            else:
                facts += cues.facts_named_most(IGNORANCE.sub(" ", clause.text))
                if not facts:
                    # "not sure about that one": the first fact asked that is still open
                    read_here = {r.fact for r in reading.records}
                    facts += [f for f in asked if f not in read_here][:1]
            quote = sentence.text[:300]
            said_before = known.records if known is not None else {}
            if (
                withdraws
                and before
                and not stated_here
                and not any(f in said_before or f in asked for f in facts)
                and _POINTS_BACK.search(clause.text)
            ):
                # "3 cents a call was list price. ... so don't rely on it": what the
                # sentence before said
                quote = before
                facts += [r.fact for r in reading.records if r.quote == before]
            restated = _restated(reading, quote, known) if withdraws else set()
            for fact in dict.fromkeys(facts):
                if fact in restated:
                    # "the 40k/day number came from a load test, disregard it": the value
                    # the sentence names is the one it takes back
                    reading.records = [
                        r for r in reading.records if not (r.fact == fact and r.quote == quote)
                    ]
                    stated_here.discard(fact)
                if fact in already or (fact in stated_here and not ignorant):
                    continue
                if ignorant and fact in stated_here:
                    # the value came from the hedged clause itself: it is not a value
                    reading.records = [
                        r
                        for r in reading.records
                        if not (r.fact == fact and r.quote == sentence.text[:300])
                    ]
                if (
                    withdraws
                    and known is not None
                    and fact not in known.records
                    and fact not in asked
                ):
                    # a withdrawal is about something said before
                    continue
                taken_back = [fact]
                if withdraws and known is not None:
                    taken_back += [
                        s.name
                        for s in SPECS.values()
                        if s.qualifies == fact and s.name in known.records
                    ]
                for name in taken_back:
                    if name in already:
                        continue
                    reading.not_known.append(
                        NotKnown(
                            fact=name,
                            turn=turn,
                            quote=sentence.text[:300],
                            position=sentence.start + clause.start,
                            reason="withdrawn" if withdraws else "not_known",
                        )
                    )
                    already.add(name)


_POINTS_BACK = re.compile(r"\b(?:it|that|this|those|them|these)\b", re.IGNORECASE)


def _restated(reading: Reading, quote: str, known: Facts | None) -> set[str]:
    """Facts this sentence states with exactly the value already known."""
    if known is None:
        return set()
    return {
        r.fact
        for r in reading.records
        if r.quote == quote and r.fact in known.records and known.records[r.fact].value == r.value
    }


def _facts_with_value(text: str, known: Facts | None) -> list[str]:
    """Facts whose known value is a number this text names ("scratch the 800 figure")."""
    if known is None:
        return []
    values = {q.value for q in quantities(text)}
    return [
        name
        for name, record in known.records.items()
        if isinstance(record.value, int | float)
        and not isinstance(record.value, bool)
        and record.value in values
    ]
