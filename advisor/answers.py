"""Answers to questions about the subject: the best sentences of the best passages, quoted.

Retrieval (advisor/retrieval.py) ranks passages; here each of the top passages is cut into
sentences (:func:`advisor.corpus.sentence_spans`) and every sentence is scored against the
question by the same embedding model (cosine) and by stemmed word overlap. The best
sentences become excerpts: verbatim spans, widened by a neighbour sentence where a sentence
alone would read out of context ("Expensive." or "Add it to your retrieval store").

The best sentence's score also decides whether the corpus supports an answer at all: below
:data:`ANSWERABLE_MEANING` the advisor says the articles do not answer it, with no sources
attached (naming the nearest section when there is one above :data:`NEARBY_MEANING`).
The threshold was set on evals/questions.yaml (answerable vs off-topic vs unsupported).

A follow-up ("and for full fine-tuning?") is scored by meaning against the question and, at
half weight, against the question it follows, so the earlier question's subject carries
over; word overlap counts the follow-up's own words only, since they are what is new.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from advisor.corpus import Corpus, Passage, sentence_spans
from advisor.embeddings import QueryEmbedder
from advisor.retrieval import SearchHit

#: Below this best cosine similarity (meaning alone: word overlap lifts on-topic questions the
#: articles do not answer) the corpus is taken not to answer the question; the reply says so
#: and attaches no source. Set on evals/questions.yaml: at 0.53, 80% of the answerable
#: questions are answered and 90% of the on-topic questions the articles do not answer are
#: refused; at 0.45 it is 93% and 40%.
ANSWERABLE_MEANING = 0.53
#: A follow-up is scored with the question before it, which dilutes the similarity.
FOLLOW_UP_MEANING = 0.32
#: Above this (and below the line) the reply names the nearest section, without quoting it.
NEARBY_MEANING = 0.40
#: Weight of the lexical overlap in a sentence's score (the rest is cosine similarity).
LEXICAL_WEIGHT = 0.45
#: Weight of the earlier question when scoring a follow-up; a follow-up of two content
#: words or fewer ("how long would that take?") leans on it fully.
CONTEXT_WEIGHT = 0.5
VAGUE_CONTEXT_WEIGHT = 1.0
MAX_EXCERPT_CHARS = 420
#: Excerpts scoring below this share of the best one are left out.
KEEP_RELATIVE = 0.7
#: Bonus for the passage's retrieval rank (hybrid retrieval ranks passages better than
#: sentence similarity alone): this much for the first, falling linearly to 0.
RANK_PRIOR = 0.1
_ANAPHORA = re.compile(
    r"^(?:it|this|that|these|those|they|them|its|such|so|but|and|or|also|then|here|"
    r"add it|keep it|fix it)\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"[a-z0-9][a-z0-9'’-]*", re.IGNORECASE)
_EXTRA_STOPWORDS = {
    "do",
    "does",
    "did",
    "we",
    "our",
    "us",
    "i",
    "my",
    "you",
    "your",
    "what",
    "how",
    "which",
    "who",
    "when",
    "why",
    "should",
    "would",
    "could",
    "can",
    "much",
    "many",
    "need",
    "about",
    "tell",
    "me",
    "any",
    "there",
    "s",
    "t",
}


@dataclass(frozen=True)
class Excerpt:
    """A verbatim span of one passage chosen to answer a question."""

    passage: Passage
    start: int
    end: int
    score: float


@dataclass(frozen=True)
class Answer:
    """The excerpts that answer a question, best first, and how sure the match is."""

    excerpts: tuple[Excerpt, ...]
    best_score: float
    best_meaning: float = 0.0  # the best cosine similarity alone, no word overlap or prior
    follow_up: bool = False

    on_subject: bool = True  # a follow-up's own words are mostly the articles' words

    @property
    def answerable(self) -> bool:
        if self.follow_up:
            return (
                bool(self.excerpts) and self.on_subject and self.best_meaning >= FOLLOW_UP_MEANING
            )
        return bool(self.excerpts) and self.best_meaning >= ANSWERABLE_MEANING

    @property
    def nearby(self) -> bool:
        """Not an answer, but close enough to point at where the articles come nearest."""
        return bool(self.excerpts) and self.best_meaning >= NEARBY_MEANING


class _Stems:
    def __init__(self) -> None:
        import Stemmer
        from bm25s.stopwords import STOPWORDS_EN

        self._stemmer = Stemmer.Stemmer("english")
        self._stop = set(STOPWORDS_EN) | _EXTRA_STOPWORDS

    def __call__(self, text: str) -> set[str]:
        words = [w.lower().strip("'’-") for w in _WORD.findall(text)]
        words = [w for w in words if w and w not in self._stop]
        return set(self._stemmer.stemWords(words))


# About 8 KB of vectors per passage: 4,000 passages is ~32 MB, far more than the articles.
MAX_CACHED_PASSAGES = 4_000


class ExcerptPicker:
    """Scores the sentences of retrieved passages against a question (module doc)."""

    def __init__(
        self,
        corpus: Corpus,
        embed_model: Any,
        embed_query: Callable[[str], np.ndarray] | None = None,
    ) -> None:
        """``embed_query``: the store's, so a question already searched is not embedded again."""
        self.corpus = corpus
        self.embed_model = embed_model
        self._embed_query = embed_query or QueryEmbedder(embed_model)
        self._stems = _Stems()
        # Least recently used passages are forgotten first: on a large corpus, a long-running
        # server would otherwise keep the sentence vectors of every passage it ever quoted.
        self._sentences: OrderedDict[
            str, tuple[list[tuple[int, int]], np.ndarray, list[set[str]]]
        ] = OrderedDict()
        self._vocabulary: set[str] | None = None

    def _passage_sentences(
        self, passage: Passage
    ) -> tuple[list[tuple[int, int]], np.ndarray, list[set[str]]]:
        cached = self._sentences.get(passage.passage_id)
        if cached is not None:
            self._sentences.move_to_end(passage.passage_id)
            return cached
        document = self.corpus.document(passage.doc_id)
        text = document.text if document else ""
        spans = [
            (s, e)
            for s, e in sentence_spans(text, passage.start, passage.end)
            if len(text[s:e].strip()) >= 3
        ]
        if spans:
            vectors = _unit(
                np.asarray(
                    self.embed_model.get_text_embedding_batch([text[s:e] for s, e in spans]),
                    dtype=np.float32,
                )
            )
        else:
            vectors = np.zeros((0, 1), dtype=np.float32)
        stems = [self._stems(text[s:e]) for s, e in spans]
        self._sentences[passage.passage_id] = (spans, vectors, stems)
        while len(self._sentences) > MAX_CACHED_PASSAGES:
            self._sentences.popitem(last=False)
        return spans, vectors, stems

    def _query(self, text: str) -> tuple[np.ndarray, set[str]]:
        return _unit(self._embed_query(text)[None, :])[0], self._stems(text)

    def pick(
        self,
        hits: Sequence[SearchHit],
        question: str,
        context: str | None = None,
        *,
        max_excerpts: int = 3,
        per_passage: int = 2,
    ) -> Answer:
        """The best excerpts of ``hits`` for ``question`` (and the question it follows)."""
        if not hits:
            return Answer((), 0.0)
        queries = [(self._query(question), 1.0)]
        if context:
            vague = len(queries[0][0][1]) <= 2
            queries.append(
                (self._query(context), VAGUE_CONTEXT_WEIGHT if vague else CONTEXT_WEIGHT)
            )
        total_weight = sum(w for _, w in queries)
        scored: list[tuple[float, int, int, Passage]] = []
        best_dense = 0.0
        for rank, hit in enumerate(hits):
            spans, vectors, stems = self._passage_sentences(hit.passage)
            if not spans:
                continue
            dense = np.zeros(len(spans), dtype=np.float32)
            for (vector, _), weight in queries:
                dense += weight * (vectors @ vector)
            dense /= total_weight
            # Words count from the question itself only: in a follow-up they are what is new.
            words = queries[0][0][1]
            lexical = np.array(
                [len(words & s) / len(words) if words else 0.0 for s in stems], dtype=np.float32
            )
            combined = (1 - LEXICAL_WEIGHT) * dense + LEXICAL_WEIGHT * lexical
            prior = RANK_PRIOR * (len(hits) - rank) / len(hits)
            best_dense = max(best_dense, float(dense.max()))
            for (s, e), score in zip(spans, combined.tolist(), strict=True):
                scored.append((float(score) + prior, s, e, hit.passage))
        if not scored:
            return Answer((), 0.0)
        scored.sort(key=lambda item: -item[0])
        best = scored[0][0]
        chosen: list[Excerpt] = []
        taken: dict[str, int] = {}
        for score, s, e, passage in scored:
            if len(chosen) >= max_excerpts or score < best * KEEP_RELATIVE:
                break
            if taken.get(passage.passage_id, 0) >= per_passage:
                continue
            if any(
                c.passage.passage_id == passage.passage_id and c.start <= s < c.end for c in chosen
            ):
                continue
            start, end = self._widen(passage, s, e)
            if any(
                c.passage.passage_id == passage.passage_id and start < c.end and c.start < end
                for c in chosen
            ):
                continue
            chosen.append(Excerpt(passage, start, end, score))
            taken[passage.passage_id] = taken.get(passage.passage_id, 0) + 1
        return Answer(
            tuple(chosen),
            best,
            best_dense,
            follow_up=context is not None,
            on_subject=self.on_subject(question),
        )

    def on_subject(self, text: str) -> bool:
        """Are at least half of the message's content words (stemmed) words the articles use?
        A follow-up leans on the question before it for meaning, so its own words are what
        tells "and for full fine-tuning?" from "and the weather tomorrow?"."""
        if self._vocabulary is None:
            self._vocabulary = set().union(*(self._stems(d.text) for d in self.corpus.documents))
        words = self._stems(text)
        return not words or len(words & self._vocabulary) * 2 >= len(words)

    def _widen(self, passage: Passage, start: int, end: int) -> tuple[int, int]:
        """Add the sentence before when this one leans on it, the one after when this one
        is too short to stand alone; never beyond the passage or MAX_EXCERPT_CHARS."""
        spans, _, _ = self._passage_sentences(passage)
        document = self.corpus.document(passage.doc_id)
        text = document.text if document else ""
        index = next(i for i, span in enumerate(spans) if span == (start, end))
        sentence = text[start:end]

        def same_line(a: int, b: int) -> bool:
            return "\n" not in text[a:b]

        if index > 0 and (_ANAPHORA.match(sentence) or len(sentence) < 80):
            previous = spans[index - 1]
            if end - previous[0] <= MAX_EXCERPT_CHARS and same_line(previous[0], start):
                start = previous[0]
        ends_colon = text[start:end].rstrip().endswith(":")
        if (end - start < 80 or ends_colon) and index + 1 < len(spans):
            following = spans[index + 1]
            fits = following[1] - start <= MAX_EXCERPT_CHARS
            if fits and (ends_colon or same_line(end, following[0])):
                end = following[1]
        return start, end


def _unit(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.asarray(matrix / norms, dtype=np.float32)
