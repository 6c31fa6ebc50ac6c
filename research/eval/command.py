"""`empathica eval`: the agent over scripted dialogues, under one or more persona x lens variants, into a report."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from compose.config import Config
from core.emotion import EmotionState
from research.dialogues import DialogueError, load_dialogues
from research.eval.report import RunInfo, VariantRun, write_report
from research.eval.runner import TextAgent, Variant, run_variant
from research.eval.summary import summarize


class EvalError(ValueError):
    """A bad eval request (unknown persona or lens); the message says what to use instead."""


def resolve_variants(config: Config, personas: Sequence[str] = (), lenses: Sequence[str] = ()) -> list[Variant]:
    """Every persona x lens pair to run; no personas: the configured one; no lenses: each persona's own lens."""
    from agent.empathy.chain import LENSES
    from agent.personas import PersonaError, find_persona

    unknown = [lens for lens in lenses if lens not in LENSES]
    if unknown:
        raise EvalError(f"unknown therapy lens {', '.join(unknown)}; choose from {', '.join(LENSES)}")
    variants: list[Variant] = []
    for name in personas or [config.persona.name]:
        try:
            persona = find_persona(name)
        except PersonaError as exc:  # an ablation over a typo would silently measure the default persona
            raise EvalError(str(exc)) from None
        for lens in lenses or [persona.therapy_lens]:
            variant = Variant(persona.name, lens)
            if variant not in variants:
                variants.append(variant)
    return variants


def build_text_agent(
    config: Config,
    model: Any = None,
    perceive: Callable[[str], EmotionState] | None = None,
    out: TextIO | None = None,
) -> TextAgent:
    """The agent's mind from configuration (compose.engines): LLM, perception, safety, transition, responders.

    `model` and `perceive` default to the configured LLM and the server's text perception. Each variant's
    responder is built (and its prompt cache warmed) on first use. Raises compose.engines.EngineError.
    """
    from compose.engines import (
        load_llm,
        load_memory,
        load_perception,
        load_reply_emotion,
        load_safety,
        persona_spec,
        responder_loader,
        warm_up,
    )

    model = model if model is not None else load_llm(config, out)
    perceive = perceive if perceive is not None else load_perception(out).perceive
    safety, _hook = load_safety(config)  # no escalation hook: scripted dialogues are not people in danger
    load = responder_loader(config, model, out)
    responders: dict[Variant, Any] = {}

    def responder_for(variant: Variant) -> Any:
        if variant not in responders:
            spec = persona_spec(config, variant.persona)
            responders[variant] = load((spec.name, spec.prompt, variant.lens))
            warm_up(responders[variant], config, out)
        return responders[variant]

    return TextAgent(
        perceive=perceive,
        choose_reply_emotion=load_reply_emotion(config),
        responder_for=responder_for,
        safety=safety,
        history_turns=config.server.history_turns,
        memory=load_memory(config, model),
    )


def run_eval(
    config: Config,
    dialogues_file: Path,
    out_dir: Path,
    personas: Sequence[str] = (),
    lenses: Sequence[str] = (),
    max_dialogues: int = 0,
    max_turns: int = 0,
    agent: TextAgent | None = None,
    progress: TextIO | None = None,
    command: str = "",
) -> int:
    """Evaluate and write the report under `out_dir`; returns the exit code (2: bad input or missing model)."""
    from compose.engines import EngineError

    progress = progress or sys.stderr
    try:
        dialogues = load_dialogues(dialogues_file)
        variants = resolve_variants(config, personas, lenses)
        agent = agent if agent is not None else build_text_agent(config, out=progress)
    except (DialogueError, EvalError, EngineError) as exc:
        print(f"empathica: {exc}", file=sys.stderr)
        return 2
    if max_dialogues > 0:
        dialogues = dialogues[:max_dialogues]
    turns = sum(min(len(d.turns), max_turns) if max_turns > 0 else len(d.turns) for d in dialogues)
    print(
        f"[eval] {len(dialogues)} dialogues, {turns} turns, {len(variants)} variant(s): "
        + ", ".join(v.key for v in variants),
        file=progress,
        flush=True,
    )
    runs = []
    started = time.perf_counter()
    for variant in variants:
        results = run_variant(agent, dialogues, variant, max_turns, progress)
        runs.append(VariantRun(results, summarize(results, variant)))
    info = RunInfo(
        dialogues_file=str(dialogues_file),
        model=config.llm.model,
        command=command,
        max_dialogues=max_dialogues,
        max_turns=max_turns,
        extra={"run time": f"{time.perf_counter() - started:.0f} s", "LLM threads": config.llm.threads},
    )
    files = write_report(out_dir, runs, info)
    print(f"[eval] report: {files['markdown']} and {files['json']}", file=progress, flush=True)
    return 0
