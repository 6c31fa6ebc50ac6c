"""The chain-of-empathy output: its JSON schema (enums for the categorical steps) and its validation.

The fields come in reasoning order (event, emotion, cause, strategy, reply emotion, response); llama.cpp's
grammar keeps the order of `properties`, so the spoken `response` is always last and can be streamed while the
reasoning fields are already known. The free-text reasoning fields are kept short with `maxLength`: every token
of reasoning delays the first spoken sentence.

Two shorter plans leave the emotions to the rules (the perceived label, the suggested strategy, the transition's
reply emotion), each for a turn where asking the model again would only cost time:

- compact (`COMPACT_FIELDS`), for a message without a feeling to reason about: the model writes what happened and
  the response, about half the tokens before the first sentence; the cause is empty.
- settled (`SETTLED_FIELDS`), for a turn that opened with a first reaction (agent.acknowledgement): the reaction
  already named the user's feeling aloud, in the reply emotion the face shows, so the model reasons about what
  happened and why (the lens's cause) and answers; about 25 tokens fewer before the first sentence.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from core.emotion import BASIC_EMOTIONS

# EPITOME's communication mechanisms (Sharma et al. 2020), as used by Lee et al.'s chain of empathy.
STRATEGIES: tuple[str, ...] = ("emotional_reaction", "interpretation", "exploration")
FIELDS: tuple[str, ...] = ("event", "user_emotion", "cause", "strategy", "reply_emotion", "response")
COMPACT_FIELDS: tuple[str, ...] = ("event", "response")
SETTLED_FIELDS: tuple[str, ...] = ("event", "cause", "response")
# The fields the model writes for each kind of plan (EmpathyPlan.reasoning).
REASONING_FIELDS: dict[str, tuple[str, ...]] = {"full": FIELDS, "settled": SETTLED_FIELDS, "compact": COMPACT_FIELDS}
# Lengths in characters; ~4 characters a token, so the reasoning before the response is ~35 tokens at most.
EVENT_MAX_CHARS = 60
CAUSE_MAX_CHARS = 80
RESPONSE_MAX_CHARS = 280


class PlanError(ValueError):
    """A chain-of-empathy output is not valid JSON or does not match the schema; the message says why."""


@dataclass(frozen=True)
class EmpathyPlan:
    """One turn's reasoning and reply. `source` says where it came from: the model, or the rule-based fallback."""

    event: str
    user_emotion: str
    cause: str
    strategy: str
    reply_emotion: str
    response: str
    source: str = "model"  # "model" | "fallback" | "safety"
    llm_reply_emotion: str = ""  # what the model proposed before the appropriateness clamp ("" if unclamped)
    lens: str = ""  # the therapy lens the chain reasoned through
    # "full", "settled" or "compact": the fields the model wrote (REASONING_FIELDS); the others are the rules'.
    reasoning: str = "full"

    def to_dict(self) -> dict[str, str]:
        """A JSON-ready form (for the store, the chat command and the benchmark)."""
        return asdict(self)


def plan_schema(
    strategies: tuple[str, ...] = STRATEGIES,
    reply_emotions: tuple[str, ...] = BASIC_EMOTIONS,
    reasoning: str = "full",
    response_pattern: str = "",
) -> dict[str, Any]:
    """The JSON schema the model's output must match; `strategies` may be narrowed to steer the mix, and
    `reply_emotions` to the labels the rules allow for this user (the grammar then cannot propose another).
    `reasoning`: which plan, a key of REASONING_FIELDS (see the module docstring). `response_pattern`: a regular
    expression the response must match (agent.empathy.opening), "" for none."""
    properties: dict[str, dict[str, Any]] = {
        "event": {"type": "string", "minLength": 3, "maxLength": EVENT_MAX_CHARS},
        "user_emotion": {"type": "string", "enum": list(BASIC_EMOTIONS)},
        "cause": {"type": "string", "minLength": 3, "maxLength": CAUSE_MAX_CHARS},
        "strategy": {"type": "string", "enum": list(strategies)},
        "reply_emotion": {"type": "string", "enum": list(reply_emotions)},
        "response": {"type": "string", "minLength": 2, "maxLength": RESPONSE_MAX_CHARS},
    }
    if response_pattern:
        properties["response"]["pattern"] = response_pattern
    fields = REASONING_FIELDS[reasoning]
    return {
        "type": "object",
        "properties": {name: properties[name] for name in fields},
        "required": list(fields),
        "additionalProperties": False,
    }


def check_fields(data: dict[str, Any], require_response: bool = True, fields: tuple[str, ...] = FIELDS) -> None:
    """Raise PlanError unless `data` holds valid values for the schema's `fields` (all but `response` if not
    `require_response`: a reply stopped after its last wanted sentence has no closing quote)."""
    for name in fields:
        if name == "response" and not require_response:
            continue
        value = data.get(name)
        if not isinstance(value, str) or not value.strip():
            raise PlanError(f"field {name!r} is missing or empty")
    for name, allowed in (
        ("user_emotion", BASIC_EMOTIONS),
        ("reply_emotion", BASIC_EMOTIONS),
        ("strategy", STRATEGIES),
    ):
        if name in fields and data[name] not in allowed:
            raise PlanError(f"field {name!r} is {data[name]!r}, not one of {', '.join(allowed)}")


def check_output(text: str, fields: tuple[str, ...] = FIELDS) -> dict[str, Any]:
    """The JSON object of a complete model output, checked against the schema's `fields`; or PlanError."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise PlanError(f"not valid JSON ({error.msg} at {error.pos}): {text[:120]!r}") from None
    if not isinstance(data, dict):
        raise PlanError("the output is not a JSON object")
    check_fields(data, fields=fields)
    return data


def parse_plan(text: str) -> EmpathyPlan:
    """The plan in a complete model output, or PlanError."""
    data = check_output(text)
    return EmpathyPlan(**{name: data[name].strip() for name in FIELDS})
