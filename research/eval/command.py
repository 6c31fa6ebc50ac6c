"""`empathica eval`: the agent over dialogues, under persona x lens variants and beside its baselines, for one or
more seeds, into a report with intervals and provenance (docs/research.md)."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from agent.base import Perceiver
from compose.config import Config
from research.dialogues import Dialogue, DialogueError
from research.eval.baselines import baseline_agent
from research.eval.hints import HintRecorder
from research.eval.judge import ReplyJudge
from research.eval.measures import build_measures, matched_sizes
from research.eval.report import RunInfo, VariantRun, write_report
from research.eval.runner import BASELINES, DETERMINISTIC, NO_CHAIN, DialogueResult, TextAgent, Variant, run_variant
from research.eval.stats import DEFAULT_RESAMPLES, resample_indices
from research.eval.summary import summarize
from research.formats import FORMATS, load_corpus
from research.release import release_model

BOOTSTRAP_SEED = 0  # the resampling draws are fixed, so a report's intervals are reproducible too


class EvalError(ValueError):
    """A bad eval request (unknown persona, lens or baseline); the message says what to use instead."""


@dataclass
class EvalRequest:
    """What to evaluate: the dialogue file and its format, the variants, baselines, seeds and the bootstrap."""

    dialogues_file: Path
    out_dir: Path
    fmt: str = "jsonl"
    personas: Sequence[str] = ()
    lenses: Sequence[str] = ()
    max_dialogues: int = 0
    max_turns: int = 0
    seeds: int = 1
    baselines: Sequence[str] = BASELINES
    resamples: int = DEFAULT_RESAMPLES
    command: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


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


def resolve_baselines(names: Sequence[str]) -> list[str]:
    """The baselines asked for, checked (names from research.eval.runner.BASELINES)."""
    unknown = [name for name in names if name not in BASELINES]
    if unknown:
        raise EvalError(f"unknown baseline {', '.join(unknown)}; choose from {', '.join(BASELINES)} (or none)")
    return list(dict.fromkeys(names))


def build_text_agent(
    config: Config,
    model: Any = None,
    perceive: Perceiver | None = None,
    out: TextIO | None = None,
) -> TextAgent:
    """The agent's mind from configuration (compose.engines): LLM, perception, safety, transition, responders.

    `model` and `perceive` default to the configured LLM and the server's text perception. The model is wrapped
    in a HintRecorder (research.eval.hints) so each chain turn's prompt hints are kept. Each variant's responder is
    built (and its prompt cache warmed) on first use. Raises compose.engines.EngineError.
    """
    from compose.engines import (
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

    model = model if model is not None else load_llm(config, out)
    recorder = HintRecorder(model)
    perceive = perceive if perceive is not None else load_perception(out).perceive
    safety, _hook = load_safety(config)  # no escalation hook: scripted dialogues are not people in danger
    load = responder_loader(config, recorder, out)
    plain_config = config.model_copy(deep=True)
    plain_config.empathy.enabled = False
    load_plain = responder_loader(plain_config, recorder, out)
    responders: dict[Variant, Any] = {}

    def responder_for(variant: Variant) -> Any:
        if variant not in responders:
            spec = persona_spec(config, variant.persona)
            responders[variant] = load((spec.name, spec.prompt, variant.lens))
            warm_up(responders[variant], config, out)
        return responders[variant]

    def plain_responder_for(variant: Variant) -> Any:
        key = Variant(variant.persona, variant.lens, "plain")
        if key not in responders:
            spec = persona_spec(config, variant.persona)
            responders[key] = load_plain((spec.name, spec.prompt, variant.lens))
        return responders[key]

    return TextAgent(
        perceive=perceive,
        choose_reply_emotion=load_reply_emotion(config),
        responder_for=responder_for,
        safety=safety,
        history_turns=config.server.history_turns,
        memory=load_memory(config, recorder),
        hints=recorder,
        plain_responder_for=plain_responder_for,
        acknowledger=load_acknowledger(config),
    )


def build_judge(out: TextIO | None = None) -> tuple[ReplyJudge, Perceiver, Path]:
    """The reply judge on the server's text perception (MiniLM + lexical cues) and MiniLM sentence embeddings,
    the perceiver for the agent (the same object: the weights load once) and the embedding model's folder."""
    from agent.perception import TextPerception
    from agent.perception.minilm import MiniLmEncoder
    from compose.engines import timed_load
    from compose.models import PERCEPTION_MODEL
    from core.provision import model_dir

    folder = model_dir(PERCEPTION_MODEL)
    encoder = timed_load(f"sentence embeddings {PERCEPTION_MODEL}", lambda: MiniLmEncoder(folder), out)
    perception = timed_load("text perception", lambda: TextPerception(encoder), out)
    return ReplyJudge(perception.perceive, encoder.encode), perception.perceive, folder


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
    *,
    fmt: str = "jsonl",
    seeds: int = 1,
    baselines: Sequence[str] = BASELINES,
    resamples: int = DEFAULT_RESAMPLES,
    judge: ReplyJudge | None = None,
) -> int:
    """Evaluate and write the report under `out_dir`; returns the exit code (2: bad input or missing model).

    `agent` and `judge` replace the configured engines (tests pass scripted ones); with `agent` every seed runs
    on it (its model is not reloaded)."""
    request = EvalRequest(
        dialogues_file, out_dir, fmt, personas, lenses, max_dialogues, max_turns, seeds, baselines, resamples, command
    )
    return evaluate_request(config, request, agent=agent, judge=judge, progress=progress)


