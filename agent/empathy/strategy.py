"""Which empathy strategy the chain suggests to the model this turn (EPITOME's three mechanisms).

Left alone, a small model sticks to one mechanism (Lee et al.: mostly questions without reasoning; with the
chain, mostly emotional reactions), so the chain suggests one in the per-turn note (the model may still choose
another: the schema allows all three unless the last two replies asked questions). The suggestion is a choice
from the user's state, the therapy lens and the recent replies, in this order; nothing rotates:

1. Nothing to react to (a neutral message): **exploration**, to learn what matters to them.
2. Joy: **emotional_reaction**, share it. Surprise: **exploration**, ask how they take it.
3. A strong negative feeling (sadness, fear, anger or disgust at intensity >= `STRONG`): **emotional_reaction**,
   meet the feeling before anything else.
4. A milder negative feeling: the lens's own move (`LENS_MOVES`): person-centred and CBT **interpretation**
   (reflect the feeling and its meaning; name the thought behind it), DBT **emotional_reaction** (validate
   first), reality therapy **exploration** (what they want, what they can choose).
5. The recent replies: when the last reply asked a question, they have just answered it, so the suggestion is
   never another question: **interpretation** instead of exploration (say what you understood).
"""

from __future__ import annotations

from collections.abc import Sequence

from agent.reply_emotion import COMPASSION_INTENSITY, effective_label
from core.emotion import EmotionState

# At or above this intensity a negative feeling is met first, whatever the lens: the line the rule table draws
# between compassion and calm warmth for sadness.
STRONG = COMPASSION_INTENSITY
# Each lens's move for a milder negative feeling (rule 4).
LENS_MOVES: dict[str, str] = {
    "person_centred": "interpretation",
    "cbt": "interpretation",
    "dbt": "emotional_reaction",
    "reality": "exploration",
}
_NEGATIVE = frozenset({"sadness", "fear", "anger", "disgust"})


def suggest_strategy(user: EmotionState, lens: str, recent_replies: Sequence[str] = ()) -> str:
    """The strategy to suggest for a user in state `user`, answered through therapy `lens`, after the agent's
    `recent_replies` in this conversation (oldest first); see the module's rules."""
    label = effective_label(user)
    if label in ("neutral", "surprise"):
        choice = "exploration"
    elif label == "joy" or (label in _NEGATIVE and user.intensity >= STRONG):
        choice = "emotional_reaction"
    else:
        choice = LENS_MOVES.get(lens, "interpretation")
    asked_last = bool(recent_replies) and "?" in recent_replies[-1]
    if asked_last and choice == "exploration":
        choice = "interpretation"
    return choice
