"""The question-vector cache shared by dense retrieval and the answer picker."""

from __future__ import annotations

import sys
import threading

import numpy as np
import pytest

from advisor.embeddings import QueryEmbedder
from advisor.errors import EmbeddingError


class _CountingModel:
    """Embeds a text as (length, number of vowels, 1); counts calls; fails on 'boom'."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def get_query_embedding(self, text: str) -> list[float]:
        self.calls.append(text)
        if text == "boom":
            raise RuntimeError("model down")
        return [float(len(text)), float(sum(c in "aeiou" for c in text)), 1.0]


def test_a_repeated_question_is_embedded_once_and_gets_the_same_vector() -> None:
    model = _CountingModel()
    embed = QueryEmbedder(model)  # type: ignore[arg-type]
    first = embed("how many examples?")
    again = embed("how many examples?")
    assert model.calls == ["how many examples?"]
    assert again is first
    assert first.dtype == np.float32
    assert first.tolist() == [18.0, 5.0, 1.0]
    assert embed.computed == 1


def test_cached_vectors_are_read_only() -> None:
    embed = QueryEmbedder(_CountingModel())  # type: ignore[arg-type]
    vector = embed("question")
    with pytest.raises(ValueError, match="read-only"):
        vector[0] = 99.0
    assert embed("question")[0] == 8.0


def test_the_cache_keeps_only_the_most_recently_used() -> None:
    model = _CountingModel()
    embed = QueryEmbedder(model, size=2)  # type: ignore[arg-type]
    embed("a")
    embed("b")
    embed("a")  # "a" is now the most recent; "b" goes when "c" arrives
    embed("c")
    embed("a")
    embed("b")
    assert model.calls == ["a", "b", "c", "b"]
    assert len(embed._cache) == 2


def test_a_failed_embedding_is_raised_and_not_remembered() -> None:
    model = _CountingModel()
    embed = QueryEmbedder(model)  # type: ignore[arg-type]
    for _ in range(2):
        with pytest.raises(EmbeddingError, match="RuntimeError: model down"):
            embed("boom")
    assert model.calls == ["boom", "boom"]
    assert embed.computed == 0


def test_concurrent_sessions_get_the_right_vectors() -> None:
    """Many threads on a cache smaller than their questions: every call gets its own text's
    vector, nothing raises (a lookup racing an eviction would), the bound holds."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        embed = QueryEmbedder(_CountingModel(), size=4)  # type: ignore[arg-type]
        texts = [f"question {'a' * i}" for i in range(12)]
        wrong: list[str] = []
        errors: list[BaseException] = []

        def ask(offset: int) -> None:
            try:
                for i in range(300):
                    text = texts[(i * 7 + offset) % len(texts)]
                    if embed(text)[0] != len(text):
                        wrong.append(text)
            except BaseException as exc:  # a worker's exception would otherwise be lost
                errors.append(exc)

        threads = [threading.Thread(target=ask, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert errors == []
    assert wrong == []
    assert len(embed._cache) <= 4
