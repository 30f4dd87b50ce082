#!/usr/bin/env python3
"""Make two tiny real ONNX models and their reference outputs with Python onnxruntime, for
lightbox's inference tests (tests/infer.rs).

Usage: python scripts/onnx_models.py OUT_DIR

- seg.onnx: a 3×3 convolution and a sigmoid over a grey image of any size (input "image",
  [1, 1, H, W]; output "prob"). Card: resize none, scale 1/255. Reference: onnxruntime's output
  on each image, which lightbox's probability maps must equal.
- det.onnx: a detector with fixed boxes in tensor pixels and scores computed from the input
  (input "images", [1, 3, 64, 64]; outputs "boxes" [1, 2, 4] xyxy, "scores" [1, 2], "labels"
  [1, 2] int64). Card: letterbox 64×64 with pad 114. Reference: the scores onnxruntime gives on
  the letterboxed tensor (built here exactly as the card says) and where the boxes must land on
  the 128×64 image once the letterbox is undone.
- detb.onnx: the same with a free batch dimension (["N", 3, 64, 64] in; boxes [N, 2, 4] moved
  by each image's mean, scores [N, 2], float labels [N, 2] out), for batched detection.
Images are PNG, seeded, so the output is deterministic.
"""
import json
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper
from PIL import Image

out = sys.argv[1]
os.makedirs(os.path.join(out, "images"), exist_ok=True)
rng = np.random.default_rng(7)

# --- segmentation
k = np.array([[0.5, 1.0, 0.5], [1.0, -4.0, 1.0], [0.5, 1.0, 0.5]], np.float32).reshape(1, 1, 3, 3) * 3
g = helper.make_graph(
    [
        helper.make_node("Conv", ["image", "w", "b"], ["z"], pads=[1, 1, 1, 1]),
        helper.make_node("Sigmoid", ["z"], ["prob"]),
    ],
    "seg",
    [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["n", 1, "h", "w"])],
    [helper.make_tensor_value_info("prob", TensorProto.FLOAT, ["n", 1, "h", "w"])],
    [helper.make_tensor("w", TensorProto.FLOAT, [1, 1, 3, 3], k.ravel()), helper.make_tensor("b", TensorProto.FLOAT, [1], [0.25])],
)
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
m.ir_version = 8
onnx.save(m, os.path.join(out, "seg.onnx"))
with open(os.path.join(out, "seg.onnx.toml"), "w") as f:
    f.write('[input]\nname = "image"\nresize = "none"\ncolor = "gray"\nscale = 0.00392156862745098\n\n'
            '[output]\nkind = "segmentation"\nname = "prob"\nthreshold = 0.5\nclasses = ["blob"]\n')
sess = ort.InferenceSession(os.path.join(out, "seg.onnx"), providers=["CPUExecutionProvider"])
seg_ref = {}
for i in range(3):
    h, w = [(40, 56), (33, 47), (64, 64)][i]
    yy, xx = np.mgrid[0:h, 0:w]
    img = (128 + 100 * np.sin(xx / (3 + i)) * np.cos(yy / 5) + rng.normal(0, 10, (h, w))).clip(0, 255).astype(np.uint8)
    name = f"seg{i}.png"
    Image.fromarray(img).save(os.path.join(out, "images", name))
    x = (img.astype(np.float32) * np.float32(0.00392156862745098))[None, None]
    p = sess.run(None, {"image": x})[0][0, 0]
    seg_ref[name] = p.ravel().tolist()

# --- detection
boxes = np.array([[[16, 16, 48, 48], [0, 20, 30, 40]]], np.float32)
g = helper.make_graph(
    [
        helper.make_node("ReduceMean", ["images"], ["m"], axes=[1, 2, 3], keepdims=0),
        helper.make_node("Mul", ["m", "sw"], ["s0"]),
        helper.make_node("Add", ["s0", "sb"], ["s1"]),
        helper.make_node("Sigmoid", ["s1"], ["s2"]),
        helper.make_node("Unsqueeze", ["s2", "ax"], ["scores"]),
        helper.make_node("Identity", ["bx"], ["boxes"]),
        helper.make_node("Identity", ["lb"], ["labels"]),
    ],
    "det",
    [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, 64, 64])],
    [
        helper.make_tensor_value_info("boxes", TensorProto.FLOAT, [1, 2, 4]),
        helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, 2]),
        helper.make_tensor_value_info("labels", TensorProto.INT64, [1, 2]),
    ],
    [
        helper.make_tensor("sw", TensorProto.FLOAT, [2], [4.0, -2.0]),
        helper.make_tensor("sb", TensorProto.FLOAT, [2], [-1.0, 0.5]),
        helper.make_tensor("ax", TensorProto.INT64, [1], [0]),
        helper.make_tensor("bx", TensorProto.FLOAT, [1, 2, 4], boxes.ravel()),
        helper.make_tensor("lb", TensorProto.INT64, [1, 2], [0, 1]),
    ],
)
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
m.ir_version = 8
onnx.save(m, os.path.join(out, "det.onnx"))
with open(os.path.join(out, "det.onnx.toml"), "w") as f:
    f.write('[input]\nname = "images"\nsize = [64, 64]\nresize = "letterbox"\npad = 114\ncolor = "rgb"\n'
            'scale = 0.00392156862745098\n\n[output]\nkind = "detection"\nboxes = "boxes"\nscores = "scores"\n'
            'labels = "labels"\nbox_format = "xyxy"\nclasses = ["blob", "ring"]\n')
