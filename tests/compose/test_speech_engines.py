"""Configuration and construction of the speech engines added for streaming input and a second voice."""

import numpy as np
import pytest

from compose.config import load_config
from compose.engines import load_recognizer, load_synthesizer, make_endpointer
from compose.models import config_model_names, voice_engine
from core.emotion import NEUTRAL
from core.provision import ModelError


def test_listen_and_tts_settings_load_from_the_environment():
    config = load_config(
        environ={
            "EMPATHICA_TTS_ENGINE": "hibari",
            "EMPATHICA_TTS_VOICE": "hibari-heart",
            "EMPATHICA_LISTEN_HANGOVER_MS": "320",
        }
    )
    assert config.tts.engine == "hibari" and config.listen.hangover_ms == 320
    assert "hibari-heart" not in config_model_names(config)  # it ships with the hibari-tts package
    assert "piper-joe" in config_model_names(load_config(environ={}))


def test_voice_names_pick_their_engine():
    assert voice_engine("hibari-heart") == "hibari"
    assert voice_engine("piper-joe") == "piper"
    with pytest.raises(ModelError, match="not a hibari voice"):
        load_synthesizer("hibari", "piper-joe", 1)


def test_endpointer_comes_from_the_listen_settings():
    endpointer = make_endpointer(load_config(environ={"EMPATHICA_LISTEN_PARTIAL_INTERVAL_MS": "0"}))
    assert endpointer.config.partial_interval_ms == 0 and endpointer.config.hangover_ms == 160
    assert endpointer.feed(np.zeros(16000, dtype=np.int16)) == []


@pytest.mark.models
def test_the_hibari_voice_loads_by_name():
    synthesizer = load_synthesizer("hibari", "hibari-heart", 1)
    speech = synthesizer.synthesize("Hello.", NEUTRAL)
    assert speech.sample_rate == 24000 and speech.phonemes[-1].end == pytest.approx(speech.duration, abs=0.05)


def test_an_openai_checkpoint_path_is_a_path_not_a_model_name(tmp_path):
    config = load_config(environ={"EMPATHICA_ASR_MODEL": "base.pt"})
    assert "base.pt" not in config_model_names(config)  # nothing to install by name
    with pytest.raises(ModelError, match="does not exist"):
        load_recognizer(load_config(environ={"EMPATHICA_ASR_MODEL": str(tmp_path / "missing.pt")}))


@pytest.mark.models
def test_a_pt_checkpoint_selects_the_openai_whisper_engine(tmp_path):
    from speech.asr.faster_whisper import FasterWhisperRecognizer
    from speech.asr.openai_whisper import OpenAiWhisperRecognizer
    from tests.speech.whisper_checkpoint import write_random_checkpoint

    checkpoint = write_random_checkpoint(tmp_path / "random.pt")
    config = load_config(environ={"EMPATHICA_ASR_MODEL": str(checkpoint), "EMPATHICA_ASR_LANGUAGE": "de"})
    recognizer = load_recognizer(config)
    assert isinstance(recognizer, OpenAiWhisperRecognizer)
    assert recognizer.transcribe(np.zeros(1600, dtype=np.int16), 16000).language == "de"  # the settings reach it
    assert isinstance(load_recognizer(load_config(environ={})), FasterWhisperRecognizer)  # whisper-base by name
