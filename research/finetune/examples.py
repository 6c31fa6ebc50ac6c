"""Training chats from dialogues: the prompt the server's plain responder would send, and the reference reply.

The adapter must see the reply emotion at inference the way it saw it in training, so each example is built by
`agent.responder.Responder` itself (with `empathy.enabled = false` that is how the server prompts the model):

- system: the persona prompt (`prompts/persona_default.txt` by default), unchanged every turn;
- history: the earlier turns of the dialogue as the server stores them, the user's plain words and the
  reference replies;
- last user message: `prompts/turn_default.txt`, the user's words plus the note "they seem quite sad. Reply with
  gentle, compassionate softness ...", whose reply feeling is the phrase for `reply_emotion` in
  `prompts/feelings_default.txt`;
- target: the turn's reference `reply`.

Turns without a reference reply or reply emotion are context only (they stay in the history), never targets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from agent.base import ChatMessage, ChatModel
from agent.prompts import PromptLibrary
from agent.responder import Responder
from core.emotion import PALETTE_VAD, VAD, EmotionState
from research.dialogues import Dialogue

# The dialogues label the user's emotion without an intensity; the note then says "quite <feeling>".
USER_INTENSITY = 0.6


@dataclass(frozen=True)
class ChatExample:
    """One training target: the chat before the reply, the reference reply and the emotion it was written with."""

    dialogue_id: str
    turn: int
    messages: list[ChatMessage]
    reply: str
    reply_emotion: str


class EmotionConditioning:
    """Builds the prompt for a reply with a given emotion, as the server's plain responder does."""

    def __init__(
        self, persona_prompt: str = "persona_default", persona_name: str = "Mira", prompts: PromptLibrary | None = None
    ) -> None:
        """`persona_prompt` names a template in prompts/ (the server's persona.prompt, without .txt)."""
        self.prompts = prompts or PromptLibrary()
        self.persona_prompt = persona_prompt.removesuffix(".txt")
        self.system_prompt = self.prompts.render(self.persona_prompt, name=persona_name)
        # Only the responder's prompt building is used; it never calls a model here.
        self._responder = Responder(cast(ChatModel, None), self.system_prompt, prompts=self.prompts)

    def messages(
        self, user_text: str, user_emotion: str | None, reply_emotion: str, history: list[ChatMessage]
    ) -> list[ChatMessage]:
        """System prompt, `history` and the turn message asking for a reply in `reply_emotion` (a palette label)."""
        user = EmotionState.from_label(user_emotion or "neutral", USER_INTENSITY)
        return self._responder.messages(user_text, user, palette_state(reply_emotion), history)


def palette_state(label: str) -> EmotionState:
    """An emotion state carrying palette `label` (basic or the agent's finer palette) at its centre."""
    if label not in PALETTE_VAD:
        raise ValueError(f"unknown reply emotion {label!r}; known: {', '.join(PALETTE_VAD)}")
    vad = VAD(*PALETTE_VAD[label])
    return EmotionState(vad=vad, label=label, intensity=round(min(1.0, vad.distance(VAD(0, 0, 0))), 4))


def build_examples(dialogues: list[Dialogue], conditioning: EmotionConditioning) -> list[ChatExample]:
    """One example per turn that has both a reference reply and a reply emotion, in dialogue order."""
    examples: list[ChatExample] = []
    for dialogue in dialogues:
        history: list[ChatMessage] = []
        for index, turn in enumerate(dialogue.turns):
            if turn.reply and turn.reply_emotion:
                messages = conditioning.messages(turn.user, turn.user_emotion, turn.reply_emotion, history)
                examples.append(ChatExample(dialogue.id, index, messages, turn.reply, turn.reply_emotion))
            history.append(ChatMessage("user", turn.user))
            if turn.reply:
                history.append(ChatMessage("assistant", turn.reply))
    return examples
