"""The brow rig: brows, the skin above the eyes and the forehead moved by AU1, AU2, AU4 and AU9, column by column.

A spline through sparse landmarks overshoots between the still upper lid and a brow a few pixels above it, and
smears the lashes into the lid skin once brows move by realistic amounts. Here each image column above an eye is
remapped piecewise-linearly instead (like closing the lips): knots at the eye's middle, the top of the lashes, the
lid crease, the brow's lower and upper edge, the hairline and the top of the box each get a vertical displacement,
and the map between knots is linear. Knots keep their order (no fold, no tear), the eye below its middle never
moves, and the lid skin between lashes and brow stretches or compresses, which is what that skin does.

Given the portrait, rows much darker than the cheeks (the rim of a pair of glasses, a black brow the face mesh put
outside its brow band) do not stretch: a stretching band gives its extra height to the skin around them, and where
a column has no skin to stretch (brows hidden behind a glasses rim) its brow moves less. An even stretch would
smear such a rim into a thick bar.

Glasses whose top rims sit where the brows are fool the face mesh: it puts the brow on the rim, and moving the
"brow" bends the rim and stretches the frame's bridge. For such a portrait (`glasses=True`, set by configuration:
darkness alone does not tell a rim from a black brow) the rim and everything below it stay, and the brow's band
is taken to be the skin just above the rim, which rises or falls as the brow would (the brows behind a rim then
show above it, or sink behind it).

Where the photo shows little or no skin between a brow and the lashes (a low brow over a deep-set eye, a top light's
shadow), a raised brow uncovers lid skin that the photo does not have: avatar.lid_skin lets the band under such a
brow stretch and paints it as shaded skin (`uncover`), instead of the brow staying put or smearing.

A raised brow compresses the forehead above it, down to half its height at most. Where the face mesh's hairline
sits just above the brows (a hat brim, a fringe), the brows rise less instead: pushing on, they would lift the
hairline, and a hat brim with it, in an arc. Toward a brow's outer end the mesh's hairline is the face oval bending
down the temple, on a tilted head as low as the brow itself; there the forehead counts at least half of the brow's
median, so the oval does not pin the brow's end.

Skin stretched 1.6-fold or more (the lid skin under raised brows) turns each pore and fleck into a vertical streak,
which both people and landmark models read as texture rather than as a raised brow: `soften` blurs such skin
sideways before the warp, in proportion to its stretch.

Amplitudes are fractions of the outer eye-corner distance: a full AU1+2 lifts the brows by 16-18 % of it (about a
centimetre and a half on an adult face), a full AU4 lowers them by 8-13 %, i.e. clearly visible, not extreme.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np

from avatar.arrays import Floats, Image
from avatar.expressions import AU_INDEX
from avatar.face_field import BROWS, EYES, HAIRLINE, polyline_y
from avatar.lid_skin import LidSkin
from avatar.skin import cheek_luminance, luminance

# Vertical brow travel per AU at full strength (+ down), at the brow's inner and outer end, in outer eye-corner
# distances; in between it follows the power `shape` of the position along the brow (0 inner, 1 outer).
_TRAVEL: dict[int, tuple[float, float, float]] = {
    1: (-0.14, -0.04, 1.3),  # inner brow raiser: the inner end up, the outer end a little (the oblique sad brow)
    2: (-0.04, -0.12, 0.8),  # outer brow raiser
    4: (0.13, 0.08, 1.0),  # brow lowerer: down, most at the inner end
    9: (0.035, 0.0, 1.0),  # the nose wrinkler drags the inner brows down a little
}
# The share of each AU's brow travel at the other knots: (hairline, lid crease, upper lid). The scalp barely moves
# up with a raised brow and not at all with a lowered one (the forehead skin stretches; hair would have to as well).
# A raised brow unfolds the lid skin from the brow down, leaving lashes and crease near the eye (stretching them
# smears the lashes); a lowered brow pushes the crease down over the lid and the lid a little. More than that shut
# the eyes of deep-set portraits to a squint that read as bright sun, not anger, whose eyes glare (AU5 raises the lids
# themselves, avatar.face_field).
_SHARES: dict[int, tuple[float, float, float]] = {
    1: (0.25, 0.15, 0.0),
    2: (0.25, 0.15, 0.0),
    4: (0.0, 0.75, 0.2),
    9: (0.0, 0.7, 0.3),
}
_CREASE = 0.5  # the crease knot sits this far from the lashes up to the brow's lower edge
_GLABELLA_SHARE = 0.6  # between the brows (the midline) the skin follows the inner ends this much
_OUTER_FADE = 0.3  # past the outer brow end the motion fades out over this many outer eye-corner distances
_LASHES = 0.025  # the lashes and lid margin reach this far above the lid landmarks: they move with the lid
_MIN_SPACING = 0.3  # a band between knots never shrinks below this fraction of its rest height
_FOREHEAD_KEEP = 0.5  # a raised brow leaves at least this share of the forehead between it and the hairline
_TEMPLE_FLOOR = 0.5  # ... where the forehead counts at least this share of the brow's median (see BrowRig)
_DARK = (0.25, 0.5)  # luminance relative to the cheeks: rigid below the first, free to stretch above the second
_DARK_REACH = 0.015  # a dark row makes its neighbours this far (outer eye-corner distances) rigid too (its edges)
_MAX_STRETCH = 3.0  # no row stretches more than this: a band too dark to hide its stretch spreads it evenly
_RIGID_STRETCH = 1.5  # how far a dark row may stretch: a rim thickens a little at most, a dark brow still moves
_STRETCH_ROOM = 3.5  # ... and skin (ease 1) this much more, up to 5x
_ABOVE_RIM = 0.14  # with glasses: the brow's own band sits this far above the rim's top edge (outer eye-corner dist.)
_SOFTEN_FROM, _SOFTEN_FULL = 1.6, 2.6  # stretch at which source rows start to be, and are fully, blurred sideways
_SOFTEN_SIGMA = 0.012  # that blur's width (Gaussian sigma, outer eye-corner distances)
_BLEND = 0.04  # columns' limited maps are blended over this width (outer eye-corner distances)


def _smooth(values: Floats, width: float) -> Floats:
    """Values along columns smoothed by a Gaussian of `width` columns (landmark polylines are jagged)."""
    radius = max(1, math.ceil(2 * width))
    kernel = np.exp(-0.5 * (np.arange(-radius, radius + 1) / max(width, 1e-6)) ** 2)
    padded = np.pad(values, radius, mode="edge")
    smoothed: Floats = np.convolve(padded, kernel / kernel.sum(), mode="valid")
    return smoothed


class BrowRig:
    """Backward displacement over a box above the eyes for the brow AUs (see the module docstring)."""

    def __init__(self, pts: Floats, size: tuple[int, int], image: Image | None = None, glasses: bool = False) -> None:
        """`pts` the 468 face-mesh points of the portrait, `size` its (width, height); with the portrait itself
        (`image`, RGB uint8) stretch goes to smooth skin rather than spreading over brows and glasses rims.
        `glasses`: the face wears glasses whose top rims the mesh took for brows (see the module docstring)."""
        w, h = size
        pts = np.asarray(pts, np.float64)
        oec = float(np.linalg.norm(pts[EYES[1][0][0]] - pts[EYES[0][0][0]]))
        self.scale = oec
        brow_x = pts[[i for upper, lower in BROWS for i in upper + lower], 0]
        eye_x = pts[[i for eye in EYES for i in eye[0]], 0]
        left = min(brow_x.min(), eye_x.min()) - _OUTER_FADE * oec
        right = max(brow_x.max(), eye_x.max()) + _OUTER_FADE * oec
        top = pts[list(HAIRLINE), 1].min() - 0.15 * oec
        bottom = max(
            pts[[i for eye in EYES for i in eye[2]], 1].max(), pts[[i for eye in EYES for i in eye[0]], 1].max()
        )
        self.x0, self.x1 = max(0, math.floor(left)), min(w, math.ceil(right) + 1)
        self.y0, self.y1 = max(0, math.floor(top)), min(h, math.ceil(bottom) + 2)
        self._xs = np.arange(self.x0, self.x1, dtype=np.float64)
        self._ys = np.arange(self.y0, self.y1, dtype=np.float64)
        xs = self._xs
        mid_x = float(pts[[EYES[0][0][1], EYES[1][0][1]], 0].mean())
        smooth = 0.03 * oec  # columns

        # Knot rows per column (top to bottom): box top, hairline, brow upper edge, brow lower edge, lid crease, top
        # of the lashes, eye middle. Each side of the midline takes its own brow and eye.
        side = xs >= mid_x  # False: image-left brow, True: image-right
        knots = np.zeros((7, len(xs)))
        position = np.zeros(len(xs))  # 0 at the inner brow end, 1 at the outer end, beyond on either side
        span = np.ones(len(xs))  # the brow's length, pixels
        inner_gap = np.ones(len(xs))  # from the inner brow end to the midline, pixels
        for k, ((upper, lower), (corners, upper_lid, lower_lid, _fold)) in enumerate(zip(BROWS, EYES, strict=True)):
            cols = side if k == 1 else ~side
            lid = pts[[corners[0], *upper_lid, corners[1]]]
            low = pts[[corners[0], *lower_lid, corners[1]]]
            knots[2, cols] = polyline_y(pts[list(upper)], xs)[cols]
            knots[3, cols] = polyline_y(pts[list(lower)], xs)[cols]
            knots[5, cols] = (polyline_y(lid, xs) - _LASHES * oec)[cols]
            knots[6, cols] = ((polyline_y(lid, xs) + polyline_y(low, xs)) / 2)[cols]
            inner, outer = float(pts[upper[0], 0]), float(pts[upper[-1], 0])
            position[cols] = ((xs - inner) / (outer - inner))[cols]
            span[cols] = abs(outer - inner)
            inner_gap[cols] = max(abs(mid_x - inner), 1.0)
        knots[4] = knots[5] + _CREASE * (knots[3] - knots[5])
        knots[1] = polyline_y(pts[list(HAIRLINE)], xs)
        knots[0] = self.y0 - 1.0
        knots[1:] = np.array([_smooth(row, smooth) for row in knots[1:]])
        if glasses:
            knots[2], knots[3] = knots[2] - _ABOVE_RIM * oec, knots[2].copy()
        # Keep the rest knots in order with some room (a brow touching the lid, a fringe over the brow).
        for i in range(len(knots) - 2, -1, -1):
            knots[i] = np.minimum(knots[i], knots[i + 1] - 1.0)
        self._rest = knots
        # The forehead a raised brow may close up: half its height. Toward the brow's outer end the mesh's hairline
        # (the face oval) bends down the temple, to the brow's own height on a tilted head, which would pin that end
        # of the brow: no column counts less forehead than half of its brow's median.
        forehead = knots[2] - knots[1]
        for cols in (~side, side):
            span_cols = cols & (position >= 0.0) & (position <= 1.0)
            if span_cols.any():
                forehead[cols] = np.maximum(forehead[cols], _TEMPLE_FLOOR * np.median(forehead[span_cols]))
        self._room = (1.0 - _FOREHEAD_KEEP) * forehead
        self._still_from = knots[3] if glasses else knots[-1]  # rows from here down never move

        # How much of each AU's travel reaches each column: full along the brow, fading past its outer end and
        # toward the glabella share at the midline.
        t = np.clip(position, 0.0, 1.0)
        fade_out = np.clip(1.0 - (position - 1.0) * span / (_OUTER_FADE * oec), 0.0, 1.0)
        fade_out = fade_out * fade_out * (3 - 2 * fade_out)
        toward_mid = np.clip(-position, 0.0, None) * span / inner_gap
        fade_in = 1.0 - (1.0 - _GLABELLA_SHARE) * np.clip(toward_mid, 0.0, 1.0)
        reach = np.where(position > 1.0, fade_out, np.where(position < 0.0, fade_in, 1.0))
        eye_cols = np.zeros(len(xs))
        for corners, _upper, _lower, _fold in EYES:
            a, b = sorted(pts[list(corners), 0])
            eye_cols = np.maximum(eye_cols, np.clip(np.minimum(xs - a, b - xs) / (0.08 * oec) + 0.5, 0.0, 1.0))
        self._aus = sorted(_TRAVEL)
        travel = np.array([(i + (o - i) * t**s) * reach * oec for i, o, s in (_TRAVEL[au] for au in self._aus)])
        brow = _smooth_rows(travel, smooth)  # (AUs, columns) brow travel in pixels
        # Each AU's travel at every knot (AUs, knots, columns); box top and eye middle stay.
        ones = np.ones(len(xs))
        below = 0.0 if glasses else 1.0  # behind glasses, the rim and all below it stay
        self._basis = np.stack(
            [
                np.stack([0 * ones, h * ones, ones, below * ones, below * c * ones, below * lid * eye_cols, 0 * ones])
                * row
                for row, (h, c, lid) in zip(brow, (_SHARES[au] for au in self._aus), strict=True)
            ]
        )
        self._ease: Floats | None = None
        self._lid: LidSkin | None = None
        if image is not None:
            cheek = cheek_luminance(image, pts)
            patch = image[self.y0 : self.y1, self.x0 : self.x1]
            self._ease = _ease(patch, cheek, max(1, round(_DARK_REACH * oec)))
            if not glasses:  # behind glasses the rim, not a brow, sits on the lashes, and it stays
                along = (position >= -0.1) & (position <= 1.05)
                hidden = LidSkin(patch, self._ease, knots - self.y0, oec, along)
                if hidden.any:
                    self._lid = hidden
                    self._ease = hidden.ease(self._ease)
        self._uncovered: tuple[Image, bytes, Image] | None = None
        self._blend = max(1.0, _BLEND * oec)
        self._cache: tuple[bytes, Floats] | None = None
        self._soften_cache: tuple[bytes, Floats | None] | None = None
        self._softened: tuple[Image, bytes, Image] | None = None
        self._soften_sigma = max(0.5, _SOFTEN_SIGMA * oec)

    @property
    def box(self) -> tuple[int, int, int, int]:
        """The rig's box (x0, y0, x1, y1) in pixels, end-exclusive."""
        return self.x0, self.y0, self.x1, self.y1

    def travel(self, aus: Floats) -> Floats:
        """The vertical travel (+ down, pixels) of each knot row (7, columns) for AU weights: box top, hairline,
        brow upper and lower edge, lid crease, lashes, eye middle."""
        weights = np.array([float(aus[AU_INDEX[au]]) for au in self._aus])
        travel: Floats = np.tensordot(weights, self._basis, axes=1)
        # Where the brow would close on the hairline by more than the forehead can give, the whole column's travel
        # shrinks in proportion, its knots keeping their proportions; the hairline then never has to be pushed up.
        closing = travel[1] - travel[2]
        scale = np.where(closing > self._room, self._room / np.maximum(closing, 1e-9), 1.0)
        if scale.min() < 1.0:
            travel = travel * np.minimum(scale, _smooth(scale, self._blend))[None]
        return travel

    def dense(self, aus: Floats) -> Floats | None:
        """The backward displacement (H, W, 2) over the box for AU weights, or None when the brows are at rest."""
        key = self._key(aus)
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        travel = self.travel(aus)
        if np.abs(travel).max() < 0.05:
            return None
        rest = self._rest
        moved = _keep_order(rest, rest + travel)
        dense: Floats = np.zeros((len(self._ys), len(self._xs), 2), np.float32)
        if self._ease is None:
            dense[..., 1] = _invert(rest, moved, self._ys) - self._ys[:, None]
        else:
            forward = _limit_stretch(_forward_eased(rest, moved, self._ys, self._ease), self._ease)
            for c in range(forward.shape[1]):  # each column's map is monotonic: invert it by interpolation
                dense[:, c, 1] = np.interp(self._ys, forward[:, c], self._ys) - self._ys
            # Neighbouring columns may be limited differently (a rim ends at the nose bridge): blend them so no
            # vertical seam shows. An average of monotonic column maps is monotonic, so this cannot fold.
            dense[..., 1] = cv2.GaussianBlur(dense[..., 1], (0, 0), sigmaX=self._blend, sigmaY=0.0)
            # A neighbour's blend must not move the eye, nor a glasses rim.
            dense[self._ys[:, None] >= self._still_from[None], 1] = 0.0
        self._cache = (key, dense)
        return dense

    def _key(self, aus: Floats) -> bytes:
        return np.asarray([aus[AU_INDEX[au]] for au in self._aus], np.float32).tobytes()

    def soften(self, image: Image, aus: Floats) -> Image:
        """`image` (the portrait before the warp) blurred sideways where `dense(aus)` will stretch it a lot; the input
        itself when nothing stretches that much.

        A stretched row of skin turns every pore and fleck into a vertical streak (the lid skin under raised brows
        is stretched up to threefold); a sideways blur in proportion to the stretch, before the warp, removes what
        would streak and leaves rows that keep their height (brows, lashes, rims) alone.
        """
        weight = self._soften_weight(aus)
        if weight is None:
            return image
        key = self._key(aus)
        if self._softened is not None and self._softened[0] is image and self._softened[1] == key:
            return self._softened[2]  # an expression held while the eyes rest (most idle frames)
        # Only the rows that stretch, and the columns their blur reaches (usually a fifth of the box).
        rows = np.flatnonzero(weight.max(axis=1) > 0)
        reach = math.ceil(3 * self._soften_sigma)
        cols = np.flatnonzero(weight.max(axis=0) > 0)
        r0, r1 = int(rows[0]), int(rows[-1]) + 1
        c0, c1 = max(0, int(cols[0]) - reach), min(weight.shape[1], int(cols[-1]) + 1 + reach)
        x0, y0 = self.x0 + c0, self.y0 + r0
        region = image[y0 : y0 + r1 - r0, x0 : x0 + c1 - c0].astype(np.float32)
        blurred = cv2.GaussianBlur(region, (0, 0), sigmaX=self._soften_sigma, sigmaY=0.0)
        share = weight[r0:r1, c0:c1, None]
        out = image.copy()
        out[y0 : y0 + r1 - r0, x0 : x0 + c1 - c0] = np.clip(region + (blurred - region) * share + 0.5, 0, 255).astype(
            np.uint8
        )
        self._softened = (image, key, out)
        return out

    def uncover(self, image: Image, aus: Floats) -> Image:
        """`image` (the portrait before the warp) with lid skin painted under brows that rise where the photo has
        little or none between brow and lashes (avatar.lid_skin); the input itself when there is nothing to paint."""
        if self._lid is None:
            return image
        key = self._key(aus)
        if self._uncovered is not None and self._uncovered[0] is image and self._uncovered[1] == key:
            return self._uncovered[2]
        knots = _keep_order(self._rest, self._rest + self.travel(aus)) - self.y0
        box = (slice(self.y0, self.y1), slice(self.x0, self.x1))
        painted = self._lid.paint(image[box], knots)
        out = image
        if painted is not None:
            out = image.copy()
            out[box] = painted
        self._uncovered = (image, key, out)
        return out

    def _soften_weight(self, aus: Floats) -> Floats | None:
        """How much to blur each source pixel of the box (rows, columns), from the stretch it will undergo; None when
        no row stretches past _SOFTEN_FROM. Cached with the field."""
        key = self._key(aus)
        if self._soften_cache is not None and self._soften_cache[0] == key:
            return self._soften_cache[1]
        dense = self.dense(aus)
        if dense is None:
            self._soften_cache = (key, None)
            return None
        source = self._ys[:, None] + dense[..., 1]  # the source row each output row shows, per column
        step = np.gradient(source, axis=0)  # source rows per output row: below 1 where the map stretches
        stretch = 1.0 / np.maximum(step, 1e-3)
        weight = np.zeros_like(stretch)
        for c in range(stretch.shape[1]):  # back to source rows: each column's map is monotonic
            weight[:, c] = np.interp(self._ys, source[:, c], stretch[:, c])
        weight = np.clip((weight - _SOFTEN_FROM) / (_SOFTEN_FULL - _SOFTEN_FROM), 0.0, 1.0)
        result: Floats | None = weight if weight.max() > 0 else None
        self._soften_cache = (key, result)
        return result