def evaluate_request(
    config: Config,
    request: EvalRequest,
    agent: TextAgent | None = None,
    judge: ReplyJudge | None = None,
    progress: TextIO | None = None,
) -> int:
    """Run `request` (see run_eval)."""
    from compose.engines import EngineError

    progress = progress or sys.stderr
    perceive: Perceiver | None = None
    perception_folder: Path | None = None
    try:
        if request.fmt not in FORMATS:
            raise EvalError(f"unknown format {request.fmt!r}; choose from {', '.join(FORMATS)}")
        if request.seeds < 1:
            raise EvalError(f"--seeds must be at least 1, got {request.seeds}")
        dialogues = load_corpus(request.fmt, request.dialogues_file)
        variants = resolve_variants(config, request.personas, request.lenses)
        kinds = resolve_baselines(request.baselines)
        if agent is not None and NO_CHAIN in kinds and agent.plain_responder_for is None:
            raise EvalError("the no-chain baseline needs the agent's plain responder; leave it out with --baselines")
        if judge is None:
            judge, perceive, perception_folder = build_judge(progress)
    except (DialogueError, EvalError, EngineError) as exc:
        print(f"empathica: {exc}", file=sys.stderr)
        return 2
    if request.max_dialogues > 0:
        dialogues = dialogues[: request.max_dialogues]
    first = variants[0]
    baseline_variants = [Variant(first.persona, first.lens, kind) for kind in kinds]
    seeds = [config.llm.seed + i for i in range(request.seeds)]
    turns = sum(len(_turns(d, request.max_turns)) for d in dialogues)
    print(
        f"[eval] {len(dialogues)} dialogues, {turns} turns, {len(variants)} variant(s) + {len(kinds)} baseline(s), "
        f"{len(seeds)} seed(s): " + ", ".join(v.key for v in variants + baseline_variants),
        file=progress,
        flush=True,
    )
    started = time.perf_counter()
    results: dict[Variant, list[DialogueResult]] = {v: [] for v in variants + baseline_variants}
    for seed in seeds:
        seeded = agent
        try:
            if seeded is None:
                seeded_config = config.model_copy(deep=True)
                seeded_config.llm.seed = seed
                seeded = build_text_agent(seeded_config, perceive=perceive, out=progress)
        except EngineError as exc:
            print(f"empathica: {exc}", file=sys.stderr)
            return 2
        try:
            for variant in variants + baseline_variants:
                if variant.kind in DETERMINISTIC and seed != seeds[0]:
                    continue  # no LLM: every seed would give the same turns
                runner_agent = seeded if not variant.is_baseline else _baseline(variant, seeded)
                label = None if variant.kind in DETERMINISTIC else seed
                results[variant] += run_variant(
                    runner_agent, dialogues, variant, request.max_turns, progress, seed=label
                )
        finally:
            if agent is None:
                close_agent(seeded)
    for variant_results in results.values():
        judge.judge_all(variant_results)
    runs = _summaries(results, [d.id for d in dialogues], request.resamples)
    info = RunInfo(
        dialogues_file=str(request.dialogues_file),
        model=config.llm.model,
        command=request.command,
        max_dialogues=request.max_dialogues,
        max_turns=request.max_turns,
        extra={
            "format": request.fmt,
            "seeds": ", ".join(map(str, seeds)),
            "bootstrap": f"{request.resamples} resamples of the dialogues, 95 % percentile intervals",
            "run time": f"{time.perf_counter() - started:.0f} s",
            "LLM threads": config.llm.threads,
            **request.extra,
        },
        provenance=_provenance(config, request, seeds, variants, kinds, perception_folder),
    )
    files = write_report(request.out_dir, runs, info)
    print(f"[eval] report: {files['markdown']} and {files['json']}", file=progress, flush=True)
    return 0


