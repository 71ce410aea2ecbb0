"""Citations: verbatim spans of the corpus, numbered in the order a reply first uses them.

A reply's text carries markers ``[1]``, ``[2]`` … and lists one :class:`CitedPassage` per
marker: no marker without a passage, no passage the text does not use. Each cited quote is
``document.text[start:end]`` of a corpus file, so a reader (or the corpus viewer) can find
and highlight it. Text that users or models wrote is passed through :func:`neutralize` before
it goes into a reply, so a typed ``[3]`` can never pose as a marker.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from advisor.corpus import Corpus, Document, Passage
from advisor.settings import MAX_PASSAGE_CHARS

MARKER = re.compile(r"\[(\d{1,3})\]")


class CitedPassage(BaseModel):
    """One numbered source of a reply: where the quote is, and the quote itself."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    marker: Annotated[int, Field(ge=1)]
    doc_id: str
    title: str
    author: str | None = None
    section: str
    quote: Annotated[str, Field(min_length=1, max_length=MAX_PASSAGE_CHARS)]
    start: Annotated[int, Field(ge=0)]
    end: Annotated[int, Field(ge=0)]
    passage_id: str
    passage_text: str = ""


@dataclass(frozen=True)
class Span:
    """A verbatim span of one document, and the passage it starts in."""

    document: Document
    passage: Passage
    start: int
    end: int

    @property
    def key(self) -> tuple[str, int, int]:
        return (self.document.doc_id, self.start, self.end)

    @property
    def quote(self) -> str:
        return self.document.text[self.start : self.end]


class Citer:
    """Finds quotes in the corpus and turns passages into citable spans."""

    def __init__(self, corpus: Corpus) -> None:
        self.corpus = corpus

    def passage_at(self, document: Document, offset: int) -> Passage | None:
        return next((p for p in document.passages if p.start <= offset < p.end), None)

    def find(self, doc_id: str, quote: str) -> Span | None:
        """The span of ``quote`` (verbatim) in ``doc_id``, or ``None`` when it is not there."""
        document = self.corpus.document(doc_id)
        if document is None or not quote:
            return None
        start = document.text.find(quote)
        if start < 0:
            return None
        passage = self.passage_at(document, start)
        if passage is None:
            return None
        end = min(start + len(quote), start + MAX_PASSAGE_CHARS)
        return Span(document, passage, start, end)

    def span(self, passage: Passage, start: int, end: int) -> Span | None:
        document = self.corpus.document(passage.doc_id)
        if document is None or not passage.start <= start < end <= passage.end:
            return None
        return Span(document, passage, start, end)


class CitationList:
    """Markers handed out in order of first use; the same span always gets the same marker."""

    def __init__(self) -> None:
        self._spans: list[Span] = []
        self._index: dict[tuple[str, int, int], int] = {}

    def mark(self, span: Span) -> str:
        number = self._index.get(span.key)
        if number is None:
            self._spans.append(span)
            number = self._index[span.key] = len(self._spans)
        return f"[{number}]"

    def __len__(self) -> int:
        return len(self._spans)

    def cited(self) -> list[CitedPassage]:
        return [to_cited(number, span) for number, span in enumerate(self._spans, start=1)]


def to_cited(marker: int, span: Span) -> CitedPassage:
    p = span.passage
    return CitedPassage(
        marker=marker,
        doc_id=span.document.doc_id,
        title=span.document.title,
        author=span.document.author,
        section=p.section,
        quote=span.quote,
        start=span.start,
        end=span.end,
        passage_id=p.passage_id,
        passage_text=p.text,
    )


def neutralize(text: str) -> str:
    """Make bracketed numbers in foreign text harmless: ``[3]`` becomes ``(3)``."""
    return MARKER.sub(r"(\1)", text)


def markers_in(text: str) -> list[int]:
    """The marker numbers in ``text``, in order of appearance (with repeats)."""
    return [int(m.group(1)) for m in MARKER.finditer(text)]


def marker_problems(text: str, citations: Sequence[CitedPassage]) -> list[str]:
    """Why the markers of ``text`` do not map one-to-one to ``citations`` (empty if they do)."""
    used = set(markers_in(text))
    listed = [c.marker for c in citations]
    problems = []
    if listed != list(range(1, len(listed) + 1)):
        problems.append(f"listed markers are not 1..{len(listed)}: {listed}")
    if missing := sorted(used - set(listed)):
        problems.append(f"markers without a passage: {missing}")
    if unused := sorted(set(listed) - used):
        problems.append(f"passages the text does not use: {unused}")
    return problems


def renumber(
    text: str, available: Iterable[CitedPassage]
) -> tuple[str, list[CitedPassage], list[int]]:
    """Keep only the passages ``text`` uses, numbered 1..n in order of first use.

    Returns the rewritten text, its citations, and any marker that names no available
    passage (the caller decides what an unknown marker means).
    """
    by_marker = {c.marker: c for c in available}
    order: dict[int, int] = {}
    unknown: list[int] = []
    for number in markers_in(text):
        if number not in by_marker:
            if number not in unknown:
                unknown.append(number)
        elif number not in order:
            order[number] = len(order) + 1

    def swap(match: re.Match[str]) -> str:
        number = int(match.group(1))
        return f"[{order[number]}]" if number in order else match.group(0)

    rewritten = MARKER.sub(swap, text)
    cited = [by_marker[old].model_copy(update={"marker": new}) for old, new in order.items()]
    return rewritten, cited, unknown
