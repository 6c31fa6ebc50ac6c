"""An in-process chat LLM on llama.cpp through xllamacpp's embedded server API.

xllamacpp runs llama.cpp's own server loop in-process (`xllamacpp.Server`), so we get its chat templates (read
from the GGUF), its slot prompt cache and its JSON-schema constrained decoding without an HTTP hop. The server
also listens on a random loopback port (port 0); we never use it.

Threading: `Server.handle_chat_completions` blocks until generation ends and calls a Python callback per chunk,
so each generation runs in a worker thread that feeds a queue; `stream()` is a generator reading that queue.
Closing the generator sets a flag that the next callback returns, which makes llama.cpp stop at the next token
(prompt processing itself cannot be interrupted, so a cancel during a long prefill waits for it to finish).
"""

from __future__ import annotations

import itertools
import json
import logging
import queue
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import xllamacpp

from agent.base import ChatMessage, CompletionFromStream
from agent.prompt_budget import estimate_tokens

log = logging.getLogger(__name__)

_GGUF_MAGIC = b"GGUF"
_DONE = object()
_TOKENIZE_TIMEOUT_S = 10.0
_LOOPBACK = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never through an http_proxy


class LlmError(RuntimeError):
    """The LLM could not be loaded or failed while generating; the message says what to do."""


@dataclass
class GenerationStats:
    """What one generation did: pieces streamed, whether the consumer cancelled it, llama.cpp's timings.

    `timings` (when llama.cpp sent them) holds e.g. `prompt_n` (prompt tokens processed), `cache_n` (prompt tokens
    reused from the cache), `prompt_ms`, `predicted_n`, `predicted_per_second`.
    """

    pieces: int = 0
    cancelled: bool = False
    finish_reason: str | None = None
    timings: dict[str, float] = field(default_factory=dict)


