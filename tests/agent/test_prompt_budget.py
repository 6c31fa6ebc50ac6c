"""The prompt's token budget (agent.prompt_budget): oldest history first, then the summary, then a clear error."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator

import pytest

from agent.base import ChatMessage
from agent.empathy.chain import EmpathyChain
from agent.mind import Mind, TurnContext
from agent.prompt_budget import MESSAGE_OVERHEAD, PROMPT_OVERHEAD, PromptBudget, PromptTooLong, estimate_tokens
from agent.prompts import PromptLibrary
from agent.responder import Responder
from core.emotion import EmotionState

SAD = EmotionState.from_label("sadness", 0.6)
CALM = EmotionState.from_label("neutral", 0.2)
EMOJI_TURN = "\U0001f600" * 2000  # the probe's 2,000-emoji message (8,000 UTF-8 bytes)


def budget(context: int, reply: int = 0) -> PromptBudget:
    """A budget counting one token per space-separated word."""
    return PromptBudget(context, lambda text: len(text.split()), reply)


def exchange(i: int, size: int = 10) -> list[ChatMessage]:
    return [ChatMessage("user", f"u{i} " + "w " * size), ChatMessage("assistant", f"a{i} " + "w " * size)]


def test_everything_fits_in_a_large_context() -> None:
    history = exchange(0) + exchange(1)
    system, turn = ChatMessage("system", "be kind"), ChatMessage("user", "hello there")
    assert budget(10_000).fit(system, history, turn) == [system, *history, turn]


def test_the_oldest_exchanges_go_first_and_the_window_starts_on_a_user_message() -> None:
    history = exchange(0) + exchange(1) + exchange(2)
    system, turn = ChatMessage("system", "be kind"), ChatMessage("user", "hello there")
    per_message = 11 + MESSAGE_OVERHEAD
    # Room for the system prompt, the turn and three history messages: only the last whole exchange is kept
    # (the third message from the end is an assistant reply, which would open the window).
    context = PROMPT_OVERHEAD + (2 + MESSAGE_OVERHEAD) * 2 + 3 * per_message
    fitted = budget(context).fit(system, history, turn)
    assert fitted == [system, *history[-2:], turn]


def test_the_summary_goes_before_the_message_is_refused() -> None:
    system = ChatMessage("system", "be kind")
    with_summary = ChatMessage("user", "hello " + "summary " * 50)
    bare = ChatMessage("user", "hello")
    context = PROMPT_OVERHEAD + 2 * MESSAGE_OVERHEAD + 2 + 1 + 5
    assert budget(context).fit(system, exchange(0), with_summary, bare) == [system, bare]


def test_a_message_that_cannot_fit_alone_is_a_clear_error() -> None:
    system = ChatMessage("system", "be kind")
    with pytest.raises(PromptTooLong, match="send a shorter message") as refused:
        budget(200, reply=50).fit(system, [], ChatMessage("user", "w " * 500))
    assert refused.value.tokens == 500 + MESSAGE_OVERHEAD
    assert "llm.context_tokens = 200" in str(refused.value)


def test_the_estimate_is_an_upper_bound_of_a_byte_level_tokenizer() -> None:
    assert estimate_tokens("") == 1
    assert estimate_tokens("hello") == 6
    assert estimate_tokens(EMOJI_TURN) == 8001


def test_for_model_uses_the_backends_counter_or_the_estimate() -> None:
    class Counted:
        context_tokens = 100

        def count_tokens(self, text: str) -> int:
            return 1

    class Uncounted:
        context_tokens = 100

    assert PromptBudget.for_model(Counted(), 10) is not None
    assert PromptBudget.for_model(Counted(), 10).count("a b c") == 1  # type: ignore[union-attr]
    assert PromptBudget.for_model(Uncounted(), 10).count("abc") == 4  # type: ignore[union-attr]
    assert PromptBudget.for_model(object(), 10) is None  # a fake without a context: no budget


class ContextModel:
    """A chat model with a context window that refuses a prompt too large for it, as llama.cpp does."""

    def __init__(self, context_tokens: int, reply: str = "I hear you.") -> None:
        self.context_tokens = context_tokens
        self.reply = reply
        self.prompts: list[list[ChatMessage]] = []

    def count_tokens(self, text: str) -> int:
        return estimate_tokens(text)

    def stream(self, messages: list[ChatMessage], max_tokens: int, temperature: float, **_: object) -> Iterator[str]:
        used = sum(self.count_tokens(m.content) for m in messages)
        if used + max_tokens > self.context_tokens:
            raise RuntimeError("the request exceeds the available context size")
        self.prompts.append(list(messages))
        yield self.reply


def test_a_long_turn_in_the_history_does_not_poison_later_turns() -> None:
    model = ContextModel(3000)
    persona = PromptLibrary().load("persona_default")
    responder = Responder(model, persona, max_tokens=64, budget=PromptBudget.for_model(model, 64))
    history = [ChatMessage("user", "\U0001f600" * 600), ChatMessage("assistant", "That is a lot of smiles.")]
    history += exchange(1)
    assert list(responder.reply("How are you?", SAD, CALM, history)) == ["I hear you."]
    sent = model.prompts[-1]
    assert sent[1:-1] == exchange(1), "the long, older exchange was dropped; the newer one kept"


def test_the_mind_refuses_a_message_that_cannot_fit_before_any_model_call() -> None:
    model = ContextModel(4096)
    persona = PromptLibrary().load("persona_default")
    chain = EmpathyChain(model, persona, budget=PromptBudget.for_model(model, 220))  # type: ignore[arg-type]
    mind = Mind(lambda text, context=(): SAD, lambda user, previous=None, persona="": CALM)
    appraisal = mind.appraise(EMOJI_TURN)
    with pytest.raises(PromptTooLong):
        mind.check_room(chain, appraisal, TurnContext())
    turn = mind.turn(chain, EMOJI_TURN)
    assert turn.source == "error" and "send a shorter message" in turn.error
    assert model.prompts == [], "the model never saw it"
    mind.check_room(chain, mind.appraise("I lost my job today."), TurnContext())  # an ordinary message fits


@pytest.mark.models
def test_the_budget_over_counts_the_real_templated_prompt() -> None:
    """With llama.cpp's own tokenizer, the budget's count of a prompt is at least what the model processes."""
    from agent.llm.embedded import EmbeddedLlm
    from core.provision import model_dir

    for name in ("smollm2-135m", "qwen2.5-coder-1.5b"):
        path = model_dir(name) / "model.gguf"
        if not path.is_file():
            continue
        with EmbeddedLlm(path, threads=1, context_tokens=2048) as model:
            chain = EmpathyChain(
                model, PromptLibrary().load("persona_default"), budget=PromptBudget.for_model(model, 0)
            )
            history = [*exchange(0), ChatMessage("user", "\U0001f600 " * 40), ChatMessage("assistant", "Oh!")]
            messages = chain.turn("I feel sad today.", SAD, CALM, history).messages
            counted = sum(chain.budget.cost(m) for m in messages) + PROMPT_OVERHEAD  # type: ignore[union-attr]
            actual = _templated_tokens(model, messages)
            assert actual <= counted, (name, actual, counted)
            assert counted < actual + 20 * len(messages) + PROMPT_OVERHEAD, "and not wildly more"


def _templated_tokens(model: object, messages: list[ChatMessage]) -> int:
    """The tokens llama.cpp processes for `messages`: its chat template applied, then tokenised with specials."""
    address = model._address  # type: ignore[attr-defined]

    def post(path: str, body: dict[str, object]) -> dict[str, object]:
        request = urllib.request.Request(
            address + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
        )
        with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=10) as response:
            return json.loads(response.read())  # type: ignore[no-any-return]

    prompt = post("/apply-template", {"messages": [{"role": m.role, "content": m.content} for m in messages]})
    tokens = post("/tokenize", {"content": prompt["prompt"], "add_special": True, "parse_special": True})["tokens"]
    return len(tokens)  # type: ignore[arg-type]
