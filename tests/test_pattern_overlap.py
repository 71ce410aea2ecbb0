"""No rule may quote an eval sentence: a pattern describes how people say a thing.

Fails if any literal run of five or more words in a reader pattern (the string literals of
the reader's modules, and the cue vocabulary) also occurs, word for word, in any sentence of
any eval set under ``evals/``.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import yaml

from advisor.reader.cues import CUES_PATH, load_cues

ROOT = Path(__file__).resolve().parent.parent
READER_MODULES = [
    ROOT / "advisor" / "extraction.py",
    ROOT / "advisor" / "intents.py",
    *sorted((ROOT / "advisor" / "reader").glob("*.py")),
]
N = 5
#: Fact and gate names ("fine_tuned_cost_per_month") are vocabulary, not patterns.
_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")
_WORD = re.compile(r"[a-z0-9']+")
#: Regex syntax that ends a literal run: groups, alternation, classes, quantifiers, escapes.
_BREAK = re.compile(r"\\[a-zA-Z]|[()\[\]{}|?*+^$.\\]")


def _strings(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)
    elif isinstance(node, str):
        yield node


def eval_ngrams() -> set[tuple[str, ...]]:
    grams: set[tuple[str, ...]] = set()
    for path in sorted((ROOT / "evals").rglob("*.yaml")):
        for text in _strings(yaml.safe_load(path.read_text(encoding="utf-8"))):
            words = _WORD.findall(text.lower().replace("’", "'"))
            grams.update(tuple(words[i : i + N]) for i in range(len(words) - N + 1))
    return grams


def _docstrings(tree: ast.AST) -> set[int]:
    ids: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def pattern_literals() -> Iterator[tuple[str, str]]:
    """(where, literal) for every non-docstring string in the reader and every cue pattern."""
    for path in READER_MODULES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docs = _docstrings(tree)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in docs
                and not _IDENTIFIER.match(node.value)
            ):
                yield f"{path.relative_to(ROOT)}:{node.lineno}", node.value
    book = load_cues(CUES_PATH)
    for name, cues in book.facts.items():
        for pattern in (*cues.topic, *(c.pattern for c in cues.values)):
            yield f"cues.yaml:{name}", pattern


def runs(literal: str) -> Iterator[list[str]]:
    """The literal word runs of a pattern: text between regex operators."""
    for segment in _BREAK.split(literal.lower()):
        words = _WORD.findall(segment)
        if len(words) >= N:
            yield words


def test_no_pattern_quotes_an_eval_sentence() -> None:
    grams = eval_ngrams()
    assert len(grams) > 1000  # the eval sets were found
    quoted = []
    for where, literal in pattern_literals():
        for words in runs(literal):
            for i in range(len(words) - N + 1):
                if tuple(words[i : i + N]) in grams:
                    quoted.append(f"{where}: {' '.join(words[i : i + N])!r}")
    assert not quoted, "patterns quoting eval sentences:\n" + "\n".join(quoted)


def test_the_check_sees_a_quote() -> None:
    """The check itself works: a run of five eval words is found, a regex-broken one is not."""
    grams = {("we", "have", "no", "eval", "set")}
    hits = [w for w in runs(r"\bwe have no eval set\b") if tuple(w[:5]) in grams]
    assert hits
    assert not list(runs(r"we (?:have|had) no eval set"))
