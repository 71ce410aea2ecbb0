"""Query expansion from a rule table (``corpus/rules/query_expansion.yaml``).

Users say "tuned model", "making things up" or "eyeballing"; the articles say
"fine-tuning", "hallucinations" and "vibe-checking". Each rule appends the articles'
words to a query that uses the users' words. Only queries are expanded; passages and
citations stay verbatim.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from advisor.errors import ConfigError


class ExpansionRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    when: str
    add: str = Field(min_length=1, max_length=200)

    @field_validator("when")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from exc
        return value


class ExpansionTable(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    version: int
    rules: tuple[ExpansionRule, ...]


class QueryExpander:
    """Appends the corpus' vocabulary to queries phrased in users' words."""

    def __init__(self, table: ExpansionTable) -> None:
        self._rules = [(re.compile(r.when, re.IGNORECASE), r.add) for r in table.rules]

    def expand(self, query: str) -> str:
        extra: list[str] = []
        for pattern, words in self._rules:
            if words not in extra and pattern.search(query):
                extra.append(words)
        return f"{query}\n{' '.join(extra)}" if extra else query


@lru_cache(maxsize=8)
def load_expander(path: Path) -> QueryExpander:
    try:
        table = ExpansionTable.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError, ValueError) as exc:
        raise ConfigError(
            f"Cannot read the query expansion rules {path}: {exc}",
            hint="Fix the file, or set ADVISOR_QUERY_EXPANSION=false.",
        ) from exc
    return QueryExpander(table)
