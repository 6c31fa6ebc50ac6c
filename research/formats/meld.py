"""MELD (Poria et al. 2019): its text CSV files (train_sent_emo.csv, dev_sent_emo.csv, test_sent_emo.csv).

Columns `Utterance, Speaker, Emotion, Sentiment, Dialogue_ID, Utterance_ID` (and others, kept in `meta`). MELD is
multi-party TV dialogue labelled per utterance with the seven basic emotions, so every utterance becomes a user
turn labelled with its own emotion, in Utterance_ID order: it measures how the agent reads emotions, and the
agent answers each line. It has no reference replies, so reply-based metrics are n/a.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

from core.emotion import BASIC_EMOTIONS
from research.dialogues import Dialogue, DialogueError, DialogueTurn

COLUMNS = ("Utterance", "Speaker", "Emotion", "Dialogue_ID", "Utterance_ID")


def load(path: Path) -> list[Dialogue]:
    """The dialogues of a MELD CSV file, in order of first appearance."""
    rows: dict[str, list[dict[str, str]]] = defaultdict(list)
    with path.open(encoding="utf-8", errors="replace", newline="") as file:
        reader = csv.DictReader(file)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise DialogueError(f"{path}: not a MELD CSV (missing columns {', '.join(missing)})")
        for number, row in enumerate(reader, start=2):
            emotion = row["Emotion"].strip().lower()
            if emotion not in BASIC_EMOTIONS:
                raise DialogueError(f"{path}:{number}: emotion {row['Emotion']!r} is not one of MELD's seven")
            rows[row["Dialogue_ID"].strip()].append(row)
    dialogues = []
    for dialogue_id, utterances in rows.items():
        utterances.sort(key=lambda r: int(r["Utterance_ID"]))
        turns = [
            DialogueTurn(
                user=r["Utterance"].strip(),
                user_emotion=r["Emotion"].strip().lower(),
                meta={k: v for k, v in r.items() if k not in ("Utterance", "Emotion") and k is not None},
            )
            for r in utterances
            if r["Utterance"].strip()
        ]
        if turns:
            dialogues.append(Dialogue(id=f"meld-{dialogue_id}", topic="MELD", turns=turns))
    return dialogues
