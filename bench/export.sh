#!/usr/bin/env bash
# Side by side: exporting the cases whose name contains NEEDLE from a chest-phantom pack of
# CASES cases (images, ground truth masks and COCO, two runs' COCO results, masks and scores)
# with `lightbox export` (which also hashes every image, writes provenance and checks the
# selection with the filter language) and with the json + shutil script a user would
# otherwise write (bench/export_py.py), in one run on one machine. Prints both and the ratio.
#
# Usage: bench/export.sh [CASES] [NEEDLE] [REPEATS]
set -euo pipefail
cd "$(dirname "$0")/.."
CASES=${1:-1000}
NEEDLE=${2:-case-1}
REPEATS=${3:-3}
SRC=target/bench/phantom-$CASES

cargo build --release --quiet --bin lightbox
if [ ! -f "$SRC/lightbox.toml" ]; then
    target/release/lightbox sample --cases "$CASES" "$SRC" >/dev/null
fi
best=""
for _ in $(seq "$REPEATS"); do
    out=$(mktemp -d)/hard
    t0=$(date +%s.%N)
    target/release/lightbox export "$SRC" -o "$out" --filter "id:$NEEDLE" >/dev/null
    t1=$(date +%s.%N)
    n=$(find "$out/images" -type f | wc -l)
    rm -rf "$(dirname "$out")"
    t=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
    if [ -z "$best" ] || awk -v a="$t" -v b="$best" 'BEGIN { exit !(a < b) }'; then best=$t; fi
done
PY=python3
if [ -x .venv/bin/python ]; then PY=.venv/bin/python; fi
py=$($PY bench/export_py.py "$SRC" "$NEEDLE" "$REPEATS" 2>/dev/null)
echo "pack: $CASES cases ($(du -sh "$SRC" | cut -f1)); exporting $n cases (id contains $NEEDLE); best of $REPEATS"
printf '%-44s %8s s\n' "lightbox export --filter id:$NEEDLE" "$best" "python json + shutil script" "$py"
awk -v a="$py" -v b="$best" 'BEGIN { printf "ratio: python / lightbox = %.2f\n", a / b }'
