#!/usr/bin/env python3
"""DICOM and NIfTI fixtures and pydicom's reading of them, for tests/dicom.rs.

Usage: dicom_vectors.py OUTDIR

Writes into OUTDIR:
  - synthetic DICOM files made with pydicom (a signed multi-frame CT with rescale and named
    windows, its RLE-compressed twin, a 12-bit MONOCHROME1 radiograph, a VOI LUT table image, a
    sigmoid-window image, an 8-bit secondary capture);
  - for every uncompressed file lightbox is tested on (the synthetic ones, the real files in
    ../shared/data/dicom when present, pydicom's bundled test files): pydicom's modality values
    (pixel_array through apply_modality_lut) as raw little-endian float64, one file per image;
  - vectors.json: for each case, the file, the expected values file, frames/rows/columns, the
    tags lightbox should read, and for compressed files the uncompressed twin whose values they
    must equal (within `tolerance` for lossy ones).

pydicom only decodes uncompressed data here (numpy, no plugins): compressed files are checked
against an uncompressed twin, never against pydicom's own decoders.
"""

import json
import os
import sys

import numpy as np
import pydicom
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.pixels import apply_modality_lut
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, RLELossless, generate_uid

OUT = sys.argv[1]
os.makedirs(OUT, exist_ok=True)
HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "data", "dicom"))


def base(modality, rows, cols, frames=1):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = modality
    # identifying tags that lightbox must never show or write
    ds.PatientName = "Doe^Jane"
    ds.PatientID = "PHI-123456"
    ds.PatientBirthDate = "19700101"
    ds.Rows, ds.Columns = rows, cols
    if frames > 1:
        ds.NumberOfFrames = frames
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    return ds


def save(ds, name, pixels):
    ds.PixelData = pixels.tobytes()
    path = os.path.join(OUT, name)
    ds.save_as(path, enforce_file_format=True)
    return path


