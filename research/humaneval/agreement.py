"""Krippendorff's alpha for nominal data: agreement among raters beyond chance (Krippendorff 2011).

alpha = 1 - D_o / D_e, from the coincidence matrix of the values raters gave the same unit: D_o is the observed
share of disagreeing value pairs within units, D_e the share expected from how often each value is used overall.
Units rated by fewer than two raters carry no information about agreement and are left out. 1 is perfect
agreement, 0 is chance, below 0 systematic disagreement.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Mapping, Sequence
from typing import Any


def krippendorff_alpha_nominal(units: Mapping[Any, Sequence[Hashable]]) -> float | None:
    """Alpha over `units` (unit -> the values its raters gave, missing ratings left out); None when fewer than
    two pairable values exist or every value is the same (no variation: alpha is undefined)."""
    coincidences: defaultdict[tuple[Hashable, Hashable], float] = defaultdict(float)
    for values in units.values():
        m = len(values)
        if m < 2:
            continue
        for i, c in enumerate(values):
            for j, k in enumerate(values):
                if i != j:
                    coincidences[(c, k)] += 1.0 / (m - 1)
    totals: defaultdict[Hashable, float] = defaultdict(float)
    for (c, _k), weight in coincidences.items():
        totals[c] += weight
    n = sum(totals.values())
    if n < 2:
        return None
    observed = sum(w for (c, k), w in coincidences.items() if c != k)
    expected = sum(totals[c] * totals[k] for c in totals for k in totals if c != k) / (n - 1)
    if expected == 0:
        return None
    return 1.0 - observed / expected
