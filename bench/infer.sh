#!/usr/bin/env bash
# Side by side: running a real published model (PaddleOCR's DBNet text detector, ../shared/data)
# over a pack of real chest X-rays with `lightbox infer` and with a straightforward Python
# onnxruntime loop doing the same preprocessing and writing the same masks and probability maps,
# in one run on one machine. Prints cases/s for both and the ratio.
#
# Usage: bench/infer.sh [THREADS] [REPEATS]
set -euo pipefail
cd "$(dirname "$0")/.."
THREADS=${1:-2}
REPEATS=${2:-3}
DATA=../shared/data
MODEL=$DATA/onnx/rapidocr/ch_PP-OCRv4_det_infer.onnx
[ -f "$MODEL" ] || { echo "needs $MODEL (../shared/data)"; exit 1; }
cargo build --release --quiet --bin lightbox
if [ ! -x .venv/bin/python ]; then python3 -m venv .venv; fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check 'onnxruntime==1.32.0' 'numpy>=1.24' pillow

W=target/bench/infer
rm -rf "$W" && mkdir -p "$W/pack/models"
cp -r "$DATA/cxr_covid_seg_generalblockchain/images" "$W/pack/images"
cp "$MODEL" "$W/pack/models/det.onnx"
cat > "$W/pack/models/det.onnx.toml" <<'CARD'
[input]
layout = "nchw"
multiple_of = 32
resize = "stretch"
color = "rgb"
scale = 0.00392156862745098
mean = [0.485, 0.456, 0.406]
std = [0.229, 0.224, 0.225]

[output]
kind = "segmentation"
threshold = 0.3
classes = ["text"]
CARD
printf 'name = "cxr"\n\n[[classes]]\nid = 1\nname = "text"\n' > "$W/pack/lightbox.toml"
N=$(ls "$W/pack/images" | wc -l)
echo "DBNet (PP-OCRv4 det) on $N real chest X-rays, $THREADS threads, best of $REPEATS"
best_lb=999999; best_py=999999
for i in $(seq "$REPEATS"); do
    s=$(date +%s.%N)
    target/release/lightbox infer "$W/pack" --model "$W/pack/models/det.onnx" --name "r$i" --threads "$THREADS" --batch 4 2>/dev/null
    lb=$(echo "$(date +%s.%N) - $s" | bc)
    py=$(.venv/bin/python bench/infer_py.py "$W/pack/models/det.onnx" "$W/pack/images" "$W/py$i" "$THREADS" | .venv/bin/python -c "import json,sys; print(json.load(sys.stdin)['seconds'])")
    best_lb=$(echo "if ($lb < $best_lb) $lb else $best_lb" | bc)
    best_py=$(echo "if ($py < $best_py) $py else $best_py" | bc)
done
awk -v n="$N" -v a="$best_lb" -v b="$best_py" 'BEGIN {
    printf "  %-32s %7.2f s  %6.1f cases/s\n", "lightbox infer (whole command)", a, n / a
    printf "  %-32s %7.2f s  %6.1f cases/s\n", "Python onnxruntime loop", b, n / b
    printf "  lightbox is %.2fx the speed of the Python loop\n", b / a
}'
