"""Reading the user with the conversation in view: macro-F1 of the live perceiver on the labelled user turns of the
project's written dialogues (research/data/dialogues.jsonl), each turn alone vs with the previous user turns.

Each turn gets the user's previous utterances as the turn function passes them (agent.mind,
PERCEPTION_CONTEXT_TURNS); turns whose reading changes are listed with `--changes`.

    OMP_WAIT_POLICY=PASSIVE python -m benchmarks.emotion_context [--dialogues FILE] [--changes]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from agent.mind import PERCEPTION_CONTEXT_TURNS
from agent.perception.evaluation import f1_per_label, macro_f1
from agent.perception.minilm import MiniLmEncoder
from agent.perception.text import load_text_perception
from core.emotion import BASIC_EMOTIONS
from core.provision import model_dir

DIALOGUES = Path(__file__).resolve().parents[1] / "research" / "data" / "dialogues.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dialogues", type=Path, default=DIALOGUES)
    parser.add_argument("--changes", action="store_true", help="list the turns whose label the context changed")
    args = parser.parse_args()

    turns: list[tuple[str, list[str], str]] = []  # (text, previous user utterances, gold label)
    for line in args.dialogues.read_text(encoding="utf-8").splitlines():
        if line.strip():
            said: list[str] = []
            for turn in json.loads(line)["turns"]:
                turns.append((turn["user"], said[-PERCEPTION_CONTEXT_TURNS:], turn["user_emotion"]))
                said.append(turn["user"])
    live = load_text_perception(MiniLmEncoder(model_dir("minilm-l6")))
    truth = [gold for _, _, gold in turns]
    alone = [live.perceive(text).label for text, _, _ in turns]
    with_context = [live.perceive(text, context).label for text, context, _ in turns]
    print(f"{args.dialogues}: {len(turns)} labelled user turns, context = up to {PERCEPTION_CONTEXT_TURNS} previous")
    for name, predicted in (("each turn alone", alone), ("with the previous turns", with_context)):
        per_label = f1_per_label(truth, predicted, BASIC_EMOTIONS)
        print(
            f"{name:<24} macro-F1 {macro_f1(truth, predicted, BASIC_EMOTIONS):.3f}  "
            + ", ".join(f"{k} {v:.2f}" for k, v in per_label.items())
        )
    changed = [(t, a, c) for t, a, c in zip(turns, alone, with_context, strict=True) if a != c]
    print(f"the context changed {len(changed)} of {len(turns)} labels")
    if args.changes:
        for (text, _, gold), a, c in changed:
            print(f"  gold {gold:<8} alone {a:<8} with context {c:<8} {text}")


if __name__ == "__main__":
    main()
