"""A scripted fake LLM that implements llama-index's LLM interface (the only fake in the tests).

In the spirit of simonw/llm's ``MockModel`` and pydantic-ai's ``FunctionModel``: a queue of
scripted answers, and a record of every call. A script item is

* a ``str``: the answer (streamed word by word on ``stream_chat``);
* an ``Exception`` (instance): raised when the call is made;
* a callable ``(messages, kwargs) -> str``: computes the answer from what was asked;
* a :class:`Cut`: streams some text, then raises (a connection dropped mid-answer).

When the queue is empty the fake answers ``default`` (or raises if that is ``None``), and
counts the call in ``unscripted`` so a test can assert it never happened.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseGen,
    CompletionResponse,
    CompletionResponseGen,
    LLMMetadata,
)
from llama_index.core.llms import CustomLLM
from pydantic import PrivateAttr


@dataclass
class Cut:
    """Stream ``text``, then fail with ``error`` (default: a dropped connection)."""

    text: str
    error: Exception = field(default_factory=lambda: ConnectionResetError("stream cut"))


@dataclass
class Call:
    messages: list[ChatMessage]
    kwargs: dict[str, Any]
    stream: bool

    @property
    def system(self) -> str:
        return next((str(m.content) for m in self.messages if m.role.value == "system"), "")

    @property
    def last_user(self) -> str:
        users = [str(m.content) for m in self.messages if m.role.value == "user"]
        return users[-1] if users else ""


Script = str | Exception | Callable[[list[ChatMessage], dict[str, Any]], str] | Cut


class ScriptedLLM(CustomLLM):
    """A llama-index LLM whose answers come from a script (module doc)."""

    model: str = "scripted"
    default: str | None = None
    _queue: list[Script] = PrivateAttr(default_factory=list)
    _calls: list[Call] = PrivateAttr(default_factory=list)
    _unscripted: int = PrivateAttr(default=0)

    def __init__(self, script: Sequence[Script] = (), default: str | None = None) -> None:
        super().__init__(default=default)
        self._queue = list(script)

    # ------------------------------------------------------------------ script

    def push(self, *items: Script) -> ScriptedLLM:
        self._queue.extend(items)
        return self

    @property
    def calls(self) -> list[Call]:
        return self._calls

    @property
    def unscripted(self) -> int:
        return self._unscripted

    @property
    def remaining(self) -> int:
        return len(self._queue)

    def _next(self, messages: list[ChatMessage], kwargs: dict[str, Any], stream: bool) -> Script:
        self._calls.append(Call(list(messages), dict(kwargs), stream))
        if self._queue:
            return self._queue.pop(0)
        self._unscripted += 1
        if self.default is None:
            raise AssertionError("ScriptedLLM: no scripted answer left")
        return self.default

    @staticmethod
    def _resolve(item: Script, messages: list[ChatMessage], kwargs: dict[str, Any]) -> str | Cut:
        if isinstance(item, Exception):
            raise item
        if isinstance(item, Cut | str):
            return item
        return item(messages, kwargs)

    # ------------------------------------------------------------------ LLM interface

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(model_name=self.model, is_chat_model=True, context_window=8192)

    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        item = self._resolve(self._next(list(messages), kwargs, False), list(messages), kwargs)
        if isinstance(item, Cut):
            raise item.error
        return ChatResponse(message=ChatMessage(role="assistant", content=item))

    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        item = self._resolve(self._next(list(messages), kwargs, True), list(messages), kwargs)

        def gen() -> ChatResponseGen:
            text = item.text if isinstance(item, Cut) else item
            content = ""
            for word in text.split(" "):
                delta = word + " "
                content += delta
                yield ChatResponse(
                    message=ChatMessage(role="assistant", content=content), delta=delta
                )
            if isinstance(item, Cut):
                raise item.error

        return gen()

    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        response = self.chat([ChatMessage(role="user", content=prompt)], **kwargs)
        return CompletionResponse(text=str(response.message.content))

    def stream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseGen:
        def gen() -> CompletionResponseGen:
            text = ""
            for chunk in self.stream_chat([ChatMessage(role="user", content=prompt)], **kwargs):
                text += chunk.delta or ""
                yield CompletionResponse(text=text, delta=chunk.delta)

        return gen()
