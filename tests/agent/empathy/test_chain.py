"""The chain's orchestration (streaming, retry, fallback, clamp, prompt layout) with a scripted model; the real
model test at the end checks that a real GGUF model produces schema-valid plans under the constraint."""

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from agent.base import ChatMessage
from agent.empathy.chain import LENSES, EmpathyChain
from agent.empathy.opening import opening_pattern
from agent.empathy.schema import FIELDS
from agent.prompts import PromptLibrary
from core.emotion import EmotionState

GRIEF = EmotionState.from_label("sadness", 0.9)
COMPASSION = EmotionState.from_label("sadness", 0.5)
NEUTRAL = EmotionState.from_label("neutral", 0.0)
PLAN = {
    "event": "their dog died",
    "user_emotion": "sadness",
    "cause": "losing a loved companion",
    "strategy": "emotional_reaction",
    "reply_emotion": "sadness",
    "response": "I'm so sorry. She was family to you. I'm here.",
}


class ScriptedModel:
    """Streams one scripted output per call, in small pieces; records the calls."""

    def __init__(self, outputs: list[str], piece: int = 4) -> None:
        self.outputs = outputs
        self.piece = piece
        self.calls: list[tuple[list[ChatMessage], dict[str, Any] | None]] = []
        self.yielded = 0
        self.closed = 0

    def stream(
        self, messages: list[ChatMessage], max_tokens: int, temperature: float, json_schema: dict | None = None
    ) -> Iterator[str]:
        self.calls.append((list(messages), json_schema))
        text = self.outputs[min(len(self.calls), len(self.outputs)) - 1]
        try:
            for i in range(0, len(text), self.piece):
                self.yielded += 1
                yield text[i : i + self.piece]
        finally:
            self.closed += 1


@pytest.fixture
def persona() -> str:
    return PromptLibrary().load("persona_default")


def test_response_streams_sentence_by_sentence_before_the_json_ends(persona: str):
    model = ScriptedModel([json.dumps(PLAN)])
    turn = EmpathyChain(model, persona).turn("My dog died.", GRIEF, COMPASSION, [])
    sentences = iter(turn)
    assert next(sentences) == "I'm so sorry."
    assert model.yielded < len(json.dumps(PLAN)) // 4  # the rest of the JSON was not generated yet
    assert list(sentences) == ["She was family to you.", "I'm here."]
    assert turn.schema_valid and turn.attempts == 1
    assert turn.plan is not None and turn.plan.cause == "losing a loved companion"
    assert turn.plan.response == "I'm so sorry. She was family to you. I'm here."
    assert model.calls[0][1] is not None and model.calls[0][1]["required"][-1] == "response"


def test_stops_the_model_after_max_sentences(persona: str):
    long = {**PLAN, "response": "One. Two. Three. Four. Five."}
    model = ScriptedModel([json.dumps(long)])
    assert list(EmpathyChain(model, persona, max_sentences=2).reply("hi", GRIEF, COMPASSION, [])) == ["One.", "Two."]
    assert model.closed == 1


def test_a_word_limit_drops_the_sentence_that_would_pass_it_and_stops_the_model(persona: str):
    long = {**PLAN, "response": "I'm so sorry about your dog. What would help you most right now, today? Three."}
    model = ScriptedModel([json.dumps(long)])
    turn = EmpathyChain(model, persona, max_sentences=3, max_words=12).turn("hi", GRIEF, COMPASSION, [])
    assert list(turn) == ["I'm so sorry about your dog."]  # 6 words; the 9-word question would make 15
    assert model.closed == 1 and turn.plan is not None and turn.plan.response == "I'm so sorry about your dog."
    # The first sentence is said however long it is.
    first = {**PLAN, "response": "I am so very sorry that your dear old dog died this morning at home. Yes."}
    assert list(
        EmpathyChain(ScriptedModel([json.dumps(first)]), persona, max_words=5).reply("hi", GRIEF, COMPASSION, [])
    ) == ["I am so very sorry that your dear old dog died this morning at home."]


def test_a_sentence_that_repeats_the_first_reaction_is_not_said_again(persona: str):
    plan = {**PLAN, "response": "Oh, I'm so sorry. Losing her must hurt. oh  IM so sorry!"}
    model = ScriptedModel([json.dumps(plan)])
    turn = EmpathyChain(model, persona).turn("My dog died.", GRIEF, COMPASSION, [], already_said="Oh, I’m so sorry.")
    assert list(turn) == ["Losing her must hurt."]
    assert turn.repeated == ["Oh, I'm so sorry.", "oh IM so sorry!"]
    assert turn.plan is not None and turn.plan.response == "Losing her must hurt."
    assert "Oh, I’m so sorry." in model.calls[0][0][-1].content  # the model was told what was said


