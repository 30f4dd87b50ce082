#!/usr/bin/env python3
"""The sample pack's 14 chest rules as a user would otherwise write them: NumPy, SciPy and
scikit-image on each label mask, pycocotools for the opacity instances. One thread.

    .venv/bin/python bench/rules_py.py PACK [PASSES] [skimage|opencv]

Convex hulls come from scikit-image's convex_hull_image (what its documentation offers), or with
`opencv` from cv2.convexHull + cv2.fillConvexPoly, which an experienced user would pick for speed.

Reads the label masks and instances of the ground truth and every run, checks the rules of
samples/chest-phantom/rules.toml (the same bounds, written out here), prints the flags per rule
and the best time over PASSES (reading the masks included, as lightbox's figure includes it).
"""

import json
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image
from pycocotools import mask as cocomask
from scipy import ndimage
from skimage.morphology import convex_hull_image

RL, LL, HEART, OPACITY = 1, 2, 3, 4
EIGHT = np.ones((3, 3), bool)


def dilate(m, r):
    """Pixels within Euclidean distance r of m (the exact disc, as lightbox's)."""
    if not m.any():
        return m
    return ndimage.distance_transform_edt(~m) <= r


def pieces(m, min_area):
    lab, n = ndimage.label(m, structure=EIGHT)
    areas = np.bincount(lab.ravel())[1:]
    return int((areas >= min_area).sum())


def holes(m, min_area):
    lab, n = ndimage.label(~m)  # 4-connected background
    if n == 0:
        return 0
    border = np.unique(np.concatenate([lab[0], lab[-1], lab[:, 0], lab[:, -1]]))
    areas = np.bincount(lab.ravel())
    return sum(1 for k in range(1, n + 1) if k not in border and areas[k] >= min_area)


def centroid_x(m):
    ys, xs = np.nonzero(m)
    return xs.mean() + 0.5


def hull_skimage(m):
    return convex_hull_image(m) | m if m.any() else m


def hull_opencv(m):
    if not m.any():
        return m
    import cv2

    ys, xs = np.nonzero(m)
    corners = cv2.convexHull(np.stack([xs, ys], 1).astype(np.int32))
    out = np.zeros(m.shape, np.uint8)
    cv2.fillConvexPoly(out, corners, 1)
    return out.astype(bool) | m


hull = hull_skimage


def check(labels, opacities):
    """The flags (rule ids) of one case and source."""
    out = []
    rl, ll, heart = labels == RL, labels == LL, labels == HEART
    lungs = rl | ll
    h, w = labels.shape
    lungs_hull = hull(lungs)
    # opacity-in-lungs: each opacity has at least 90% of its area inside dilate(hull(lungs), 12px)
    if opacities:
        fields = dilate(lungs_hull, 12)
        for o in opacities:
            a = o.sum()
            if a and (o & fields).sum() / a < 0.9:
                out.append("opacity-in-lungs")
    for m in (rl, ll):
        if m.any() and pieces(m, 64) != 1:
            out.append("lung-one-piece")
        if m.any() and holes(m, 30) > 0:
            out.append("lung-no-holes")
    # radiological orientation: the patient's left is the image's right
    if heart.any() and lungs.any() and centroid_x(heart) - centroid_x(lungs_hull) < 0:
        out.append("heart-on-patient-left")
    if rl.any() and ll.any() and centroid_x(ll) - centroid_x(rl) < 40:
        out.append("lungs-on-their-sides")
    if heart.any() and pieces(heart, 64) != 1:
        out.append("heart-one-piece")
    for m in (rl, ll):
        if m.sum() < 2000:
            out.append("lungs-present")
    if heart.sum() < 1000:
        out.append("heart-present")
    if rl.any() and ll.any() and (ndimage.binary_dilation(rl, EIGHT) & ll).any():
        out.append("lungs-apart")
    if heart.any() and lungs.any() and (heart & lungs).sum() / min(heart.sum(), lungs.sum()) > 0.02:
        out.append("heart-not-in-lungs")
    if rl.any() and ll.any() and not 0.6 <= rl.sum() / ll.sum() <= 1.7:
        out.append("lung-symmetry")
    if heart.any() and not 0.03 <= heart.sum() / (h * w) <= 0.2:
        out.append("heart-size")
    for m in (rl, ll):
        if m.any() and m.sum() / hull(m).sum() < 0.75:
            out.append("lung-shape")
    if len(opacities) > 6:
        out.append("opacity-count")
    return out


def sources(pack):
    manifest = (pack / "lightbox.toml").read_text()
    import tomllib

    m = tomllib.loads(manifest)
    yield "ground_truth", m["ground_truth"]
    for name, run in m.get("runs", {}).items():
        yield name, run


def load(pack):
    """(labels path, [opacity RLEs]) per case and source."""
    work = []
    for name, src in sources(pack):
        coco = json.loads((pack / src["coco"]).read_text())
        if isinstance(coco, list):
            anns, images = coco, json.loads((pack / "ground_truth/instances.json").read_text())["images"]
        else:
            anns, images = coco["annotations"], coco["images"]
        by_image = {}
        for a in anns:
            if a["category_id"] == OPACITY:
                by_image.setdefault(a["image_id"], []).append(a)
        for im in images:
            stem = Path(im["file_name"]).stem
            rles = []
            for a in by_image.get(im["id"], []):
                seg = a.get("segmentation")
                if seg is None:  # a box alone: its rectangle
                    rles.append(cocomask.frPyObjects(np.array([a["bbox"]], dtype=np.float64), im["height"], im["width"])[0])
                elif isinstance(seg, list):
                    rles.append(cocomask.merge(cocomask.frPyObjects(seg, im["height"], im["width"])))
                else:
                    rles.append(seg)
            work.append((pack / src["masks"] / f"{stem}.png", rles))
    return work


def main():
    global hull
    pack = Path(sys.argv[1])
    passes = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    hulls = sys.argv[3] if len(sys.argv) > 3 else "skimage"
    hull = {"skimage": hull_skimage, "opencv": hull_opencv}[hulls]
    work = load(pack)
    best, flags = float("inf"), Counter()
    for _ in range(passes):
        flags = Counter()
        t = time.perf_counter()
        for path, rles in work:
            labels = np.asarray(Image.open(path))
            opacities = [cocomask.decode(r).astype(bool) for r in rles]
            flags.update(check(labels, opacities))
        best = min(best, time.perf_counter() - t)
    print(f"python (NumPy/SciPy, {hulls} hulls): 14 rules x {len(work)} case-sources: best {best*1e3:.1f} ms")
    for rule, n in sorted(flags.items()):
        print(f"  {rule}: {n}")


if __name__ == "__main__":
    main()
