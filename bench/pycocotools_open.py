#!/usr/bin/env python3
"""What a user would otherwise run to load a COCO pack: pycocotools' COCO(gt) and loadRes(results).

Usage: python bench/pycocotools_open.py GT.json RESULTS.json [REPEATS]; prints the best time in seconds.
"""
import contextlib
import io
import sys
import time

from pycocotools.coco import COCO

gt_path, res_path = sys.argv[1], sys.argv[2]
repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 3
best = float("inf")
for _ in range(repeats):
    t = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(gt_path)
        dt = gt.loadRes(res_path)
    secs = time.perf_counter() - t
    best = min(best, secs)
    print(f"pycocotools: {len(gt.imgs)} images, {len(dt.anns)} detections in {secs:.3f} s", file=sys.stderr)
    del gt, dt
print(f"{best:.4f}")
