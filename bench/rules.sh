#!/usr/bin/env bash
# The sample pack's 14 chest rules on the ground truth and both runs (40 cases x 3 sources, label
# masks read from disk included): lightbox vs the same rules written with NumPy / SciPy /
# scikit-image (or OpenCV hulls) and pycocotools (bench/rules_py.py), one thread each, side by
# side; then lightbox
# on a 10,000-case pack (the sample repeated 250 times, bench/rules_pack.py) on all cores.
# Needs scripts/test.sh's .venv.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --example rules_time
RAYON_NUM_THREADS=1 target/release/examples/rules_time samples/chest-phantom 10 | tee /tmp/lightbox-rules.txt
.venv/bin/python bench/rules_py.py samples/chest-phantom 1 skimage | tee /tmp/python-rules-skimage.txt
.venv/bin/python bench/rules_py.py samples/chest-phantom 3 opencv | tee /tmp/python-rules-opencv.txt
python3 - <<'PY'
import re
best = lambda f: float(re.search(r"best ([0-9.]+) ms", open(f).read()).group(1))
l = best("/tmp/lightbox-rules.txt")
for hulls in ("skimage", "opencv"):
    p = best(f"/tmp/python-rules-{hulls}.txt")
    print(f"ratio (one thread each, {hulls} hulls): lightbox is {p / l:.0f}x faster")
PY
BIG=${TMPDIR:-/tmp}/lightbox-rules-10k
[ -d "$BIG" ] || python3 bench/rules_pack.py samples/chest-phantom 250 "$BIG"
target/release/examples/rules_time "$BIG" 3
