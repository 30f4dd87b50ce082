#!/usr/bin/env python3
"""Parity vectors for Painchaud et al.'s 16 anatomical criteria (cardiac short-axis MRI).

Generates short-axis label images (0 background, 1 RV, 2 MYO, 3 LV) with every kind of defect
the criteria look for, and computes each criterion as the `vital` library defines it, with the
same SciPy / scikit-image calls and conventions (written from its documented semantics; see
../shared/reference/anatomy-rules.md §1.9 and docs/rules.md). tests/painchaud_parity.rs checks
lightbox's rule kinds against these numbers and these verdicts.

Usage: painchaud_vectors.py OUT.json
"""

import json
import sys

import numpy as np
from scipy.ndimage import binary_erosion, binary_fill_holes, distance_transform_edt
from skimage import measure, morphology

BG, RV, MYO, LV = 0, 1, 2, 3
SQUARE = np.ones((3, 3), dtype=np.uint8)


def binary(seg, label):
    return (seg == label).astype(np.uint8)


def count_holes(seg, label):
    """Pixels of 8-connected non-class regions that do not reach the border."""
    inverse = np.pad(1 - binary(seg, label), 1, constant_values=1)
    regions = measure.regionprops(measure.label(inverse, connectivity=2))
    return int(sum(r.area for r in regions if r.bbox[0] != 0))


def count_holes_myo(seg):
    holes = count_holes(seg, MYO)
    if holes == 0:
        return 0
    lv = measure.regionprops(measure.label(binary(seg, LV), connectivity=2))
    return holes - (int(lv[0].area) if lv else 0)


def count_disconnectivity(seg, label):
    regions = measure.regionprops(measure.label(binary(seg, label), connectivity=2))
    if len(regions) <= 1:
        return 0
    areas = sorted((int(r.area) for r in regions), reverse=True)
    return sum(areas[1:])


def holes_between(seg, l1, l2):
    s1, s2 = binary(seg, l1), binary(seg, l2)

    def holes_without(a, other):
        lab, n = measure.label(1 - a, connectivity=1, return_num=True)
        lab[lab == lab[0, 0]] = 0
        with_other = set(np.unique(lab * other).tolist())
        keep = [h for h in range(1, n + 1) if h not in with_other]
        return np.isin(lab, keep).astype(np.uint8)

    filled = (s1 + holes_without(s1, s2) + s2 + holes_without(s2, s1)) > 0
    lab = measure.label(1 - filled.astype(np.uint8), connectivity=1)
    lab[lab == lab[0, 0]] = 0
    n = int(np.sum(lab > 0))
    floor = seg.shape[0] * seg.shape[1] / 2**14
    return n if n > floor else 0


def rv_disconnected_from_myo(seg, spacing):
    rv = morphology.dilation(binary(seg, RV), SQUARE)
    not_myo = 1 - binary(seg, MYO)
    if rv.sum() == 0 or (1 - not_myo).sum() == 0:
        return 0.0
    dist = distance_transform_edt(not_myo, sampling=spacing)
    return float(dist[rv > 0].min())


def frontier(seg, l1, l2):
    f = int((binary(seg, l1) * morphology.dilation(binary(seg, l2), SQUARE)).sum())
    return f if f > 1 else 0


def concavity(seg, label, spacing):
    f = binary_fill_holes(binary(seg, label)).astype(np.uint8)
    if not f.any():
        return None
    hull = morphology.convex_hull_image(f)
    diff = hull.astype(np.int64) - f
    # scikit-image's binary_erosion: pixels outside the image count as set
    diff = binary_erosion(diff, SQUARE, border_value=1)
    dist = distance_transform_edt(hull, sampling=spacing)
    return float(np.max(dist * diff))


def circularity(seg, label):
    f = binary_fill_holes(binary(seg, label)).astype(np.uint8)
    if not f.any():
        return None
    p = measure.perimeter(f)
    if p < 1e-6:
        return None
    a = float(measure.moments(f)[0, 0])
    return float(4 * np.pi * a / p**2)


def criteria(seg, spacing):
    sp = (spacing, spacing)
    return {
        "holes_in_lv": count_holes(seg, LV),
        "holes_in_rv": count_holes(seg, RV),
        "holes_in_myo": count_holes_myo(seg),
        "disconnectivity_in_lv": count_disconnectivity(seg, LV),
        "disconnectivity_in_rv": count_disconnectivity(seg, RV),
        "disconnectivity_in_myo": count_disconnectivity(seg, MYO),
        "holes_between_lv_and_myo": holes_between(seg, LV, MYO),
        "holes_between_rv_and_myo": holes_between(seg, RV, MYO),
        "rv_disconnected_from_myo": rv_disconnected_from_myo(seg, sp),
        "frontier_between_lv_and_rv": frontier(seg, LV, RV),
        "frontier_between_lv_and_background": frontier(seg, LV, BG),
        "lv_concavity": concavity(seg, LV, sp),
        "rv_concavity": concavity(seg, RV, sp),
        "myo_concavity": concavity(seg, MYO, sp),
        "lv_circularity": circularity(seg, LV),
        "myo_circularity": circularity(seg, MYO),
    }


THRESHOLDS = {
    "lv_concavity": ("max", 4.0),
    "rv_concavity": ("max", 30.0),
    "myo_concavity": ("max", 0.0),
    "lv_circularity": ("min", 0.2),
    "myo_circularity": ("min", 0.2),
}


def errors(values):
    """The criteria that fail: outside the threshold range, or non-zero without one."""
    out = []
    for k, v in values.items():
        if v is None:
            continue  # structure absent: optional
        if k in THRESHOLDS:
            side, t = THRESHOLDS[k]
            if (side == "max" and v > t) or (side == "min" and v < t):
                out.append(k)
        elif v != 0:
            out.append(k)
    return sorted(out)


