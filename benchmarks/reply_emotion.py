"""Reply emotion appropriateness and schema validity of the chain of empathy on scripted support dialogues.

Each user turn carries a gold emotion (benchmarks/data/dialogues.json), so this measures the chain, not
perception: the gold emotion stands in for the perceiver, and the rest is the server's own text turn
(agent.mind: smoothing, the persona's transition for the face's emotion, the chain of empathy); the one rule table
(agent.reply_emotion) judges the reply emotion. Printed: the share of schema-valid outputs (first
attempt, and after the one retry), the share of appropriate reply emotions as the model proposed them and after
the clamp, the share of appropriate face emotions, the model's agreement with the gold user emotion, and the
strategy mix (Lee et al.: without reasoning small models mostly ask questions).

    OMP_WAIT_POLICY=PASSIVE python benchmarks/reply_emotion.py [--model qwen2.5-coder-1.5b] [--lens cbt] [--limit 16]
        [--persona mira]
"""

from __future__ import annotations

import argparse
import collections
import json
import time
from collections.abc import Sequence
from pathlib import Path

from agent.empathy.chain import LENSES, EmpathyChain
from agent.empathy.schema import EmpathyPlan
from agent.llm.embedded import EmbeddedLlm
from agent.mind import Conversation, Mind
from agent.prompts import PromptLibrary
from agent.reply_emotion import is_appropriate
from compose.config import load_config
from compose.engines import load_reply_emotion
from core.emotion import EmotionState
from core.provision import model_dir

DATA = Path(__file__).with_name("data") / "dialogues.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="qwen2.5-coder-1.5b", help="model name from core/models.toml")
    parser.add_argument("--lens", default="cbt", choices=LENSES)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--limit", type=int, default=0, help="only the first N dialogues (0: all)")
    parser.add_argument("--persona", default="mira", help="whose temperament shapes the face's emotion")
    parser.add_argument("--verbose", action="store_true", help="print every plan")
    args = parser.parse_args()

    dialogues = json.loads(DATA.read_text())["dialogues"]
    if args.limit:
        dialogues = dialogues[: args.limit]
    model = EmbeddedLlm(model_dir(args.model) / "model.gguf", threads=args.threads)
    chain = EmpathyChain(model, PromptLibrary().load("persona_default"), lens=args.lens)

    gold: list[EmotionState] = []

    def perceive_gold(text: str, context: Sequence[str] = ()) -> EmotionState:
        return gold[-1]

    mind = Mind(perceive_gold, load_reply_emotion(load_config()))
    counts: collections.Counter[str] = collections.Counter()
    strategies: collections.Counter[str] = collections.Counter()
    started = time.perf_counter()
    for dialogue in dialogues:
        conversation = Conversation(persona=args.persona)
        for spec in dialogue["turns"]:
            gold.append(EmotionState.from_label(spec["emotion"], spec["intensity"]))
            turn = mind.turn(chain, spec["text"], conversation.context())
            conversation.add(spec["text"], turn)
            if turn.error:
                raise SystemExit(f"the model failed: {turn.error}")
            said, plan = turn.sentences, turn.plan
            user, face = turn.appraisal.user, turn.appraisal.agent
            assert isinstance(plan, EmpathyPlan)
            counts["turns"] += 1
            counts["valid_first"] += turn.attempts == 1 and plan.source == "model"
            counts["valid_any"] += plan.source == "model"
            counts["fallback"] += plan.source == "fallback"
            if plan.source == "model":
                counts["model_plans"] += 1
                counts["proposed_ok"] += is_appropriate(user, plan.llm_reply_emotion)
                counts["user_emotion_agree"] += plan.user_emotion == spec["emotion"]
                strategies[plan.strategy] += 1
            counts["clamped_ok"] += is_appropriate(user, plan.reply_emotion)
            counts["face_ok"] += is_appropriate(user, face.label)
            flag = "" if is_appropriate(user, plan.llm_reply_emotion or plan.reply_emotion) else "  <- clamped"
            print(
                f"{dialogue['id']:18} user {spec['emotion']:8} face {face.label:8} model "
                f"{plan.llm_reply_emotion or '-':8} -> {plan.reply_emotion:8} {plan.strategy:18} "
                f"{plan.source}{flag}"
            )
            if args.verbose:
                print(f"    event: {plan.event} | cause: {plan.cause}\n    said: {' '.join(said)}")
    model.close()

    n, m = counts["turns"], max(1, counts["model_plans"])
    elapsed = time.perf_counter() - started
    print(f"\nsummary: {args.model}, lens {args.lens}, {len(dialogues)} dialogues, {n} turns, {elapsed:.0f} s")
    print(f"  schema-valid outputs, first attempt    {counts['valid_first'] / n:7.1%}  (target >= 99%)")
    print(f"  schema-valid outputs, after one retry  {counts['valid_any'] / n:7.1%}  (fallbacks: {counts['fallback']})")
    print(f"  appropriate reply emotion, as proposed {counts['proposed_ok'] / m:7.1%}  (model plans only)")
    print(f"  appropriate reply emotion, after clamp {counts['clamped_ok'] / n:7.1%}  (target >= 95%)")
    print(f"  appropriate face emotion (transition)  {counts['face_ok'] / n:7.1%}")
    print(f"  model's user emotion = gold            {counts['user_emotion_agree'] / m:7.1%}")
    mix = ", ".join(f"{name} {strategies[name] / m:.0%}" for name in sorted(strategies))
    print(f"  strategy mix: {mix}")


if __name__ == "__main__":
    main()
