"""How well the advisor reads people: scored on sets written by people who saw neither the code
nor the older eval files (``evals/people-2026-12/``, see its README for how they were made).

Three sets, each split into ``dev`` (tune on it) and ``test`` (report it, never tune on it):

- **statements**: one message each, optionally the answer to the fact the advisor had just
  asked about, optionally with facts known before it; scored on the facts read from it.
- **situations**: one to four messages describing a case; scored on the verdict and the
  failing gates the engine reaches from what was read, against the verdict the engine
  reaches from the labelled facts (the label's own verdict is reported beside it).
- **profiles**: simulated users who answer the advisor's own next questions from their
  profile, in their own words, for up to ``MAX_ANSWERS`` answers; scored on the verdict
  reached, on how many answers were not read, and on how often a fact already answered (or
  already said to be unknown) was asked again.

No model and no index: the reader (``advisor.reading.read_turn``), the ledger and the engine,
exactly as a chat turn without an LLM uses them.

    python -m evaluation.reading [--split dev|test|all] [--json] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml

from advisor.engine import Assessment, assess
from advisor.facts import SPECS, FactLedger, FactRecord, Facts, Source, coerce_value
from advisor.reading import read_turn
from advisor.rules import RuleSet, default_rules

DATA = Path(__file__).resolve().parent.parent / "evals" / "people-2026-12"
SPLITS = ("dev", "test")
#: More development data, each scored on its own (``--split dev2``: profiles; ``dev3``:
#: statements and situations; ``dev4``: all three, written blind on 2026-12-04).
EXTRA_SPLITS = ("dev2", "dev3", "dev4")
#: Numbers read within 2% of the label count as right (unit conversions: 4.345 weeks a month).
NUMBER_TOLERANCE = 0.02
MAX_ANSWERS = 12
DONT_KNOW = "I'm not sure, honestly."
NOT_THAT_ONE = "Not sure about that one."


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."


def load(kind: str, split: str) -> list[dict[str, Any]]:
    splits = SPLITS if split == "all" else (split,)
    items: list[dict[str, Any]] = []
    for name in splits:
        path = DATA / name / f"{kind}.yaml"
        if path.exists():
            items += yaml.safe_load(path.read_text(encoding="utf-8"))
    return items


def same(fact: str, read: object, expected: object) -> bool:
    if SPECS[fact].kind == "number":
        if not isinstance(read, int | float) or isinstance(read, bool):
            return False
        if not isinstance(expected, int | float):
            return False
        scale = max(abs(float(expected)), 1e-9)
        return abs(float(read) - float(expected)) <= NUMBER_TOLERANCE * scale + 1e-9
    return read == expected


def ledger_of(facts: dict[str, Any], turn: int = 0) -> FactLedger:
    """A ledger holding ``facts`` as read by the rules at ``turn`` (what earlier turns said)."""
    ledger = FactLedger()
    ledger.add(
        FactRecord(fact=name, value=coerce_value(name, value), source=Source.RULES, turn=turn)
        for name, value in facts.items()
        if name in SPECS
    )
    return ledger


def values(facts: Facts) -> dict[str, Any]:
    return {name: record.value for name, record in facts.records.items()}


def engine_verdict(facts: dict[str, Any], rules: RuleSet) -> Assessment:
    return assess(ledger_of(facts).resolve(), rules)


# --------------------------------------------------------------------------- statements


def score_statements(items: Sequence[dict[str, Any]], rules: RuleSet) -> dict[str, Any]:
    right = expected_total = read_total = read_right = 0
    exact = unknown_ok = unknown_total = 0
    by_tag: Counter[str] = Counter()
    by_tag_ok: Counter[str] = Counter()
    misses: Counter[str] = Counter()
    wrong: Counter[str] = Counter()
    extra: Counter[str] = Counter()
    failures: list[dict[str, Any]] = []
    for item in items:
        prior: dict[str, Any] = item.get("prior") or {}
        expected: dict[str, Any] = dict(item.get("expected") or {})
        unknown: list[str] = list(item.get("unknown") or [])
        asked = list(item.get("answers") or [])
        ledger = ledger_of(prior, turn=1)
        reading = read_turn(item["text"], 2, asked, rules, ledger.resolve())
        records = reading.records
        ledger.add(reading.statements())
        now = values(ledger.resolve())
        stated = {r.fact: r.value for r in records}
        ok = True
        for fact, value in expected.items():
            expected_total += 1
            if fact in now and same(fact, now[fact], value):
                right += 1
            else:
                ok = False
                (wrong if fact in stated else misses)[fact] += 1
        for fact in unknown:
            unknown_total += 1
            if fact not in now or (fact not in stated and fact not in prior):
                unknown_ok += 1
            else:
                ok = False
        for fact, value in stated.items():
            read_total += 1
            if fact in expected and same(fact, value, expected[fact]):
                read_right += 1
            elif fact not in expected and not (fact in prior and same(fact, value, prior[fact])):
                extra[fact] += 1
                ok = False
        exact += ok
        for tag in item.get("tags") or []:
            by_tag[tag] += 1
            by_tag_ok[tag] += ok
        if not ok:
            failures.append({"id": item["id"], "text": item["text"], "read": stated})
    n = len(items)
    return {
        "items": n,
        "all_right": exact,
        "all_right_rate": round(exact / n, 3) if n else 0.0,
        "fact_recall": round(right / expected_total, 3) if expected_total else 0.0,
        "fact_precision": round(read_right / read_total, 3) if read_total else 0.0,
        "unknown_left_unknown": round(unknown_ok / unknown_total, 3) if unknown_total else 0.0,
        "by_tag": {t: f"{by_tag_ok[t]}/{by_tag[t]}" for t in sorted(by_tag)},
        "most_missed": dict(misses.most_common(10)),
        "most_misread": dict(wrong.most_common(10)),
        "most_invented": dict(extra.most_common(10)),
        "failures": failures,
    }


# --------------------------------------------------------------------------- situations


def read_messages(messages: Iterable[str], rules: RuleSet) -> FactLedger:
    """The messages read turn by turn as the chat reads them (advisor.reading.replay)."""
    from advisor.reading import replay

    return replay(list(messages), rules)


def score_situations(items: Sequence[dict[str, Any]], rules: RuleSet) -> dict[str, Any]:
    verdict_ok = both_ok = label_agrees = fine = fine_ok = 0
    fact_right = fact_total = 0
    results = []
    for item in items:
        truth = engine_verdict(item["expected_facts"], rules)
        label_agrees += truth.verdict.value == item["expected_verdict"] and sorted(
            t.value for t in truth.blockers
        ) == sorted(item.get("expected_blockers") or [])
        facts = read_messages(item["messages"], rules).resolve()
        got = assess(facts, rules)
        read = values(facts)
        missed, misread = [], {}
        for fact, value in item["expected_facts"].items():
            if fact in SPECS:
                fact_total += 1
                fact_right += fact in read and same(fact, read[fact], value)
                if fact not in read:
                    missed.append(fact)
                elif not same(fact, read[fact], value):
                    misread[fact] = {"read": read[fact], "expected": value}
        invented = sorted(set(read) - set(item["expected_facts"]))
        v = got.verdict == truth.verdict
        b = v and set(got.blockers) == set(truth.blockers)
        verdict_ok += v
        both_ok += b
        if truth.verdict.value == "fine_tune":
            fine += 1
            fine_ok += v
        results.append(
            {
                "id": item["id"],
                "truth": truth.verdict.value,
                "truth_blockers": sorted(t.value for t in truth.blockers),
                "got": got.verdict.value,
                "got_blockers": sorted(t.value for t in got.blockers),
                "ok": b,
                "missed": missed,
                "misread": misread,
                "invented": invented,
            }
        )
    n = len(items)
    return {
        "items": n,
        "verdict_right": verdict_ok,
        "verdict_and_blockers_right": both_ok,
        "verdict_and_blockers_rate": round(both_ok / n, 3) if n else 0.0,
        "fine_tune_cases": fine,
        "fine_tune_reached": fine_ok,
        "fact_recall": round(fact_right / fact_total, 3) if fact_total else 0.0,
        "labels_agreeing_with_engine": label_agrees,
        "results": results,
    }


# --------------------------------------------------------------------------- profiles


def simulate(profile: dict[str, Any], rules: RuleSet) -> dict[str, Any]:
    """Answer the advisor's questions as the profile's person would, turn by turn."""
    facts: dict[str, Any] = profile.get("facts") or {}
    dont_know = set(profile.get("dont_know") or [])
    phrasings: dict[str, list[str]] = profile.get("phrasings") or {}
    ledger = FactLedger()
    ledger.add(read_turn(profile["opening"], 1, None, rules).statements())
    asked_count: Counter[str] = Counter()
    answered: set[str] = set()
    unread = reasked = answers = given = 0
    turn = 1
    transcript: list[dict[str, Any]] = []
    while answers < MAX_ANSWERS:
        question = assess(ledger.resolve(), rules).next_question
        if question is None:
            break
        asked = question.facts or (question.fact,)
        reasked += sum(f in answered for f in asked)
        # the person answers every fact the question names, in the order asked, from their
        # own phrasings; a fact they do not know gets "not sure about that one"
        parts: list[str] = []
        known_here: list[str] = []
        for fact in asked:
            said = phrasings.get(fact) or []
            if fact in facts and fact not in dont_know and said:
                parts.append(said[asked_count[fact] % len(said)])
                known_here.append(fact)
            elif len(asked) > 1:
                parts.append(NOT_THAT_ONE)
            asked_count[fact] += 1
        text = " ".join(_sentence(p) for p in parts) if known_here else DONT_KNOW
        turn += 1
        answers += 1
        reading = read_turn(text, turn, asked, rules, ledger.resolve())
        records = reading.records
        ledger.add(reading.statements())
        read_facts = {r.fact for r in records}
        unread += sum(f not in read_facts for f in known_here)
        given += len(known_here)
        answered.update(asked)
        transcript.append(
            {"asked": list(asked), "said": text, "read": {r.fact: r.value for r in records}}
        )
    truth = engine_verdict({k: v for k, v in facts.items() if k not in dont_know}, rules)
    final = assess(ledger.resolve(), rules)
    return {
        "id": profile["id"],
        "truth": truth.verdict.value,
        "truth_blockers": sorted(t.value for t in truth.blockers),
        "got": final.verdict.value,
        "got_blockers": sorted(t.value for t in final.blockers),
        "answers": answers,
        "unread_answers": unread,
        "facts_given": given,
        "asked_again": reasked,
        "label_agrees": truth.verdict.value == profile.get("expected_verdict"),
        "transcript": transcript,
    }


def score_profiles(items: Sequence[dict[str, Any]], rules: RuleSet) -> dict[str, Any]:
    runs = [simulate(p, rules) for p in items]
    n = len(runs)
    right = sum(r["got"] == r["truth"] for r in runs)
    both = sum(r["got"] == r["truth"] and r["got_blockers"] == r["truth_blockers"] for r in runs)
    fine = [r for r in runs if r["truth"] == "fine_tune"]
    answers = sum(r["answers"] for r in runs)
    fine_questions = sorted(r["answers"] for r in fine)
    return {
        "profiles": n,
        "verdict_right": right,
        "verdict_and_blockers_right": both,
        "fine_tune_profiles": len(fine),
        "fine_tune_reached": sum(r["got"] == "fine_tune" for r in fine),
        "fine_tune_median_questions": (
            fine_questions[len(fine_questions) // 2] if fine_questions else 0
        ),
        "answers": answers,
        "unread_answers": sum(r["unread_answers"] for r in runs),
        "facts_given": sum(r["facts_given"] for r in runs),
        "asked_again": sum(r["asked_again"] for r in runs),
        "labels_agreeing_with_engine": sum(r["label_agrees"] for r in runs),
        "runs": runs,
    }


# --------------------------------------------------------------------------- report


def score(split: str, rules: RuleSet | None = None) -> dict[str, Any]:
    rules = rules or default_rules()
    return {
        "split": split,
        "statements": score_statements(load("statements", split), rules),
        "situations": score_situations(load("situations", split), rules),
        "profiles": score_profiles(load("profiles", split), rules),
    }


def summary_lines(card: dict[str, Any]) -> list[str]:
    s, t, p = card["statements"], card["situations"], card["profiles"]
    lines = [
        f"split: {card['split']}",
        f"statements  {s['all_right']}/{s['items']} read exactly right "
        f"({s['all_right_rate']:.0%}); fact recall {s['fact_recall']:.0%}, precision "
        f"{s['fact_precision']:.0%}; unknowns left unknown {s['unknown_left_unknown']:.0%}",
        f"situations  verdict {t['verdict_right']}/{t['items']}, verdict and failing gates "
        f"{t['verdict_and_blockers_right']}/{t['items']}; fine-tune cases reached "
        f"{t['fine_tune_reached']}/{t['fine_tune_cases']}; fact recall {t['fact_recall']:.0%}",
        f"profiles    verdict {p['verdict_right']}/{p['profiles']}, with failing gates "
        f"{p['verdict_and_blockers_right']}/{p['profiles']}; fine-tune reached "
        f"{p['fine_tune_reached']}/{p['fine_tune_profiles']} (median questions "
        f"{p['fine_tune_median_questions']}); facts given but not read "
        f"{p['unread_answers']}/{p['facts_given']}; asked again {p['asked_again']}",
    ]
    present = [True, s["items"] > 0, t["items"] > 0, p["profiles"] > 0]
    return [line for line, shown in zip(lines, present, strict=True) if shown]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", choices=(*SPLITS, *EXTRA_SPLITS, "all"), default="dev")
    parser.add_argument("--json", action="store_true", help="print the full results as JSON")
    parser.add_argument("--out", type=Path, help="also write the full results to this file")
    args = parser.parse_args(argv)
    card = score(args.split)
    if args.out:
        args.out.write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n", "utf-8")
    if args.json:
        json.dump(card, sys.stdout, indent=2, ensure_ascii=False)
        print()
    else:
        print("\n".join(summary_lines(card)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
