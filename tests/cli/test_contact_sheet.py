"""`empathica contact-sheet`: seven emotions at two intensities in one small PNG."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from cli.main import main

pytestmark = pytest.mark.models


def test_contact_sheet_writes_a_small_png(tmp_path, capsys) -> None:
    out = tmp_path / "sheet.png"
    assert main(["contact-sheet", "--out", str(out), "--tile", "96"]) == 0
    sheet = cv2.imread(str(out))
    assert sheet is not None and sheet.shape[1] == 7 * 96 and sheet.shape[0] > 2 * 96
    # Every tile is a face, and the emotions differ from neutral (first column).
    tiles = [sheet[:96, i * 96 : (i + 1) * 96].astype(int) for i in range(7)]
    assert all(np.abs(t - tiles[0]).mean() > 0.5 for t in tiles[1:])
    assert "wrote" in capsys.readouterr().out


def test_contact_sheet_reports_a_missing_portrait(tmp_path, capsys) -> None:
    code = main(["contact-sheet", "--out", str(tmp_path / "s.png"), "--portrait", str(tmp_path / "none.jpg")])
    assert code == 2
    assert "does not exist" in capsys.readouterr().err
