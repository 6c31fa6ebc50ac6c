import io
from pathlib import Path

import numpy as np
import pytest

from compose.config import Config, load_config
from compose.engines import load_reply_emotion
from compose.models import PERCEPTION_MODEL, config_model_names
from core.emotion import EmotionState


def test_reply_emotion_follows_the_sessions_persona():
    choose = load_reply_emotion(load_config(environ={}))
    calm_user = EmotionState.from_label("neutral", 0.0)
    sunny, kai = choose(calm_user, None, persona="Sunny"), choose(calm_user, None, persona="Kai")
    assert sunny.vad.arousal > kai.vad.arousal
    # Unknown names (clients may send anything) fall back to the configured persona.
    assert choose(calm_user, None, persona="Zed").vad == choose(calm_user, None, persona="Mira").vad


def test_unknown_configured_persona_still_loads():
    config = load_config(environ={"EMPATHICA_PERSONA_NAME": "Robin"})
    grief = EmotionState.from_label("sadness", 0.9)
    assert load_reply_emotion(config)(grief, None, persona="Robin").label in {"neutral", "sadness"}


def test_perception_model_is_installed_with_the_configured_ones():
    assert PERCEPTION_MODEL in config_model_names(load_config(environ={}))


def test_each_persona_answers_with_its_own_prompt_and_sentence_limit():
    from agent.personas import find_persona
    from compose.engines import persona_spec, responder_loader

    config = load_config(environ={})
    load = responder_loader(config, object())
    chains = {}
    for name in ("Mira", "Kai", "Sunny", "Zed"):
        spec = persona_spec(config, name)
        chains[name] = load((spec.name, spec.prompt, spec.lens))
    for name in ("Mira", "Kai", "Sunny"):
        persona = find_persona(name)
        assert persona.description in chains[name].system_prompt and persona.style in chains[name].system_prompt
        assert chains[name].max_sentences == persona.max_sentences
        assert chains[name].length.words == persona.max_words
    assert chains["Kai"].max_sentences < chains["Mira"].max_sentences
    # A name without a persona file gets the configured template and the default limit.
    assert "You are Empathica" in chains["Zed"].system_prompt and chains["Zed"].max_sentences == 3


def test_compact_and_settled_plans_and_the_opening_follow_the_configuration():
    from compose.engines import persona_spec, responder_loader

    names = ("compact_neutral", "settle_after_reaction", "open_with_detail")
    for on in (True, False):
        config = load_config(environ={f"EMPATHICA_EMPATHY_{name.upper()}": str(on).lower() for name in names})
        assert [getattr(config.empathy, name) for name in names] == [on] * 3
        spec = persona_spec(config, "Mira")
        chain = responder_loader(config, object())((spec.name, spec.prompt, spec.lens))
        assert [getattr(chain, name) for name in names] == [on] * 3


@pytest.mark.models
def test_a_portrait_configured_with_glasses_keeps_its_rims_still(tmp_path: Path):
    """Grace Hopper (Mira's portrait) wears glasses whose top rims the face mesh takes for brows: configured in
    `avatar.glasses_portraits` (the default), or marked by a file beside the photo (as uploads are), her rims stay
    when the brows rise; without either they rise too."""
    from agent.personas import portrait_path
    from avatar.face_field import BROWS
    from avatar.landmarks import LandmarkDetector
    from avatar.portrait import glasses_marker, load_portrait
    from avatar.renderer import REST_MOUTH
    from compose.engines import renderer_loader

    default = load_config(environ={})
    assert "grace_hopper" in default.avatar.glasses_portraits
    plain_file = tmp_path / "plain.toml"
    plain_file.write_text("[avatar]\nglasses_portraits = []\n")
    detector = LandmarkDetector()
    points = detector.detect(load_portrait(portrait_path("grace_hopper"), default.avatar.size, detector)).points
    rim = np.round(points[[i for upper, lower in BROWS for i in upper + lower]]).astype(int)  # on the rims

    def rim_change(config: Config, portrait: str = "grace_hopper") -> float:
        renderer = renderer_loader(config, io.StringIO())(portrait)
        still = renderer.render_frame(REST_MOUTH, EmotionState.from_label("neutral", 0.0)).astype(float)
        moved = renderer.render_frame(REST_MOUTH, EmotionState.from_label("surprise", 1.0)).astype(float)
        return float(np.abs(moved - still)[rim[:, 1], rim[:, 0]].mean())

    plain = load_config(plain_file, environ={})
    kept, lifted = rim_change(default), rim_change(plain)
    assert kept < 0.25 * lifted, (kept, lifted)
    photo = tmp_path / "hopper.jpg"
    photo.write_bytes(Path(portrait_path("grace_hopper") or "").read_bytes())
    glasses_marker(photo).touch()
    assert rim_change(plain, str(photo)) < 0.25 * lifted
