#!/usr/bin/env bash
# Side by side: a COCO evaluation with lightbox, pycocotools and faster-coco-eval on the same
# files, in one run on one machine. Each time is end to end (read the JSON, match, accumulate,
# summarise), best of REPEATS; prints the times, the ratios, and whether the 12 figures agree.
#
#   bbox: a COCO-val-sized problem: 5,000 images, ~36,000 ground-truth boxes over 80 classes,
#         500,000 detections.
#   segm: the same shape at a smaller scale (SEGM_IMAGES images, 100 masks each; polygons in the
#         ground truth, compressed RLE results).
#
# Usage: bench/coco_eval.sh [REPEATS] [SEGM_IMAGES]
set -euo pipefail
cd "$(dirname "$0")/.."
REPEATS=${1:-3}
SEGM_IMAGES=${2:-500}
BBOX=target/bench/coco-bbox
SEGM=target/bench/coco-segm-$SEGM_IMAGES

cargo build --release --quiet --example coco_eval
if [ ! -x .venv/bin/python ]; then python3 -m venv .venv; fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check 'pycocotools==2.0.11' 'numpy>=1.24' 'faster-coco-eval==1.8.0'
[ -f "$BBOX/results.json" ] || .venv/bin/python bench/coco_synth.py "$BBOX" 5000 100
[ -f "$SEGM/results.json" ] || .venv/bin/python bench/coco_synth.py "$SEGM" "$SEGM_IMAGES" 100 --segm

run() { # TYPE DIR
    local type=$1 dir=$2
    echo "== $type: $(.venv/bin/python -c "import json,sys; g=json.load(open('$dir/gt.json')); r=json.load(open('$dir/results.json')); print(f\"{len(g['images'])} images, {len(g['annotations'])} ground truth, {len(r)} detections\")")"
    lb=$(target/release/examples/coco_eval "$dir/gt.json" "$dir/results.json" "$type" "$REPEATS" 2>/dev/null)
    fce=$(.venv/bin/python bench/cocoeval_py.py faster-coco-eval "$dir/gt.json" "$dir/results.json" "$type" "$REPEATS")
    # pycocotools takes long: one run is enough to see the ratio
    py=$(.venv/bin/python bench/cocoeval_py.py pycocotools "$dir/gt.json" "$dir/results.json" "$type" 1)
    .venv/bin/python - "$lb" "$fce" "$py" <<'PY'
import json, sys
lb, fce, py = (json.loads(a) for a in sys.argv[1:4])
print(f"  {'lightbox':<18} {lb['seconds']:8.3f} s   (read {lb['load']:.3f} s + evaluate {lb['eval']:.3f} s)")
print(f"  {'faster-coco-eval':<18} {fce['seconds']:8.3f} s")
print(f"  {'pycocotools':<18} {py['seconds']:8.3f} s")
print(f"  lightbox is {py['seconds'] / lb['seconds']:.1f}x faster than pycocotools, "
      f"{fce['seconds'] / lb['seconds']:.1f}x faster than faster-coco-eval")
same_py = lb["stats"] == py["stats"]
same_fce = lb["stats"] == fce["stats"]
print(f"  12 figures identical to pycocotools: {'yes' if same_py else 'NO'}; to faster-coco-eval: {'yes' if same_fce else 'NO'}")
print(f"  AP {lb['stats'][0]:.4f}  AP50 {lb['stats'][1]:.4f}  AR100 {lb['stats'][8]:.4f}")
PY
}

echo "COCO evaluation, best of $REPEATS (pycocotools: 1 run), $(nproc) cores"
run bbox "$BBOX"
run segm "$SEGM"
