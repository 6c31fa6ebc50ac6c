"""A chat LLM behind any OpenAI-compatible HTTP server: vLLM, llama.cpp's server, Ollama, hosted APIs.

Requests go to `{base_url}/chat/completions` with `stream: true`; the reply arrives as server-sent events
(`data: {...}` lines, ending with `data: [DONE]`). A JSON schema is sent as OpenAI's structured-output
`response_format` (`{"type": "json_schema", "json_schema": {"name", "schema", "strict"}}`), which vLLM,
llama.cpp's server and Ollama all understand. Closing the generator closes the connection, which makes those
servers stop generating.

Failures a user can meet (the server is down, too slow, refuses the request, or sends something that is not an
OpenAI stream) raise `LlmHttpError` with a message that says what to check.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import requests

from agent.base import ChatMessage, CompletionFromStream
from agent.prompt_budget import estimate_tokens


class LlmHttpError(RuntimeError):
    """The LLM server could not be reached, timed out, refused the request or answered with garbage."""


class OpenAiHttpLlm(CompletionFromStream):
    """Implements `agent.base.ChatModel` (with `json_schema`) over an OpenAI-compatible chat completions API.

    `connect_timeout` bounds connecting; `read_timeout` bounds every wait for data, so it covers both the time to
    the first token (prompt processing) and any stall mid-reply.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str = "",
        connect_timeout: float = 5.0,
        read_timeout: float = 60.0,
        schema_name: str = "reply",
        context_tokens: int = 4096,
    ) -> None:
        """`context_tokens` is the served model's context window (prompts are budgeted to it)."""
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"llm.base_url must be an http(s) URL such as http://127.0.0.1:8000/v1, got {base_url!r}")
        self.base_url = base_url.rstrip("/")
        self.url = f"{self.base_url}/chat/completions"
        self.model = model
        self.api_key = api_key
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.schema_name = schema_name
        self.context_tokens = context_tokens
        self._session = requests.Session()
        # The server's own tokenizer, if it has one: llama.cpp's and vLLM's /tokenize (not part of the OpenAI API).
        self._tokenize_url = f"{self.base_url.removesuffix('/v1')}/tokenize"
        self._tokenize_shape: str | None = None  # "llama" or "vllm" once one answered; "none": neither does

    def stream(
        self,
        messages: list[ChatMessage],
        max_tokens: int,
        temperature: float,
        json_schema: dict[str, Any] | None = None,
    ) -> Iterator[str]:
        """Yield the reply to `messages` piece by piece; `json_schema` constrains it to matching JSON."""
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "max_tokens": max_tokens,
            "temperature": temperature,
            "stream": True,
        }
        if json_schema is not None:
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": self.schema_name, "schema": json_schema, "strict": True},
            }
        return self._generate(body)

    def count_tokens(self, text: str) -> int:
        """How many tokens `text` is for the served model: by the server's /tokenize where it has one (llama.cpp's
        server, vLLM), else agent.prompt_budget.estimate_tokens, an upper bound."""
        shapes = ("llama", "vllm") if self._tokenize_shape is None else (self._tokenize_shape,)
        for shape in shapes:
            if shape == "none":
                break
            body: dict[str, Any] = (
                {"content": text, "add_special": False}
                if shape == "llama"
                else {"model": self.model, "prompt": text, "add_special_tokens": False}
            )
            try:
                response = self._session.post(
                    self._tokenize_url, json=body, headers=self._headers(), timeout=(self.connect_timeout, 10.0)
                )
            except requests.exceptions.RequestException:
                return estimate_tokens(text)  # down or slow right now: the turn itself will say so
            if response.status_code != 200:
                continue
            try:
                tokens = response.json()["tokens"]
            except (ValueError, KeyError, TypeError):
                continue
            if isinstance(tokens, list):
                self._tokenize_shape = shape
                return len(tokens)
        self._tokenize_shape = "none"
        return estimate_tokens(text)

    def close(self) -> None:
        """Close the pooled connections."""
        self._session.close()

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}

    def _generate(self, body: dict[str, Any]) -> Iterator[str]:
        headers = {"Accept": "text/event-stream", **self._headers()}
        try:
            response = self._session.post(
                self.url, json=body, headers=headers, stream=True, timeout=(self.connect_timeout, self.read_timeout)
            )
        except requests.exceptions.ConnectTimeout:
            raise LlmHttpError(
                f"the LLM server at {self.base_url} did not accept a connection within {self.connect_timeout:g} s; "
                "check llm.base_url and that the server is up"
            ) from None
        except requests.exceptions.ReadTimeout:
            raise LlmHttpError(self._slow()) from None
        except requests.exceptions.ConnectionError as error:
            raise LlmHttpError(
                f"cannot reach the LLM server at {self.base_url} ({_reason(error)}): start it (e.g. `vllm serve "
                "MODEL`, `llama-server -m FILE.gguf`, `ollama serve`) or fix llm.base_url"
            ) from None
        with response:
            if response.status_code != 200:
                raise LlmHttpError(self._refused(response))
            kind = response.headers.get("Content-Type", "")
            # SSE is UTF-8 by definition; requests would guess ISO-8859-1 for a text/* type without a charset.
            response.encoding = "utf-8"
            try:
                if "text/event-stream" in kind:
                    yield from self._events(response)
                else:  # a server that ignored `stream` and sent one JSON document
                    yield _content(_json(response.text, self.base_url), self.base_url, delta=False)
            except requests.exceptions.ConnectionError as error:
                # requests reports a read timeout inside the body as a ConnectionError wrapping ReadTimeoutError.
                if "timed out" in str(error).lower():
                    raise LlmHttpError(self._slow()) from None
                raise LlmHttpError(f"the LLM server at {self.base_url} dropped the connection mid-reply") from None
            except requests.exceptions.ChunkedEncodingError:
                raise LlmHttpError(f"the LLM server at {self.base_url} dropped the connection mid-reply") from None

    def _events(self, response: requests.Response) -> Iterator[str]:
        for line in response.iter_lines(decode_unicode=True):
            if not line or line.startswith(":"):  # keep-alive blank lines and SSE comments
                continue
            if not line.startswith("data:"):
                if line.startswith(("event:", "id:", "retry:")):
                    continue
                raise LlmHttpError(f"the LLM server at {self.base_url} sent a line that is not SSE: {line[:200]!r}")
            data = line[5:].strip()
            if data == "[DONE]":
                return
            piece = _content(_json(data, self.base_url), self.base_url, delta=True)
            if piece:
                yield piece

    def _slow(self) -> str:
        return (
            f"the LLM server at {self.base_url} sent nothing for {self.read_timeout:g} s (overloaded, or the model is "
            "still loading); try again, use a smaller model, or raise llm.read_timeout"
        )

    def _refused(self, response: requests.Response) -> str:
        detail = response.text[:300].strip()
        hint = {
            401: "check llm.api_key",
            403: "check llm.api_key",
            404: "check llm.base_url (it usually ends in /v1) and llm.model",
            400: "the server may not support JSON-schema response_format or this model name",
        }.get(response.status_code, "see the server's log")
        return f"the LLM server at {self.base_url} answered HTTP {response.status_code} ({hint}): {detail}"


def _json(text: str, base_url: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        raise LlmHttpError(
            f"the LLM server at {base_url} sent something that is not JSON: {text[:200]!r}; is llm.base_url an "
            "OpenAI-compatible API?"
        ) from None
    if not isinstance(data, dict):
        raise LlmHttpError(f"the LLM server at {base_url} sent JSON that is not an object: {text[:200]!r}")
    return data


def _content(data: dict[str, Any], base_url: str, delta: bool) -> str:
    if "error" in data:
        error = data["error"]
        message = error.get("message", error) if isinstance(error, dict) else error
        raise LlmHttpError(f"the LLM server at {base_url} reported an error: {message}")
    choices = data.get("choices")
    if not isinstance(choices, list):
        raise LlmHttpError(f"the LLM server at {base_url} sent a chunk without `choices`: {str(data)[:200]}")
    if not choices:  # e.g. a final usage-only chunk
        return ""
    part = choices[0].get("delta" if delta else "message") or {}
    content = part.get("content") if isinstance(part, dict) else None
    return content if isinstance(content, str) else ""


def _reason(error: Exception) -> str:
    text = str(error)
    return "connection refused" if "refused" in text.lower() else text[:120]
