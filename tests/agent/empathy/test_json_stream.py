import json

import pytest

from agent.empathy.json_stream import JsonFieldStream

DOC = {
    "event": 'lost "the" key',
    "user_emotion": "sadness",
    "strategy": "interpretation",
    "response": 'I\'m sorry.\nThat "hurts" \\ a lot — é 😢',
}


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 1000])
def test_streams_the_decoded_field_across_any_chunking(chunk: int):
    raw = json.dumps(DOC, ensure_ascii=True)  # \u escapes, a surrogate pair, quotes and a newline
    stream = JsonFieldStream("response")
    out = "".join(stream.feed(raw[i : i + chunk]) for i in range(0, len(raw), chunk))
    assert out == DOC["response"]
    assert stream.done
    assert stream.values["event"] == DOC["event"]
    assert stream.values["strategy"] == "interpretation"


def test_text_arrives_before_the_string_closes():
    stream = JsonFieldStream("response")
    assert stream.feed('{"event": "x", "response": "Hello th') == "Hello th"
    assert stream.streaming and not stream.done
    assert stream.feed('ere."}') == "ere."
    assert stream.done and not stream.streaming


def test_keys_and_nested_values_are_not_mistaken_for_the_field():
    raw = '{"note": {"response": "inner"}, "list": ["response", "x"], "other": "response", "response": "outer"}'
    stream = JsonFieldStream("response")
    assert stream.feed(raw) == "outer"


def test_output_without_the_field_yields_nothing():
    stream = JsonFieldStream("response")
    assert stream.feed("I am just plain text, not JSON.") == ""
    assert not stream.done
