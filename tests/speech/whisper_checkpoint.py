"""Build tiny, randomly initialised openai-whisper checkpoints for tests (no real weights can be fetched here).

The file has exactly the layout of openai's release checkpoints (`{"dims": ..., "model_state_dict": ...}`, saved
with `torch.save`), so loading it goes through the same code as a real `base.pt`; only the numbers are random.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path


def write_random_checkpoint(path: Path, multilingual: bool = True, seed: int = 0) -> Path:
    """Save a tiny random Whisper to `path` and return it; torch and whisper are imported here, not at collection."""
    import torch
    from whisper.model import ModelDimensions, Whisper

    torch.manual_seed(seed)
    dims = ModelDimensions(
        n_mels=80,
        n_audio_ctx=1500,  # fixed by whisper's 30 s window (3000 mel frames, halved by the stride-2 conv)
        n_audio_state=64,
        n_audio_head=2,
        n_audio_layer=1,
        # 51865 is the multilingual vocabulary, 51864 the English-only one: whisper tells them apart by size.
        n_vocab=51865 if multilingual else 51864,
        # A short text context caps each window's decoding at 32 tokens (n_text_ctx // 2): random weights never
        # emit end-of-text, and a real model's 448 would make every test decode 224 tokens six times over.
        n_text_ctx=64,
        n_text_state=64,
        n_text_head=2,
        n_text_layer=2,
    )
    model = Whisper(dims)
    torch.save({"dims": asdict(dims), "model_state_dict": model.state_dict()}, path)
    return path
