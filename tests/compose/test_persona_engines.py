"""Per-persona engines: each session's persona gets its own lens, voice and face, each built once per key."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest

from agent.personas import load_personas
from compose.persona_engines import PersonaEngineCache, PersonaSpec
from server.turn.pipeline import TurnInput
from storage.store import ConversationStore
from tests.server.fakes import FakeEncoder, FakeRenderer, FakeResponder, FakeSynthesizer, RecordingSink, make_pipeline

FALLBACK = PersonaSpec("Mira", "persona_default.txt", "cbt", "piper-joe", "")


@dataclass
class LensResponder(FakeResponder):
    lens: str = ""


class Built:
    """Factories that record what they were asked to build."""

    def __init__(self) -> None:
        self.responders: list[tuple[str, str, str]] = []
        self.voices: list[str] = []
        self.portraits: list[str] = []
        self.rates: list[int] = []

    def responder(self, key: tuple[str, str, str]) -> LensResponder:
        self.responders.append(key)
        return LensResponder(sentences=(f"{key[0]} here.",), lens=key[2])

    def synthesizer(self, voice: str) -> FakeSynthesizer:
        self.voices.append(voice)
        synthesizer = FakeSynthesizer()
        synthesizer.sample_rate = 24000 if voice.startswith("hibari") else 22050
        return synthesizer

    def renderer(self, portrait: str) -> FakeRenderer:
        self.portraits.append(portrait)
        return FakeRenderer()

    def encoder_factory(self, sample_rate: int) -> type[FakeEncoder]:
        self.rates.append(sample_rate)
        return FakeEncoder

    def cache(self) -> PersonaEngineCache:
        return PersonaEngineCache(
            load_personas(), FALLBACK, self.responder, self.synthesizer, self.renderer, self.encoder_factory
        )


def test_personas_get_their_own_lens_voice_and_portrait():
    built = Built()
    cache = built.cache()
    mira, kai, sunny = cache.engines("Mira"), cache.engines("kai"), cache.engines("SUNNY")
    assert (mira.spec.lens, kai.spec.lens, sunny.spec.lens) == ("person_centred", "reality", "cbt")
    assert mira.responder is not kai.responder and kai.responder is not sunny.responder
    assert mira.renderer is not kai.renderer  # grace_hopper vs astronaut
    assert kai.renderer is sunny.renderer  # both astronaut: one renderer
    assert sunny.synthesizer is not kai.synthesizer  # hibari-heart vs piper-joe
    assert sunny.synthesizer.sample_rate == 24000 and kai.synthesizer.sample_rate == 22050


def test_each_resource_is_built_once_per_key():
    built = Built()
    cache = built.cache()
    for _ in range(3):
        for name in ("Mira", "Kai", "Sunny", "mira"):
            cache.engines(name)
    assert len(built.responders) == len(set(built.responders)) == 3
    assert sorted(built.voices) == ["hibari-heart", "piper-joe"]
    assert sorted(built.portraits) == ["astronaut", "grace_hopper"]
    assert sorted(built.rates) == [22050, 24000]  # the encoder follows each voice's sample rate


def test_unknown_names_share_the_configured_engines():
    built = Built()
    cache = built.cache()
    for name in ("Zed", "Robin", ""):
        assert cache.engines(name).spec == FALLBACK
    assert built.responders == [("Mira", "persona_default.txt", "cbt")] and built.voices == ["piper-joe"]


def test_failed_loads_are_retried():
    calls: list[str] = []

    def flaky(voice: str) -> FakeSynthesizer:
        calls.append(voice)
        if len(calls) == 1:
            raise RuntimeError("disk hiccup")
        return FakeSynthesizer()

    built = Built()
    cache = PersonaEngineCache(load_personas(), FALLBACK, built.responder, flaky, built.renderer, built.encoder_factory)
    with pytest.raises(RuntimeError):
        cache.engines("Kai")
    assert cache.engines("Kai").synthesizer is cache.engines("Kai").synthesizer
    assert calls == ["piper-joe", "piper-joe"]


def test_pipeline_uses_the_sessions_persona_engines(tmp_path):
    built = Built()
    cache = built.cache()
    store = ConversationStore(tmp_path / "db.sqlite3")
    pipeline = make_pipeline(store, persona_engines=cache.engines)

    async def turn(session: str, persona: str) -> RecordingSink:
        sink = RecordingSink()
        turn = TurnInput(session_id=session, turn_index=0, kind="text", input_end=0.0, text="hi", persona=persona)
        await pipeline.run(turn, sink, asyncio.Event())
        return sink

    kai, mira = asyncio.run(turn("a", "Kai")), asyncio.run(turn("b", "Mira"))
    assert kai.messages[-1].text == "Kai here." and mira.messages[-1].text == "Mira here."  # type: ignore[attr-defined]
    assert [k[2] for k in built.responders] == ["reality", "person_centred"]
    assert built.portraits == ["astronaut", "grace_hopper"] and built.voices == ["piper-joe"]
    assert store.get_session("a").persona == "Kai"  # type: ignore[union-attr]


async def test_two_websocket_sessions_get_their_personas_engines(tmp_path):
    from aiohttp.test_utils import TestClient, TestServer

    from compose.config import load_config
    from compose.engines import Engines, MediaEngines
    from server.web.app import create_app
    from tests.server.fakes import MIME, FakeRecognizer, fake_choose, fake_perceive
    from tests.server.web.test_app import receive_json, until_reply_end

    built = Built()
    cache = built.cache()
    default = cache.engines("Mira")
    media = MediaEngines(default.synthesizer, default.renderer, default.encoder_factory, MIME)
    engines = Engines(FakeRecognizer(), fake_perceive, fake_choose, default.responder, media, personas=cache)
    store = ConversationStore(tmp_path / "db.sqlite3")
    client = TestClient(TestServer(create_app(load_config(environ={}), engines, store)))
    await client.start_server()
    try:
        replies = {}
        for persona in ("Kai", "Sunny"):
            ws = await client.ws_connect("/ws")
            await receive_json(ws)
            await ws.send_json({"type": "hello", "persona": persona})
            assert (await receive_json(ws))["persona"] == persona
            await ws.send_json({"type": "text", "text": "hello"})
            replies[persona] = (await until_reply_end(ws))[-1]["text"]
            await ws.close()
    finally:
        await client.close()
        store.close()
    assert replies == {"Kai": "Kai here.", "Sunny": "Sunny here."}
    assert [k[2] for k in built.responders] == ["person_centred", "reality", "cbt"]
    assert sorted(built.voices) == ["hibari-heart", "piper-joe"] and sorted(built.rates) == [22050, 24000]
    assert built.portraits == ["grace_hopper", "astronaut"]  # Sunny reused Kai's astronaut renderer
