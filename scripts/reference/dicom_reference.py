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


# JPEG Lossless (Process 14) files with every predictor, a point transform and restart
# intervals: the corpus only has selection value 1. Encoded here (T.81 Annex H), checked
# by decoding with libjpeg (pylibjpeg-libjpeg) before they are written; the Swift test
# compares its own decoder with pydicom's decode of the written files.
KNOWN_IMAGES = {}
LOSSLESS = [(k, 0, 0) for k in range(1, 8)] + [(6, 2, 0), (4, 0, 64), (7, 1, 128)]


def lossless_name(predictor, pt, restart):
    return f"JPEGLossless_SV{predictor}_Pt{pt}_RI{restart}.dcm"


def encode_jpeg_lossless(img, precision, predictor, pt, restart):
    """Single-component JPEG Lossless codestream; one fixed Huffman table (17 five-bit codes)."""
    import struct
    h, w = img.shape
    x = (img.astype(np.int64) >> pt)
    out = bytearray(b"\xff\xd8")
    out += b"\xff\xc3" + struct.pack(">HBHHB", 11, precision, h, w, 1) + bytes([1, 0x11, 0])
    counts = [0] * 16
    counts[4] = 17
    out += b"\xff\xc4" + struct.pack(">H", 2 + 1 + 16 + 17) + bytes([0]) + bytes(counts) + bytes(range(17))
    if restart:
        out += b"\xff\xdd" + struct.pack(">HH", 4, restart)
    out += b"\xff\xda" + struct.pack(">HB", 8, 1) + bytes([1, 0x00]) + bytes([predictor, 0, pt])
    acc, nbits, data = 0, 0, bytearray()

    def put(value, n):
        nonlocal acc, nbits
        acc = (acc << n) | (value & ((1 << n) - 1))
        nbits += n
        while nbits >= 8:
            byte = (acc >> (nbits - 8)) & 0xFF
            data.append(byte)
            if byte == 0xFF:
                data.append(0)
            nbits -= 8

    def flush():
        nonlocal nbits
        if nbits:
            put((1 << (8 - nbits)) - 1, 8 - nbits)

    restart_row, marker = 0, 0
    for r in range(h):
        for c in range(w):
            i = r * w + c
            if restart and i and i % restart == 0:
                flush()
                data.extend(bytes([0xFF, 0xD0 + marker]))
                marker = (marker + 1) % 8
                restart_row = r
            if r == restart_row and c == 0:
                pred = 1 << (precision - pt - 1)
            elif r == restart_row:
                pred = x[r, c - 1]
            elif c == 0:
                pred = x[r - 1, c]
            else:
                ra, rb, rc = x[r, c - 1], x[r - 1, c], x[r - 1, c - 1]
                pred = {1: ra, 2: rb, 3: rc, 4: ra + rb - rc, 5: ra + ((rb - rc) >> 1),
                        6: rb + ((ra - rc) >> 1), 7: (ra + rb) >> 1}[predictor]
            d = int(x[r, c] - pred) % 65536
            if d >= 32768:
                d -= 65536
            ssss = 0 if d == 0 else (16 if d == -32768 else abs(d).bit_length())
            put(ssss, 5)
            if 0 < ssss < 16:
                put(d if d > 0 else d + (1 << ssss) - 1, ssss)
    flush()
    return bytes(out + data + b"\xff\xd9")


def write_lossless_fixtures():
    import libjpeg
    from pydicom.encaps import encapsulate
    from pydicom.uid import JPEGLossless
    source = pydicom.dcmread(os.path.join(FIXTURES, "CT_small.dcm"))
    image = np.clip(source.pixel_array[40:88, 30:94].astype(np.int64) + 1024, 0, 4095)
    rng = np.random.default_rng(5)
    image[::7, ::5] = rng.integers(0, 4096, image[::7, ::5].shape)  # large differences too
    for predictor, pt, restart in LOSSLESS:
        stream = encode_jpeg_lossless(image, 12, predictor, pt, restart)
        expected = (image >> pt) << pt
        if pt == 0:
            decoded = libjpeg.decode(stream)
            assert np.array_equal(decoded.astype(np.int64), expected), f"encoder check failed for {predictor}/{restart}"
        else:
            # libjpeg 2.5 starts each line-0 prediction at 2^(P-1) instead of T.81 H.1.2.1's
            # 2^(P-Pt-1) when Pt > 0 (its output saturates), so the reference for these files
            # is the image that was encoded.
            KNOWN_IMAGES[lossless_name(predictor, pt, restart)] = expected
        ds = source.copy()
        ds.file_meta.TransferSyntaxUID = JPEGLossless
        ds.Rows, ds.Columns = image.shape
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
        ds.PixelData = encapsulate([stream])
        ds["PixelData"].VR = "OB"
        ds.save_as(os.path.join(FIXTURES, lossless_name(predictor, pt, restart)), enforce_file_format=True)
        FILES[lossless_name(predictor, pt, restart)] = "pixels"


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
    elif os.path.basename(path) in KNOWN_IMAGES:
        arr = KNOWN_IMAGES[os.path.basename(path)].astype(np.float64)
        entry["handler"] = "the encoded image, (image >> Pt) << Pt (see write_lossless_fixtures)"
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
    write_lossless_fixtures()
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
