"""Typos in the words the reader looks for: "promt" reads as "prompt", "labled" as "labeled".

People type fast in a chat, and a rule that looks for "latency" misses "latancy". A word is
corrected only when all three hold:

- it is not an English word (pyspellchecker's English word list: a well-kept PyPI package
  whose frequency list ships inside the wheel, so nothing is downloaded at run time);
- it is one edit (a letter added, dropped, changed, or two swapped) from one word of the
  *reader's own vocabulary* (the words its rules and cues look for, taken from their
  patterns, and the facts' descriptions and answer forms), and no other word of it is as
  close by the same kind of edit;
- it is at least four letters long (shorter words are too often abbreviations).

So a typo can only become a word the reader knows, never some other English word
("scaned" is not turned into "scared"), names and product words are left alone, and a word
that is already English is never touched. The quote a fact keeps is the user's own text:
correction happens only in the text the rules read (:func:`advisor.reader.numbers.normalise`).
"""

from __future__ import annotations

import gzip
import json
import re
from functools import cache
from importlib import resources

__all__ = ["correct", "english", "vocabulary"]

#: Words the English list knows this many times or more count as English (rarer entries of
#: the list are mostly misspellings that made it into the corpus it was counted from).
_MIN_FREQUENCY = 5
_WORD = re.compile(r"(?<![\w'-])[A-Za-z]{4,}(?![\w'-])")
_ALPHA = re.compile(r"[a-z]{3,}")
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


@cache
def english() -> frozenset[str]:
    """The English words, from pyspellchecker's frequency list (about 160k words)."""
    data = resources.files("spellchecker").joinpath("resources", "en.json.gz").read_bytes()
    counts: dict[str, int] = json.loads(gzip.decompress(data))
    return frozenset(word for word, n in counts.items() if n >= _MIN_FREQUENCY)


def _sources() -> list[str]:
    """The text the reader's vocabulary is taken from: every pattern of the sentence rules
    and the cue book, and the facts' own descriptions and answer forms."""
    from advisor import extraction
    from advisor.facts import SPECS
    from advisor.reader.cues import default_cues

    texts = [v.pattern for v in vars(extraction).values() if isinstance(v, re.Pattern)]
    for cue in default_cues().facts.values():
        texts.extend(cue.topic)
        texts.extend(v.pattern for v in cue.values)
        texts.extend(e.text for e in cue.examples)
    for spec in SPECS.values():
        texts.extend((spec.name.replace("_", " "), spec.description, *spec.forms))
    return texts


@cache
def vocabulary() -> frozenset[str]:
    """The English words the reader looks for."""
    known = english()
    return frozenset(w for text in _sources() for w in _ALPHA.findall(text.lower()) if w in known)


@cache
def _compounds() -> dict[str, str]:
    """Hyphenated words of the reader under their letters alone: "fewshot" -> "few-shot"."""
    known = english()
    found: dict[str, str] = {}
    for text in _sources():
        for first, second in re.findall(r"\b([a-z]{3,})-([a-z]{3,})\b", text.lower()):
            if first in known and second in known and first + second not in known:
                found[first + second] = f"{first}-{second}"
    return found


def _edits(word: str) -> tuple[set[str], ...]:
    """The strings one edit from ``word``, most common typo first: two letters swapped, a
    letter left out, a letter mistyped, a letter too many."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    swaps = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    missing = {a + c + b for a, b in splits for c in _LETTERS}
    mistyped = {a + c + b[1:] for a, b in splits if b for c in _LETTERS}
    extra = {a + b[1:] for a, b in splits if b}
    return swaps, missing, mistyped, extra


#: Contractions typed without the apostrophe ("dont", "doesnt"): words, not typos; the
#: reader's negation patterns read them as they are ("dont" must never become "done").
_CONTRACTIONS = frozenset(
    {
        *("dont", "doesnt", "didnt", "cant", "wont", "isnt", "arent", "wasnt", "werent"),
        *("havent", "hasnt", "hadnt", "shouldnt", "wouldnt", "couldnt", "mustnt", "thats"),
        *("theres", "theyre", "youre", "weve", "whats", "aint"),
    }
)


@cache
def _fix(lower: str) -> str | None:
    words = vocabulary()
    if lower in words or lower in english() or lower in _CONTRACTIONS:
        return None
    if lower in _compounds():
        return _compounds()[lower]
    for edits in _edits(lower):
        found = {e for e in edits if e in words}
        if found:
            # two words of the reader one edit of the same kind away: no guess
            return found.pop() if len(found) == 1 else None
    return None


def _match_case(original: str, word: str) -> str:
    if original.isupper():
        return word.upper()
    return word[0].upper() + word[1:] if original[0].isupper() else word


def correct(text: str) -> str:
    """``text`` with each typo of a word the reader knows spelled right; all else as it was."""

    def fix(m: re.Match[str]) -> str:
        found = _fix(m.group(0).lower())
        return m.group(0) if found is None else _match_case(m.group(0), found)

    return _WORD.sub(fix, text)
