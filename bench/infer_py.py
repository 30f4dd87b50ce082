#!/usr/bin/env python3
"""The straightforward Python loop a user would otherwise write: for each image, PIL decode,
resize (bilinear) to a multiple of 32, /255, ImageNet mean/std, NCHW float32, onnxruntime run,
resize the probability map back, threshold, save the mask PNG. Same preprocessing as the card
lightbox uses in bench/infer.sh.

Usage: infer_py.py MODEL IMAGE_DIR OUT_DIR THREADS
Prints {"seconds": s, "cases": n} on stdout.
"""
import json
import os
import sys
import time

import numpy as np
import onnxruntime as ort
from PIL import Image

model, images, out, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
os.makedirs(out, exist_ok=True)
t0 = time.perf_counter()
opts = ort.SessionOptions()
opts.intra_op_num_threads = threads
sess = ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])
name = sess.get_inputs()[0].name
mean = np.array([0.485, 0.456, 0.406], np.float32).reshape(3, 1, 1)
std = np.array([0.229, 0.224, 0.225], np.float32).reshape(3, 1, 1)
files = sorted(f for f in os.listdir(images) if f.lower().endswith((".png", ".jpg", ".jpeg")))
for f in files:
    im = Image.open(os.path.join(images, f)).convert("RGB")
    w, h = im.size
    tw, th = max(32, w // 32 * 32), max(32, h // 32 * 32)
    x = np.asarray(im.resize((tw, th), Image.BILINEAR), np.float32).transpose(2, 0, 1) / 255.0
    x = ((x - mean) / std)[None]
    p = sess.run(None, {name: x})[0][0, 0]
    p = np.asarray(Image.fromarray(p).resize((w, h), Image.BILINEAR))
    Image.fromarray(((p >= 0.3) * 1).astype(np.uint8)).save(os.path.join(out, os.path.splitext(f)[0] + ".png"))
    Image.fromarray((np.clip(p, 0, 1) * 65535).astype(np.uint16)).save(os.path.join(out, os.path.splitext(f)[0] + ".text.png"))
print(json.dumps({"seconds": time.perf_counter() - t0, "cases": len(files)}))
