"""GoEmotions (Demszky et al. 2020): its TSV files (data/train.tsv, dev.tsv, test.tsv).

Each line is `text <TAB> label ids <TAB> comment id`, the ids comma-separated indices into GoEmotions' 28 labels.
Each comment is a one-turn dialogue. Its labels are mapped to the basic emotions (research/data/mappings/
goemotions.toml, the paper's Ekman grouping); a comment whose labels map to more than one basic emotion is left
unlabelled (the original labels stay in `meta.goemotions`).
"""

from __future__ import annotations

from pathlib import Path

from research.dialogues import Dialogue, DialogueError, DialogueTurn


def load(path: Path) -> list[Dialogue]:
    """One single-turn dialogue per line of a GoEmotions TSV file."""
    from research.formats import mapping

    table = mapping("goemotions")
    names: list[str] = table["labels"]
    basic: dict[str, str] = table["basic"]
    dialogues = []
    seen: set[str] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != 3:
            raise DialogueError(f"{path}:{number}: expected text, label ids and id separated by tabs")
        text, ids, comment_id = (f.strip() for f in fields)
        try:
            labels = [names[int(i)] for i in ids.split(",") if i.strip()]
        except (ValueError, IndexError):
            raise DialogueError(f"{path}:{number}: label ids {ids!r} are not indices of the 28 labels") from None
        if not text or comment_id in seen:
            raise DialogueError(f"{path}:{number}: empty text or a repeated id {comment_id!r}")
        seen.add(comment_id)
        mapped = {basic[label] for label in labels}
        dialogues.append(
            Dialogue(
                id=comment_id,
                topic="GoEmotions",
                meta={"goemotions": labels},
                turns=[DialogueTurn(user=text, user_emotion=mapped.pop() if len(mapped) == 1 else None)],
            )
        )
    return dialogues
