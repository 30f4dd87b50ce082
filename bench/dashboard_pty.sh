#!/usr/bin/env bash
# Side by side: the dashboard on the 40-case sample and on a 10,000-case pack, in a real
# pseudo-terminal that answers as a sixel xterm does (bench/dashboard_pty.py). Reports, per
# pack, the first screen (the case list), the first image (its last byte on the screen) and
# the next case after `j` (median and worst of the presses) while background validation,
# rules and metrics run; then the 10,000-case / 40-case ratios. Targets (issue 20): first
# image < 300 ms after the case list, next case < 50 ms, whatever the pack size.
#
# Usage: bench/dashboard_pty.sh [CASES] [REPEATS]
# The large pack is made once by `lightbox sample --cases CASES` (about 35 min for 10,000 on
# two cores: it draws every phantom) and kept under target/bench.
set -euo pipefail
cd "$(dirname "$0")/.."
CASES=${1:-10000}
REPEATS=${2:-2}
BIG=target/bench/chest-$CASES
cargo build --release --quiet --bin lightbox
if [ ! -f "$BIG/lightbox.toml" ]; then
    target/release/lightbox sample --cases "$CASES" "$BIG" >/dev/null
fi
for pack in samples/chest-phantom "$BIG"; do
    for _ in $(seq "$REPEATS"); do
        printf '%s %s\n' "$pack" "$(python3 bench/dashboard_pty.py target/release/lightbox "$pack" --presses 15)"
    done
done | python3 -c '
import json, sys
rows = {}
for line in sys.stdin:
    pack, js = line.split(" ", 1)
    rows.setdefault(pack, []).append(json.loads(js))
print("%-28s %12s %12s %16s %16s" % ("pack", "first screen", "first image", "next case (med)", "next case (max)"))
best = {}
for pack, rs in rows.items():
    b = {k: min(r[k] for r in rs) for k in ("first_screen_ms", "first_image_ms", "next_case_median_ms", "next_case_max_ms")}
    best[pack] = b
    print("%-28s %9.0f ms %9.0f ms %13.1f ms %13.1f ms" % (pack, b["first_screen_ms"], b["first_image_ms"], b["next_case_median_ms"], b["next_case_max_ms"]))
small, big = list(best.values())
print("ratio (large / sample): first image %.1f×, image after the list %.1f×, next case %.1f×" % (
    big["first_image_ms"] / small["first_image_ms"],
    (big["first_image_ms"] - big["first_screen_ms"]) / (small["first_image_ms"] - small["first_screen_ms"]),
    big["next_case_median_ms"] / small["next_case_median_ms"]))
'
