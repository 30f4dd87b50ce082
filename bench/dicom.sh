#!/usr/bin/env bash
# DICOM decode-to-display: lightbox (examples/dicom_decode.rs) beside pydicom + numpy
# (bench/dicom_py.py) on the same files, in one run; prints seconds per image and the ratio.
# Needs .venv from scripts/test.sh (pydicom, Pillow for JPEG 2000) and ../shared/data/dicom.
set -euo pipefail
cd "$(dirname "$0")/.."
REPEATS=${REPEATS:-7}
D=../shared/data/dicom
FILES=("$D/RG1_UNCR.dcm" "$D/RG1_J2KI.dcm" "$D/CT_small.dcm" "$D/MR_small.dcm")
cargo build --release --example dicom_decode --quiet
target/release/examples/dicom_decode "$REPEATS" "${FILES[@]}" > /tmp/lightbox-dicom.txt
.venv/bin/python bench/dicom_py.py "$REPEATS" "${FILES[@]}" > /tmp/pydicom-dicom.txt
printf '%-22s %12s %12s %8s\n' file lightbox_s pydicom_s speedup
paste /tmp/lightbox-dicom.txt /tmp/pydicom-dicom.txt | while read -r name a _ _ b _; do
    printf '%-22s %12.4f %12.4f %7.1fx\n' "$name" "$a" "$b" "$(echo "$b / $a" | bc -l)"
done
