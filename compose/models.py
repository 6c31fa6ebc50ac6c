"""Which models the configuration names, and where they are: a model name or a path to the user's own file.

Names resolve to verified directories under the models home (core.provision); paths are the user's files.
"""

from __future__ import annotations

from pathlib import Path

from compose.config import Config
from core.provision import ModelError, model_dir

_PATH_SUFFIXES = (".gguf", ".onnx", ".pt")  # .pt: an openai-whisper checkpoint for asr.model
# Sentence embeddings for text perception (agent.perception); always needed, so not a configuration key.
PERCEPTION_MODEL = "minilm-l6"


def resolve_model(value: str) -> Path:
    """A configured model: a path when it contains '/' or ends with .gguf/.onnx/.pt, else a model name.

    Names resolve to their verified directory under the models home (core.provision.model_dir).
    """
    if "/" in value or value.endswith(_PATH_SUFFIXES):
        path = Path(value).expanduser()
        if not path.exists():
            raise ModelError(f"model path {path} does not exist; fix the configuration or install a model by name")
        return path
    return model_dir(value)


def llm_file(value: str) -> Path:
    """The GGUF file of a configured LLM (a name or a path)."""
    path = resolve_model(value)
    return path / "model.gguf" if path.is_dir() else path


def voice_file(value: str) -> Path:
    """The .onnx file of a configured piper voice (a name or a path)."""
    path = resolve_model(value)
    if path.is_dir():
        voices = sorted(path.glob("*.onnx"))
        if not voices:
            raise ModelError(f"{path} holds no .onnx piper voice; install one with `empathica models install`")
        return voices[0]
    return path


HIBARI_VOICE = "hibari-heart"  # the voice inside the hibari-tts package (a pip dependency, not a model package)


def voice_engine(voice: str) -> str:
    """The TTS engine a voice name belongs to: "hibari" for hibari voices, else "piper" (for per-persona voices)."""
    return "hibari" if voice.startswith("hibari") else "piper"


def config_model_names(config: Config) -> list[str]:
    """The model names (not paths) the configuration needs."""
    from agent.personas import load_personas

    values = [config.asr.model]
    if config.tts.engine == "piper":  # hibari's voice comes with its pip package
        values.append(config.tts.voice)
    # Every shipped persona may be chosen by a client, so its piper voice must be installed too.
    values += sorted({p.voice for p in load_personas().values() if voice_engine(p.voice) == "piper"} - set(values))
    if config.llm.backend == "embedded":  # an HTTP backend's model name belongs to that server
        values.insert(0, config.llm.model)
    return [v for v in values if not ("/" in v or v.endswith(_PATH_SUFFIXES))] + [PERCEPTION_MODEL]