sess = ort.InferenceSession(os.path.join(out, "det.onnx"), providers=["CPUExecutionProvider"])
det_ref = {}
for i in range(2):
    img = rng.integers(0, 256, (64, 128, 3)).astype(np.uint8)
    name = f"det{i}.png"
    Image.fromarray(img).save(os.path.join(out, "images", name))
    # the card's letterbox: ×0.5 (a 2×2 mean at pixel-centre bilinear), centred, pad 114
    small = img.astype(np.float32).reshape(32, 2, 64, 2, 3).mean(axis=(1, 3))
    t = np.full((64, 64, 3), 114.0, np.float32)
    t[16:48] = small
    x = (t * np.float32(0.00392156862745098)).transpose(2, 0, 1)[None].astype(np.float32)
    sc = sess.run(None, {"images": x})[1][0]
    # tensor → image: (v - offset) / 0.5 with offset (0, 16)
    img_boxes = [[float((b[0] - 0) / 0.5), float((b[1] - 16) / 0.5), float((b[2] - 0) / 0.5), float((b[3] - 16) / 0.5)] for b in boxes[0]]
    det_ref[name] = {"scores": sc.tolist(), "boxes_xyxy": img_boxes}

# --- detection with a free batch dimension: boxes [N, 2, 4] moved by each image's mean, scores
# [N, 2] and float labels [N, 2], so that a batch's outputs belong to their own images
g = helper.make_graph(
    [
        helper.make_node("ReduceMean", ["images"], ["m4"], axes=[1, 2, 3], keepdims=1),
        helper.make_node("Reshape", ["m4", "s2shape"], ["m2"]),
        helper.make_node("Reshape", ["m4", "s3shape"], ["m3"]),
        helper.make_node("Mul", ["m2", "sw"], ["s0"]),
        helper.make_node("Add", ["s0", "sb"], ["s1"]),
        helper.make_node("Sigmoid", ["s1"], ["scores"]),
        helper.make_node("Mul", ["m3", "shift"], ["d"]),
        helper.make_node("Add", ["d", "bx"], ["boxes"]),
        helper.make_node("Mul", ["m2", "zero"], ["z"]),
        helper.make_node("Add", ["z", "lb"], ["labels"]),
    ],
    "detb",
    [helper.make_tensor_value_info("images", TensorProto.FLOAT, ["N", 3, 64, 64])],
    [
        helper.make_tensor_value_info("boxes", TensorProto.FLOAT, ["N", 2, 4]),
        helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["N", 2]),
        helper.make_tensor_value_info("labels", TensorProto.FLOAT, ["N", 2]),
    ],
    [
        helper.make_tensor("s2shape", TensorProto.INT64, [2], [-1, 1]),
        helper.make_tensor("s3shape", TensorProto.INT64, [3], [-1, 1, 1]),
        helper.make_tensor("sw", TensorProto.FLOAT, [1, 2], [4.0, -2.0]),
        helper.make_tensor("sb", TensorProto.FLOAT, [1, 2], [-1.0, 0.5]),
        helper.make_tensor("shift", TensorProto.FLOAT, [1, 1, 1], [8.0]),
        helper.make_tensor("bx", TensorProto.FLOAT, [1, 2, 4], boxes.ravel()),
        helper.make_tensor("zero", TensorProto.FLOAT, [1, 1], [0.0]),
        helper.make_tensor("lb", TensorProto.FLOAT, [1, 2], [0.0, 1.0]),
    ],
)
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
m.ir_version = 8
onnx.save(m, os.path.join(out, "detb.onnx"))

with open(os.path.join(out, "expected.json"), "w") as f:
    json.dump({"onnxruntime": ort.__version__, "seg": seg_ref, "det": det_ref}, f)