def test_an_opening_that_repeats_the_first_reaction_is_dropped_and_the_rest_said(persona: str):
    plan = {**PLAN, "response": "I'm sorry, but losing her after fourteen years must hurt."}
    turn = EmpathyChain(ScriptedModel([json.dumps(plan)]), persona).turn(
        "My dog died.", GRIEF, COMPASSION, [], already_said="I'm sorry."
    )
    assert list(turn) == ["Losing her after fourteen years must hurt."]
    assert turn.repeated == ["I'm sorry, but"]
    assert turn.plan is not None and turn.plan.response == "Losing her after fourteen years must hurt."


def test_the_first_reaction_counts_toward_the_persona_limits(persona: str):
    plan = {**PLAN, "response": "Losing her must hurt. She slept by your bed. You miss her. Tell me about her."}
    said = "Oh, I'm so sorry."
    turn = EmpathyChain(ScriptedModel([json.dumps(plan)]), persona, max_sentences=3).turn(
        "My dog died.", GRIEF, COMPASSION, [], already_said=said
    )
    assert list(turn) == ["Losing her must hurt.", "She slept by your bed."]  # three with the reaction
    # Words too: 4 + 4 + 5 passes 10 (without the reaction the second sentence would fit); the model's first
    # sentence is said whatever its length.
    kai = EmpathyChain(ScriptedModel([json.dumps(plan)]), persona, max_sentences=3, max_words=10)
    assert list(kai.turn("My dog died.", GRIEF, COMPASSION, [], already_said=said)) == ["Losing her must hurt."]
    # A reaction that already fills the limit still leaves the model its one sentence.
    one = EmpathyChain(ScriptedModel([json.dumps(plan)]), persona, max_sentences=1)
    assert list(one.turn("My dog died.", GRIEF, COMPASSION, [], already_said=said)) == ["Losing her must hurt."]


def test_invalid_output_is_retried_once_then_answered_by_the_fallback(persona: str):
    model = ScriptedModel(["I am plain text."])
    chain = EmpathyChain(model, persona)
    turn = chain.turn("My dog died.", GRIEF, COMPASSION, [])
    assert list(turn) == ["I'm so sorry you're going through this.", "I'm here with you."]
    assert turn.attempts == 2 and len(turn.errors) == 2
    assert turn.plan is not None and turn.plan.source == "fallback" and not turn.schema_valid
    assert chain.last_plan == turn.plan


def test_a_valid_retry_is_used(persona: str):
    bad = json.dumps({**PLAN, "strategy": "lecture"})
    model = ScriptedModel([bad, json.dumps(PLAN)])
    turn = EmpathyChain(model, persona).turn("My dog died.", GRIEF, COMPASSION, [])
    assert list(turn) == ["I'm so sorry.", "She was family to you.", "I'm here."]
    assert turn.attempts == 2 and turn.schema_valid


def test_joy_at_grief_is_clamped_to_the_transition_emotion(persona: str):
    model = ScriptedModel([json.dumps({**PLAN, "reply_emotion": "joy"})])
    turn = EmpathyChain(model, persona).turn("My dog died.", GRIEF, COMPASSION, [])
    list(turn)
    assert turn.plan is not None
    assert (turn.plan.llm_reply_emotion, turn.plan.reply_emotion) == ("joy", "sadness")


def test_system_prompt_is_a_stable_prefix_and_per_turn_notes_go_in_the_user_message(persona: str):
    model = ScriptedModel([json.dumps(PLAN)])
    chain = EmpathyChain(model, persona, lens="dbt")
    history = [ChatMessage("user", "Hi"), ChatMessage("assistant", "Hello, how are you?")]
    list(chain.reply("My dog died.", GRIEF, COMPASSION, history, summary="They live alone with a dog."))
    list(chain.reply("I'm fine.", EmotionState.from_label("joy", 0.8), COMPASSION, []))
    first, second = model.calls[0][0], model.calls[1][0]
    assert first[0] == second[0] == ChatMessage("system", chain.system_prompt)
    assert "dialectical" in chain.system_prompt and persona.splitlines()[0] in chain.system_prompt
    assert first[1:3] == history
    assert first[-1].content.startswith("My dog died.")
    assert "sad (sadness)" in first[-1].content and "They live alone with a dog." in first[-1].content
    assert "They live alone" not in second[-1].content


