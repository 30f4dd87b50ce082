#!/usr/bin/env python3
"""Generate a COCO-val-sized evaluation problem: ground truth and detections, seeded.

Usage: coco_synth.py OUT_DIR [IMAGES] [DETS_PER_IMAGE] [--segm]

Defaults match COCO val2017: 5,000 images, ~7.3 ground-truth objects per image over 80 classes
(~36,000), ~100 detections per image (~500,000): true positives with box noise, duplicates,
confusions between classes and background detections, with scores that favour good boxes. With
--segm, ground truth are polygons and detections compressed RLE masks (segm results without a
bbox key, as Detectron2 writes them).
"""
import json
import os
import sys

import numpy as np

out = sys.argv[1]
n_img = int(sys.argv[2]) if len(sys.argv) > 2 and not sys.argv[2].startswith("--") else 5000
per_img = int(sys.argv[3]) if len(sys.argv) > 3 and not sys.argv[3].startswith("--") else 100
segm = "--segm" in sys.argv
rng = np.random.default_rng(7)
os.makedirs(out, exist_ok=True)
if segm:
    from pycocotools import mask as mu

images, anns, dets = [], [], []
aid = 1


def ellipse(x, y, w, h, n=12):
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return np.round(np.stack([x + w / 2 * (1 + np.cos(t)), y + h / 2 * (1 + np.sin(t))], 1).ravel(), 2).tolist()


for i in range(n_img):
    W, H = int(rng.choice([640, 480, 500, 427])), int(rng.choice([480, 640, 375, 333]))
    img_id = int(i * 3 + 1)
    images.append({"id": img_id, "file_name": f"{img_id:012d}.jpg", "width": W, "height": H})
    n_gt = int(rng.poisson(7.3))
    boxes = []
    for _ in range(n_gt):
        s = float(np.exp(rng.uniform(np.log(6), np.log(min(W, H) * 0.9))))
        w, h = s * rng.uniform(0.6, 1.4), s * rng.uniform(0.6, 1.4)
        w, h = min(w, W - 1), min(h, H - 1)
        x, y = rng.uniform(0, W - w), rng.uniform(0, H - h)
        c = int(rng.integers(1, 81))
        crowd = int(rng.random() < 0.01)
        b = [round(float(x), 2), round(float(y), 2), round(float(w), 2), round(float(h), 2)]
        a = {"id": aid, "image_id": img_id, "category_id": c, "bbox": b, "iscrowd": crowd,
             "area": round(float(w * h * 0.78), 2)}
        a["segmentation"] = [ellipse(*b)]
        aid += 1
        anns.append(a)
        boxes.append((c, b))
    k = 0
    while k < per_img:
        if boxes and rng.random() < 0.5:
            c, (x, y, w, h) = boxes[int(rng.integers(len(boxes)))]
            noise = rng.choice([0.03, 0.1, 0.3])
            x, y = x + rng.normal(0, noise * w), y + rng.normal(0, noise * h)
            w, h = w * np.exp(rng.normal(0, noise)), h * np.exp(rng.normal(0, noise))
            if rng.random() < 0.1:
                c = int(rng.integers(1, 81))
            score = float(np.clip(rng.beta(5, 2) - noise, 0.001, 1))
        else:
            s = float(np.exp(rng.uniform(np.log(6), np.log(min(W, H) * 0.9))))
            w, h = min(s * rng.uniform(0.6, 1.4), W - 1), min(s * rng.uniform(0.6, 1.4), H - 1)
            x, y = rng.uniform(0, W - w), rng.uniform(0, H - h)
            c = int(rng.integers(1, 81))
            score = float(rng.beta(1.2, 6))
        x, y = float(np.clip(x, 0, W - 2)), float(np.clip(y, 0, H - 2))
        w, h = float(np.clip(w, 1, W - x)), float(np.clip(h, 1, H - y))
        b = [round(x, 2), round(y, 2), round(w, 2), round(h, 2)]
        d = {"image_id": img_id, "category_id": c, "score": round(score, 5)}
        if segm:
            r = mu.merge(mu.frPyObjects([ellipse(*b)], H, W))
            d["segmentation"] = {"size": [H, W], "counts": r["counts"].decode("ascii")}
        else:
            d["bbox"] = b
        dets.append(d)
        k += 1

cats = [{"id": c, "name": f"class{c}", "supercategory": "thing"} for c in range(1, 81)]
with open(os.path.join(out, "gt.json"), "w") as f:
    json.dump({"images": images, "annotations": anns, "categories": cats}, f)
with open(os.path.join(out, "results.json"), "w") as f:
    json.dump(dets, f)
print(f"{len(images)} images, {len(anns)} ground-truth objects, {len(dets)} detections", file=sys.stderr)
