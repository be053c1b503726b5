"""Remote chat models: any OpenAI-compatible server or Hugging Face Inference Providers.

Both go through ``huggingface_hub.InferenceClient``. A batch runs with bounded concurrency;
429/5xx/timeouts/malformed replies are retried with exponential backoff (honouring
``Retry-After``); 401/403 fail at once. The token is never part of a log line or an error.
"""

from __future__ import annotations

import json
import logging
import os
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from mimir.errors import AuthError, BackendError
from mimir.models.base import ChatModel, Conversation, GenerationSettings, Reply, cut_at_stop
from mimir.models.registry import ModelConfig
from mimir.models.structured import Choice, choice_schema, continuation, parse_choice, per_conversation, plain_request, self_hosted_format
from mimir.secrets import redact, remember
from mimir.types import ToolCall, stable_id

log = logging.getLogger(__name__)

RETRY_STATUS = {408, 425, 429, 500, 502, 503, 504}


@dataclass
class RetryPolicy:
    max_retries: int = 5
    base_delay: float = 0.5  # first backoff; doubles each attempt, with jitter
    max_delay: float = 30.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_delay)
        return min(self.base_delay * 2**attempt, self.max_delay) * (0.5 + random.random() / 2)


class _Retryable(Exception):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class _SchemaRefused(Exception):
    """The server answered 400/422 to a request with ``response_format``: it lacks structured output."""


class EndpointModel(ChatModel):
    """Chat completions over HTTP, one request per conversation, many in flight."""

    def __init__(
        self,
        model: str,
        *,
        base_url: str = "",
        token: str | None = None,
        concurrency: int = 8,
        timeout: float = 60.0,
        retry: RetryPolicy | None = None,
        provider: str | None = None,
    ) -> None:
        from huggingface_hub import InferenceClient

        self.model = model
        self.base_url = base_url.rstrip("/")
        if self.base_url:
            from mimir.models.registry import check_endpoint_url

            check_endpoint_url(self.base_url)  # an ftp:// URL is a config error, not six "malformed replies"
        self.concurrency = max(1, concurrency)
        self.retry = retry or RetryPolicy()
        remember(token)
        if self.base_url:
            self._client = InferenceClient(base_url=self.base_url, api_key=token, timeout=timeout)
        else:
            self._client = InferenceClient(provider=provider, api_key=token, timeout=timeout)
        self.name = f"endpoint:{model}" + (f"@{self.base_url}" if self.base_url else "")
        self._pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="mimir-endpoint")
        self._closed = threading.Event()
        self.schema_support: bool | None = None  # learnt from the first choice: does the server take response_format?

    @classmethod
    def from_config(cls, config: ModelConfig) -> "EndpointModel":
        token = os.environ.get(config.api_key_env) if config.api_key_env else None
        return cls(
            config.model,
            base_url=config.base_url,
            token=token,
            concurrency=config.concurrency,
            timeout=config.timeout,
            retry=RetryPolicy(max_retries=config.max_retries),
        )

    def generate(self, conversations: list[Conversation], settings: GenerationSettings | None = None) -> list[Reply]:
        settings = settings or GenerationSettings()
        futures = [self._pool.submit(self._with_retries, conv, settings) for conv in conversations]
        return [f.result() for f in futures]

    def serve(self, admit, finish, settings: GenerationSettings | None = None) -> None:  # type: ignore[no-untyped-def]
        """Requests go out as they come and are finished as each reply arrives: a dialogue's next
        turn is sent while the rest of its round is still out, so slow replies do not idle the
        other ``concurrency - 1`` slots. ``admit``/``finish`` run in this thread only."""
        from concurrent.futures import FIRST_COMPLETED, wait

        settings = settings or GenerationSettings()
        in_flight: dict[Any, Any] = {}
        try:
            while True:
                for key, conversation in admit():
                    in_flight[self._pool.submit(self._with_retries, conversation, settings)] = key
                if not in_flight:
                    return
                done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                for future in done:
                    finish(in_flight.pop(future), future.result())
        finally:
            for future in in_flight:  # a failure ends the call: requests not yet sent are dropped
                future.cancel()

    def choose(self, conversations: list[Conversation], options, *, retries: int = 1) -> list[Choice]:  # type: ignore[no-untyped-def]
        """The options as a JSON-schema enum (``response_format``: vLLM, TGI, llama-server, Inference
        Providers); a server that refuses the schema, or a reply that is not one option, gets the
        ask-in-words-and-parse fallback (with ``retries``)."""
        lists = per_conversation(options, len(conversations))
        if self.schema_support is False:
            return super().choose(conversations, lists, retries=retries)
        futures = [self._pool.submit(self._choose_one, c, o) for c, o in zip(conversations, lists)]
        results = [f.result() for f in futures]
        redo = [i for i, r in enumerate(results) if r is None]
        if redo:
            again = super().choose([conversations[i] for i in redo], [lists[i] for i in redo], retries=retries)
            for i, choice in zip(redo, again):
                choice.attempts += 1
                results[i] = choice
        return results  # type: ignore[return-value]

    def _choose_one(self, conversation: Conversation, options: list[str]) -> Choice | None:
        settings = GenerationSettings(max_new_tokens=32, temperature=0.0, seed=0)
        try:
            schema = choice_schema(options)
            fmt = self_hosted_format(schema) if self.base_url else schema  # Inference Providers take OpenAI's form
            reply = self._with_retries(plain_request(conversation, options), settings, {"response_format": fmt})
        except _SchemaRefused:
            if self.schema_support is None:
                log.info("%s: the server refuses response_format; closed choices are asked in words and parsed", self.name)
            self.schema_support = False
            return None
        self.schema_support = True
        picked = parse_choice(reply.text, options)
        if picked is None:
            return None
        return Choice(option=picked, options=list(options), method="schema",
                      prompt_tokens=reply.prompt_tokens, completion_tokens=reply.completion_tokens)

    def _with_retries(self, conversation: Conversation, settings: GenerationSettings, extra: dict[str, Any] | None = None) -> Reply:
        attempt = 0
        while True:
            try:
                return self._request(conversation, settings, extra)
            except _Retryable as exc:
                if attempt >= self.retry.max_retries or self._closed.is_set():
                    raise BackendError(f"{self.name}: gave up after {attempt + 1} attempts: {_in_words(str(exc))}") from None
                wait = self.retry.delay(attempt, exc.retry_after)
                log.warning("%s: %s; retrying in %.2fs (attempt %d/%d)", self.name, exc, wait, attempt + 1, self.retry.max_retries)
                time.sleep(wait)
                attempt += 1

    def _request(self, conversation: Conversation, settings: GenerationSettings, extra: dict[str, Any] | None = None) -> Reply:
        from huggingface_hub.errors import HfHubHTTPError, InferenceTimeoutError, OfflineModeIsEnabled

        # a prefilled opening goes as the final assistant message (llama-server, vLLM continue it)
        messages = [{k: v for k, v in m.items() if k != "prefill"} for m in conversation]
        kwargs: dict[str, Any] = dict(
            messages=messages,
            model=self.model,
            max_tokens=settings.max_new_tokens,
            temperature=settings.temperature,
        )
        if settings.temperature > 0:
            kwargs["top_p"] = settings.top_p
        if settings.stop:
            kwargs["stop"] = list(settings.stop)
        if settings.seed is not None:
            kwargs["seed"] = settings.seed
        if settings.tools:
            kwargs["tools"] = settings.tools
        kwargs.update(extra or {})
        try:
            out = self._client.chat_completion(**kwargs)
        except InferenceTimeoutError:
            raise _Retryable("request timed out") from None
        except HfHubHTTPError as exc:
            status = exc.response.status_code if exc.response is not None else 0
            if status in (401, 403):
                raise AuthError(
                    f"{self.name}: the server refused the credentials (HTTP {status}). "
                    "Check the token in the environment variable named in the model config (default HF_TOKEN)."
                ) from None
            if status in (400, 422) and "response_format" in kwargs:
                raise _SchemaRefused() from None
            if status in RETRY_STATUS:
                raise _Retryable(f"HTTP {status}", _retry_after(exc.response)) from None
            raise BackendError(f"{self.name}: HTTP {status}: {redact(_short(exc))}") from None
        except (json.JSONDecodeError, ValueError, KeyError, TypeError) as exc:
            raise _Retryable(f"malformed reply ({type(exc).__name__})") from None
        except OfflineModeIsEnabled:
            raise BackendError(
                f"{self.name}: HF_HUB_OFFLINE=1 is set, and huggingface_hub then refuses every request, even to a "
                "local server; unset HF_HUB_OFFLINE to use an endpoint") from None
        except OSError as exc:  # connection reset/refused: transient on busy servers
            raise _Retryable(f"connection error ({type(exc).__name__})") from None
        except Exception as exc:  # httpx transport errors are not OSError subclasses
            if type(exc).__module__.startswith(("httpx", "httpcore")):
                raise _Retryable(f"transport error ({type(exc).__name__})") from None
            raise
        reply = _to_reply(out, settings)
        reply.text = continuation(conversation, reply.text)
        return reply

    def close(self) -> None:
        self._closed.set()
        self._pool.shutdown(wait=False, cancel_futures=True)