def test_after_two_questions_the_schema_steers_away_from_exploration(persona: str):
    model = ScriptedModel([json.dumps(PLAN)])
    history = [
        ChatMessage("user", "a"),
        ChatMessage("assistant", "Why?"),
        ChatMessage("user", "b"),
        ChatMessage("assistant", "And then?"),
    ]
    calm = EmotionState.from_label("neutral", 0.0)  # alone, a calm message would get a question
    list(EmpathyChain(model, persona, compact_neutral=False).reply("c", calm, COMPASSION, history))
    schema = model.calls[0][1]
    assert schema is not None and "exploration" not in schema["properties"]["strategy"]["enum"]
    assert "do not ask" in model.calls[0][0][-1].content
    assert "Suggested strategy: interpretation." in model.calls[0][0][-1].content  # not a third question


def test_a_message_without_a_feeling_gets_a_compact_plan(persona: str):
    said = {"event": "asked when the library opens", "response": "It opens at nine. What are you reading?"}
    model = ScriptedModel([json.dumps(said)])
    warm = EmotionState.from_label("joy", 0.2)
    turn = EmpathyChain(model, persona).turn("When does the library open?", NEUTRAL, warm, [])
    assert list(turn) == ["It opens at nine.", "What are you reading?"]
    assert list(model.calls[0][1]["properties"]) == ["event", "response"]  # half the tokens before it speaks
    plan = turn.plan
    assert plan is not None and plan.reasoning == "compact" and plan.source == "model"
    assert plan.event == "asked when the library opens" and plan.cause == ""
    # The rest is the rules': the perceived label, the suggested strategy, the transition's emotion.
    assert (plan.user_emotion, plan.strategy, plan.reply_emotion, plan.llm_reply_emotion) == (
        "neutral",
        "exploration",
        "joy",
        "",
    )


def test_a_turn_that_opened_with_a_first_reaction_gets_a_settled_plan(persona: str):
    said = {"event": "dog died", "cause": "lost a companion", "response": "The house must feel so quiet now."}
    model = ScriptedModel([json.dumps(said)])
    turn = EmpathyChain(model, persona).turn("My dog died.", GRIEF, COMPASSION, [], already_said="Oh, I'm so sorry.")
    assert list(turn) == ["The house must feel so quiet now."]
    # The reaction already voiced the emotions, so the model is not asked for them again.
    assert list(model.calls[0][1]["properties"]) == ["event", "cause", "response"]
    plan = turn.plan
    assert plan is not None and plan.reasoning == "settled" and plan.source == "model"
    assert (plan.event, plan.cause) == ("dog died", "lost a companion")
    assert (plan.user_emotion, plan.reply_emotion, plan.llm_reply_emotion) == ("sadness", COMPASSION.label, "")
    assert plan.strategy == turn.strategy != ""


def test_after_a_first_reaction_the_response_must_go_on_from_it_to_the_user(persona: str):
    said = {"event": "dog died", "cause": "lost a companion", "response": "Oh, I'm so sorry. Your dog was family."}
    model = ScriptedModel([json.dumps(said), json.dumps(PLAN), json.dumps(said)])
    turn = EmpathyChain(model, persona).turn("My dog died.", GRIEF, COMPASSION, [], already_said="Oh, I'm so sorry.")
    assert list(turn) == ["Your dog was family."]  # the reaction the grammar wrote first is not said twice
    assert turn.repeated == ["Oh, I'm so sorry."]
    pattern = model.calls[0][1]["properties"]["response"]["pattern"]
    assert pattern == opening_pattern("Oh, I'm so sorry.", "My dog died.")
    # Without a first reaction the response is free; and the configuration can free it after one too.
    list(EmpathyChain(model, persona).turn("My dog died.", GRIEF, COMPASSION, []))
    free = EmpathyChain(model, persona, open_with_detail=False)
    list(free.turn("My dog died.", GRIEF, COMPASSION, [], already_said="Oh, I'm so sorry."))
    assert ["pattern" in schema["properties"]["response"] for _, schema in model.calls[1:]] == [False, False]


def test_settled_plans_can_be_turned_off(persona: str):
    model = ScriptedModel([json.dumps(PLAN)])
    chain = EmpathyChain(model, persona, settle_after_reaction=False)
    list(chain.turn("My dog died.", GRIEF, COMPASSION, [], already_said="Oh, I'm so sorry."))
    assert list(model.calls[0][1]["properties"]) == list(FIELDS)
    assert chain.last_plan is not None and chain.last_plan.reasoning == "full"


def test_a_feeling_or_a_voice_at_odds_with_the_words_gets_the_whole_chain(persona: str):
    model = ScriptedModel([json.dumps(PLAN)] * 2)
    chain = EmpathyChain(model, persona)
    list(chain.turn("My dog died.", GRIEF, COMPASSION, []))
    list(chain.turn("I'm fine.", NEUTRAL, COMPASSION, [], mismatch=True))
    assert [list(schema["properties"]) for _, schema in model.calls] == [list(FIELDS)] * 2
    assert chain.last_plan is not None and chain.last_plan.reasoning == "full"


