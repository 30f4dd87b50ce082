#!/usr/bin/env python3
"""Time a COCO evaluation end to end with pycocotools or faster-coco-eval: COCO(gt), loadRes,
evaluate, accumulate, summarize. Best of REPEATS.

Usage: cocoeval_py.py pycocotools|faster-coco-eval GT.json RESULTS.json bbox|segm [REPEATS]
Prints {"seconds": best, "stats": [...]} on stdout.
"""
import contextlib
import io
import json
import sys
import time

tool, gt, res, iou_type = sys.argv[1:5]
repeats = int(sys.argv[5]) if len(sys.argv) > 5 else 1
if tool == "pycocotools":
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval
else:
    from faster_coco_eval import COCO
    from faster_coco_eval import COCOeval_faster as COCOeval

best, stats = float("inf"), None
for _ in range(repeats):
    t = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        g = COCO(gt)
        d = g.loadRes(res)
        e = COCOeval(g, d, iou_type)
        e.evaluate()
        e.accumulate()
        e.summarize()
    best = min(best, time.perf_counter() - t)
    stats = [float(x) for x in e.stats]
print(json.dumps({"seconds": best, "stats": stats}))
