#!/usr/bin/env bash
# Painchaud et al.'s 16 cardiac criteria on the same 72 short-axis masks: lightbox vs the
# Python computation a user would otherwise run (vital's definitions on SciPy / scikit-image,
# scripts/painchaud_vectors.py). One thread each, best of 5 passes. Needs scripts/test.sh's .venv.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --example painchaud_time
V=tests/vectors/painchaud.json
target/release/examples/painchaud_time "$V" 5 | tee /tmp/lightbox-painchaud.txt
.venv/bin/python - "$V" <<'PY' | tee /tmp/python-painchaud.txt
import json, sys, time
import numpy as np
sys.path.insert(0, "scripts")
from painchaud_vectors import criteria
cases = json.load(open(sys.argv[1]))["cases"]
segs = []
for c in cases:
    flat = np.repeat(np.array(c["labels"][0::2], dtype=np.uint8), c["labels"][1::2])
    segs.append((flat.reshape(c["height"], c["width"]), c["spacing"]))
best = float("inf")
for _ in range(5):
    t = time.perf_counter()
    for seg, sp in segs:
        criteria(seg, sp)
    best = min(best, time.perf_counter() - t)
print(f"python (SciPy/scikit-image): 16 criteria x {len(segs)} masks: best {best*1e3:.1f} ms")
PY
python3 - <<'PY'
import re
l = float(re.search(r"best ([0-9.]+) ms", open("/tmp/lightbox-painchaud.txt").read()).group(1))
p = float(re.search(r"best ([0-9.]+) ms", open("/tmp/python-painchaud.txt").read()).group(1))
print(f"ratio: lightbox is {p / l:.1f}x faster")
PY
