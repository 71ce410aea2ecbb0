"""The guard between a language model's prose and the user.

The engine decides; a model may only phrase. :func:`check_sentence` runs on every sentence
as it streams in, :func:`check_complete` on the whole text, and either raises
:class:`~advisor.errors.GuardRejected` (the reply then falls back to the deterministic text,
with a note). What is rejected:

* a stance that contradicts the engine's verdict ("you should fine-tune" when the verdict is
  not_yet or need_more_info; "not ready" or "don't fine-tune" when it is fine_tune);
* a verdict name other than the engine's (``fine_tune``, "verdict: FINE-TUNE" ...);
* a marker ``[n]`` for a passage the model was not given, or, when it was given sources, none;
* a quotation that is not verbatim in the sources or the user's message;
* markup, links or images (the UI escapes everything anyway; a model emitting them is off
  the rails);
* its own instructions repeated back (five words in a row from the system prompt, or the
  names of the data fields it was given);
* empty, tiny or letter-less output.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from advisor.citations import markers_in
from advisor.engine import Verdict
from advisor.errors import GuardRejected, LLMBadOutput

_FT = r"(?:fine[- ]?tun(?:e|ed|ing)|finetun(?:e|ed|ing)|train(?:ing)? (?:a |your own |a custom )?model)"
_POSITIVE = re.compile(
    r"\b(?:(?:you|we|your team|they)(?:'ll)? (?:should|can|could|must|may|are ready to|"
    r"are ready for|can now|should now|should go ahead and|should start) (?:go ahead and |now |"
    r"start |begin |proceed (?:with|to) )?" + _FT + r""
    r"|go ahead (?:and|with) " + _FT + r""
    r"|(?:start|begin|proceed with|move forward with|green ?light) " + _FT + r""
    r"|" + _FT + r" (?:is|would be|seems|looks) (?:(?:now|clearly|definitely|probably|very) )?"
    r"(?:the right|a good|a great|worth it|justified|recommended|the way to go|the best|"
    r"appropriate|warranted|a sensible)"
    r"|(?:i|we) (?:recommend|suggest|advise) " + _FT + r""
    r"|(?:ready|cleared) (?:to|for) " + _FT + r""
    r"|(?:yes|definitely|absolutely),? " + _FT + r")",
    re.IGNORECASE,
)
_NEGATION = re.compile(
    r"(?:\bnot|n't|\bnever|\bdon'?t|\bavoid|\bbefore|\buntil|\bunless|\binstead of|"
    r"\brather than|\bhold off|\bwait|\byet to|\bonly (?:if|when|after)|\bwhether)\b",
    re.IGNORECASE,
)
_NEGATIVE = re.compile(
    r"\b(?:not yet|not ready|hold off|do not fine[- ]?tune|don't fine[- ]?tune|"
    r"should not fine[- ]?tune|shouldn't fine[- ]?tune|not (?:a )?(?:good )?(?:candidate|"
    r"time) (?:for|to) fine[- ]?tun|fine[- ]?tuning is not (?:the right|worth|justified|"
    r"recommended)|(?:is|are) not (?:justified|worth it))\b",
    re.IGNORECASE,
)
_VERDICT_NAMES = {
    Verdict.FINE_TUNE: re.compile(
        r"\bfine_tune\b|\bverdict\W{0,3}(?:is\W{0,3})?fine[- ]tune", re.I
    ),
    Verdict.NOT_YET: re.compile(r"\bnot_yet\b|\bverdict\W{0,3}(?:is\W{0,3})?not yet", re.I),
    Verdict.NEED_MORE_INFO: re.compile(
        r"\bneed_more_info\b|\bverdict\W{0,3}(?:is\W{0,3})?need more info", re.I
    ),
}
_MARKUP = re.compile(
    r"<\s*/?\s*[a-z!][^>]*>|\]\s*\(|https?://|www\.|javascript:|data:text", re.IGNORECASE
)
_QUOTED = re.compile(r"[“\"]([^”\"]{25,})[”\"]")
_SPACE = re.compile(r"\s+")
_QUOTE_CHARS = str.maketrans({"“": '"', "”": '"', "’": "'", "‘": "'", "–": "-", "—": "-"})


def _normal(text: str) -> str:
    return _SPACE.sub(" ", text.translate(_QUOTE_CHARS)).strip().lower()


_WORDS = re.compile(r"[a-z0-9']+")
_FIELD_NAMES = re.compile(r"\b(?:draft_reply|user_message|next_question|sources|DATA \(JSON)\b")


def shingles(text: str, size: int = 5) -> frozenset[tuple[str, ...]]:
    """Every run of ``size`` consecutive words of ``text`` (lower case)."""
    words = _WORDS.findall(text.lower())
    return frozenset(tuple(words[i : i + size]) for i in range(len(words) - size + 1))


def check_sentence(
    sentence: str,
    verdict: Verdict | None,
    markers: Sequence[int],
    sources: Sequence[str],
    instructions: frozenset[tuple[str, ...]] = frozenset(),
) -> None:
    """Raise :class:`GuardRejected` if one sentence of model prose breaks a rule."""
    if _MARKUP.search(sentence):
        raise GuardRejected("The model's answer contained markup or a link.")
    unknown = sorted(set(markers_in(sentence)) - set(markers))
    if unknown:
        raise GuardRejected(f"The model cited a passage it was not given: {unknown}.")
    if verdict is not None:
        for other, pattern in _VERDICT_NAMES.items():
            if other is not verdict and pattern.search(sentence):
                raise GuardRejected(f"The model named a verdict other than {verdict.value}.")
        if verdict is not Verdict.FINE_TUNE:
            for match in _POSITIVE.finditer(sentence):
                lead = sentence[max(0, match.start() - 25) : match.start()]
                if not _NEGATION.search(lead) and not _NEGATION.search(match.group(0)):
                    raise GuardRejected(
                        f"The model recommended fine-tuning; the engine's verdict is "
                        f"{verdict.value}."
                    )
        elif _NEGATIVE.search(sentence):
            raise GuardRejected("The model advised against fine-tuning; the verdict is fine_tune.")
    if _FIELD_NAMES.search(sentence) or shingles(sentence) & instructions:
        raise GuardRejected("The model repeated its instructions instead of answering.")
    corpus = [_normal(s) for s in sources]
    for quoted in _QUOTED.findall(sentence):
        needle = _normal(quoted).strip(" .,;:")
        if needle and not any(needle in s for s in corpus):
            raise GuardRejected("The model misquoted a source.")


def check_complete(text: str, markers: Sequence[int]) -> None:
    """Raise if the whole answer is unusable: empty, letter-less, or uncited when it had
    sources to cite."""
    stripped = text.strip()
    if len(stripped) < 20 or not re.search(r"[A-Za-z]{3,}", stripped):
        raise LLMBadOutput("The model's answer was empty or unreadable.")
    if markers and not markers_in(stripped):
        raise GuardRejected("The model's answer cited none of its sources.")


_SENTENCE_END = re.compile(r"(?<=[.!?])(?:\s*\[\d{1,3}\])*\s+|\n+")


def split_complete(buffer: str) -> tuple[list[str], str]:
    """Complete sentences at the front of ``buffer`` (with their trailing markers), and the
    incomplete rest."""
    sentences: list[str] = []
    pos = 0
    for match in _SENTENCE_END.finditer(buffer):
        if match.end() >= len(buffer):  # a marker may still follow
            break
        sentences.append(buffer[pos : match.end()])
        pos = match.end()
    return sentences, buffer[pos:]
