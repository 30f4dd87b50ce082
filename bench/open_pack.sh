#!/usr/bin/env bash
# Side by side: opening a COCO pack of 10,000 images and 1,000,000 detections with lightbox
# (Pack::open: manifest, ground truth, results, all converted and checked) and with pycocotools
# (COCO(gt) + loadRes(results)), in one run on one machine. Prints both times and the ratio.
#
# Usage: bench/open_pack.sh [CASES] [PREDICTIONS] [REPEATS]
set -euo pipefail
cd "$(dirname "$0")/.."
CASES=${1:-10000}
PREDS=${2:-1000000}
REPEATS=${3:-3}
OUT=target/bench/pack-$CASES-$PREDS

cargo build --release --quiet --bin lightbox --example open_pack
if [ ! -f "$OUT/results.json" ]; then
    target/release/lightbox sample --bench "$PREDS" --cases "$CASES" "$OUT" >/dev/null
fi
if [ ! -x .venv/bin/python ]; then python3 -m venv .venv; fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check 'pycocotools==2.0.11' 'numpy>=1.24'

echo "pack: $CASES cases, $PREDS predictions ($(du -h "$OUT/results.json" | cut -f1) of results JSON); best of $REPEATS"
lb=$(target/release/examples/open_pack "$OUT" "$REPEATS" 2>/dev/null)
py=$(.venv/bin/python bench/pycocotools_open.py "$OUT/gt.json" "$OUT/results.json" "$REPEATS" 2>/dev/null)
printf '%-36s %8s s\n' "lightbox Pack::open" "$lb" "pycocotools COCO() + loadRes()" "$py"
awk -v a="$py" -v b="$lb" 'BEGIN { printf "ratio: lightbox is %.1f× faster\n", a / b }'
