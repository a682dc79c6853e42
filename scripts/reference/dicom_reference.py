#!/usr/bin/env python3
"""Reference values for the DICOM reader tests, computed with pydicom (independent of our reader).

Usage (from the package root):
    scripts/reference/dicom_reference.py [--copy-from DIR ...]

Needs pydicom 3.0.2, numpy, and for the JPEG files pylibjpeg + pylibjpeg-libjpeg (pydicom's
"pylibjpeg" pixel data handler). Benchmarks/compare_dicom_read.py sets up such a virtual
environment in Benchmarks/.venv; run this script with Benchmarks/.venv/bin/python.

With --copy-from, fixtures listed below are first copied from the given folders (the pydicom
wheel's pydicom/data/test_files and the pydicom-data wheel's data_store/data). Writes
Tests/DICOMTests/Fixtures/reference.json.
"""
import argparse
import json
import os
import shutil
import sys

import numpy as np
import pydicom
from pydicom.pixels import pixel_array

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "Tests", "DICOMTests", "Fixtures")

# name -> what the Swift test does with it:
#   "pixels": decode every frame and compare with pydicom's pixel_array
#   "luminance": colour JPEG; our reader gives BT.601 luminance, compared with a tolerance
#   "header": no pixel data; compare header values
#   "error:<kind>": our reader must refuse it with that DICOMError kind (pydicom may or may not decode it)
FILES = {
    "CT_small.dcm": "pixels",                    # Explicit VR LE, signed 16-bit, CT rescale
    "MR_small.dcm": "pixels",                    # Explicit VR LE
    "MR_small_implicit.dcm": "pixels",           # Implicit VR LE
    "MR_small_bigendian.dcm": "pixels",          # Explicit VR BE
    "MR_small_RLE.dcm": "pixels",                # RLE Lossless, 16-bit signed
    "MR_small_padded.dcm": "pixels",             # trailing padding after Pixel Data
    "emri_small.dcm": "pixels",                  # multi-frame (10), Bits Stored 12
    "emri_small_RLE.dcm": "pixels",              # multi-frame RLE
    "emri_small_big_endian.dcm": "pixels",       # multi-frame big endian
    "JPEG-LL.dcm": "pixels",                     # JPEG Lossless SV1 (.70), signed 16-bit
    "JPGLosslessP14SV1_1s_1f_8b.dcm": "pixels",  # JPEG Lossless SV1, 8-bit
    "SC_rgb_jpeg_gdcm.dcm": "pixels",            # JPEG Lossless, 3 components
    "liver.dcm": "pixels",                       # 1-bit segmentation, 3 frames
    "SC_rgb.dcm": "pixels",                      # RGB 8-bit native
    "SC_rgb_rle.dcm": "pixels",                  # RGB RLE
    "SC_rgb_rle_16bit.dcm": "pixels",            # RGB 16-bit RLE
    "SC_rgb_rle_2frame.dcm": "pixels",           # RGB RLE, 2 frames
    "rtdose_1frame.dcm": "pixels",               # 32-bit, Implicit VR
    "rtdose_rle_1frame.dcm": "pixels",           # 32-bit RLE
    "SC_rgb_jpeg_dcmtk.dcm": "luminance",        # JPEG Baseline, YBR_FULL colour
    "ExplVR_BigEndNoMeta.dcm": "header",         # no preamble, no meta, big endian
    "ExplVR_LitEndNoMeta.dcm": "header",         # no preamble, no meta, little endian
    "no_meta_group_length.dcm": "header",        # meta group without group length
    "nested_priv_SQ.dcm": "header",              # nested private sequences (implicit VR)
    "UN_sequence.dcm": "header",                 # undefined-length UN holding a sequence
    "MR_small_jp2klossless.dcm": "error:unsupportedTransferSyntax",  # JPEG 2000
    "image_dfl.dcm": "error:unsupportedTransferSyntax",              # Deflated Explicit VR LE
    "JPEG-lossy.dcm": "error:unsupported",       # 12-bit JPEG Extended: libjpeg-turbo here is 8-bit only
    "MR_truncated.dcm": "error:truncated",  # Pixel Data length runs past the end of the file
}