def _ease(patch: Image, cheek: float, reach: int) -> Floats:
    """How freely each pixel of an RGB patch stretches vertically (rows, columns), 0-1: 1 in skin, 0 in and within
    `reach` pixels of rows much darker than the `cheek` luminance."""
    lum = cv2.GaussianBlur(luminance(patch), (0, 0), 1.0)
    lo, hi = _DARK
    t = np.clip((lum / max(cheek, 1.0) - lo) / (hi - lo), 0.0, 1.0)
    free = t * t * (3.0 - 2.0 * t)
    # Erode vertically: a rim's edge rows are rigid too, or the rim would still grow by its blurred edges.
    ease: Floats = cv2.erode(free, np.ones((2 * reach + 1, 1), np.uint8)).astype(np.float64)
    return ease


def _forward_eased(rest: Floats, moved: Floats, ys: Floats, ease: Floats) -> Floats:
    """Where each source row `ys` of each column lands (rows, columns) when knot rows `rest` move to `moved`: a
    stretching band gives its rows extra height in proportion to their `ease` (capped at _MAX_STRETCH), a
    compressing one squeezes evenly. Rows outside the knots stay."""
    y = np.asarray(ys, np.float64)[:, None]
    n_rows, n_cols = ease.shape
    cols = np.arange(n_cols)
    cumulative = np.vstack([np.zeros((1, n_cols)), np.cumsum(ease, axis=0)])  # weight above each row

    def weight_at(pos: Floats) -> Floats:
        f = np.clip(pos - y[0, 0], 0.0, n_rows)
        i = np.minimum(np.floor(f).astype(np.int64), n_rows - 1)
        at: Floats = cumulative[i, cols] + (f - i) * ease[i, cols]
        return at

    out = np.broadcast_to(y, (n_rows, n_cols)).copy()
    for k in range(len(rest) - 1):
        lo, hi = rest[k], rest[k + 1]
        # Only the rows this band covers in some column (bands are thin; this keeps a frame's map cheap).
        r0 = max(0, math.floor(float(lo.min()) - y[0, 0]))
        r1 = min(n_rows, math.ceil(float(hi.max()) - y[0, 0]) + 1)
        if r0 >= r1:
            continue
        yb = y[r0:r1]
        span = np.maximum(hi - lo, 1e-6)
        extra = (moved[k + 1] - moved[k]) - span
        inside = (yb >= lo[None]) & (yb < hi[None])
        even = (yb - lo[None]) / span[None]
        w_lo, w_hi = weight_at(lo), weight_at(hi)
        mean = np.maximum(w_hi - w_lo, 1e-9) / span
        eased = (cumulative[r0:r1] - w_lo[None]) / (mean * span)[None]
        # Mix toward even so no row stretches past _MAX_STRETCH: slope = 1 + rate * ((1 - mix) * ease / mean + mix).
        rate = np.maximum(extra, 0.0) / span
        peak = np.where(inside, ease[r0:r1], 0.0).max(axis=0) / mean
        ratio = np.maximum(peak - 1.0, 1e-9)
        mix = np.clip((peak - (_MAX_STRETCH - 1.0) / np.maximum(rate, 1e-9)) / ratio, 0.0, 1.0)
        mix = np.where(extra > 0, mix, 1.0)
        frac = np.clip(mix[None] * even + (1.0 - mix[None]) * eased, 0.0, 1.0)
        out[r0:r1] = np.where(inside, moved[k][None] + (yb - lo[None]) + extra[None] * frac, out[r0:r1])
    return out


