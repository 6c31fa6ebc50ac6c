"""A train/validation split by dialogue, so the held-out loss measures replies to conversations never trained on.

Turns of one dialogue share a topic and a history, so a split by turn would leak; the split is by dialogue,
seeded, and recorded in the adapter's metadata (and the held-out dialogues written beside the adapter, ready for
`empathica eval`, so the fine-tuned agent can be compared on conversations it never saw).
"""

from __future__ import annotations

import random

from research.dialogues import Dialogue


def split_dialogues(dialogues: list[Dialogue], fraction: float, seed: int) -> tuple[list[Dialogue], list[Dialogue]]:
    """(train, validation): round(fraction x dialogues) held out, at least one when fraction > 0 and there are two
    or more dialogues, never all of them; both lists keep the file's order."""
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"--val-fraction must be in [0, 1), got {fraction}")
    if fraction == 0.0 or len(dialogues) < 2:
        return list(dialogues), []
    count = min(len(dialogues) - 1, max(1, round(fraction * len(dialogues))))
    held = set(random.Random(seed).sample(range(len(dialogues)), count))
    train = [d for i, d in enumerate(dialogues) if i not in held]
    validation = [d for i, d in enumerate(dialogues) if i in held]
    return train, validation
