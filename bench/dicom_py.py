#!/usr/bin/env python3
"""What a Python user would write to show a DICOM image: pydicom reads it, applies the modality
LUT and the file's VOI LUT/window, inverts MONOCHROME1, scales to 8 bits. Prints `name seconds`
(median of REPEATS), as examples/dicom_decode.rs does for lightbox.

Usage: dicom_py.py REPEATS FILE...
"""
import os
import sys
import time

import numpy as np
import pydicom
from pydicom.pixels import apply_modality_lut, apply_voi_lut

repeats = int(sys.argv[1])
for f in sys.argv[2:]:
    times = []
    checksum = 0
    for _ in range(repeats):
        t = time.perf_counter()
        ds = pydicom.dcmread(f)
        arr = ds.pixel_array
        if ds.SamplesPerPixel == 1:
            v = apply_modality_lut(arr, ds)
            v = apply_voi_lut(v, ds)
            lo, hi = float(v.min()), float(v.max())
            shown = ((v - lo) / max(hi - lo, 1e-9) * 255 + 0.5).astype(np.uint8)
            if ds.PhotometricInterpretation == "MONOCHROME1":
                shown = 255 - shown
        else:
            shown = arr.astype(np.uint8)
        times.append(time.perf_counter() - t)
        checksum = int(shown.astype(np.uint64).sum())
    times.sort()
    print(f"{os.path.basename(f)} {times[len(times) // 2]:.5f} {checksum}")
