"""`empathica chat`: a terminal conversation with the agent's mind only (no voice, no face).

Each turn prints the user's perceived emotion, the agent's reply emotion, the reply as it streams (sentence by
sentence) and the chain-of-empathy fields, so the reasoning can be inspected. Loads the LLM and the server's text
perception (MiniLM + lexical cues), no voice or face; crisis messages get the scripted safety reply, as in the
server. The persona (`--persona`, else `persona.name`) decides the therapy lens and the reply emotion's temperament,
as it does for a server session; `--lens` overrides the lens.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any, TextIO

from agent.base import Perceiver
from agent.empathy.schema import EmpathyPlan
from agent.mind import Appraisal, Conversation, Mind
from compose.config import Config
from core.emotion import EmotionState

QUIT = frozenset({"/quit", "/exit", "quit", "exit"})


def _lines(stream: TextIO, prompt: str, out: TextIO) -> Iterable[str]:
    while True:
        print(prompt, end="", file=out, flush=True)
        line = stream.readline()
        if not line:
            return
        yield line


def _emotion(state: EmotionState) -> str:
    return f"{state.label} {state.intensity:.2f}"


def run_chat(
    config: Config,
    lines: Iterable[str] | None = None,
    out: TextIO | None = None,
    model: Any = None,
    perceive: Perceiver | None = None,
    persona: str | None = None,
    lens: str | None = None,
) -> int:
    """Chat until `lines` (default: stdin) ends or the user types /quit; returns the exit code.

    `model` and `perceive` default to the configured LLM and the server's text perception (MiniLM + lexical);
    `persona` to `persona.name`; `lens` to the persona's therapy lens.
    """
    from compose.engines import (
        EngineError,
        fallback_spec,
        load_acknowledger,
        load_llm,
        load_memory,
        load_perception,
        load_reply_emotion,
        load_safety,
        persona_spec,
        responder_loader,
        warm_up,
    )

    out = out or sys.stdout
    spec = persona_spec(config, persona or config.persona.name)
    lens = lens or spec.lens
    try:
        model = model if model is not None else load_llm(config)
        responder = responder_loader(config, model)((spec.name, spec.prompt, lens))
        warm_up(responder, config)
        safety, _hook = load_safety(config)
        perceive = perceive if perceive is not None else load_perception().perceive
    except EngineError as exc:
        print(f"empathica: {exc}", file=sys.stderr)
        return 2
    # A persona file's display name ("kai" -> "Kai"); a name without a file is shown as given.
    name = spec.name if spec != fallback_spec(config) else (persona or spec.name)
    window = config.server.history_turns
    mind = Mind(perceive, load_reply_emotion(config), safety, window, acknowledge=load_acknowledger(config))
    conversation = Conversation(persona=name, memory=load_memory(config, model), window=window)
    print(f"Chatting with {name} ({lens} lens; type /quit to leave).", file=out)
    for raw in lines if lines is not None else _lines(sys.stdin, "you> ", out):
        text = raw.strip()
        if not text:
            continue
        if text in QUIT:
            break
        view = _TurnView(name, out)
        turn = mind.turn(responder, text, conversation.context(), view.appraisal, view.sentence)
        if turn.error:  # a dead LLM server: say so, keep the chat open
            print(f"  [error: {turn.error}]", file=out)
            continue
        if isinstance(turn.plan, EmpathyPlan):
            view.plan(turn.plan)
        print(f"  [first sentence {turn.first_sentence_s:.1f} s, total {turn.total_s:.1f} s]", file=out, flush=True)
        conversation.add(text, turn)
    return 0


class _TurnView:
    """Prints one turn as it happens: the emotions, each sentence, then the chain's reasoning."""

    def __init__(self, name: str, out: TextIO) -> None:
        self.name, self.out, self.said = name, out, 0

    def appraisal(self, appraisal: Appraisal) -> None:
        print(f"  [user {_emotion(appraisal.user)} | agent {_emotion(appraisal.agent)}]", file=self.out)
        if appraisal.safety is not None:
            verdict = appraisal.safety
            print(f"  [safety: {verdict.category} (matched {verdict.matched!r})]", file=self.out)

    def sentence(self, sentence: str) -> None:
        prefix = f"{self.name}: " if not self.said else f"{' ' * len(self.name)}  "
        print(prefix + sentence, file=self.out, flush=True)
        self.said += 1

    def plan(self, plan: EmpathyPlan) -> None:
        emotion = plan.reply_emotion
        if plan.llm_reply_emotion and plan.llm_reply_emotion != plan.reply_emotion:
            emotion += f" (model said {plan.llm_reply_emotion}; clamped)"
        print(
            f"  [event: {plan.event} | their emotion: {plan.user_emotion} | cause: {plan.cause} | "
            f"strategy: {plan.strategy} | reply emotion: {emotion} | {plan.source}]",
            file=self.out,
        )
