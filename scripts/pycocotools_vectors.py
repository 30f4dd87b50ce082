#!/usr/bin/env python3
"""Write test vectors made by pycocotools itself, for lightbox's equality tests.

Usage: python scripts/pycocotools_vectors.py OUT.json

Every figure here comes from pycocotools.mask (RLE encode, strings, areas, boxes, IoUs, merges,
polygon and box rasterisation). tests/pycocotools_equality.rs reads the file and checks that
lightbox computes exactly the same. The generator is seeded, so the output is deterministic for
a given pycocotools version.
"""
import json
import sys

import numpy as np
from importlib.metadata import version
from pycocotools import mask as mu

rng = np.random.default_rng(20261125)


def s(rle):
    c = rle["counts"]
    return c.decode("ascii") if isinstance(c, bytes) else c


def random_mask(h, w):
    kind = rng.integers(0, 5)
    if kind == 0:
        m = (rng.random((h, w)) < rng.choice([0.05, 0.3, 0.7, 0.95])).astype(np.uint8)
    elif kind == 1:
        m = np.zeros((h, w), np.uint8)
        for _ in range(rng.integers(1, 4)):
            cy, cx = rng.random() * h, rng.random() * w
            ry, rx = 1 + rng.random() * h / 2, 1 + rng.random() * w / 2
            yy, xx = np.mgrid[0:h, 0:w]
            m |= (((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1).astype(np.uint8)
    elif kind == 2:
        m = np.zeros((h, w), np.uint8)
    elif kind == 3:
        m = np.ones((h, w), np.uint8)
    else:
        m = np.zeros((h, w), np.uint8)
        y0, x0 = rng.integers(0, h), rng.integers(0, w)
        m[y0 : y0 + rng.integers(1, h + 1), x0 : x0 + rng.integers(1, w + 1)] = 1
    return m


def encode(m):
    return mu.encode(np.asfortranarray(m))


def random_polygon(h, w):
    k = int(rng.integers(3, 12))
    kind = rng.integers(0, 4)
    if kind == 0:  # star-shaped around a centre, partly outside the image sometimes
        cx, cy = rng.uniform(-0.2 * w, 1.2 * w), rng.uniform(-0.2 * h, 1.2 * h)
        ang = np.sort(rng.uniform(0, 2 * np.pi, k))
        rad = rng.uniform(0.5, max(h, w) / 2, k)
        pts = np.stack([cx + rad * np.cos(ang), cy + rad * np.sin(ang)], 1)
    elif kind == 1:  # arbitrary (self-intersecting) points
        pts = np.stack([rng.uniform(-3, w + 3, k), rng.uniform(-3, h + 3, k)], 1)
    elif kind == 2:  # integer and half-integer coordinates (ties in rounding)
        pts = np.stack([rng.integers(-2, w + 2, k) / 2.0 * 2, rng.integers(-2, 2 * h + 2, k) / 2.0], 1)
    else:  # tiny polygons
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        pts = np.stack([cx + rng.uniform(-1.5, 1.5, k), cy + rng.uniform(-1.5, 1.5, k)], 1)
    return [float(v) for v in pts.reshape(-1)]


def main(out):
    v = {"pycocotools_version": version("pycocotools"), "numpy_version": np.__version__, "seed": 20261125}

    # encode / area / toBbox / decode of masks
    enc = []
    for _ in range(160):
        h, w = int(rng.integers(1, 48)), int(rng.integers(1, 48))
        m = random_mask(h, w)
        r = encode(m)
        enc.append({
            "h": h, "w": w,
            "mask": "".join("1" if b else "0" for b in m.reshape(-1)),  # row-major
            "counts": s(r), "area": int(mu.area(r)), "bbox": [float(x) for x in mu.toBbox(r)],
        })
    v["encode"] = enc

    # polygons (one or several parts) → merged RLE, as annToRLE does
    polys = []
    for i in range(200):
        h, w = int(rng.integers(1, 60)), int(rng.integers(1, 60))
        nparts = 1 if i % 3 else int(rng.integers(1, 4))
        parts = [random_polygon(h, w) for _ in range(nparts)]
        rles = mu.frPyObjects(parts, h, w)
        merged = mu.merge(rles)
        polys.append({
            "h": h, "w": w, "parts": parts,
            "part_counts": [s(r) for r in rles],
            "counts": s(merged), "area": int(mu.area(merged)),
            "bbox": [float(x) for x in mu.toBbox(merged)],
        })
    # the documented unit square
    r = mu.merge(mu.frPyObjects([[0, 0, 0, 2, 2, 2, 2, 0]], 5, 5))
    polys.append({"h": 5, "w": 5, "parts": [[0.0, 0.0, 0.0, 2.0, 2.0, 2.0, 2.0, 0.0]],
                  "part_counts": [s(r)], "counts": s(r), "area": int(mu.area(r)),
                  "bbox": [float(x) for x in mu.toBbox(r)]})
    v["polygons"] = polys

    # boxes rasterised (frBbox)
    boxes = []
    for _ in range(80):
        h, w = int(rng.integers(1, 50)), int(rng.integers(1, 50))
        b = [float(rng.uniform(-5, w)), float(rng.uniform(-5, h)), float(rng.uniform(0, w)), float(rng.uniform(0, h))]
        r = mu.frPyObjects(np.array([b]), h, w)[0]
        boxes.append({"h": h, "w": w, "bbox": b, "counts": s(r), "area": int(mu.area(r))})
    v["frbbox"] = boxes

    # uncompressed RLE → compressed, and toBbox on runs with zero-length foreground
    unc = []
    for _ in range(60):
        h, w = int(rng.integers(1, 20)), int(rng.integers(1, 20))
        total, counts = h * w, []
        while total > 0:
            c = int(min(total, rng.integers(0, 12)))
            counts.append(c)
            total -= c
        if len(counts) % 2 == 1 and rng.random() < 0.5:
            counts.append(0)
        r = mu.frPyObjects({"counts": counts, "size": [h, w]}, h, w)
        unc.append({"h": h, "w": w, "uncompressed": counts, "counts": s(r), "area": int(mu.area(r)),
                    "bbox": [float(x) for x in mu.toBbox(r)]})
    r = mu.frPyObjects({"counts": [5, 0, 3, 2], "size": [4, 3]}, 4, 3)
    unc.append({"h": 4, "w": 3, "uncompressed": [5, 0, 3, 2], "counts": s(r), "area": int(mu.area(r)),
                "bbox": [float(x) for x in mu.toBbox(r)]})
    v["uncompressed"] = unc

    # IoU matrices between RLE sets (with crowd), and between boxes
    ious = []
    for _ in range(60):
        h, w = int(rng.integers(2, 40)), int(rng.integers(2, 40))
        dts = [encode(random_mask(h, w)) for _ in range(int(rng.integers(1, 5)))]
        gts = [encode(random_mask(h, w)) for _ in range(int(rng.integers(1, 5)))]
        crowd = [int(rng.random() < 0.3) for _ in gts]
        m = mu.iou(dts, gts, crowd)
        ious.append({"h": h, "w": w, "dt": [s(r) for r in dts], "gt": [s(r) for r in gts], "iscrowd": crowd,
                     "iou": np.asarray(m).tolist()})
    v["rle_iou"] = ious
    bious = []
    for _ in range(60):
        dt = [[float(x) for x in rng.uniform(0, 30, 2)] + [float(x) for x in rng.uniform(0, 20, 2)] for _ in range(int(rng.integers(1, 5)))]
        gt = [[float(x) for x in rng.uniform(0, 30, 2)] + [float(x) for x in rng.uniform(0, 20, 2)] for _ in range(int(rng.integers(1, 5)))]
        crowd = [int(rng.random() < 0.3) for _ in gt]
        m = mu.iou(np.array(dt), np.array(gt), crowd)
        bious.append({"dt": dt, "gt": gt, "iscrowd": crowd, "iou": np.asarray(m).tolist()})
    v["bbox_iou"] = bious

    # merges: union and intersection
    merges = []
    for _ in range(60):
        h, w = int(rng.integers(1, 30)), int(rng.integers(1, 30))
        rles = [encode(random_mask(h, w)) for _ in range(int(rng.integers(1, 5)))]
        for inter in (0, 1):
            r = mu.merge(rles, intersect=inter)
            merges.append({"h": h, "w": w, "inputs": [s(x) for x in rles], "intersect": bool(inter),
                           "counts": s(r), "area": int(mu.area(r))})
    v["merge"] = merges

    with open(out, "w") as f:
        json.dump(v, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/vectors/pycocotools.json")
