"""Reply craft in the chain's prompt: fixed example answers per lens in the cached system prompt, the persona's
sentence limit stated and enforced, and the strategy suggested from the user's state and the lens."""

import json
import re

import pytest

from agent.empathy.chain import LENSES, EmpathyChain
from agent.empathy.schema import check_fields
from agent.prompts import PromptLibrary
from agent.reply_emotion import allowed_reply_emotions
from core.emotion import EmotionState
from tests.agent.empathy.test_chain import COMPASSION, GRIEF, PLAN, ScriptedModel

MILD_ANGER = EmotionState.from_label("anger", 0.5)


@pytest.fixture
def persona() -> str:
    return PromptLibrary().load("persona_default")


def example_answers(lens: str) -> list[dict[str, str]]:
    """The JSON answers of a lens's example exchanges."""
    text = PromptLibrary().load(f"empathy_examples_{lens}")
    return [json.loads(line) for line in re.findall(r"^You answer: (\{.*\})$", text, flags=re.MULTILINE)]


@pytest.mark.parametrize("lens", LENSES)
def test_each_lens_has_example_answers_that_follow_the_rules(lens: str):
    answers = example_answers(lens)
    assert len(answers) >= 3
    for answer in answers:
        check_fields(answer)  # the schema's fields, in its vocabulary
        user = EmotionState.from_label(answer["user_emotion"], 0.8)
        assert answer["reply_emotion"] in allowed_reply_emotions(user)
        assert len(re.findall(r"[.!?](?:\s|$)", answer["response"])) <= 2  # within every persona's limit
        assert not re.search(r"\b(important to|remember|you should|make sure)\b", answer["response"], re.I)
    assert len({a["strategy"] for a in answers}) >= 2  # the examples show more than one mechanism


@pytest.mark.parametrize("lens", LENSES)
def test_examples_sit_in_the_stable_system_prompt_never_in_the_turn(persona: str, lens: str):
    model = ScriptedModel([json.dumps(PLAN)])
    chain = EmpathyChain(model, persona, lens=lens)
    list(chain.reply("My dog died.", GRIEF, COMPASSION, []))
    list(chain.reply("I got the job!", EmotionState.from_label("joy", 0.8), COMPASSION, []))
    first, second = model.calls[0][0], model.calls[1][0]
    assert first[0] == second[0] and first[0].content == chain.system_prompt
    for answer in example_answers(lens):
        assert answer["response"] in chain.system_prompt
        assert answer["response"] not in first[-1].content


def test_the_sentence_limit_is_stated_and_enforced(persona: str):
    long_plan = {**PLAN, "response": "I'm so sorry. She was family. I'm here. Tell me about her."}
    model = ScriptedModel([json.dumps(long_plan)])
    chain = EmpathyChain(model, persona, max_sentences=2)
    assert "one or two short sentences" in chain.system_prompt
    assert "one to three" in EmpathyChain(model, persona).system_prompt
    assert list(chain.reply("My dog died.", GRIEF, COMPASSION, [])) == ["I'm so sorry.", "She was family."]


def test_the_suggested_strategy_follows_the_lens(persona: str):
    notes = {}
    for lens in ("reality", "cbt"):
        model = ScriptedModel([json.dumps(PLAN)])
        list(EmpathyChain(model, persona, lens=lens).reply("He took my parking space.", MILD_ANGER, COMPASSION, []))
        notes[lens] = model.calls[0][0][-1].content
    assert "Suggested strategy: exploration." in notes["reality"]
    assert "Suggested strategy: interpretation." in notes["cbt"]
