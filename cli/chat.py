"""`empathica chat`: a terminal conversation with the agent's mind only (no voice, no face).

Each turn prints the user's perceived emotion, the agent's reply emotion, the reply as it streams (sentence by
sentence) and the chain-of-empathy fields, so the reasoning can be inspected. Loads the LLM and the server's text
perception (MiniLM + lexical cues), no voice or face; crisis messages get the scripted safety reply, as in the
server. The persona (`--persona`, else `persona.name`) decides the therapy lens and the reply emotion's temperament,
as it does for a server session; `--lens` overrides the lens.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable
from typing import Any, TextIO

from agent.base import ChatMessage
from agent.safety import safety_emotion
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
    perceive: Callable[[str], EmotionState] | None = None,
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
        load_llm,
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
    choose = load_reply_emotion(config)
    # A persona file's display name ("kai" -> "Kai"); a name without a file is shown as given.
    name = spec.name if spec != fallback_spec(config) else (persona or spec.name)
    print(f"Chatting with {name} ({lens} lens; type /quit to leave).", file=out)
    history: list[ChatMessage] = []
    previous: EmotionState | None = None
    for raw in lines if lines is not None else _lines(sys.stdin, "you> ", out):
        text = raw.strip()
        if not text:
            continue
        if text in QUIT:
            break
        started = time.perf_counter()
        user = perceive(text)
        verdict = safety(text) if safety is not None else None
        agent = safety_emotion() if verdict is not None else choose(user, previous, persona=name)
        print(f"  [user {_emotion(user)} | agent {_emotion(agent)}]", file=out)
        planned = None
        if verdict is not None:
            print(f"  [safety: {verdict.category} (matched {verdict.matched!r})]", file=out)
            sentences: Iterable[str] = [verdict.response]
        elif hasattr(responder, "turn"):
            planned = responder.turn(text, user, agent, history)
            sentences = planned
        else:
            sentences = responder.reply(text, user, agent, history)
        said: list[str] = []
        first = None
        try:
            for sentence in sentences:
                first = first if first is not None else time.perf_counter() - started
                print(f"{name}: {sentence}" if not said else f"{' ' * len(name)}  {sentence}", file=out, flush=True)
                said.append(sentence)
        except Exception as exc:  # a dead LLM server: say so, keep the chat open
            print(f"  [error: {exc}]", file=out)
            continue
        plan = planned.plan if planned is not None else None
        if plan is not None:
            emotion = plan.reply_emotion
            if plan.llm_reply_emotion and plan.llm_reply_emotion != plan.reply_emotion:
                emotion += f" (model said {plan.llm_reply_emotion}; clamped)"
            print(
                f"  [event: {plan.event} | their emotion: {plan.user_emotion} | cause: {plan.cause} | "
                f"strategy: {plan.strategy} | reply emotion: {emotion} | {plan.source}]",
                file=out,
            )
        total = time.perf_counter() - started
        print(f"  [first sentence {first or total:.1f} s, total {total:.1f} s]", file=out, flush=True)
        history += [ChatMessage("user", text), ChatMessage("assistant", " ".join(said))]
        previous = agent
    return 0