def test_a_sentence_that_speaks_as_the_user_is_not_said(persona: str):
    said = {"event": "went to the market", "response": "I went to the market this morning. What did you find?"}
    model = ScriptedModel([json.dumps(said)])
    turn = EmpathyChain(model, persona).turn("I went to the market this morning.", NEUTRAL, NEUTRAL, [])
    assert list(turn) == ["What did you find?"]
    assert turn.echoed == ["I went to the market this morning."]


def test_the_users_things_are_called_theirs_and_a_role_swap_is_not_said(persona: str):
    said = {
        "event": "a dented car",
        "response": "You borrowed my car and returned it dented. That made me sad about my sister. How are you?",
    }
    model = ScriptedModel([json.dumps(said)])
    user_text = "My sister borrowed my car and returned it dented."
    turn = EmpathyChain(model, persona).turn(user_text, NEUTRAL, NEUTRAL, [])
    assert list(turn) == ["That made me sad about your sister.", "How are you?"]
    assert turn.echoed == ["You borrowed my car and returned it dented."]


def test_every_lens_has_its_templates(persona: str):
    for lens in LENSES:
        assert EmpathyChain(ScriptedModel(["{}"]), persona, lens=lens).system_prompt
    with pytest.raises(ValueError, match="lens"):
        EmpathyChain(ScriptedModel(["{}"]), persona, lens="freud")


@pytest.fixture(scope="module")
def default_llm() -> Iterator[tuple[Any, Any]]:
    """The configured default LLM, loaded as the server loads it, with the configuration."""
    from agent.llm.embedded import EmbeddedLlm
    from compose.config import load_config
    from core.provision import model_dir

    config = load_config(environ={})
    path = model_dir(config.llm.model) / "model.gguf"
    with EmbeddedLlm(path, threads=2, context_tokens=config.llm.context_tokens, seed=config.llm.seed) as model:
        yield model, config


def _default_chain(persona: str, default_llm: tuple[Any, Any]) -> EmpathyChain:
    model, config = default_llm
    return EmpathyChain(model, persona, max_tokens=config.empathy.max_tokens, temperature=config.empathy.temperature)


@pytest.mark.models
def test_the_default_model_produces_a_schema_valid_plan(persona: str, default_llm: tuple[Any, Any]):
    """The configured default LLM, as the server runs it, answers through the chain with its own plan."""
    from agent.empathy.schema import STRATEGIES
    from core.emotion import BASIC_EMOTIONS

    turn = _default_chain(persona, default_llm).turn("My dog died yesterday.", GRIEF, COMPASSION, [])
    sentences = list(turn)
    plan = turn.plan
    assert plan is not None and turn.schema_valid, (turn.errors, turn.raw)  # the model's plan, not the fallback
    assert plan.source == "model" and plan.lens == "cbt"
    assert len(plan.event) >= 3 and len(plan.cause) >= 3
    assert plan.user_emotion in BASIC_EMOTIONS and plan.strategy in STRATEGIES
    assert plan.reply_emotion in ("neutral", "sadness")  # never joy at a loss
    assert sentences and plan.response == " ".join(sentences)


@pytest.mark.models
def test_the_default_model_goes_on_from_its_first_reaction_to_the_users_news(
    persona: str, default_llm: tuple[Any, Any]
):
    """The real grammar engine enforces the opening: the reaction, then "you" or the user's own word."""
    joy = EmotionState.from_label("joy", 0.8)
    text = "I just got promoted to senior nurse!"
    turn = _default_chain(persona, default_llm).turn(text, joy, joy, [], already_said="Good news!")
    sentences = list(turn)
    assert turn.schema_valid and sentences, (turn.errors, turn.raw)
    response = "".join(turn.raw).split('"response": "', 1)[1]
    assert re.match(r"Good news! (You|Promoted|Senior|Nurse)", response), response
    assert turn.repeated == ["Good news!"] and "Good news!" not in sentences


def test_a_response_cut_off_by_max_tokens_drops_its_unfinished_sentence(persona: str):
    cut = json.dumps({**PLAN, "response": "I'm so sorry. She was fam"})[:-2]  # no closing quote and brace
    turn = EmpathyChain(ScriptedModel([cut]), persona).turn("My dog died.", GRIEF, COMPASSION, [])
    assert list(turn) == ["I'm so sorry."]
    assert turn.schema_valid


def test_warm_up_sends_the_stable_system_prompt(persona: str):
    model = ScriptedModel(["x"])
    chain = EmpathyChain(model, persona)
    chain.warm_up()
    assert model.calls[0][0][0] == ChatMessage("system", chain.system_prompt)
