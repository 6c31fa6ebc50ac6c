"""The array types of the face pipeline, named once so that a signature says what it takes and gives."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

Image = npt.NDArray[np.uint8]
"""An RGB picture (H, W, 3) or a one-channel mask (H, W), 8 bits per value."""

Floats = npt.NDArray[np.floating[Any]]
"""Float values of any precision: landmark points (N, 2), offsets, displacement fields, weights, tracks."""

Bools = npt.NDArray[np.bool_]
"""True/false per value: masks of rows, columns or pixels."""
