"""Fidelity checks: the Markdown corpus must reproduce its raw seed articles word for word.

Each corpus/<id>.md file that names a ``seed`` in its YAML front matter is compared with
the raw seed text in tests/data/seeds/. The corpus editors may only

* drop whole seed lines that are site chrome (listed verbatim under ``removed``),
* cut glued-on chrome off a line (``replaced``: seed line -> corpus line, a substring),
* prefix lines with Markdown heading markers (``# ``, ``## ``, ``### ``),
* change blank lines / strip trailing whitespace.

Everything else must be identical. Self-contained: stdlib + yaml + pytest only.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

TESTS_DIR = Path(__file__).parent
REPO_ROOT = TESTS_DIR.parent
CORPUS_DIR = REPO_ROOT / "corpus"
SEEDS_DIR = TESTS_DIR / "data" / "seeds"

# seed file -> (corpus id, sha256 of the raw seed bytes). The hashes pin the seed copies
# so that "fixing" a seed copy to match a corrupted corpus file is caught as well.
EXPECTED_SEEDS = {
    "000_9d80ed66349cd8d9.txt": (
        "apptivity-nine-times-out-of-ten",
        "4e852ca396b7ee5a48015bacf22092fd1861c47efadf21719b2fb311d0af6a37",
    ),
    "001_1aa606d26c942ccd.txt": (
        "roi-thresholds",
        "7c88e98fd6ff12cf4d739bdbb1a7dc1bf7846e9443619fe53e658efbc77d9f6c",
    ),
    "002_3d4747c461e717ad.txt": (
        "zalt-is-fine-tuning-worth-it",
        "33bb131c62f0ad3252a750fa01bdd77f5305096af02499f7dacc0cdd83ae22d1",
    ),
    "003_6bfba7e105d3f812.txt": (
        "apick-when-fine-tuning-is-worth-it",
        "918749ed4b8b5a9c914f6a986cb0b5d4ac61423c7d7db04dd89b171b130d923e",
    ),
    "004_1cc63833ebd7aeec.txt": (
        "synthetic-mind-fine-tuning-trap",
        "2a9216c3c64b2395ca474843b02d971ebafaf4458a3a2aaa7073e5c018dcf5cd",
    ),
}

REQUIRED_FIELDS = (
    "id",
    "title",
    "author",
    "publisher",
    "source",
    "seed",
    "title_from_text",
    "removed",
    "replaced",
    "notes",
)

HEADING_RE = re.compile(r"^(#{1,3}) (?=\S)")
SENTENCE_SPLIT_RE = re.compile(r"(?<=[.!?])\s+")


def _lines(text: str) -> list[str]:
    """Split on newlines only (not on exotic Unicode separators); strip trailing whitespace/CR."""
    return [line.rstrip() for line in text.split("\n")]


def strip_heading(line: str) -> str:
    return HEADING_RE.sub("", line, count=1).rstrip()


@dataclass
class Article:
    path: Path
    meta: dict
    body: str  # text after the closing front-matter delimiter
    body_start: int  # 1-based line number in the .md file of the first body line

    @property
    def name(self) -> str:
        return f"corpus/{self.path.name}"

    def body_lines(self) -> list[tuple[int, str]]:
        """(line number in the .md file, rstripped line) for every body line."""
        return [(self.body_start + i, line) for i, line in enumerate(_lines(self.body))]

    def content_lines(self) -> list[tuple[int, str]]:
        """Non-empty body lines with heading markers stripped."""
        return [(n, strip_heading(line)) for n, line in self.body_lines() if line.strip()]

    # --- the seed ----------------------------------------------------------------------
    @property
    def seed_name(self) -> str:
        return self.meta["seed"]

    def seed_lines(self) -> list[tuple[int, str]]:
        text = (SEEDS_DIR / self.seed_name).read_bytes().decode("utf-8")
        return list(enumerate(_lines(text), start=1))

    def removed(self) -> list[str]:
        return list(self.meta.get("removed") or [])

    def replaced(self) -> dict[str, str]:
        return dict(self.meta.get("replaced") or {})

    def expected_lines(self) -> list[tuple[int, str, str]]:
        """(seed line number, seed line, expected corpus line) for each kept non-empty line."""
        removed = set(self.removed())
        replaced = self.replaced()
        out = []
        for n, line in self.seed_lines():
            if not line.strip() or line in removed:
                continue
            out.append((n, line, replaced.get(line, line)))
        return out


def parse_article(path: Path) -> Article:
    text = path.read_bytes().decode("utf-8")
    lines = text.split("\n")
    if not lines or lines[0].rstrip() != "---":
        raise AssertionError(f"{path.name}: file must start with a '---' front-matter line")
    for i in range(1, len(lines)):
        if lines[i].rstrip() == "---":
            meta = yaml.safe_load("\n".join(lines[1:i])) or {}
            if not isinstance(meta, dict):
                raise AssertionError(f"{path.name}: front matter is not a YAML mapping")
            return Article(path=path, meta=meta, body="\n".join(lines[i + 1 :]), body_start=i + 2)
    raise AssertionError(f"{path.name}: front matter is not closed by a '---' line")


def _seeded_articles() -> list[Article]:
    arts = []
    for path in sorted(CORPUS_DIR.glob("*.md")):
        art = parse_article(path)
        if art.meta.get("seed"):
            arts.append(art)
    return arts


ARTICLES = _seeded_articles()
ARTICLE_IDS = [a.path.stem for a in ARTICLES]


def _short(s: str, n: int = 100) -> str:
    return s if len(s) <= n else s[: n - 3] + "..."


# ---------------------------------------------------------------------------------------
# Seed copies and coverage
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed_name", sorted(EXPECTED_SEEDS))
def test_seed_copy_is_pinned(seed_name):
    path = SEEDS_DIR / seed_name
    assert path.is_file(), f"missing seed copy tests/data/seeds/{seed_name}"
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert digest == EXPECTED_SEEDS[seed_name][1], (
        f"tests/data/seeds/{seed_name} is not byte-identical to the original seed (sha256 {digest})"
    )


def test_all_seeds_covered_with_expected_ids():
    by_seed: dict[str, list[str]] = {}
    for art in ARTICLES:
        by_seed.setdefault(art.seed_name, []).append(art.name)
    problems = []
    for seed_name, (corpus_id, _) in sorted(EXPECTED_SEEDS.items()):
        files = by_seed.get(seed_name, [])
        if files != [f"corpus/{corpus_id}.md"]:
            problems.append(
                f"seed {seed_name}: expected exactly corpus/{corpus_id}.md, found {files}"
            )
    for seed_name, files in sorted(by_seed.items()):
        if seed_name not in EXPECTED_SEEDS:
            problems.append(f"{files}: unknown seed {seed_name!r}")
    assert not problems, "\n".join(problems)


def test_ids_unique():
    seen: dict[str, str] = {}
    dupes = []
    for path in sorted(CORPUS_DIR.glob("*.md")):
        art = parse_article(path)
        doc_id = art.meta.get("id")
        if doc_id in seen:
            dupes.append(f"id {doc_id!r} used by {seen[doc_id]} and {art.name}")
        seen[doc_id] = art.name
    assert not dupes, "\n".join(dupes)


# ---------------------------------------------------------------------------------------
# Front matter
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("art", ARTICLES, ids=ARTICLE_IDS)
def test_front_matter(art: Article):
    m = art.meta
    missing = [f for f in REQUIRED_FIELDS if f not in m]
    assert not missing, f"{art.name}: front matter lacks {missing}"
    problems = []
    if m["id"] != art.path.stem:
        problems.append(f"id {m['id']!r} does not equal the file stem {art.path.stem!r}")
    for key in ("title", "source", "seed", "notes"):
        if not isinstance(m[key], str) or not m[key].strip():
            problems.append(f"{key} must be a non-empty string, got {m[key]!r}")
    for key in ("author", "publisher"):
        if m[key] is not None and (not isinstance(m[key], str) or not m[key].strip()):
            problems.append(f"{key} must be a non-empty string or null, got {m[key]!r}")
    if not isinstance(m["title_from_text"], bool):
        problems.append(f"title_from_text must be true/false, got {m['title_from_text']!r}")
    if not isinstance(m["removed"], list) or not all(
        isinstance(x, str) and x for x in m["removed"]
    ):
        problems.append("removed must be a list of non-empty strings")
    if not isinstance(m["replaced"], dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in m["replaced"].items()
    ):
        problems.append("replaced must be a mapping of string -> string")
    if not (SEEDS_DIR / str(m["seed"])).is_file():
        problems.append(f"seed file tests/data/seeds/{m['seed']} does not exist")
    assert not problems, f"{art.name}:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("art", ARTICLES, ids=ARTICLE_IDS)
def test_title_matches_text(art: Article):
    h1 = [(n, line[2:]) for n, line in art.body_lines() if line.startswith("# ")]
    if art.meta["title_from_text"]:
        assert [title for _, title in h1] == [art.meta["title"]], (
            f"{art.name}: title_from_text is true, so the body needs exactly one '# ' heading "
            f"equal to the title {art.meta['title']!r}; found {h1}"
        )
        seed_titles = [line for _, line, _ in art.expected_lines()]
        assert art.meta["title"] in seed_titles, (
            f"{art.name}: title {art.meta['title']!r} is not a line of seed {art.seed_name}"
        )
    else:
        assert not h1, f"{art.name}: title_from_text is false but the body has '# ' headings: {h1}"


# ---------------------------------------------------------------------------------------
# removed / replaced are well-formed
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("art", ARTICLES, ids=ARTICLE_IDS)
def test_removed_and_replaced_refer_to_seed_lines(art: Article):
    seed = {line for _, line in art.seed_lines()}
    problems = [f"removed line not in seed: {r!r}" for r in art.removed() if r not in seed]
    problems += [f"replaced key not in seed: {k!r}" for k in art.replaced() if k not in seed]
    problems += [
        f"line both removed and replaced: {k!r}" for k in art.replaced() if k in set(art.removed())
    ]
    assert not problems, f"{art.name} (seed {art.seed_name}):\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("art", ARTICLES, ids=ARTICLE_IDS)
def test_replaced_values_only_cut(art: Article):
    bad = [
        f"{k!r} -> {v!r}"
        for k, v in art.replaced().items()
        if not v.strip() or v == k or v not in k
    ]
    assert not bad, (
        f"{art.name}: every replaced value must be a non-empty proper substring of its seed line "
        f"(chrome may only be cut off):\n  " + "\n  ".join(bad)
    )


# ---------------------------------------------------------------------------------------
# Body fidelity
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("art", ARTICLES, ids=ARTICLE_IDS)
def test_kept_seed_lines_in_body_in_order(art: Article):
    """Check 1: every kept seed line (after `replaced`) is a body line, in seed order."""
    body = art.content_lines()
    pos = 0
    for seed_no, _seed_line, want in art.expected_lines():
        while pos < len(body) and body[pos][1] != want:
            pos += 1
        if pos == len(body):
            anywhere = [n for n, line in body if line == want]
            where = (
                f"it is present at {art.name}:{anywhere} but out of order"
                if anywhere
                else "it is missing from the body"
            )
            pytest.fail(
                f"{art.name}: seed line {art.seed_name}:{seed_no} {_short(want)!r} — {where}"
            )
        pos += 1


@pytest.mark.parametrize("art", ARTICLES, ids=ARTICLE_IDS)
def test_removed_lines_absent_from_body(art: Article):
    """Check 2: chrome lines listed in `removed` appear nowhere in the body."""
    problems = []
    for removed in art.removed():
        for n, line in art.body_lines():
            if removed in line:
                problems.append(f"{art.name}:{n} contains removed line {removed!r}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("art", ARTICLES, ids=ARTICLE_IDS)
def test_body_adds_no_words(art: Article):
    """Check 3: every non-empty body line is one of the expected (kept, replaced) seed lines."""
    allowed = {want for _, _, want in art.expected_lines()}
    extra = [
        f"{art.name}:{n} {_short(line)!r}" for n, line in art.content_lines() if line not in allowed
    ]
    assert not extra, (
        f"{art.name}: body lines that are not lines of seed {art.seed_name}:\n  "
        + "\n  ".join(extra)
    )


@pytest.mark.parametrize("art", ARTICLES, ids=ARTICLE_IDS)
def test_body_is_exactly_the_kept_seed_lines(art: Article):
    """Checks 1 + 3 together, strictly: each kept line exactly once, in order, nothing else."""
    body = art.content_lines()
    expected = art.expected_lines()
    for i, (seed_no, _, want) in enumerate(expected):
        if i >= len(body):
            pytest.fail(
                f"{art.name}: body ends before seed line {art.seed_name}:{seed_no} {_short(want)!r}"
            )
        n, got = body[i]
        assert got == want, (
            f"{art.name}:{n} differs from seed line {art.seed_name}:{seed_no}\n"
            f"  expected: {_short(want, 200)!r}\n  found:    {_short(got, 200)!r}"
        )
    assert len(body) == len(expected), (
        f"{art.name}: extra body lines after the last seed line, starting at "
        f"{art.name}:{body[len(expected)][0]} {_short(body[len(expected)][1])!r}"
    )


@pytest.mark.parametrize("art", ARTICLES, ids=ARTICLE_IDS)
def test_heading_markers_and_layout(art: Article):
    problems = []
    prev_blank = False
    for n, line in art.body_lines():
        if line.startswith("#") and not HEADING_RE.match(line):
            problems.append(f"{art.name}:{n} malformed heading marker: {_short(line)!r}")
        if line != line.rstrip():
            problems.append(f"{art.name}:{n} trailing whitespace")
        blank = not line.strip()
        if blank and prev_blank:
            problems.append(f"{art.name}:{n} more than one blank line in a row")
        prev_blank = blank
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("art", ARTICLES, ids=ARTICLE_IDS)
def test_every_kept_sentence_appears_verbatim(art: Article):
    """Every sentence of the seed that was kept appears verbatim in the corpus file."""
    text = art.path.read_bytes().decode("utf-8")
    body = art.body
    missing = []
    for seed_no, _, kept in art.expected_lines():
        for sentence in SENTENCE_SPLIT_RE.split(kept.strip()):
            if sentence and (sentence not in body or sentence not in text):
                missing.append(f"{art.seed_name}:{seed_no} {_short(sentence)!r}")
    assert not missing, (
        f"{art.name}: kept seed sentences not found verbatim in the body:\n  "
        + "\n  ".join(missing)
    )
