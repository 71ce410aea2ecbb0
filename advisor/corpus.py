"""The guidance corpus: documents with front matter, their sections, and citable passages.

A passage never crosses a section, is at most :data:`MAX_PASSAGE_CHARS` long, and its
``text`` is always ``document.text[start:end]``: a verbatim span of the source file that a
reader can find with a text search. Passage ids are stable while the file is unchanged.
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from advisor.settings import MAX_PASSAGE_CHARS

CORPUS_SUFFIXES = frozenset({".md", ".markdown", ".txt"})
#: Larger files are refused: guidance articles are a few tens of kilobytes.
MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
INTRODUCTION = "Introduction"

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)[ \t]*#*[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+(?=\S)")
_DOC_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,80}$")


@dataclass(frozen=True)
class Passage:
    """A citable span of one section of one document."""

    passage_id: str
    doc_id: str
    title: str
    section: str
    text: str
    start: int
    end: int
    ordinal: int

    def context_line(self, with_title: bool = True) -> str:
        """The heading context indexed with the text (title and section)."""
        return f"{self.title}\n{self.section}" if with_title else self.section


@dataclass(frozen=True)
class Document:
    """One corpus file, parsed."""

    doc_id: str
    title: str
    path: Path
    text: str
    content_hash: str
    metadata: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    passages: tuple[Passage, ...] = ()

    @property
    def author(self) -> str | None:
        value = self.metadata.get("author")
        return str(value) if value else None

    @property
    def source(self) -> str:
        value = self.metadata.get("source")
        return str(value) if value else "unknown"


@dataclass(frozen=True)
class CorpusProblem:
    """A file that was skipped, and why, in words a user can act on."""

    path: Path
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass(frozen=True)
class Corpus:
    """Every readable document, and a note for each file that was skipped."""

    documents: tuple[Document, ...]
    problems: tuple[CorpusProblem, ...] = ()

    @property
    def passages(self) -> list[Passage]:
        return [p for d in self.documents for p in d.passages]

    @property
    def version(self) -> str:
        """A short hash of every document's id and content: changes when the corpus does."""
        digest = hashlib.sha256()
        for doc in sorted(self.documents, key=lambda d: d.doc_id):
            digest.update(f"{doc.doc_id}\0{doc.content_hash}\n".encode())
        return digest.hexdigest()[:12]

    def document(self, doc_id: str) -> Document | None:
        return next((d for d in self.documents if d.doc_id == doc_id), None)

    def passage(self, passage_id: str) -> Passage | None:
        return self._by_id.get(passage_id)

    @property
    def _by_id(self) -> dict[str, Passage]:
        cached: dict[str, Passage] | None = self.__dict__.get("_passage_index")
        if cached is None:
            cached = {p.passage_id: p for p in self.passages}
            object.__setattr__(self, "_passage_index", cached)
        return cached


# --------------------------------------------------------------------------- loading


def load_corpus(
    folders: Sequence[Path], *, target_chars: int = 1200, max_chars: int = MAX_PASSAGE_CHARS
) -> Corpus:
    """Read every ``.md``/``.txt`` under ``folders`` (recursively, hidden folders skipped).

    A file that cannot be used (not UTF-8, binary, empty, too large, bad front matter, a
    duplicate id) is skipped with a :class:`CorpusProblem`; the rest still load.
    """
    documents: list[Document] = []
    problems: list[CorpusProblem] = []
    seen: dict[str, Path] = {}
    for path in _corpus_files(folders):
        try:
            doc = parse_document(path, target_chars=target_chars, max_chars=max_chars)
        except DocumentError as exc:
            problems.append(CorpusProblem(path, str(exc)))
            continue
        if doc.doc_id in seen:
            problems.append(
                CorpusProblem(
                    path,
                    f"skipped: its id '{doc.doc_id}' is already used by {seen[doc.doc_id]}; "
                    "give it a different 'id:' in its front matter or rename the file.",
                )
            )
            continue
        seen[doc.doc_id] = path
        documents.append(doc)
    return Corpus(tuple(documents), tuple(problems))


def _corpus_files(folders: Sequence[Path]) -> Iterator[Path]:
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            rel = path.relative_to(folder)
            if any(part.startswith(".") for part in rel.parts):
                continue
            if path.suffix.lower() in CORPUS_SUFFIXES and path.is_file():
                yield path


class DocumentError(Exception):
    """Raised by :func:`parse_document` for a file that cannot be used."""


