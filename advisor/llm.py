"""Language models: providers registered by name, and the one layer that retries them.

The advisor is complete without a model (``ADVISOR_LLM_PROVIDER=none``, the default). When one
is configured it is a llama-index ``LLM``: ``openai`` is any OpenAI-compatible server (vLLM,
llama.cpp server, LM Studio, OpenAI itself) through ``OpenAILike``, ``ollama`` is Ollama.
Providers register themselves by name (as simonw/llm's plugins do), so another one is a
decorated factory away.

:class:`ModelClient` is the only place that talks to the model. It owns the one retry layer:
the SDK's and llama-index's own retries are switched off (``max_retries=0``), so a request is
tried at most ``llm_max_attempts`` times, with jittered exponential backoff that honours a
server's ``Retry-After``, each attempt with its own timeout, and all of them inside the turn's
:class:`Deadline`. Every failure leaves as a subclass of :class:`~advisor.errors.LLMError`, whose
``note`` the reply shows beside the deterministic text that replaced the model's.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tenacity import RetryCallState, Retrying, retry_if_exception

from advisor.errors import (
    ConfigError,
    LLMBadOutput,
    LLMError,
    LLMRateLimited,
    LLMServerError,
    LLMTimeout,
    LLMUnavailable,
    first_line,
)
from advisor.settings import JsonMode, LLMProvider, Settings

if TYPE_CHECKING:
    from llama_index.core.llms import LLM, ChatMessage

log = logging.getLogger(__name__)

LLMFactory = Callable[[Settings], "LLM"]
_PROVIDERS: dict[LLMProvider, LLMFactory] = {}


def register_llm(provider: LLMProvider) -> Callable[[LLMFactory], LLMFactory]:
    """Register a factory that builds a llama-index LLM for ``provider``."""

    def decorator(factory: LLMFactory) -> LLMFactory:
        _PROVIDERS[provider] = factory
        return factory

    return decorator


@register_llm(LLMProvider.OPENAI)
def _openai_compatible(settings: Settings) -> LLM:
    from llama_index.llms.openai_like import OpenAILike

    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else "not-needed"
    return OpenAILike(
        model=settings.llm_model or "",
        api_base=settings.llm_base_url,
        api_key=key,
        is_chat_model=True,
        is_function_calling_model=False,
        context_window=settings.llm_context_window,
        max_tokens=settings.llm_max_tokens,
        temperature=settings.llm_temperature,
        timeout=settings.llm_timeout_s,
        max_retries=0,  # ModelClient is the one retry layer
        reuse_client=True,
    )


@register_llm(LLMProvider.OLLAMA)
def _ollama(settings: Settings) -> LLM:
    from llama_index.llms.ollama import Ollama

    return Ollama(
        model=settings.llm_model or "",
        base_url=settings.llm_base_url or "http://127.0.0.1:11434",
        request_timeout=settings.llm_timeout_s,
        temperature=settings.llm_temperature,
        context_window=settings.llm_context_window,
        additional_kwargs={"num_predict": settings.llm_max_tokens},
    )


def build_llm(settings: Settings) -> LLM | None:
    """The configured model, or ``None`` when none is configured."""
    if settings.llm_provider is LLMProvider.NONE:
        return None
    factory = _PROVIDERS.get(settings.llm_provider)
    if factory is None:  # pragma: no cover - every enum member is registered
        raise ConfigError(f"No LLM provider is registered for {settings.llm_provider.value}.")
    return factory(settings)


# --------------------------------------------------------------------------- deadlines


@dataclass
class Deadline:
    """The time left for all model calls of one turn."""

    seconds: float
    clock: Callable[[], float] = time.monotonic
    started: float = field(default=-1.0)

    def __post_init__(self) -> None:
        if self.started < 0:
            self.started = self.clock()

    def remaining(self) -> float:
        return max(0.0, self.seconds - (self.clock() - self.started))

    def expired(self) -> bool:
        return self.remaining() <= 0.0

    def timeout(self, per_request: float) -> float:
        """The timeout for the next request: its own limit, or what is left of the turn."""
        left = self.remaining()
        if left <= 0:
            raise LLMTimeout(f"The turn's {self.seconds:g} s budget for the model is used up.")
        return min(per_request, left)


# --------------------------------------------------------------------------- errors


def _status(exc: BaseException) -> int | None:
    for attr in ("status_code", "status"):
        value = getattr(exc, attr, None)
        if isinstance(value, int):
            return value
    response = getattr(exc, "response", None)
    value = getattr(response, "status_code", None)
    return value if isinstance(value, int) else None


def retry_after_seconds(exc: BaseException) -> float | None:
    """The server's ``Retry-After`` (seconds or an HTTP date), if it sent one."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    raw = headers.get("retry-after-ms")
    if raw:
        try:
            return max(0.0, float(raw) / 1000)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(raw) if raw else None
        if parsed is None:
            return None
        return max(0.0, parsed.timestamp() - time.time())