def _turns(dialogue: Dialogue, max_turns: int) -> list[Any]:
    return dialogue.turns[:max_turns] if max_turns > 0 else dialogue.turns


def _baseline(variant: Variant, agent: TextAgent) -> TextAgent:
    return baseline_agent(variant.kind, agent, agent.plain_responder_for if variant.kind == NO_CHAIN else None)


def _summaries(results: dict[Variant, list[DialogueResult]], order: list[str], resamples: int) -> list[VariantRun]:
    runs = [
        [t.reply for r in rs if r.seed == seed for t in r.turns if t.answered and t.reply.strip()]
        for rs in results.values()
        for seed in {r.seed for r in rs}
    ]
    sizes = matched_sizes(runs)
    measures = build_measures(sizes)
    draws = resample_indices(len(order), resamples, BOOTSTRAP_SEED) if resamples > 0 else None
    return [
        VariantRun(variant_results, summarize(variant_results, variant, measures, order, draws))
        for variant, variant_results in results.items()
    ]


def close_agent(agent: TextAgent | None) -> None:
    """Free the agent's LLM and wait for its native threads (research.release): a clean exit."""
    if agent is not None and agent.hints is not None:
        release_model(agent.hints.model)


def _provenance(
    config: Config,
    request: EvalRequest,
    seeds: list[int],
    variants: list[Variant],
    kinds: list[str],
    perception_folder: Path | None,
) -> dict[str, Any]:
    from research.provenance import collect_provenance

    return collect_provenance(
        config=config.model_dump(mode="json"),
        dataset=request.dialogues_file,
        dataset_format=request.fmt,
        seeds=seeds,
        command=request.command or " ".join(sys.argv),
        models=_model_paths(config, perception_folder),
        settings={
            "variants": [{"persona": v.persona, "lens": v.lens} for v in variants],
            "baselines": kinds,
            "chain_of_empathy": config.empathy.enabled,
            "llm_backend": config.llm.backend,
            "llm_adapter": config.llm.adapter or None,
            "max_dialogues": request.max_dialogues,
            "max_turns": request.max_turns,
            "bootstrap_resamples": request.resamples,
            "bootstrap_seed": BOOTSTRAP_SEED,
        },
    )


def _model_paths(config: Config, perception_folder: Path | None) -> dict[str, Path | None]:
    from compose.models import llm_file
    from core.provision import ModelError

    paths: dict[str, Path | None] = {"perception": perception_folder}
    if config.llm.backend == "embedded":
        try:
            paths["llm"] = llm_file(config.llm.model)
        except ModelError:
            paths["llm"] = None
    elif config.llm.backend == "transformers" and "/" in config.llm.model:
        paths["llm"] = Path(config.llm.model)
    if config.llm.adapter:
        paths["adapter"] = Path(config.llm.adapter)
    return paths
