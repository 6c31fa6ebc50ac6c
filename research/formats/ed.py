"""EmpatheticDialogues (Rashkin et al. 2019): its CSV files (train.csv, valid.csv, test.csv).

Columns `conv_id, utterance_idx, context, prompt, speaker_idx, utterance, selfeval, tags`; commas inside text are
written `_comma_`. The speaker who lived the situation opens, the listener answers, and they alternate: the
speaker's utterances are the user turns, each listener utterance the reference reply to the turn before it.
`context` (one of 32 emotions) is mapped to a basic emotion (research/data/mappings/ed.toml) and labels the
first user turn, the one that tells the situation; `prompt` is the dialogue's `situation`.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

from research.dialogues import Dialogue, DialogueError, DialogueTurn

COLUMNS = ("conv_id", "utterance_idx", "context", "prompt", "speaker_idx", "utterance")


def _text(value: str) -> str:
    return value.replace("_comma_", ",").strip()


def load(path: Path) -> list[Dialogue]:
    """The dialogues of an EmpatheticDialogues CSV file, in file order."""
    from research.formats import mapping

    basic = mapping("ed")
    rows: dict[str, list[dict[str, str]]] = defaultdict(list)
    with path.open(encoding="utf-8", newline="") as file:
        reader = csv.DictReader(file)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise DialogueError(f"{path}: not an EmpatheticDialogues CSV (missing columns {', '.join(missing)})")
        for number, row in enumerate(reader, start=2):
            if not row.get("conv_id") or not (row.get("utterance") or "").strip():
                raise DialogueError(f"{path}:{number}: a row without conv_id or utterance")
            rows[row["conv_id"]].append(row)
    dialogues = []
    for conv_id, utterances in rows.items():
        utterances.sort(key=lambda r: int(r["utterance_idx"]))
        emotion = utterances[0]["context"].strip()
        turns: list[DialogueTurn] = []
        for i in range(0, len(utterances), 2):
            reply = utterances[i + 1] if i + 1 < len(utterances) else None
            turns.append(
                DialogueTurn(
                    user=_text(utterances[i]["utterance"]),
                    user_emotion=basic.get(emotion) if i == 0 else None,
                    reply=_text(reply["utterance"]) if reply else None,
                    meta={"utterance_idx": int(utterances[i]["utterance_idx"])},
                )
            )
        dialogues.append(
            Dialogue(
                id=conv_id,
                topic=emotion,
                situation=_text(utterances[0]["prompt"]),
                meta={"ed_emotion": emotion},
                turns=turns,
            )
        )
    return dialogues