class EmbeddedLlm(CompletionFromStream):
    """A GGUF chat model run in-process by llama.cpp; implements `agent.base.ChatModel`.

    One generation runs at a time per model: a second `stream()` waits until the first has finished or been
    cancelled. Keep the system prompt identical across turns so llama.cpp's prompt cache (one slot, `cache_prompt`
    on) reuses the common prefix and only the new turn is processed.
    """

    def __init__(
        self,
        model_path: Path,
        threads: int = 2,
        context_tokens: int = 4096,
        seed: int = 7,
        cache_ram_mib: int = 128,
        lora: Path | None = None,
    ) -> None:
        """Load `model_path` (a GGUF file) with `threads` CPU threads and a `context_tokens` context window.

        `lora`: a GGUF LoRA adapter for this model (agent.llm.gguf_lora converts a peft one), applied at scale 1
        to every generation, constrained ones (the chain of empathy's JSON plans) included.

        `cache_ram_mib` bounds llama.cpp's host-memory prompt cache (the KV states of earlier prompts, kept so a
        prompt that comes back, e.g. the chat after a summary request, is not processed again). llama.cpp's default
        is 8 GiB, so a long-running server's memory grew with every new conversation until that cap.
        """
        self.model_path = Path(model_path)
        self.context_tokens = context_tokens
        self.seed = seed
        self.lora = Path(lora) if lora is not None else None
        _check_gguf(self.model_path)
        if self.lora is not None and not self.lora.is_file():
            raise LlmError(f"the LoRA adapter {self.lora} does not exist: pass a GGUF LoRA adapter file")
        params = xllamacpp.CommonParams()
        params.model.path = str(self.model_path)
        params.offline = True  # never reach for a model hub
        params.n_ctx = context_tokens
        params.n_parallel = 1  # one slot: every turn lands on the slot holding the cached prefix
        params.cache_prompt = True
        params.cache_ram_mib = cache_ram_mib
        params.use_jinja = True  # the chat template comes from the GGUF metadata
        params.cpuparams.n_threads = threads
        params.cpuparams_batch.n_threads = threads
        params.sampling.seed = seed
        params.verbosity = -1  # llama.cpp logs every request otherwise; load errors are reported by us
        if self.lora is not None:
            params.lora_adapters = [xllamacpp.CommonAdapterLoraInfo(str(self.lora), 1.0)]
        try:
            self._server: xllamacpp.Server | None = xllamacpp.Server(params)
        except RuntimeError as error:
            if self.lora is not None:
                raise LlmError(
                    f"llama.cpp could not load {self.model_path} with the LoRA adapter {self.lora}: the adapter was "
                    "made for another base model (its weights' names or shapes differ) or the model file is "
                    "corrupt; convert the adapter against this model, or run without it"
                ) from error
            raise LlmError(
                f"llama.cpp could not load {self.model_path}: it is not a usable GGUF chat model (corrupt or "
                "truncated download?). Reinstall it with `empathica models install <name>` or pass another GGUF file"
            ) from error
        # llama.cpp's HTTP API on that loopback port: only its /tokenize is used (the model's own tokenizer).
        self._address = str(self._server.listening_address or "").rstrip("/")
        self._lock = threading.Lock()
        self._generation_count = itertools.count()
        self.last_generation: GenerationStats | None = None
        """Stats of the most recently finished generation (set by the worker when llama.cpp returns)."""

    def stream(
        self,
        messages: list[ChatMessage],
        max_tokens: int,
        temperature: float,
        json_schema: dict[str, Any] | None = None,
    ) -> Iterator[str]:
        """Yield the reply to `messages` piece by piece as llama.cpp generates it.

        `json_schema` constrains the output to JSON matching that schema, written compactly. Closing the generator
        stops generation at the next token; the lock is released by the worker once llama.cpp has returned.
        """
        request: dict[str, Any] = {
            "messages": [{"role": m.role, "content": m.content} for m in messages],
            "stream": True,
            "max_tokens": max_tokens,
            "temperature": temperature,
            # A fresh but reproducible seed per generation: with one fixed seed a small model tends to sample the
            # same reply again on a similar prompt.
            "seed": self.seed + next(self._generation_count),
            "cache_prompt": True,
        }
        if json_schema is not None:
            request["grammar"] = compact_json_grammar(json_schema)
        return self._generate(request)

    def count_tokens(self, text: str) -> int:
        """How many tokens `text` is for this model, by its own tokenizer (llama.cpp's /tokenize; it runs beside a
        generation). Falls back to agent.prompt_budget.estimate_tokens, an upper bound, if that cannot answer."""
        if self._address and self._server is not None:
            body = json.dumps({"content": text, "add_special": False}).encode()
            request = urllib.request.Request(
                f"{self._address}/tokenize", data=body, headers={"Content-Type": "application/json"}
            )
            try:
                with _LOOPBACK.open(request, timeout=_TOKENIZE_TIMEOUT_S) as response:
                    return len(json.loads(response.read())["tokens"])
            except (OSError, ValueError, KeyError, TypeError) as error:
                log.warning("llama.cpp could not count tokens (%s); estimating from the text's length", error)
        return estimate_tokens(text)

    def close(self) -> None:
        """Free the model and its context once any running generation has stopped; the object is unusable after."""
        self.wait_idle()
        server, self._server = self._server, None
        if server is not None:
            # The native server's destructor joins its HTTP thread and now and then never returns (seen in
            # tests that close right after loading), so it is dropped on a daemon thread that exit abandons.
            threading.Thread(target=_drop, args=(server,), name="xllamacpp-close", daemon=True).start()

    def __enter__(self) -> EmbeddedLlm:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until no generation is running (e.g. after a barge-in); False if `timeout` seconds passed first."""
        if not self._lock.acquire(timeout=-1 if timeout is None else timeout):
            return False
        self._lock.release()
        return True

    def _generate(self, request: dict[str, Any]) -> Iterator[str]:
        pieces: queue.Queue[object] = queue.Queue()
        cancelled = threading.Event()
        stats = GenerationStats()

        def on_chunk(chunk: dict[str, Any]) -> bool:
            # Runs on the worker thread for every streamed chunk; returning True tells llama.cpp to stop.
            if "error" in chunk:
                pieces.put(LlmError(f"llama.cpp refused the request: {chunk['error'].get('message', chunk)}"))
                return True
            for choice in chunk.get("choices", ()):
                content = (choice.get("delta") or {}).get("content")
                if content:
                    stats.pieces += 1
                    pieces.put(content)
                stats.finish_reason = choice.get("finish_reason") or stats.finish_reason
            if "timings" in chunk:
                stats.timings = dict(chunk["timings"])
            return cancelled.is_set()

        def work() -> None:
            try:
                server.handle_chat_completions(request, on_chunk)
            except Exception as error:  # surfaced to the consumer, not lost on the worker thread
                pieces.put(LlmError(f"llama.cpp failed while generating: {error}"))
            finally:
                stats.cancelled = cancelled.is_set()
                self.last_generation = stats
                pieces.put(_DONE)
                self._lock.release()

        self._lock.acquire()
        if self._server is None:
            self._lock.release()
            raise LlmError("this EmbeddedLlm was closed; create a new one to generate again")
        server = self._server
        try:
            worker = threading.Thread(target=work, name="embedded-llm", daemon=True)
            worker.start()
        except BaseException:
            self._lock.release()
            raise
        try:
            while True:
                item = pieces.get()
                if item is _DONE:
                    return
                if isinstance(item, LlmError):
                    raise item
                yield str(item)
        finally:
            # On early close (barge-in) this returns at once; the worker stops at the next token and then
            # releases the lock, so the next generation waits only for that.
            cancelled.set()


def compact_json_grammar(json_schema: dict[str, Any]) -> str:
    """llama.cpp's grammar for JSON matching `json_schema`, written compactly (`{"a": 1, "b": 2}`).

    With the schema passed as `json_schema`, the grammar lets the model indent, and small models do: a newline and
    indent before every key, each a token generated at ~10 tokens/s on a small CPU before the reply is heard.
    llguidance, llama.cpp's JSON-schema engine here, takes the layout from the schema's `x-guidance` key. On this
    path a schema llguidance cannot compile is only logged and the output left unconstrained, so callers check
    what they get (the chain of empathy checks every plan against its schema).
    """
    layout = {"whitespace_flexible": False, "item_separator": ", ", "key_separator": ": "}
    return str(xllamacpp.json_schema_to_grammar(json.dumps({"x-guidance": layout, **json_schema})))


def _check_gguf(path: Path) -> None:
    """Fail early, with a fix, on a missing file or one that is not GGUF at all (llama.cpp says only 'failed')."""
    if not path.is_file():
        raise LlmError(
            f"LLM model file {path} does not exist: install the model with `empathica models install <name>` "
            "(e.g. qwen2.5-coder-1.5b) or configure the path of a GGUF file"
        )
    with path.open("rb") as file:
        magic = file.read(4)
    if magic != _GGUF_MAGIC:
        raise LlmError(
            f"{path} is not a GGUF file (it starts with {magic!r}, not b'GGUF'): reinstall the model with "
            "`empathica models install <name>` or configure the path of a GGUF file"
        )


def _drop(server: object) -> None:
    """Release the last reference to `server` (run on a daemon thread; see EmbeddedLlm.close)."""
    del server
