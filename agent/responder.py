"""The reply step of a turn: prompt the chat model and stream back complete, speakable sentences.

The system prompt is a stable prefix (the persona only, no per-turn content) so llama.cpp's prompt cache keeps
it, and the past turns, across turns; the per-turn emotion guidance goes into the latest user message, built
from a template. For the best cache reuse, store in the history the user message as sent
(`Responder.turn_message`) and the reply as spoken. A later issue puts the chain of empathy in front of this.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from agent.base import ChatMessage, ChatModel
from agent.feelings import FeelingWords
from agent.prompt_budget import PromptBudget
from agent.prompt_cache import recent_history, warm_prompt_cache
from agent.prompts import PromptLibrary
from agent.sentences import ReplyLength, SentenceSplitter
from core.emotion import EmotionState


class Responder:
    """Writes the agent's reply to one user turn as a stream of sentences."""

    def __init__(
        self,
        model: ChatModel,
        system_prompt: str,
        max_tokens: int = 120,
        temperature: float = 0.7,
        prompts: PromptLibrary | None = None,
        turn_template: str = "turn_default",
        feelings: str = "feelings_default",
        fallback_template: str = "fallback_default",
        max_history_messages: int = 16,
        max_sentences: int = 3,
        budget: PromptBudget | None = None,
        max_words: int = 0,
    ) -> None:
        """`system_prompt` is the persona text (e.g. `prompts/persona_default.txt`), sent unchanged every turn.

        `max_sentences` stops the model once that many sentences are out: small models ramble past the persona's
        "one to three sentences" (0 disables the cap); `max_words` (0: none) stops it before a sentence that would
        take it past that many words (agent.sentences.ReplyLength). `budget` fits each prompt into the model's
        context (the oldest history goes first); None: only `max_history_messages` bounds it.
        """
        if not system_prompt.strip():
            raise ValueError("system_prompt is empty: pass the persona text, e.g. prompts/persona_default.txt")
        self.model = model
        self.system_prompt = system_prompt
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.prompts = prompts or PromptLibrary()
        self.turn_template = turn_template
        self.feelings = feelings
        self.fallback_template = fallback_template
        self.max_history_messages = max_history_messages
        self.max_sentences = max_sentences
        self.length = ReplyLength(max_sentences, max_words)
        self.budget = budget
        # Fail at start-up, not mid-conversation, when a template is missing.
        self.prompts.load(turn_template)
        self.prompts.load(fallback_template)
        self._feelings = FeelingWords(self.prompts, feelings)

    def warm_up(self, history: Sequence[ChatMessage] = ()) -> None:
        """Process the system prompt and the recent `history` (agent.prompt_cache) so the next turn finds them in
        the prompt cache. Raises what the model raises."""
        warm_prompt_cache(self.model, self.system_prompt, history, self.max_history_messages, self.budget)

    def turn_message(self, user_text: str, user_emotion: EmotionState, agent_emotion: EmotionState) -> ChatMessage:
        """The latest user message: their words plus the private note on their feeling and the reply's feeling."""
        content = self.prompts.render(
            self.turn_template,
            user_text=user_text.strip(),
            user_feeling=self._feelings.user(user_emotion.label, user_emotion.intensity),
            reply_feeling=self._feelings.reply(agent_emotion.label),
            user_emotion=user_emotion.label,
            agent_emotion=agent_emotion.label,
        )
        return ChatMessage("user", content)

    def messages(
        self, user_text: str, user_emotion: EmotionState, agent_emotion: EmotionState, history: list[ChatMessage]
    ) -> list[ChatMessage]:
        """The full prompt: system prompt, the most recent history, and this turn's user message.

        Raises PromptTooLong (with a budget) when the message cannot fit the model's context even alone.
        """
        recent = recent_history(history, self.max_history_messages)
        system = ChatMessage("system", self.system_prompt)
        message = self.turn_message(user_text, user_emotion, agent_emotion)
        if self.budget is not None:
            return self.budget.fit(system, recent, message)
        return [system, *recent, message]

    def check_room(
        self,
        user_text: str,
        user_emotion: EmotionState,
        agent_emotion: EmotionState,
        history: list[ChatMessage],
        summary: str = "",
        mismatch: bool = False,
    ) -> None:
        """Raise PromptTooLong when this turn's message cannot fit the model's context (before anything is said)."""
        self.messages(user_text, user_emotion, agent_emotion, history)

    def reply(
        self, user_text: str, user_emotion: EmotionState, agent_emotion: EmotionState, history: list[ChatMessage]
    ) -> Iterator[str]:
        """Yield the reply's sentences as the model completes each; closing the iterator stops the model."""
        messages = self.messages(user_text, user_emotion, agent_emotion, history)
        splitter = SentenceSplitter()
        stream = self.model.stream(messages, self.max_tokens, self.temperature)
        said: list[str] = []
        try:
            for piece in stream:
                for sentence in splitter.feed(piece):
                    if not self.length.admits(said, sentence):
                        return
                    said.append(sentence)
                    yield sentence
                    if len(said) == self.max_sentences:  # stop the model now, not after another sentence
                        return
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()
        for sentence in splitter.flush():
            if not self.length.admits(said, sentence):
                return
            said.append(sentence)
            yield sentence
        if not said:
            yield self.prompts.render(self.fallback_template)