def classify(exc: BaseException, where: str) -> LLMError:
    """Turn whatever a client library raised into one of our :class:`LLMError` types."""
    if isinstance(exc, LLMError):
        return exc
    import httpx

    name = type(exc).__name__
    detail = first_line(exc, empty=name)
    status = _status(exc)
    if isinstance(exc, TimeoutError | httpx.TimeoutException) or "Timeout" in name:
        return LLMTimeout(f"{where} timed out ({name}).")
    if status == 429:
        err = LLMRateLimited(f"{where} answered 429 Too Many Requests.")
        err.retry_after = retry_after_seconds(exc)  # type: ignore[attr-defined]
        return err
    if status is not None and status >= 500:
        return LLMServerError(f"{where} answered HTTP {status}: {detail}")
    if status in (401, 403):
        return LLMServerError(
            f"{where} refused the credentials (HTTP {status}).",
            hint="Check ADVISOR_LLM_API_KEY.",
        )
    if status == 404:
        return LLMServerError(
            f"{where} does not know that model or path (HTTP 404): {detail}",
            hint="Check ADVISOR_LLM_MODEL and ADVISOR_LLM_BASE_URL.",
        )
    if status is not None:
        return LLMServerError(f"{where} rejected the request (HTTP {status}): {detail}")
    if isinstance(exc, ValueError) or "ResponseValidation" in name or "Decode" in name:
        return LLMBadOutput(f"{where} returned a malformed answer ({name}).")
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError):
        return LLMBadOutput(f"{where} closed the connection mid-answer ({name}).")
    if isinstance(exc, ConnectionError | httpx.ConnectError | httpx.NetworkError) or (
        "Connection" in name
    ):
        return LLMUnavailable(
            f"{where} could not be reached ({name}).",
            hint="Start the server or fix ADVISOR_LLM_BASE_URL; the advisor works without it.",
        )
    return LLMError(f"{where} failed ({name}: {detail}).")


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, LLMTimeout | LLMUnavailable | LLMRateLimited):
        return True
    return isinstance(exc, LLMServerError) and "HTTP 5" in exc.message


# --------------------------------------------------------------------------- the client


def _close(stream: object) -> None:
    close = getattr(stream, "close", None)
    if callable(close):
        close()