def _limit_stretch(forward: Floats, ease: Floats) -> Floats:
    """The forward map (rows, columns) with each row's stretch capped by its ease; the height a column loses that
    way is taken back from its compressed rows (they compress less), so the column's ends stay where they were."""
    steps = np.diff(forward, axis=0)
    cap = _RIGID_STRETCH + _STRETCH_ROOM * 0.5 * (ease[1:] + ease[:-1])
    capped = np.minimum(steps, cap)
    deficit = (steps - capped).sum(axis=0)
    squeezed = np.where(capped < 1.0, 1.0 - capped, 0.0)
    give = np.clip(deficit / np.maximum(squeezed.sum(axis=0), 1e-9), 0.0, 1.0)
    relaxed = np.where(capped < 1.0, 1.0 - squeezed * (1.0 - give[None]), capped)
    # Whatever the compressed rows could not absorb is spread over the column evenly (the ends must not move).
    relaxed *= (steps.sum(axis=0) / np.maximum(relaxed.sum(axis=0), 1e-9))[None]
    limited: Floats = np.vstack([forward[:1], forward[:1] + np.cumsum(relaxed, axis=0)])
    return limited


def _smooth_rows(rows: Floats, width: float) -> Floats:
    return np.array([_smooth(row, width) for row in rows])