_WORDS = {
    "ConnectError": "no connection to the server (is it running, and is the URL right?)",
    "ConnectionRefusedError": "the server refused the connection (is it running on that port?)",
    "ConnectTimeout": "the server did not accept the connection in time",
    "ReadTimeout": "the server stopped answering mid-reply",
    "RemoteProtocolError": "the server closed the connection mid-reply",
    "ReadError": "the connection broke while reading the reply",
    "gaierror": "the server's host name could not be resolved (no network, or a typo in the URL)",
}


def _in_words(reason: str) -> str:
    """'transport error (ConnectError)' -> what it means for the user (the class name kept in brackets)."""
    for name, words in _WORDS.items():
        if f"({name})" in reason:
            return f"{words} [{name}]"
    return reason


def _retry_after(response: Any) -> float | None:
    value = response.headers.get("retry-after") if response is not None else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _short(exc: Exception) -> str:
    return str(exc).splitlines()[0][:300]


def _to_reply(out: Any, settings: GenerationSettings) -> Reply:
    try:
        choice = out.choices[0]
        message = choice.message
    except (AttributeError, IndexError, TypeError):
        raise _Retryable("malformed reply (no choices)") from None
    text, _ = cut_at_stop(message.content or "", settings.stop)
    calls = []
    for i, call in enumerate(message.tool_calls or []):
        args = call.function.arguments
        if isinstance(args, str):
            try:
                args = json.loads(args) if args.strip() else {}
            except json.JSONDecodeError:
                args = {"input": args}
        calls.append(ToolCall(id=call.id or stable_id(text, i, prefix="call_", length=12), name=call.function.name, arguments=args or {}))
    usage = getattr(out, "usage", None)
    return Reply(
        text=text,
        tool_calls=calls,
        finish_reason=str(choice.finish_reason or "stop"),
        prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
        completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
    )
