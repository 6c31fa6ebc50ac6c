"""What `empathica finetune` leaves in ADAPTER/: the peft adapter, the loss log and how the adapter was made.

- adapter_config.json, adapter_model.safetensors: peft's `save_pretrained` (loadable by peft and by vLLM);
- training_log.json: every step's loss, the held-out losses (and the settings), for plots and the CI check;
- validation.jsonl: the held-out dialogues (in the eval format), to compare the tuned agent on unseen ones;
- empathica_finetune.json: the base model, the emotion-conditioning format and the dataset's sha256, so a user
  can tell which base model and prompt format the adapter needs.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from research.finetune.train import TrainResult, TrainSettings

METADATA = "empathica_finetune.json"
TRAINING_LOG = "training_log.json"
VALIDATION = "validation.jsonl"


def check_out_dir(out: Path) -> None:
    """Refuse to write into a non-empty folder that is not an earlier adapter of ours (protects other files)."""
    if out.exists() and not out.is_dir():
        raise FileExistsError(f"--out {out} is a file; pass a folder for the adapter")
    if out.is_dir() and any(out.iterdir()) and not (out / METADATA).is_file():
        raise FileExistsError(f"--out {out} is a non-empty folder that holds no empathica adapter; pass a new folder")


def save_adapter(
    result: TrainResult, out: Path, settings: TrainSettings, metadata: dict[str, Any], validation_jsonl: str = ""
) -> None:
    """Write the adapter, the training log, the metadata and the held-out dialogues into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    result.model.save_pretrained(str(out))
    log = {
        "settings": asdict(settings),
        "trainable_parameters": result.trainable_parameters,
        "total_parameters": result.total_parameters,
        "steps": [asdict(step) for step in result.steps],
        "validation": [asdict(v) for v in result.validation],
    }
    if validation_jsonl:
        (out / VALIDATION).write_text(validation_jsonl, encoding="utf-8")
    (out / TRAINING_LOG).write_text(json.dumps(log, indent=2) + "\n", encoding="utf-8")
    (out / METADATA).write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")


def read_losses(out: Path) -> list[float]:
    """The per-step losses recorded in `out`/training_log.json."""
    log = json.loads((out / TRAINING_LOG).read_text(encoding="utf-8"))
    return [float(step["loss"]) for step in log["steps"]]
