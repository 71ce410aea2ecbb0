"""The cue vocabulary (``corpus/rules/cues.yaml``): how people mention each fact.

Loaded once and checked loudly: a fact name that does not exist, a value its fact does not
take, or a pattern that does not compile is an error at load time (and so a failing test),
never a rule silently skipped while reading a message.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from advisor.facts import SPECS, FactValue, coerce_value
from advisor.reader.clauses import NEGATION
from advisor.settings import PROJECT_ROOT

CUES_PATH = PROJECT_ROOT / "corpus" / "rules" / "cues.yaml"


class ValueCue(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    value: FactValue
    pattern: str
    #: Too loose to read from a statement; read only from a reply to a question about it.
    answer_only: bool = False
    #: Beats what the sentence rules read in the same sentence ("doesn't have to learn any
    #: new facts" is a behaviour need, whatever else the sentence says about facts).
    decisive: bool = False


class CueExample(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    text: str
    reads: dict[str, FactValue | None] = Field(default_factory=dict)
    asked: str | None = None


class FactCues(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    topic: tuple[str, ...] = ()
    values: tuple[ValueCue, ...] = ()
    examples: tuple[CueExample, ...] = ()


class CueBook(BaseModel):
    """Every fact's cues, with the patterns compiled."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    version: int
    facts: dict[str, FactCues]
    _topic: dict[str, tuple[re.Pattern[str], ...]] = PrivateAttr(default_factory=dict)
    _values: dict[str, tuple[tuple[ValueCue, re.Pattern[str]], ...]] = PrivateAttr(
        default_factory=dict
    )

    @model_validator(mode="after")
    def _check(self) -> CueBook:
        for name, cues in self.facts.items():
            if name not in SPECS:
                raise ValueError(f"cues.yaml: unknown fact {name!r}")
            for cue in cues.values:
                coerce_value(name, cue.value)
            for example in cues.examples:
                if not example.reads:
                    raise ValueError(f"cues.yaml: {name}: example {example.text!r} reads nothing")
                for fact in example.reads:
                    if fact not in SPECS:
                        raise ValueError(f"cues.yaml: {name}: example reads unknown {fact!r}")
            self._topic[name] = tuple(_compile(name, p) for p in cues.topic)
            self._values[name] = tuple((c, _compile(name, c.pattern)) for c in cues.values)
        return self

    def mentions(self, fact: str, text: str) -> bool:
        """Does ``text`` talk about ``fact``?"""
        return any(p.search(text) for p in self._topic.get(fact, ()))

    def facts_mentioned(self, text: str) -> list[str]:
        return [name for name in self.facts if self.mentions(name, text)]

    def facts_named_most(self, text: str) -> list[str]:
        """The facts ``text`` names most specifically: those whose topic cue matches the
        longest stretch ("how many labeled examples" is about the examples, not about the
        need being labelling)."""
        lengths = {
            name: max(
                (len(m.group(0)) for p in self._topic.get(name, ()) for m in p.finditer(text)),
                default=0,
            )
            for name in self.facts
        }
        best = max(lengths.values(), default=0)
        return [name for name, n in lengths.items() if n and n == best] if best else []

    def value_in(self, fact: str, text: str) -> tuple[FactValue, re.Match[str]] | None:
        """The first value cue of ``fact`` that matches ``text``."""
        for cue, pattern in self._values.get(fact, ()):
            if m := pattern.search(text):
                return cue.value, m
        return None

    def values_in(self, clause: str) -> list[tuple[str, FactValue, bool]]:
        """(fact, value, decisive) for every fact a statement cue gives in ``clause``; a
        yes/no cue right after a negation in the same breath is flipped ("not automated")."""
        out: list[tuple[str, FactValue, bool]] = []
        for fact, table in self._values.items():
            found = next(
                ((c, m) for c, p in table if not c.answer_only and (m := p.search(clause))), None
            )
            if found is None:
                continue
            cue, m = found
            value = cue.value
            if isinstance(value, bool) and negated_before(clause, m.start()):
                value = not value
            out.append((fact, value, cue.decisive))
        return out


def _compile(fact: str, pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern, re.I)
    except re.error as exc:
        raise ValueError(f"cues.yaml: {fact}: bad pattern {pattern!r}: {exc}") from exc


def negated_before(text: str, start: int, words: int = 3) -> bool:
    """A negation among the few words before ``start``, with no stop between
    ("not automated" yes; "no. the email has it all" no)."""
    before = re.split(r"[.,;:!?()-]", text[:start])[-1]
    return bool(NEGATION.search(" ".join(before.split()[-words:])))


def load_cues(path: Path = CUES_PATH) -> CueBook:
    return CueBook.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


@cache
def default_cues() -> CueBook:
    return load_cues()