def _keep_order(rest: Floats, moved: Floats) -> Floats:
    """Moved knots, clamped so each band keeps at least _MIN_SPACING of its rest height (no fold)."""
    out = moved.copy()
    gaps = np.diff(rest, axis=0)
    out[-1] = rest[-1]
    for i in range(len(out) - 2, 0, -1):  # from the eye (fixed) upward
        out[i] = np.minimum(out[i], out[i + 1] - _MIN_SPACING * gaps[i])
    out[0] = rest[0]
    for i in range(1, len(out) - 1):  # and from the box top (fixed) downward
        out[i] = np.maximum(out[i], out[i - 1] + _MIN_SPACING * gaps[i - 1])
    return out


def _invert(rest: Floats, moved: Floats, ys: Sequence[float] | Floats) -> Floats:
    """For output rows `ys` and each column: the source row, where the column maps knot rows `rest` to `moved`
    piecewise-linearly (identity outside the knots). Returns (len(ys), columns)."""
    y = np.asarray(ys, np.float64)[:, None]
    src = np.broadcast_to(y, (len(y), rest.shape[1])).copy()
    for k in range(len(rest) - 1):
        lo, hi = moved[k][None], moved[k + 1][None]
        inside = (y >= lo) & (y < hi)
        frac = (y - lo) / np.maximum(hi - lo, 1e-6)
        src = np.where(inside, rest[k][None] + frac * (rest[k + 1] - rest[k])[None], src)
    return src