def synthetic():
    made = []
    # a signed CT volume: air, fat, water, bone columns, 4 slices, rescale to HU
    rows, cols, frames = 40, 48, 4
    hu = np.zeros((frames, rows, cols), dtype=np.int32)
    for f in range(frames):
        hu[f, :, :12] = -1000
        hu[f, :, 12:24] = -100
        hu[f, :, 24:36] = 0 + 10 * f
        hu[f, :, 36:] = 700 + 100 * f
    hu[:, :4, :] = -2048  # padding outside the field of view
    stored = ((hu + 1024) // 2).astype(np.int16)  # slope 2, intercept -1024
    ds = base("CT", rows, cols, frames)
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    ds.RescaleSlope, ds.RescaleIntercept, ds.RescaleType = 2, -1024, "HU"
    ds.WindowCenter, ds.WindowWidth = [-600, 40], [1500, 400]
    ds.WindowCenterWidthExplanation = ["LUNG", "MEDIASTINUM"]
    ds.PixelSpacing = [0.7, 0.5]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.BodyPartExamined = "CHEST"
    made.append(save(ds, "synthetic_ct_multiframe.dcm", stored))
    # the same volume as a series: one single-frame file per slice, positions 5 mm apart along
    # the normal, file names in another order than the positions (IM-1 is slice 0)
    series_dir = os.path.join(OUT, "synthetic_ct_series")
    os.makedirs(series_dir, exist_ok=True)
    series_uid = generate_uid()
    for f in range(frames):
        sl = base("CT", rows, cols)
        for k in ["BitsAllocated", "BitsStored", "HighBit", "PixelRepresentation", "RescaleSlope",
                  "RescaleIntercept", "RescaleType", "WindowCenter", "WindowWidth",
                  "WindowCenterWidthExplanation", "PixelSpacing", "ImageOrientationPatient", "BodyPartExamined"]:
            setattr(sl, k, getattr(ds, k))
        sl.SeriesInstanceUID = series_uid
        sl.InstanceNumber = frames - f  # deliberately against the positions
        sl.ImagePositionPatient = [-12.0, -14.0, 100.0 + 5.0 * f]
        sl.PixelData = stored[f].tobytes()
        sl.save_as(os.path.join(series_dir, f"IM-{(3 * f + 1) % frames}.dcm"), enforce_file_format=True)
    rle = pydicom.dcmread(made[-1])
    rle.compress(RLELossless)
    rle.save_as(os.path.join(OUT, "synthetic_ct_multiframe_rle.dcm"), enforce_file_format=True)

    # a 12-bit MONOCHROME1 radiograph: low values are white
    ds = base("DX", 30, 20)
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.PhotometricInterpretation = "MONOCHROME1"
    ds.WindowCenter, ds.WindowWidth = 2048, 4096
    ds.ImagerPixelSpacing = [0.15, 0.15]
    ds.BodyPartExamined, ds.ViewPosition = "CHEST", "PA"
    px = np.tile(np.linspace(0, 4095, 20).astype(np.uint16), (30, 1))
    made.append(save(ds, "synthetic_dx_monochrome1.dcm", px))
    # inputs a frontal chest model was not made for: a hand, a lateral view
    ds.BodyPartExamined = "HAND"
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    made.append(save(ds, "synthetic_dx_hand.dcm", px))
    ds.BodyPartExamined, ds.ViewPosition = "CHEST", "LL"
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    made.append(save(ds, "synthetic_dx_lateral.dcm", px))

    # a VOI LUT table instead of a window: values 100..355 map through a square-root curve
    ds = base("CR", 16, 16)
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 10, 9, 0
    item = Dataset()
    item.LUTDescriptor = [256, 100, 12]
    item.LUTData = np.array([int(4095 * np.sqrt(i / 255)) for i in range(256)], dtype="<u2").tobytes()
    item.LUTExplanation = "SQRT"
    ds.VOILUTSequence = Sequence([item])
    px = (np.arange(256, dtype=np.uint16) + 100).reshape(16, 16)
    made.append(save(ds, "synthetic_cr_voilut.dcm", px))

    # a sigmoid VOI LUT function
    ds = base("MR", 8, 32)
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    ds.WindowCenter, ds.WindowWidth = 500, 400
    ds.VOILUTFunction = "SIGMOID"
    px = np.tile(np.linspace(0, 1000, 32).astype(np.uint16), (8, 1))
    made.append(save(ds, "synthetic_mr_sigmoid.dcm", px))

    # 8-bit secondary capture, no rescale, no window
    ds = base("OT", 10, 10)
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    px = (np.arange(100, dtype=np.uint8) * 2).reshape(10, 10)
    made.append(save(ds, "synthetic_sc_8bit.dcm", px))
    return made


def tags(ds):
    def s(v):
        return None if v is None else str(v)

    wc = ds.get("WindowCenter")
    ww = ds.get("WindowWidth")
    as_list = lambda v: [] if v is None else [float(x) for x in (v if isinstance(v, pydicom.multival.MultiValue) else [v])]
    return {
        "modality": s(ds.get("Modality")),
        "body_part": s(ds.get("BodyPartExamined")),
        "view_position": s(ds.get("ViewPosition")),
        "photometric": s(ds.get("PhotometricInterpretation")),
        "window_centers": as_list(wc),
        "window_widths": as_list(ww),
        "pixel_spacing": [float(x) for x in ds.get("PixelSpacing", ds.get("ImagerPixelSpacing", []))] or None,
    }


def expected(path, name):
    ds = pydicom.dcmread(path)
    frames = int(ds.get("NumberOfFrames", 1))
    arr = ds.pixel_array
    if ds.SamplesPerPixel == 1:
        values = apply_modality_lut(arr, ds).astype(np.float64)
    else:
        values = arr.astype(np.float64)
    out = os.path.join(OUT, name + ".f64")
    values.astype("<f8").tofile(out)
    return {
        "file": path,
        "values": out,
        "frames": frames,
        "rows": int(ds.Rows),
        "columns": int(ds.Columns),
        "samples": int(ds.SamplesPerPixel),
        "tags": tags(ds),
    }


cases = {}
for path in synthetic():
    name = os.path.basename(path)
    cases[name] = expected(path, name)
cases["synthetic_ct_multiframe_rle.dcm"] = {
    "file": os.path.join(OUT, "synthetic_ct_multiframe_rle.dcm"),
    "twin": "synthetic_ct_multiframe.dcm",
    "tolerance": 0,
}

pydicom_files = {
    # uncompressed: compared with pydicom directly
    "CT_small.dcm": None,
    "MR_small.dcm": None,
    "MR_small_bigendian.dcm": None,
    "MR_small_implicit.dcm": None,
    "SC_rgb_small_odd.dcm": None,
    # compressed: compared with an uncompressed twin
    "MR_small_RLE.dcm": ("MR_small.dcm", 0),
    "MR_small_jp2klossless.dcm": ("MR_small.dcm", 0),
    "SC_rgb_rle_2frame.dcm": None,
}
for name, twin in pydicom_files.items():
    try:
        path = get_testdata_file(name)
    except Exception:
        path = None
    if not path:
        continue
    if twin is None:
        try:
            cases[name] = expected(path, name)
        except Exception as e:  # a pixel handler pydicom lacks here: skip the comparison
            print(f"note: pydicom cannot decode {name} here ({e}); skipped", file=sys.stderr)
    else:
        cases[name] = {"file": path, "twin": twin[0], "tolerance": twin[1]}

# files lightbox must refuse with a clear error (and no panic)
refuse = {}
for name, why in {
    "MR_truncated.dcm": "Pixel Data",
    "MR_small_jpeg_ls_lossless.dcm": "transfer syntax",
    "liver_1frame.dcm": "BitsAllocated",
    "rtdose.dcm": "BitsAllocated",
    "examples_palette.dcm": "PhotometricInterpretation",
}.items():
    try:
        refuse[name] = {"file": get_testdata_file(name), "mentions": why}
    except Exception:
        pass

# real files from ../shared when present
if os.path.isdir(SHARED):
    for name in ["RG1_UNCR.dcm", "RG1_J2KI_decompressed_derived.dcm"]:
        p = os.path.join(SHARED, name)
        if os.path.exists(p):
            cases[name] = expected(p, name)
    p = os.path.join(SHARED, "RG1_J2KI.dcm")
    if os.path.exists(p):
        # lossy JPEG 2000: its decompressed twin was made by another decoder
        cases["RG1_J2KI.dcm"] = {"file": p, "twin": "RG1_J2KI_decompressed_derived.dcm", "tolerance": 2}

def write_nifti(path, vol, affine, datatype, bitpix, slope=0.0, inter=0.0, descrip=b""):
    """A NIfTI-1 single file (.nii, or gzipped .nii.gz), written field by field (no nibabel)."""
    import gzip
    import struct

    nx, ny, nz = vol.shape[2], vol.shape[1], vol.shape[0]
    hdr = bytearray(348)
    struct.pack_into("<i", hdr, 0, 348)
    struct.pack_into("<8h", hdr, 40, 3, nx, ny, nz, 1, 1, 1, 1)
    struct.pack_into("<hh", hdr, 70, datatype, bitpix)
    pix = [1.0, abs(affine[0][0]), abs(affine[1][1]), abs(affine[2][2]), 0, 0, 0, 0]
    struct.pack_into("<8f", hdr, 76, *pix)
    struct.pack_into("<f", hdr, 108, 352.0)  # vox_offset
    struct.pack_into("<ff", hdr, 112, slope, inter)
    struct.pack_into("<B", hdr, 123, 2)  # xyzt_units: mm
    hdr[148 : 148 + len(descrip)] = descrip
    struct.pack_into("<hh", hdr, 252, 0, 1)  # qform_code, sform_code
    for r in range(3):
        struct.pack_into("<4f", hdr, 280 + 16 * r, *[float(v) for v in affine[r]])
    hdr[344:348] = b"n+1\0"
    data = bytes(hdr) + b"\0\0\0\0" + vol.astype(vol.dtype.newbyteorder("<")).tobytes()
    if path.endswith(".gz"):
        with gzip.open(path, "wb") as f:
            f.write(data)
    else:
        with open(path, "wb") as f:
            f.write(data)


# a CT volume in HU (int16, RAS affine: +i right, +j anterior) and its label volume; lightbox
# shows it radiologically, so the expected slices are flipped in both axes
nz, ny, nx = 5, 24, 32
hu = np.full((nz, ny, nx), -1000, dtype=np.int16)
labels = np.zeros((nz, ny, nx), dtype=np.uint8)
for k in range(nz):
    hu[k, 4:20, 2 : 10 + k] = 40  # soft tissue growing toward +i (patient right) slice by slice
    hu[k, 16:20, 20:28] = 900  # bone near +j (anterior)
    labels[k, 4:20, 2 : 10 + k] = 1
    labels[k, 16:20, 20:28] = 3
affine = [[0.8, 0, 0, -10], [0, 0.9, 0, -20], [0, 0, 2.5, 5]]
write_nifti(os.path.join(OUT, "volume_ct.nii.gz"), hu, affine, 4, 16, descrip=b"synthetic CT")
write_nifti(os.path.join(OUT, "volume_labels.nii"), labels, affine, 2, 8)
shown = hu[:, ::-1, ::-1].astype(np.float64)
shown.astype("<f8").tofile(os.path.join(OUT, "volume_ct.f64"))
labels[:, ::-1, ::-1].astype("<f8").tofile(os.path.join(OUT, "volume_labels.f64"))
nifti = {
    "image": os.path.join(OUT, "volume_ct.nii.gz"),
    "values": os.path.join(OUT, "volume_ct.f64"),
    "labels": os.path.join(OUT, "volume_labels.nii"),
    "label_values": os.path.join(OUT, "volume_labels.f64"),
    "frames": nz,
    "rows": ny,
    "columns": nx,
    "spacing": [0.9, 0.8],
}

# the series folder: its slices, in position order, are the multi-frame file's frames
series = {
    "dir": os.path.join(OUT, "synthetic_ct_series"),
    "twin": "synthetic_ct_multiframe.dcm",
    "frames": 4,
    "slice_spacing": 5.0,
}

with open(os.path.join(OUT, "vectors.json"), "w") as f:
    json.dump({"pydicom": pydicom.__version__, "cases": cases, "refuse": refuse, "nifti": nifti,
               "series": series}, f, indent=1)
print(f"dicom vectors: {len(cases)} cases, {len(refuse)} refusals -> {OUT}")
