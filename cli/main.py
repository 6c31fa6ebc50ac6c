"""The `empathica` command: serve the avatar, render a reply offline, manage models."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

# Idle OpenMP threads must not spin: ASR, TTS and the LLM share few cores. Set before heavy libraries load.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from compose.config import ConfigError, load_config
from core.emotion import BASIC_EMOTIONS

EXIT_USAGE = 2  # bad configuration or missing models: the message says what to do


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="empathica", description="An empathetic talking avatar that runs offline on a laptop CPU."
    )
    parser.add_argument("--config", type=Path, help="a TOML configuration file (see compose/default.toml)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="load the models and serve the web page and websocket")
    serve.add_argument("--host", help="interface to listen on (default from the configuration: 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on; 0 picks a free one (default 8765)")

    render = commands.add_parser("render", help="voice and animate a text offline into an MP4 file (no LLM)")
    render.add_argument("--text", required=True, help="what the avatar says")
    render.add_argument("--emotion", default="neutral", choices=BASIC_EMOTIONS, help="the emotion to say it in")
    render.add_argument("--intensity", type=float, default=0.6, help="emotion intensity in [0, 1] (default 0.6)")
    render.add_argument("--out", type=Path, required=True, help="the MP4 file to write")
    render.add_argument("--portrait", help="a JPEG/PNG photo with one face (default: the configured portrait)")

    chat = commands.add_parser("chat", help="chat in the terminal (text only: shows emotions and the reasoning)")
    chat.add_argument("--persona", help="the persona to chat with, e.g. Mira, Sunny or Kai (default: persona.name)")
    chat.add_argument(
        "--lens", choices=("cbt", "dbt", "person_centred", "reality"), help="the therapy lens (default: the persona's)"
    )
    chat.add_argument("--model", help="LLM model name or GGUF path (default from the configuration)")

    perceive = commands.add_parser("perceive", help="print the perceived emotion of each line of a JSONL file")
    source = perceive.add_mutually_exclusive_group(required=True)
    source.add_argument("--jsonl", type=Path, help='a file of lines {"text": ...} (optional "voice"); - for stdin')
    source.add_argument(
        "--score",
        type=Path,
        help='score perception on a labelled set: lines {"text", "label"} or a GoEmotions-format .tsv',
    )
    perceive.add_argument(
        "--confusion", type=Path, default=Path("confusion.png"), help="with --score: the confusion-matrix PNG"
    )
    perceive.add_argument("--lexical-only", action="store_true", help="no sentence embeddings (no model needed)")

    sheet = commands.add_parser("contact-sheet", help="draw the avatar's face for every emotion into one PNG")
    sheet.add_argument("--out", type=Path, required=True, help="the PNG file to write")
    sheet.add_argument("--portrait", help="a JPEG/PNG photo with one face (default: the configured portrait)")
    sheet.add_argument("--tile", type=int, default=160, help="tile size in pixels (default 160)")

    commands.add_parser("sessions", help="list the stored conversations: id, persona, start, turns, last turn")

    export = commands.add_parser("export", help="write the stored conversation turns as JSON lines or CSV")
    export.add_argument("--format", choices=("jsonl", "csv"), default="jsonl", help="output format (default jsonl)")
    export.add_argument("--session", help="only this session id (default: every session)")
    export.add_argument("--out", type=Path, help="the file to write (default: stdout)")

    evaluate = commands.add_parser("eval", help="run the agent over scripted dialogues and write a report")
    evaluate.add_argument(
        "dialogues", type=Path, help="a dialogue file (see --format), e.g. research/data/dialogues.jsonl"
    )
    evaluate.add_argument(
        "--format",
        choices=("jsonl", "ed", "esconv", "meld", "goemotions"),
        default="jsonl",
        help="the file's format: Empathica JSONL, EmpatheticDialogues CSV, ESConv JSON, MELD CSV, GoEmotions TSV",
    )
    evaluate.add_argument("--out", type=Path, required=True, help="the folder for report.md, report.json and plots")
    evaluate.add_argument("--model", help="LLM model name or GGUF path (default from the configuration)")
    evaluate.add_argument("--personas", help="personas to compare, e.g. mira,kai (default: persona.name)")
    evaluate.add_argument("--lenses", help="comma-separated therapy lenses to compare (default: each persona's own)")
    evaluate.add_argument("--max-dialogues", type=int, default=0, help="only the first N dialogues (0: all)")
    evaluate.add_argument("--max-turns", type=int, default=0, help="only the first N turns of each dialogue (0: all)")
    evaluate.add_argument("--seeds", type=int, default=1, help="repeat the LLM runs with N seeds (llm.seed, +1, ...)")
    evaluate.add_argument(
        "--baselines",
        help="baselines beside the agent: always-neutral,rules-only,no-chain (the default) or none",
    )
    evaluate.add_argument(
        "--bootstrap", type=int, default=1000, help="bootstrap resamples for the 95 %% intervals (0: none)"
    )

    replay = commands.add_parser("replay", help="re-run a stored conversation as another persona and compare")
    replay.add_argument("session", help="the stored session id (see `empathica export`)")
    replay.add_argument("--persona", required=True, help="the persona to replay it with, e.g. Kai")
    replay.add_argument("--lens", choices=("cbt", "dbt", "person_centred", "reality"), help="default: the persona's")
    replay.add_argument("--model", help="LLM model name or GGUF path (default from the configuration)")
    replay.add_argument("--out", type=Path, required=True, help="the folder for replay.md and replay.json")

    from research.finetune.command import add_arguments as add_finetune_arguments  # light: torch loads on run

    add_finetune_arguments(
        commands.add_parser("finetune", help="train a LoRA adapter on scripted dialogues (docs/finetune.md)")
    )

    from research.humaneval.command import add_arguments as add_humaneval_arguments

    add_humaneval_arguments(
        commands.add_parser("humaneval", help="blinded A/B pairs for human raters, and their ratings back")
    )

    models = commands.add_parser("models", help="list, install or verify the offline models")
    model_commands = models.add_subparsers(dest="models_command", required=True, metavar="ACTION")
    model_commands.add_parser("list", help="every known model, whether it is installed, and what it is for")
    install = model_commands.add_parser("install", help="download and verify models (default: those configured)")
    install.add_argument("names", nargs="*", help="model names (default: the models the configuration needs)")
    install.add_argument("--all", action="store_true", help="install every known model")
    model_commands.add_parser("verify", help="re-check the sha256 of every installed model file")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `empathica` console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"empathica: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.command == "serve":
        from server.serve import serve

        return serve(config, host=args.host, port=args.port)
    if args.command == "render":
        from cli.render import render_to_file

        return render_to_file(config, args.text, args.emotion, args.intensity, args.out, args.portrait)
    if args.command == "chat":
        from cli.chat import run_chat

        if args.model:
            config.llm.model = args.model
        return run_chat(config, persona=args.persona, lens=args.lens)
    if args.command == "perceive":
        from cli.perceive import run_perceive, run_score

        if args.score is not None:
            return run_score(args.score, args.confusion, lexical_only=args.lexical_only)
        return run_perceive(args.jsonl, lexical_only=args.lexical_only)
    if args.command == "contact-sheet":
        from cli.contact_sheet import write_contact_sheet

        return write_contact_sheet(config, args.out, args.portrait, args.tile)
    if args.command == "sessions":
        from cli.sessions import run_sessions

        return run_sessions(config)
    if args.command == "export":
        from cli.export import run_export

        return run_export(config, args.format, session_id=args.session, out=args.out)
    if args.command == "eval":
        from research.eval.command import run_eval

        if args.model:
            config.llm.model = args.model
        from research.eval.runner import BASELINES

        baselines = BASELINES if args.baselines is None else [b for b in _names(args.baselines) if b != "none"]
        return run_eval(
            config,
            args.dialogues,
            args.out,
            personas=_names(args.personas),
            lenses=_names(args.lenses),
            max_dialogues=args.max_dialogues,
            max_turns=args.max_turns,
            command=" ".join(["empathica", *(argv if argv is not None else sys.argv[1:])]),
            fmt=args.format,
            seeds=args.seeds,
            baselines=baselines,
            resamples=args.bootstrap,
        )
    if args.command == "replay":
        from research.replay import run_replay

        if args.model:
            config.llm.model = args.model
        return run_replay(config, args.session, args.persona, args.out, lens=args.lens)
    if args.command == "humaneval":
        from research.humaneval.command import run_humaneval

        return run_humaneval(args)
    if args.command == "finetune":
        from research.finetune.command import run_finetune

        return run_finetune(config, args)
    from cli import models as model_commands

    if args.models_command == "list":
        return model_commands.list_models()
    if args.models_command == "install":
        return model_commands.install_models(config, args.names, install_all=args.all)
    return model_commands.verify_models()


def _names(value: str | None) -> list[str]:
    """A comma-separated list option ("mira, kai") as names; None or empty: no names."""
    return [name.strip() for name in (value or "").split(",") if name.strip()]


if __name__ == "__main__":
    sys.exit(main())
