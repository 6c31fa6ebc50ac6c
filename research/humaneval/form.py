"""The raters' form: one self-contained HTML file (no network, no external files) that saves a ratings CSV."""

from __future__ import annotations

import json
from pathlib import Path
from string import Template
from typing import Any

TEMPLATE = Path(__file__).with_name("form.html")


def render_form(pairs: list[dict[str, Any]]) -> str:
    """The form for blinded `pairs` ({pair_id, context, reply_a, reply_b}); the data is embedded as JSON."""
    data = json.dumps(pairs, ensure_ascii=False).replace("</", "<\\/")  # never close the <script> early
    return Template(TEMPLATE.read_text(encoding="utf-8")).substitute(pairs_json=data, count=len(pairs))