def text(ds, keyword):
    v = ds.get(keyword)
    return None if v is None else str(v)


def describe(path, mode):
    ds = pydicom.dcmread(path, force=True)
    meta = getattr(ds, "file_meta", None)
    entry = {"mode": mode}
    ts = meta.get("TransferSyntaxUID") if meta is not None else None
    entry["transfer_syntax"] = str(ts) if ts else None
    if mode == "header":
        entry["header"] = {
            "Modality": text(ds, "Modality"),
            "PatientName": text(ds, "PatientName"),
            "PatientID": text(ds, "PatientID"),
            "SOPInstanceUID": text(ds, "SOPInstanceUID"),
            "StudyInstanceUID": text(ds, "StudyInstanceUID"),
        }
        entry["element_count"] = len(ds)  # top-level data elements
        # Items of each top-level sequence.
        entry["sequences"] = {f"{elem.tag.group:04X}{elem.tag.element:04X}": len(elem.value)
                              for elem in ds if elem.VR == "SQ"}
        return entry
    if mode.startswith("error:"):
        entry["error"] = mode.split(":", 1)[1]
        return entry
    entry.update({
        "rows": int(ds.Rows), "columns": int(ds.Columns),
        "samples_per_pixel": int(ds.get("SamplesPerPixel", 1)),
        "frames": int(ds.get("NumberOfFrames", 1) or 1),
        "bits_allocated": int(ds.BitsAllocated), "bits_stored": int(ds.get("BitsStored", ds.BitsAllocated)),
        "pixel_representation": int(ds.get("PixelRepresentation", 0)),
        "rescale_slope": float(ds.get("RescaleSlope", 1)), "rescale_intercept": float(ds.get("RescaleIntercept", 0)),
    })
    if mode == "luminance":
        rgb = pixel_array(path).astype(np.float64)  # pydicom converts YBR to RGB
        arr = 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]
        entry["handler"] = "pylibjpeg-libjpeg (via pydicom), RGB then BT.601 luminance"
    else:
        arr = ds.pixel_array.astype(np.float64)
        entry["handler"] = {"1.2.840.10008.1.2.5": "pydicom RLE decoder",
                            "1.2.840.10008.1.2.4.70": "pylibjpeg-libjpeg (via pydicom)",
                            "1.2.840.10008.1.2.4.57": "pylibjpeg-libjpeg (via pydicom)"}.get(
                                entry["transfer_syntax"], "pydicom native")
    frames = entry["frames"]
    per_frame = arr.reshape(frames, -1) if frames > 1 else arr.reshape(1, -1)
    entry.update({
        "shape": list(arr.shape),
        "sum": float(arr.sum()), "sum_of_squares": float((arr ** 2).sum()),
        "min": float(arr.min()), "max": float(arr.max()), "mean": float(arr.mean()),
        "frame_sums": [float(f.sum()) for f in per_frame],
    })
    return entry


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copy-from", nargs="*", default=[])
    args = parser.parse_args()
    os.makedirs(FIXTURES, exist_ok=True)
    for name in FILES:
        target = os.path.join(FIXTURES, name)
        if os.path.exists(target):
            continue
        for folder in args.copy_from:
            if os.path.exists(os.path.join(folder, name)):
                shutil.copyfile(os.path.join(folder, name), target)
                break
        else:
            sys.exit(f"missing fixture {name}; pass --copy-from with the pydicom test file folders")
    reference = {"generator": "scripts/reference/dicom_reference.py", "pydicom": pydicom.__version__,
                 "numpy": np.__version__, "files": {}}
    for name, mode in FILES.items():
        reference["files"][name] = describe(os.path.join(FIXTURES, name), mode)
    with open(os.path.join(FIXTURES, "reference.json"), "w") as f:
        json.dump(reference, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"wrote {len(FILES)} entries to {os.path.relpath(os.path.join(FIXTURES, 'reference.json'), ROOT)}")


if __name__ == "__main__":
    main()
