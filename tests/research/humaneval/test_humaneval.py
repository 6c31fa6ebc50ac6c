"""Human evaluation: blinded pairs out, ratings back in, preference with an interval and Krippendorff's alpha."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from cli.main import main
from research.humaneval.agreement import krippendorff_alpha_nominal
from research.humaneval.pairs import PairError, build_pairs


def variant(name: str, replies: list[str], seed: int | None = 7) -> dict[str, object]:
    users = ["I lost my job.", "I keep thinking about it.", "I feel like I'd be better off dead.", "Thanks."]
    sources = ["model", "model", "safety", "model"]
    turns = [{"index": i, "user_text": users[i], "reply": r, "source": sources[i]} for i, r in enumerate(replies)]
    return {"variant": name, "results": [{"id": "job", "seed": seed, "turns": turns}]}


REPORT = {
    "variants": [
        variant("mira-cbt", ["I'm so sorry.", "That sounds hard.", "Please call someone.", "Any time."]),
        variant("rules-only", ["That must hurt.", "That sounds hard.", "Please call someone.", "Glad to help."], None),
    ]
}


def test_krippendorff_alpha_matches_the_published_example():
    # Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability": 4 coders, 12 units, nominal alpha 0.743.
    coders = [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
        [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
    ]
    units = {u: [c[u] for c in coders if c[u] is not None] for u in range(12)}
    assert krippendorff_alpha_nominal(units) == pytest.approx(0.743, abs=5e-4)
    assert krippendorff_alpha_nominal({1: ["x", "x"], 2: ["y", "y"]}) == 1.0
    assert krippendorff_alpha_nominal({1: ["x", "x"]}) is None  # no variation at all
    assert krippendorff_alpha_nominal({1: ["x"]}) is None


def test_pairs_skip_safety_and_identical_replies_and_are_blinded_and_seeded():
    pairs = build_pairs(REPORT, "mira-cbt", "rules-only", seed=3)
    assert sorted(p.turn for p in pairs) == [0, 3]  # turn 1: same reply; turn 2: the safety script
    assert build_pairs(REPORT, "mira-cbt", "rules-only", seed=3) == pairs
    assert {(p.variant_a, p.variant_b) for p in pairs} <= {("mira-cbt", "rules-only"), ("rules-only", "mira-cbt")}
    last = next(p for p in pairs if p.turn == 3)
    assert last.context == [
        "I lost my job.",
        "I keep thinking about it.",
        "I feel like I'd be better off dead.",
        "Thanks.",
    ]
    assert set(last.blinded()) == {"pair_id", "context", "reply_a", "reply_b"}
    with pytest.raises(PairError, match="no variant 'kai-cbt'"):
        build_pairs(REPORT, "mira-cbt", "kai-cbt")


def test_export_then_import(tmp_path: Path, capsys):
    report = tmp_path / "report.json"
    report.write_text(json.dumps(REPORT))
    out = tmp_path / "raters"
    assert main(["humaneval", "export", str(report), "--a", "mira-cbt", "--b", "rules-only", "--out", str(out)]) == 0
    form = (out / "form.html").read_text()
    assert "<script>" in form and "http" not in form.replace("https://", "http")[:0] + form.split("<script>")[0][20:]
    assert "mira-cbt" not in form and "rules-only" not in form  # blinded
    assert "That must hurt." in form or "I&#x27;m so sorry." in form or "I'm so sorry." in form
    assert "src=" not in form and 'href="http' not in form  # self-contained: nothing fetched
    rows = list(csv.DictReader((out / "pairs.csv").open()))
    assert [r["pair_id"] for r in rows] == ["p001", "p002"] and "mira-cbt" not in (out / "pairs.csv").read_text()
    key = json.loads((out / "key.json").read_text())
    assert key["first"] == "mira-cbt" and key["second"] == "rules-only"
    # Two raters: both prefer the agent on one pair; on the other one says tie, the other prefers the rules.
    side = {p["pair_id"]: "A" if p["variant_a"] == "mira-cbt" else "B" for p in key["pairs"]}
    other = {"A": "B", "B": "A"}
    ratings = []
    for rater, choices in (("r1", [side["p001"], "tie"]), ("r2", [side["p001"], other[side["p002"]]])):
        path = tmp_path / f"{rater}.csv"
        with path.open("w", newline="") as file:
            writer = csv.writer(file)
            writer.writerow(["pair_id", "rater", "preference", "comment"])
            writer.writerow(["p001", rater, choices[0], ""])
            writer.writerow(["p002", rater, choices[1], "hm"])
        ratings.append(str(path))
    capsys.readouterr()
    result_file = tmp_path / "result.json"
    assert main(["humaneval", "import", str(out / "key.json"), *ratings, "--out", str(result_file)]) == 0
    printed = capsys.readouterr().out
    assert "mira-cbt vs rules-only: 4 ratings of 2 pairs by 2 rater(s)" in printed
    result = json.loads(result_file.read_text())
    assert (result["first_wins"], result["second_wins"], result["ties"]) == (2, 1, 1)
    assert result["preference"] == pytest.approx((1 + 1 + 0.5 + 0) / 4)
    assert result["low"] <= result["preference"] <= result["high"]
    # Units: (mira, mira) and (tie, rules): o(m,m)=2, o(t,r)=o(r,t)=1; n_m=2, n_t=1, n_r=1, n=4.
    # alpha = 1 - (n - 1) * 2 / (n_m n_t + n_m n_r + n_t n_m + n_t n_r + n_r n_m + n_r n_t) = 1 - 6 / 10
    assert result["alpha"] == pytest.approx(0.4) and result["alpha_pairs"] == 2


def test_a_bad_rating_names_the_row(tmp_path: Path, capsys):
    report = tmp_path / "report.json"
    report.write_text(json.dumps(REPORT))
    out = tmp_path / "raters"
    main(["humaneval", "export", str(report), "--a", "mira-cbt", "--b", "rules-only", "--out", str(out)])
    bad = tmp_path / "bad.csv"
    bad.write_text("pair_id,rater,preference\np001,r1,maybe\n")
    assert main(["humaneval", "import", str(out / "key.json"), str(bad)]) == 2
    assert "bad.csv:2" in capsys.readouterr().err
