"""The pipeline with the chain of empathy, the safety screen and the memory: fake model, real agent parts."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.acknowledgement import Acknowledger
from agent.base import ChatMessage
from agent.empathy.chain import EmpathyChain
from agent.memory import SummaryMemory
from agent.prompts import PromptLibrary
from agent.safety import SafetyScreen
from server.turn.pipeline import TurnInput, TurnPipeline
from storage.store import ConversationStore
from tests.server.fakes import PlanModel, RecordingSink, make_pipeline, sure_perceive

PLAN = {
    "event": "a sad day",
    "user_emotion": "sadness",
    "cause": "feeling low",
    "strategy": "interpretation",
    "reply_emotion": "sadness",
    "response": "That sounds heavy. I'm here.",
}


def plan_model() -> PlanModel:
    return PlanModel(PLAN)


@pytest.fixture()
def store(tmp_path: Path) -> ConversationStore:
    return ConversationStore(tmp_path / "db.sqlite3")


def turn(text: str, index: int = 0) -> TurnInput:
    return TurnInput(session_id="s1", turn_index=index, kind="text", input_end=time.perf_counter(), text=text)


def chain(model: PlanModel) -> EmpathyChain:
    return EmpathyChain(model, PromptLibrary().load("persona_default"))


async def test_the_chain_streams_sentences_and_its_plan_is_sent_and_stored(store: ConversationStore) -> None:
    sink = RecordingSink()
    pipeline = make_pipeline(store, responder=chain(plan_model()))
    await pipeline.run(turn("I feel sad today"), sink, asyncio.Event())
    texts = [m.text for m in sink.messages if m.type == "reply_text"]
    assert texts == ["That sounds heavy.", "I'm here."]
    end = sink.messages[-1]
    assert end.type == "reply_end" and end.plan["strategy"] == "interpretation" and end.plan["source"] == "model"
    assert store.plans("s1")[0]["cause"] == "feeling low"


async def test_a_crisis_message_gets_the_scripted_reply_and_an_escalation_event(store: ConversationStore) -> None:
    model = plan_model()
    events: list[dict[str, Any]] = []
    screen = SafetyScreen("Call 116 123.")
    pipeline = make_pipeline(store, responder=chain(model), safety=screen.check, on_safety=events.append)
    sink = RecordingSink()
    await pipeline.run(turn("I want to kill myself"), sink, asyncio.Event())
    assert [t for t in sink.types if t != "media"][:3] == ["user_emotion", "safety", "reply_start"]
    safety = sink.messages[1]
    assert safety.category == "suicide" and "116 123" in safety.response
    spoken = " ".join(m.text for m in sink.messages if m.type == "reply_text")
    assert spoken == safety.response
    assert not model.calls  # free generation was bypassed
    assert events and events[0]["category"] == "suicide" and events[0]["session_id"] == "s1"
    assert store.plans("s1")[0]["source"] == "safety"


async def test_an_everyday_idiom_goes_to_the_model(store: ConversationStore) -> None:
    model = plan_model()
    pipeline = make_pipeline(store, responder=chain(model), safety=SafetyScreen().check)
    sink = RecordingSink()
    await pipeline.run(turn("this traffic is killing me"), sink, asyncio.Event())
    assert "safety" not in sink.types and model.calls


async def test_old_turns_are_summarised_and_the_summary_reaches_the_prompt(store: ConversationStore) -> None:
    model = plan_model()
    pipeline = make_pipeline(store, responder=chain(model), memory=SummaryMemory(None, every_turns=2), memory_window=1)
    said = ["My name is Sam.", "My cat is called Tom.", "I work nights.", "Hello again."]
    for index, text in enumerate(said):
        await pipeline.run(turn(text, index), RecordingSink(), asyncio.Event())
    summary, through = store.summary("s1")
    assert through == 2 and summary == "My name is Sam. My cat is called Tom."
    assert "My name is Sam." in model.calls[-1][-1].content  # the summary rides in the latest user message


def acknowledging(store: ConversationStore, responder: EmpathyChain) -> TurnPipeline:
    """A pipeline whose perceiver reads "sad" surely, with the real acknowledger: the reaction's timing is tested
    here, its confidence floors in tests/agent/test_acknowledgement.py."""
    return make_pipeline(store, responder=responder, perceiver=sure_perceive, acknowledger=Acknowledger())


async def test_the_acknowledgement_is_timed_apart_from_the_models_words(store: ConversationStore) -> None:
    sink = RecordingSink()
    pipeline = acknowledging(store, chain(plan_model()))
    await pipeline.run(turn("I feel sad today"), sink, asyncio.Event())
    texts = [m.text for m in sink.messages if m.type == "reply_text"]
    assert len(texts) == 3 and texts[1:] == ["That sounds heavy.", "I'm here."], "the first reaction, then the model"
    timings = sink.messages[-1].timings_ms
    assert timings["ack_text"] == timings["first_text"] <= timings["ack_media"] <= timings["model_media"]
    assert timings["first_media"] <= timings["ack_media"]


async def test_the_model_starts_once_the_first_reactions_video_is_out(store: ConversationStore) -> None:
    sink = RecordingSink()
    media_before_the_model: list[int] = []

    class Watching(PlanModel):
        def stream(
            self, messages: list[ChatMessage], max_tokens: int, temperature: float, json_schema: Any = None
        ) -> Iterator[str]:
            media_before_the_model.append(sum(1 for m in sink.messages if m.type == "media"))
            return super().stream(messages, max_tokens, temperature, json_schema)

    pipeline = acknowledging(store, chain(Watching(PLAN)))
    await pipeline.run(turn("I feel sad today"), sink, asyncio.Event())
    assert media_before_the_model and media_before_the_model[0] >= 1
    assert sink.messages[-1].timings_ms["ack_media"] <= sink.messages[-1].timings_ms["model_media"]


async def test_the_model_writes_on_only_once_its_first_sentences_video_is_out(store: ConversationStore) -> None:
    sink = RecordingSink()
    media_seen: list[int] = []  # media messages sent when each piece of the plan was asked for

    class Watching(PlanModel):
        def stream(
            self, messages: list[ChatMessage], max_tokens: int, temperature: float, json_schema: Any = None
        ) -> Iterator[str]:
            for piece in super().stream(messages, max_tokens, temperature, json_schema):
                media_seen.append(sum(1 for m in sink.messages if m.type == "media"))
                yield piece

    await make_pipeline(store, responder=chain(Watching(PLAN))).run(turn("I feel sad today"), sink, asyncio.Event())
    assert media_seen[0] == 0, "the model starts at once without a first reaction"
    assert media_seen[-1] >= 1, "after its first sentence it waited for that sentence's first video fragment"


async def test_without_an_acknowledgement_the_model_opens(store: ConversationStore) -> None:
    sink = RecordingSink()
    await make_pipeline(store, responder=chain(plan_model())).run(turn("I feel sad today"), sink, asyncio.Event())
    timings = sink.messages[-1].timings_ms
    assert "ack_text" not in timings and "ack_media" not in timings
    assert timings["first_text"] <= timings["model_media"]
