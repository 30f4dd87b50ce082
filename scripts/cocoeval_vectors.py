#!/usr/bin/env python3
"""Write COCO evaluation vectors made by pycocotools' COCOeval itself, for lightbox's equality
tests (tests/coco_eval_equality.rs).

Usage: python scripts/cocoeval_vectors.py OUT.json

Generates small seeded datasets that cover what makes COCO evaluation tricky — crowd regions,
ignored ground truth, score ties, images without ground truth or without detections, categories
without ground truth (or with only crowds), more than 100 detections on an image, areas exactly on
the small/medium/large boundaries, a ground truth with id 0, polygons and RLE, segm results with
and without a `bbox` key — evaluates each with COCOeval (bbox and segm, default and custom
parameters) and writes the datasets with every figure: the 12 stats, per-class AP, the full
precision / recall / scores arrays (run-length encoded) and evalImgs (per-image matches).
"""
import contextlib
import io
import json
import random
import sys
from importlib.metadata import version

import numpy as np
from pycocotools import mask as mu
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

R = random.Random(20261125)


def rle_list(a):
    """Run-length encode a flat list: [[value, count], ...] (exact floats survive JSON)."""
    out = []
    for v in a:
        v = float(v)
        if out and out[-1][0] == v:
            out[-1][1] += 1
        else:
            out.append([v, 1])
    return out


def polygon_in(x, y, w, h):
    """A random convex-ish polygon inside the box (8 points on an ellipse, jittered)."""
    cx, cy = x + w / 2, y + h / 2
    pts = []
    for i in range(8):
        t = 2 * np.pi * i / 8
        r = 0.75 + 0.25 * R.random()
        pts += [round(cx + r * w / 2 * np.cos(t), 2), round(cy + r * h / 2 * np.sin(t), 2)]
    return pts


def box_in(W, H, big=False):
    w = R.choice([R.uniform(3, 30), R.uniform(20, 90), R.uniform(60, min(W, H) - 2)])
    h = w * R.uniform(0.5, 1.5)
    w, h = min(w, W - 2), min(h, H - 2)
    x, y = R.uniform(0, W - w), R.uniform(0, H - h)
    return [round(x, 2), round(y, 2), round(w, 2), round(h, 2)]


def jitter(b, s):
    x, y, w, h = b
    return [round(x + R.gauss(0, s * w), 2), round(y + R.gauss(0, s * h), 2),
            round(max(1.0, w * (1 + R.gauss(0, s))), 2), round(max(1.0, h * (1 + R.gauss(0, s))), 2)]


def make_dataset(n_images, cats, gt_cats, crowd=False, many=False, segm_dets=False, dets_bbox=True,
                 boundary_areas=False, id_zero=False, tie_scores=True):
    images, anns, dets = [], [], []
    ann_id = 0 if id_zero else 1
    for i in range(n_images):
        W, H = R.choice([(64, 48), (160, 120), (320, 240), (300, 300)])
        img_id = 1000 - 7 * i  # not in file order: evaluation sorts ids
        images.append({"id": img_id, "file_name": f"img{i:03d}.png", "width": W, "height": H})
        n_gt = 0 if i % 7 == 3 else R.randint(1, 6)
        if many and i == 1:
            n_gt = 20
        gts = []
        for _ in range(n_gt):
            c = R.choice(gt_cats)
            b = box_in(W, H)
            poly = polygon_in(*b)
            area = float(mu.area(mu.merge(mu.frPyObjects([poly], H, W))))
            if boundary_areas and R.random() < 0.3:
                area = R.choice([1024.0, 9216.0, 1023.9999, 9216.0001])
            a = {"id": ann_id, "image_id": img_id, "category_id": c, "bbox": b, "area": area,
                 "iscrowd": 0, "segmentation": [poly]}
            ann_id += 1
            anns.append(a)
            gts.append(a)
        if crowd and R.random() < 0.6:
            c = R.choice(gt_cats + [cats[-1]])
            b = [int(v) for v in box_in(W, H)]
            m = np.zeros((H, W), np.uint8, order="F")
            m[b[1]:b[1] + b[3], b[0]:b[0] + b[2]] = 1
            r = mu.encode(m)
            # uncompressed RLE, as COCO stores crowds
            flat = m.flatten(order="F")
            counts, last, run = [], 0, 0
            for v in flat:
                if v == last:
                    run += 1
                else:
                    counts.append(run)
                    run, last = 1, v
            counts.append(run)
            a = {"id": ann_id, "image_id": img_id, "category_id": c,
                 "bbox": [float(v) for v in mu.toBbox(r)], "area": float(mu.area(r)), "iscrowd": 1,
                 "segmentation": {"counts": counts, "size": [H, W]}}
            ann_id += 1
            anns.append(a)
            gts.append(a)
        if i % 5 == 2:
            continue  # an image without detections
        n_dt = 150 if (many and i == 1) else None
        cand = []
        for g in gts:
            if R.random() < 0.85:
                c = g["category_id"] if R.random() < 0.9 else R.choice(cats)
                cand.append((c, jitter(g["bbox"], R.choice([0.02, 0.1, 0.25]))))
            if R.random() < 0.2:  # duplicate
                cand.append((g["category_id"], jitter(g["bbox"], 0.05)))
        for _ in range(R.randint(0, 4)):
            cand.append((R.choice(cats), box_in(W, H)))
        while n_dt is not None and len(cand) < n_dt:
            cand.append((R.choice(cats), box_in(W, H)))
        for c, b in cand:
            x, y, w, h = b
            x, y = max(0.0, min(x, W - 1)), max(0.0, min(y, H - 1))
            w, h = max(1.0, min(w, W - x)), max(1.0, min(h, H - y))
            b = [round(x, 2), round(y, 2), round(w, 2), round(h, 2)]
            score = round(R.random(), 1) if tie_scores and R.random() < 0.5 else R.random()
            d = {"image_id": img_id, "category_id": c, "score": score}
            if segm_dets:
                r = mu.merge(mu.frPyObjects([polygon_in(*b)], H, W))
                d["segmentation"] = {"size": [H, W], "counts": r["counts"].decode("ascii")}
                if dets_bbox:
                    d["bbox"] = b
            else:
                d["bbox"] = b
            dets.append(d)
    categories = [{"id": c, "name": f"class{c}"} for c in cats]
    return {"images": images, "annotations": anns, "categories": categories}, dets


