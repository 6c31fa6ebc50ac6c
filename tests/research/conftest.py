"""Shared pieces for the research tests: a scripted chain-of-empathy model and a text agent built around it."""

from __future__ import annotations

import pytest

from agent.perception import TextPerception
from compose.config import Config, load_config
from research.eval.command import build_text_agent
from research.eval.runner import TextAgent
from tests.server.fakes import PlanModel

PLAN = {
    "event": "something happened",
    "user_emotion": "sadness",
    "cause": "a loss",
    "strategy": "interpretation",
    "reply_emotion": "joy",  # inappropriate for grief: the chain clamps it
    "response": "That sounds really hard. I am here with you.",
}


@pytest.fixture
def config() -> Config:
    # These tests check the model's words turn by turn; the first reaction before them has its own tests
    # (tests/agent/test_acknowledgement.py, tests/test_turn_paths.py).
    return load_config(environ={"EMPATHICA_EMPATHY_ACKNOWLEDGE": "false"})


@pytest.fixture
def plan_model() -> PlanModel:
    return PlanModel(PLAN, piece=9)


@pytest.fixture
def agent(config: Config, plan_model: PlanModel) -> TextAgent:
    """The real text agent (chain of empathy, lexical perception, safety, transition) on a scripted model."""
    return build_text_agent(config, model=plan_model, perceive=TextPerception().perceive)