def disc(shape, cy, cx, r):
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r


def heart(rng, size):
    h = w = size
    seg = np.zeros((h, w), dtype=np.uint8)
    cy, cx = rng.uniform(0.4, 0.6) * h, rng.uniform(0.45, 0.65) * w
    r_lv = rng.uniform(0.07, 0.13) * size
    r_epi = r_lv + rng.uniform(0.03, 0.06) * size
    rv_off = r_epi + rng.uniform(0.0, 0.05) * size
    rv = disc((h, w), cy + rng.uniform(-0.05, 0.05) * size, cx - rv_off, rng.uniform(0.9, 1.3) * r_epi)
    epi = disc((h, w), cy, cx, r_epi)
    seg[rv] = RV
    seg[epi] = MYO
    seg[disc((h, w), cy, cx, r_lv)] = LV
    return seg, (cy, cx, r_lv, r_epi)


def defect(rng, seg, geo, kind):
    h, w = seg.shape
    cy, cx, r_lv, r_epi = geo
    if kind == "lv_hole":
        seg[disc(seg.shape, cy + rng.uniform(-0.3, 0.3) * r_lv, cx, rng.uniform(1, 0.35 * r_lv))] = rng.choice([BG, MYO])
    elif kind == "fragment":
        label = rng.choice([LV, RV, MYO])
        y, x = rng.integers(2, h - 6), rng.integers(2, w - 6)
        seg[y : y + rng.integers(1, 5), x : x + rng.integers(1, 5)] = label
    elif kind == "gap_lv_myo":
        a = rng.uniform(0, 2 * np.pi)
        for t in np.linspace(a, a + rng.uniform(0.3, 1.2), 40):
            for r in np.linspace(r_lv - 1, r_lv + 1.5, 6):
                y, x = int(round(cy + r * np.sin(t))), int(round(cx + r * np.cos(t)))
                if seg[y, x] in (LV, MYO):
                    seg[y, x] = BG
    elif kind == "rv_detached":
        rv = seg == RV
        shift = int(rng.integers(2, 6))
        seg[rv] = BG
        seg[np.roll(rv, -shift, axis=1) & (seg == BG)] = RV
    elif kind == "lv_touches_rv":
        y0 = int(cy) - int(rng.integers(1, 4))
        seg[y0 : int(cy) + 2, : int(cx)][seg[y0 : int(cy) + 2, : int(cx)] == MYO] = LV
    elif kind == "open_myo":
        a = rng.uniform(0, 2 * np.pi)
        for t in np.linspace(a, a + rng.uniform(0.2, 0.6), 30):
            for r in np.linspace(r_lv, r_epi + 1, 10):
                y, x = int(round(cy + r * np.sin(t))), int(round(cx + r * np.cos(t)))
                if seg[y, x] == MYO:
                    seg[y, x] = BG
    elif kind == "dent":
        a = rng.uniform(0, 2 * np.pi)
        d = rng.uniform(0.3, 0.9) * r_lv
        seg[disc(seg.shape, cy + r_lv * np.sin(a), cx + r_lv * np.cos(a), d) & (seg == LV)] = MYO
    elif kind == "noise":
        n = int(rng.integers(3, 30))
        ys, xs = rng.integers(0, h, n), rng.integers(0, w, n)
        seg[ys, xs] = rng.integers(0, 4, n)
    elif kind == "no_rv":
        seg[seg == RV] = BG
    elif kind == "no_lv":
        seg[seg == LV] = MYO
    elif kind == "star":
        yy, xx = np.mgrid[:h, :w]
        t = np.arctan2(yy - cy, xx - cx)
        r = np.hypot(yy - cy, xx - cx)
        star = r <= r_lv * (0.55 + 0.45 * np.cos(5 * t))
        seg[seg == LV] = MYO
        seg[star] = LV
    elif kind == "border":
        seg[:] = np.roll(seg, int(cx), axis=1)
    elif kind == "thin_myo":
        seg[(seg == MYO) & ~disc(seg.shape, cy, cx, r_lv + 1.5)] = BG
    return seg


KINDS = ["lv_hole", "fragment", "gap_lv_myo", "rv_detached", "lv_touches_rv", "open_myo", "dent",
         "noise", "no_rv", "no_lv", "star", "border", "thin_myo"]


def rle(seg):
    flat = seg.ravel()
    change = np.flatnonzero(np.diff(flat)) + 1
    starts = np.concatenate([[0], change])
    lengths = np.diff(np.concatenate([starts, [flat.size]]))
    return [int(v) for pair in zip(flat[starts], lengths) for v in pair]


def main():
    rng = np.random.default_rng(20210206)
    cases = []
    for i in range(72):
        size = int(rng.choice([64, 96, 128, 256]))
        seg, geo = heart(rng, size)
        applied = []
        if i % 6 != 0:  # every sixth is clean
            for kind in rng.choice(KINDS, size=int(rng.integers(1, 3)), replace=False):
                seg = defect(rng, seg, geo, str(kind))
                applied.append(str(kind))
        spacing = float(rng.choice([1.0, 1.25, 1.5625]))
        values = criteria(seg, spacing)
        cases.append({
            "name": f"sax-{i:03d}",
            "width": size,
            "height": size,
            "spacing": spacing,
            "defects": applied,
            "labels": rle(seg),
            "values": values,
            "errors": errors(values),
        })
    with open(sys.argv[1], "w") as f:
        json.dump({"generator": "scripts/painchaud_vectors.py", "cases": cases}, f)
        f.write("\n")
    failing = sum(1 for c in cases if c["errors"])
    print(f"{len(cases)} short-axis masks, {failing} with at least one failed criterion", file=sys.stderr)


if __name__ == "__main__":
    main()