def evaluate(gt, dets, iou_type, iou_thrs=None, max_dets=None):
    with contextlib.redirect_stdout(io.StringIO()):
        cg = COCO()
        cg.dataset = json.loads(json.dumps(gt, default=lambda o: o.item()))
        cg.createIndex()
        cd = cg.loadRes(json.loads(json.dumps(dets)))
        E = COCOeval(cg, cd, iou_type)
        if iou_thrs is not None:
            E.params.iouThrs = np.array(iou_thrs)
        if max_dets is not None:
            E.params.maxDets = max_dets
        E.evaluate()
        E.accumulate()
        E.summarize()
    p = E.eval["precision"]
    per_class = []
    for k in range(p.shape[2]):
        s = p[:, :, k, 0, -1]
        s = s[s > -1]
        per_class.append(float(np.mean(s)) if s.size else None)
    eval_imgs = []
    for e in E.evalImgs:
        if e is None:
            continue
        eval_imgs.append({
            "image_id": e["image_id"], "category_id": e["category_id"], "area": e["aRng"],
            "dtIds": [int(x) for x in e["dtIds"]], "gtIds": [int(x) for x in e["gtIds"]],
            "dtMatches": e["dtMatches"].astype(np.int64).tolist(),
            "gtMatches": e["gtMatches"].astype(np.int64).tolist(),
            "dtIgnore": e["dtIgnore"].astype(int).tolist(),
            "gtIgnore": np.asarray(e["gtIgnore"]).astype(int).tolist(),
        })
    return {
        "iou_type": iou_type,
        "iou_thrs": [float(t) for t in E.params.iouThrs],
        "max_dets": list(E.params.maxDets),
        "stats": [float(x) for x in E.stats],
        "per_class_ap": per_class,
        "shape": list(p.shape),
        "precision": rle_list(p.flatten()),
        "recall": [float(x) for x in E.eval["recall"].flatten()],
        "scores": rle_list(E.eval["scores"].flatten()),
        "eval_imgs": eval_imgs,
    }


def main(out):
    sets = []
    specs = [
        ("basic", dict(n_images=24, cats=[1, 2, 3, 4], gt_cats=[1, 2, 3], id_zero=True), ["bbox", "segm"]),
        ("crowds", dict(n_images=24, cats=[1, 2, 3], gt_cats=[1, 2], crowd=True, boundary_areas=True), ["bbox", "segm"]),
        ("many", dict(n_images=6, cats=[1, 2], gt_cats=[1, 2], many=True), ["bbox"]),
        ("segm-rle", dict(n_images=16, cats=[1, 2, 3], gt_cats=[1, 2, 3], crowd=True, segm_dets=True, dets_bbox=False), ["segm", "bbox"]),
        ("segm-rle-with-bbox", dict(n_images=16, cats=[1, 2], gt_cats=[1, 2], segm_dets=True, dets_bbox=True), ["segm"]),
    ]
    for name, kw, types in specs:
        gt, dets = make_dataset(**kw)
        runs = [evaluate(gt, dets, t) for t in types]
        if name == "basic":
            runs.append(evaluate(gt, dets, "bbox", iou_thrs=[0.3, 0.5], max_dets=[5, 20, 50]))
            runs.append(evaluate(gt, dets, "bbox", iou_thrs=[0.5]))
        sets.append({"name": name, "gt": gt, "results": dets, "evals": runs})
    doc = {"pycocotools": version("pycocotools"), "numpy": version("numpy"), "datasets": sets}
    with open(out, "w") as f:
        json.dump(doc, f, separators=(",", ":"), default=lambda o: o.item())


if __name__ == "__main__":
    main(sys.argv[1])