def read_text_file(path: Path) -> tuple[str, str]:
    """Return ``(text, sha256)`` of a UTF-8 text file, or raise :class:`DocumentError`."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DocumentError(f"cannot be read ({exc.strerror or exc}).") from exc
    return decode_document_bytes(raw), hashlib.sha256(raw).hexdigest()


def decode_document_bytes(raw: bytes) -> str:
    """Decode an uploaded or stored document, refusing what is not usable text."""
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise DocumentError(
            f"is {len(raw) / 1_048_576:.1f} MB; documents are limited to "
            f"{MAX_DOCUMENT_BYTES // 1_048_576} MB. Split it into smaller files."
        )
    if b"\x00" in raw:
        raise DocumentError("looks binary (it contains NUL bytes); only UTF-8 text is indexed.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentError(
            f"is not UTF-8 text (invalid byte at position {exc.start}); "
            "save it as UTF-8 and it will be indexed."
        ) from exc
    if not text.strip():
        raise DocumentError("is empty; nothing to index.")
    return text


def parse_document(
    path: Path, *, target_chars: int = 1200, max_chars: int = MAX_PASSAGE_CHARS
) -> Document:
    """Parse one file into a :class:`Document` with its passages."""
    text, content_hash = read_text_file(path)
    return document_from_text(
        text, path=path, content_hash=content_hash, target_chars=target_chars, max_chars=max_chars
    )


def document_from_text(
    text: str,
    *,
    path: Path,
    content_hash: str | None = None,
    target_chars: int = 1200,
    max_chars: int = MAX_PASSAGE_CHARS,
) -> Document:
    """Parse already-decoded text (front matter optional) into a :class:`Document`."""
    metadata, body_start = _front_matter(text)
    doc_id = str(metadata.get("id") or slugify(path.stem))
    if not _DOC_ID.match(doc_id):
        raise DocumentError(
            f"has an invalid id '{doc_id[:60]}': use lowercase letters, digits, '.', '_' or '-'."
        )
    blocks, headings = _scan(text, body_start)
    title_heading = next((h for h in headings if h.level == 1), None)
    title = str(metadata.get("title") or (title_heading.text if title_heading else "")).strip()
    if not title:
        title = path.stem.replace("_", " ").replace("-", " ").strip().capitalize() or doc_id
    content_hash = content_hash or hashlib.sha256(text.encode()).hexdigest()
    passages = tuple(
        _make_passages(
            doc_id,
            content_hash,
            title,
            text,
            blocks,
            headings,
            title_heading,
            target_chars,
            max_chars,
        )
    )
    if not passages:
        raise DocumentError("has no text outside its headings and front matter; nothing to index.")
    return Document(
        doc_id=doc_id,
        title=title,
        path=path,
        text=text,
        content_hash=content_hash,
        metadata=metadata,
        passages=passages,
    )


def slugify(value: str) -> str:
    """A lowercase ASCII id from a file name."""
    ascii_only = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_only.lower()).strip("-")
    return slug[:80] or "document"


def _front_matter(text: str) -> tuple[dict[str, Any], int]:
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, 0
    try:
        data = yaml.safe_load(match.group(1))
    except yaml.YAMLError as exc:
        raise DocumentError(f"has front matter that is not valid YAML ({exc}).") from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise DocumentError("has front matter that is not a 'key: value' mapping.")
    return {str(k): v for k, v in data.items()}, match.end()


# --------------------------------------------------------------------------- sections


@dataclass(frozen=True)
class _Heading:
    level: int
    text: str
    start: int


@dataclass(frozen=True)
class _Block:
    """A run of non-blank lines (a paragraph, list or table) and the headings above it."""

    start: int
    end: int
    heading_index: int  # index into headings of the nearest heading above, -1 if none


def _lines(text: str, offset: int) -> Iterator[tuple[int, int, str]]:
    """Yield ``(start, end_without_newline, line)`` from ``offset`` on."""
    pos = offset
    for raw in text[offset:].splitlines(keepends=True):
        line = raw.rstrip("\r\n")
        yield pos, pos + len(line), line
        pos += len(raw)


def _scan(text: str, body_start: int) -> tuple[list[_Block], list[_Heading]]:
    blocks: list[_Block] = []
    headings: list[_Heading] = []
    in_fence = False
    current: list[int] | None = None  # [start, end]

    def close() -> None:
        nonlocal current
        if current is not None:
            blocks.append(_Block(current[0], current[1], len(headings) - 1))
            current = None

    for start, end, line in _lines(text, body_start):
        if _FENCE.match(line):
            in_fence = not in_fence
        heading = None if in_fence else _HEADING.match(line)
        if heading and heading.group(2).strip():
            close()
            headings.append(_Heading(len(heading.group(1)), heading.group(2).strip(), start))
        elif not line.strip() and not in_fence:
            close()
        elif current is None:
            # Leading indentation is part of the verbatim span, but not leading blanks.
            current = [start, end]
        else:
            current[1] = end
    close()
    return blocks, headings


def _section_path(headings: list[_Heading], index: int, title_heading: _Heading | None) -> str:
    """``"Parent › Child"`` for the heading at ``index`` (the document title excluded)."""
    if index < 0:
        return INTRODUCTION
    path: list[_Heading] = []
    for heading in reversed(headings[: index + 1]):
        if heading is title_heading:
            break
        if not path or heading.level < path[-1].level:
            path.append(heading)
    if not path:
        return INTRODUCTION
    return " › ".join(h.text for h in reversed(path))


# --------------------------------------------------------------------------- passages


def _make_passages(
    doc_id: str,
    content_hash: str,
    title: str,
    text: str,
    blocks: list[_Block],
    headings: list[_Heading],
    title_heading: _Heading | None,
    target_chars: int,
    max_chars: int,
) -> Iterator[Passage]:
    ordinal = 0
    for heading_index, section_blocks in _group_by_section(blocks):
        section = _section_path(headings, heading_index, title_heading)
        spans: list[tuple[int, int]] = []
        for block in section_blocks:
            spans.extend(_split_span(text, block.start, block.end, target_chars, max_chars))
        for start, end in _pack(spans, _balanced(spans, target_chars, max_chars), max_chars, text):
            body = text[start:end]
            yield Passage(
                passage_id=_passage_id(doc_id, content_hash, start, body),
                doc_id=doc_id,
                title=title,
                section=section,
                text=body,
                start=start,
                end=end,
                ordinal=ordinal,
            )
            ordinal += 1


def _group_by_section(blocks: Iterable[_Block]) -> Iterator[tuple[int, list[_Block]]]:
    group: list[_Block] = []
    for block in blocks:
        if group and block.heading_index != group[0].heading_index:
            yield group[0].heading_index, group
            group = []
        group.append(block)
    if group:
        yield group[0].heading_index, group


def _balanced(spans: list[tuple[int, int]], target: int, limit: int) -> int:
    """A packing target that splits a run into equal-ish parts instead of leaving a stub.

    Greedy packing to ``target`` turns a 710-character run into 700 + 10; splitting into
    ``ceil(total / target)`` parts of about equal length keeps each passage readable.
    """
    if not spans:
        return target
    total = spans[-1][1] - spans[0][0]
    parts = max(1, math.ceil(total / target))
    return min(limit, max(target // 2, math.ceil(total / parts * 1.1)))


def _pack(
    spans: list[tuple[int, int]], target: int, limit: int, text: str = ""
) -> Iterator[tuple[int, int]]:
    """Greedily join consecutive spans while the joined span stays within ``target``.

    A lead-in that ends with a colon ("three sources:") is kept with what follows it
    as long as the result fits within ``limit``.
    """
    current: tuple[int, int] | None = None
    for start, end in spans:
        if current is None:
            current = (start, end)
        elif end - current[0] <= min(target, limit) or (
            text[current[0] : current[1]].rstrip().endswith(":") and end - current[0] <= limit
        ):
            current = (current[0], end)
        else:
            yield current
            current = (start, end)
    if current is not None:
        yield current


def _split_span(
    text: str, start: int, end: int, target: int, limit: int
) -> Iterator[tuple[int, int]]:
    """Split an over-long block at line, then sentence, then word boundaries."""
    if end - start <= target:
        yield start, end
        return
    for pieces in (_line_spans, _sentence_spans):
        parts = list(pieces(text, start, end))
        if len(parts) > 1:
            for part_start, part_end in _pack(parts, _balanced(parts, target, limit), limit, text):
                yield from _split_span(text, part_start, part_end, target, limit)
            return
    yield from _word_spans(text, start, end, limit)


def _line_spans(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    pos = start
    for raw in text[start:end].splitlines(keepends=True):
        line = raw.rstrip("\r\n")
        if line.strip():
            yield pos + (len(line) - len(line.lstrip())), pos + len(line)
        pos += len(raw)


def _sentence_spans(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    pos = start
    for match in _SENTENCE_END.finditer(text, start, end):
        yield pos, match.start() + len(match.group(0).rstrip())
        pos = match.end()
    if pos < end:
        yield pos, end


def _word_spans(text: str, start: int, end: int, limit: int) -> Iterator[tuple[int, int]]:
    pos = start
    while end - pos > limit:
        cut = text.rfind(" ", pos + 1, pos + limit)
        if cut <= pos:
            cut = pos + limit
        yield pos, cut
        pos = cut
        while pos < end and text[pos].isspace():
            pos += 1
    if pos < end:
        yield pos, end


def _passage_id(doc_id: str, content_hash: str, start: int, body: str) -> str:
    """Stable while the file is unchanged; any edit to the file gives new ids."""
    digest = hashlib.sha256(f"{content_hash}\0{start}\0{body}".encode()).hexdigest()[:16]
    return f"{doc_id}:{digest}"


_LIST_MARKER = re.compile(r"(?:[-*•]|\d{1,2}[.)])[ \t]+")


def sentence_spans(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """The quotable units of ``text[start:end]``: lines, then sentences within each line,
    without list markers; heading lines are skipped. Offsets are into ``text``."""
    for line_start, line_end in _line_spans(text, start, end):
        if text.startswith("#", line_start):
            continue
        marker = _LIST_MARKER.match(text, line_start, line_end)
        if marker:
            line_start = marker.end()
        for s, e in _sentence_spans(text, line_start, line_end):
            while s < e and text[s].isspace():
                s += 1
            if e > s:
                yield s, e