@dataclass
class ModelClient:
    """A llama-index LLM behind one retry layer, per-request timeouts and a turn deadline."""

    llm: LLM
    provider: LLMProvider = LLMProvider.OPENAI
    json_mode: JsonMode = JsonMode.JSON_SCHEMA
    timeout_s: float = 30.0
    max_attempts: int = 3
    backoff_s: float = 0.5
    max_retry_after_s: float = 20.0
    sleep: Callable[[float], None] = time.sleep

    @classmethod
    def from_settings(cls, settings: Settings, llm: LLM | None = None) -> ModelClient | None:
        model = llm if llm is not None else build_llm(settings)
        if model is None:
            return None
        return cls(
            llm=model,
            provider=settings.llm_provider,
            json_mode=settings.llm_json_mode,
            timeout_s=settings.llm_timeout_s,
            max_attempts=settings.llm_max_attempts,
            backoff_s=settings.llm_backoff_s,
        )

    @property
    def name(self) -> str:
        model = getattr(self.llm, "model", None) or type(self.llm).__name__
        return f"{self.provider.value}:{model}"

    # ------------------------------------------------------------------ plumbing

    def _call_kwargs(self, deadline: Deadline) -> dict[str, Any]:
        if self.provider is LLMProvider.OPENAI:
            return {"timeout": deadline.timeout(self.timeout_s)}
        deadline.timeout(self.timeout_s)  # raises when the turn's budget is gone
        return {}

    def _wait(self, deadline: Deadline) -> Callable[[RetryCallState], float]:
        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            hinted = getattr(exc, "retry_after", None)
            if isinstance(hinted, int | float):
                delay = float(hinted)
            else:
                base = self.backoff_s * 2 ** (state.attempt_number - 1)
                delay = base * (0.5 + random.random() / 2)  # noqa: S311 - jitter, not crypto
            return min(delay, self.max_retry_after_s)

        return wait

    def _stop(self, deadline: Deadline) -> Callable[[RetryCallState], bool]:
        def stop(state: RetryCallState) -> bool:
            if state.attempt_number >= self.max_attempts:
                return True
            exc = state.outcome.exception() if state.outcome else None
            hinted = getattr(exc, "retry_after", None)
            needed = float(hinted) if isinstance(hinted, int | float) else 0.0
            if needed > self.max_retry_after_s:
                return True
            return deadline.remaining() <= needed

        return stop

    def _retrying(self, deadline: Deadline) -> Retrying:
        return Retrying(
            stop=self._stop(deadline),
            wait=self._wait(deadline),
            retry=retry_if_exception(_retryable),
            sleep=self.sleep,
            reraise=True,
        )

    def structured_kwargs(self, schema: dict[str, Any]) -> dict[str, Any]:
        """How to ask this provider for JSON that follows ``schema``."""
        if self.provider is LLMProvider.OLLAMA:
            return {"format": schema}
        if self.json_mode is JsonMode.JSON_SCHEMA:
            return {
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {"name": "facts", "schema": schema},
                }
            }
        if self.json_mode is JsonMode.JSON_OBJECT:
            return {"response_format": {"type": "json_object", "schema": schema}}
        return {}

    # ------------------------------------------------------------------ calls

    def chat(self, messages: Sequence[ChatMessage], deadline: Deadline, **kwargs: Any) -> str:
        """One complete answer (retried as a whole); raises :class:`LLMError`."""
        for attempt in self._retrying(deadline):
            with attempt:
                try:
                    response = self.llm.chat(
                        list(messages), **self._call_kwargs(deadline), **kwargs
                    )
                except Exception as exc:
                    raise classify(exc, f"The model server ({self.name})") from exc
                text = response.message.content
                if not isinstance(text, str) or not text.strip():
                    raise LLMBadOutput("The model returned an empty answer.")
                return text
        raise LLMError("The model gave no answer.")  # pragma: no cover - reraise=True

    def stream(
        self, messages: Sequence[ChatMessage], deadline: Deadline, **kwargs: Any
    ) -> Generator[str, None, None]:
        """Text deltas as they arrive. Opening the stream is retried; once text has arrived,
        a failure (a cut, a stall, the deadline) raises :class:`LLMError` and is not retried."""
        where = f"The model server ({self.name})"
        stream: Iterator[Any] | None = None
        first: Any = None
        for attempt in self._retrying(deadline):
            with attempt:
                _close(stream)  # a stream that failed before its first chunk
                try:
                    stream = iter(
                        self.llm.stream_chat(
                            list(messages), **self._call_kwargs(deadline), **kwargs
                        )
                    )
                    first = next(stream, None)
                except Exception as exc:
                    raise classify(exc, where) from exc
        try:
            if stream is None or first is None:
                raise LLMBadOutput("The model's stream ended before any text.")
            chunk: Any = first
            while chunk is not None:
                delta = getattr(chunk, "delta", None) or ""
                if delta:
                    yield delta
                if deadline.expired():
                    raise LLMTimeout("The model was still writing when the turn's time ran out.")
                try:
                    chunk = next(stream, None)
                except Exception as exc:
                    error = classify(exc, where)
                    if isinstance(error, LLMTimeout):
                        raise error from exc
                    raise LLMBadOutput(f"{where} stopped mid-answer ({error.message})") from exc
        finally:
            # Close the HTTP stream now, not when the garbage collector gets to it: httpx
            # closing an abandoned response inside a later request's connection-pool lock
            # deadlocks that request (seen: a turn stuck in extract_facts after a rejected
            # stream).
            _close(stream)

    def ping(self, deadline_s: float = 10.0) -> str:
        """Ask for a one-word answer: proves the model answers. Raises :class:`LLMError`."""
        from llama_index.core.llms import ChatMessage

        deadline = Deadline(deadline_s)
        text = self.chat([ChatMessage(role="user", content="Reply with the word: ready")], deadline)
        return text.strip()[:80]
