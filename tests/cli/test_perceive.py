import io
import json
from pathlib import Path

import pytest

from cli.main import build_parser
from cli.perceive import perceive_lines
from core.emotion import EmotionState


def _fake_perceive(text: str) -> EmotionState:
    return EmotionState.from_label("sadness" if "sad" in text else "neutral", 0.6)


def _run(lines: list[str]) -> tuple[int, list[dict]]:
    out, err = io.StringIO(), io.StringIO()
    code = perceive_lines(lines, _fake_perceive, out, err)
    return code, [json.loads(line) for line in out.getvalue().splitlines()]


def test_one_json_line_per_input_with_label_mixture_and_vad():
    code, rows = _run(['{"text": "I am sad"}\n', "\n", '{"text": "hello"}\n'])
    assert code == 0
    assert [r["label"] for r in rows] == ["sadness", "neutral"]
    assert set(rows[0]) >= {"text", "label", "mixture", "vad", "intensity"}
    assert set(rows[0]["vad"]) == {"valence", "arousal", "dominance"}


def test_voice_adds_fusion_and_the_mismatch_flag():
    voice = {"valence": 0.8, "arousal": 0.5, "dominance": 0.4, "confidence": 0.9, "label": "joy"}
    code, rows = _run([json.dumps({"text": "I am sad", "voice": voice})])
    assert code == 0
    assert rows[0]["mismatch"] is True
    assert rows[0]["text_only"]["label"] == "sadness"


def test_bad_lines_keep_their_place_and_fail_the_exit_code():
    code, rows = _run(["not json", '{"txt": "x"}', '{"text": "ok", "voice": {"valence": 1}}', '{"text": "sad"}'])
    assert code == 1
    assert [r.get("line") for r in rows[:3]] == [1, 2, 3]
    assert "arousal" in rows[2]["error"]
    assert rows[3]["label"] == "sadness"


def test_cli_registers_perceive():
    args = build_parser().parse_args(["perceive", "--jsonl", "-", "--lexical-only"])
    assert args.command == "perceive" and args.lexical_only


LIBRIVOX = Path("/usr/share/pocketsphinx/test/data/librivox")


@pytest.mark.models
def test_audio_lines_are_measured_and_fused(tmp_path: Path) -> None:
    """An `audio` path gets its voice affect measured from the real recording and fused with the words."""
    from agent.perception import TextPerception
    from cli.perceive import voice_from_wav

    clips = sorted(LIBRIVOX.glob("*.wav"))[:2]
    assert clips, "pocketsphinx-testdata is missing: apt-get install pocketsphinx-testdata"
    lines = [json.dumps({"text": "I am fine, really.", "audio": str(clip)}) for clip in clips]
    lines.append(json.dumps({"text": "hello", "audio": "no/such.wav"}))
    lines.append(json.dumps({"text": "hello", "audio": str(tmp_path / "bad.wav")}))
    (tmp_path / "bad.wav").write_bytes(b"RIFF not really a wave file")
    out = io.StringIO()
    code = perceive_lines(lines, TextPerception().perceive, out, voice_from_audio=voice_from_wav(tmp_path))
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert code == 1 and len(rows) == 4
    for row in rows[:2]:
        assert {"label", "mixture", "vad", "mismatch", "text_only"} <= set(row)
    assert "cannot read audio" in rows[2]["error"]
    assert "audio" in rows[3]["error"] and rows[3]["line"] == 4


def test_each_line_gets_the_crisis_screens_verdict():
    from agent.safety import SafetyScreen

    out = io.StringIO()
    lines = ['{"text": "I want to kill myself"}', '{"text": "I am sad about the rain"}', "not json"]
    code = perceive_lines(lines, _fake_perceive, out, io.StringIO(), safety=SafetyScreen().check)
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert code == 1
    assert rows[0]["safety"] == {"category": "suicide", "score": 1.0, "matched": "kill myself"}
    assert "safety" in rows[1] and rows[1]["safety"] is None
    assert "safety" not in rows[2]  # a bad line keeps only its error


@pytest.mark.models
def test_perceive_command_reports_the_learned_detector(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from cli.perceive import run_perceive

    path = tmp_path / "in.jsonl"
    texts = ["Nobody would miss me if I was gone", "my doctor appointment went fine"]
    path.write_text("\n".join(json.dumps({"text": t}) for t in texts) + "\n")
    out = io.StringIO()
    assert run_perceive(path, out=out) == 0
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert rows[0]["safety"]["category"] == "suicide" and 0 < rows[0]["safety"]["score"] <= 1
    assert rows[0]["safety"]["matched"]
    assert rows[1]["safety"] is None


def test_score_flag_parses_and_excludes_jsonl():
    args = build_parser().parse_args(["perceive", "--score", "dev.tsv", "--confusion", "cm.png"])
    assert (args.score, args.confusion, args.jsonl) == (Path("dev.tsv"), Path("cm.png"), None)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["perceive", "--score", "a.tsv", "--jsonl", "b.jsonl"])


def test_score_prints_macro_f1_and_writes_the_confusion_png(tmp_path: Path):
    from cli.perceive import run_score

    fixture = Path(__file__).resolve().parents[1] / "agent" / "perception" / "data" / "tiny_goemotions.tsv"
    out = io.StringIO()
    assert run_score(fixture, tmp_path / "cm.png", lexical_only=True, out=out) == 0
    text = out.getvalue()
    assert "6 utterances scored (1 with several labels left out)" in text and "macro-F1" in text
    assert (tmp_path / "cm.png").read_bytes()[:4] == b"\x89PNG"


def test_score_of_a_bad_file_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    from cli.perceive import run_score

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "hm"}\n', encoding="utf-8")
    assert run_score(bad, tmp_path / "cm.png", lexical_only=True) == 2
    assert "expected a JSON object with text and label" in capsys.readouterr().err
    assert run_score(tmp_path / "missing.tsv", tmp_path / "cm.png", lexical_only=True) == 2
