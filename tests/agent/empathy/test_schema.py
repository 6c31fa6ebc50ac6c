import json

import pytest

from agent.empathy.schema import FIELDS, PlanError, parse_plan, plan_schema

VALID = {
    "event": "their dog died",
    "user_emotion": "sadness",
    "cause": "loss of a companion",
    "strategy": "emotional_reaction",
    "reply_emotion": "sadness",
    "response": "I'm so sorry.",
}


def test_schema_lists_fields_in_reasoning_order_with_enums_and_limits():
    schema = plan_schema()
    assert tuple(schema["properties"]) == FIELDS == tuple(schema["required"])
    assert "joy" in schema["properties"]["reply_emotion"]["enum"]
    assert schema["properties"]["strategy"]["enum"] == ["emotional_reaction", "interpretation", "exploration"]
    assert schema["properties"]["cause"]["maxLength"] <= 120
    assert plan_schema(("interpretation",))["properties"]["strategy"]["enum"] == ["interpretation"]


def test_parse_accepts_a_valid_plan():
    plan = parse_plan(json.dumps(VALID))
    assert plan.strategy == "emotional_reaction" and plan.source == "model"


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[1, 2]",
        json.dumps({**VALID, "strategy": "advice"}),
        json.dumps({**VALID, "reply_emotion": "elated"}),
        json.dumps({k: v for k, v in VALID.items() if k != "cause"}),
        json.dumps({**VALID, "response": "  "}),
    ],
)
def test_parse_rejects_invalid_output_with_a_reason(text: str):
    with pytest.raises(PlanError):
        parse_plan(text)
