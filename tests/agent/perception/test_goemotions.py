"""The GoEmotions file format and its Ekman mapping, on a tiny fixture of invented sentences."""

from pathlib import Path

import pytest

from agent.perception.goemotions import GOEMOTIONS_LABELS, TO_BASIC, basic_labels, raw_labels, read_goemotions_tsv
from core.emotion import BASIC_EMOTIONS

FIXTURE = Path(__file__).parent / "data" / "tiny_goemotions.tsv"


def test_every_label_maps_to_a_basic_emotion():
    assert len(GOEMOTIONS_LABELS) == 28
    assert set(TO_BASIC) == set(GOEMOTIONS_LABELS)
    assert set(TO_BASIC.values()) == set(BASIC_EMOTIONS)


def test_label_ids_map_to_basic_emotions_without_repeats():
    assert basic_labels("2,3") == ("anger",)  # anger + annoyance
    assert basic_labels("4,27") == ("joy", "neutral")  # approval + neutral
    assert basic_labels("26,22") == ("surprise",)  # surprise + realization
    assert raw_labels("26,22") == ("surprise", "realization")


@pytest.mark.parametrize("field", ["28", "x", "", "-1"])
def test_bad_label_ids_are_rejected(field: str):
    with pytest.raises(ValueError, match="label ids"):
        basic_labels(field)


def test_reads_rows_and_undoes_csv_quoting():
    rows = read_goemotions_tsv(FIXTURE)
    assert len(rows) == 7
    assert rows[2].text == 'they said "no refunds" and hung up on me'
    assert [r.single for r in rows] == ["joy", "sadness", "anger", "neutral", "surprise", None, "fear"]
    assert rows[5].labels == ("joy", "neutral")


def test_a_bad_row_names_its_line(tmp_path: Path):
    bad = tmp_path / "bad.tsv"
    bad.write_text("fine\t27\ta\nno labels here\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.tsv:2"):
        read_goemotions_tsv(bad)
