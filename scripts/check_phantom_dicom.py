#!/usr/bin/env python3
"""Independent check of phantom DICOM output with pydicom (pip install pydicom numpy).

usage: scripts/check_phantom_dicom.py PHANTOM_DIR

For every DICOM case in PHANTOM_DIR/truth.json: every file parses with pydicom; the
transfer syntax, SOP class, pixel representation, rescale and padding agree with the
case's storage record; slices sorted by Image Position (Patient) are evenly spaced at the
stated slice spacing; the HU at each nodule centre (through the stated geometry, not
ours) matches the nodule type; padding appears only outside the circular FOV.
Exits non-zero on the first disagreement.
"""
import json, os, sys
import numpy as np
import pydicom

def fail(msg):
    print("FAIL:", msg); sys.exit(1)

root = sys.argv[1]
truth = json.load(open(os.path.join(root, "truth.json")))
assert truth["schema"] == "triage.truth.v1"
for case in truth["cases"]:
    if case["format"] != "dicom":
        continue
    folder = os.path.join(root, case["folder"])
    ds = [pydicom.dcmread(os.path.join(folder, f)) for f in sorted(os.listdir(folder)) if f.endswith(".dcm")]
    if len(ds) != case["slices"]:
        fail(f"{case['case_id']}: {len(ds)} files, truth says {case['slices']}")
    st = case["storage"]
    want_ts = "1.2.840.10008.1.2" if st["implicitVR"] else "1.2.840.10008.1.2.1"
    for d in ds:
        if d.file_meta.TransferSyntaxUID != want_ts: fail("transfer syntax")
        if d.SOPClassUID != "1.2.840.10008.5.1.4.1.1.2": fail("SOP class")
        if d.SeriesInstanceUID != case["series_instance_uid"]: fail("series UID")
        if d.PixelRepresentation != (1 if st["signedPixels"] else 0): fail("pixel representation")
        if float(d.RescaleIntercept) != st["rescaleIntercept"]: fail("intercept")
        if ("PixelPaddingValue" in d) != (st.get("paddingValue") is not None): fail("padding presence")
    normal = np.cross(np.array(ds[0].ImageOrientationPatient[:3], float), np.array(ds[0].ImageOrientationPatient[3:], float))
    ds.sort(key=lambda d: float(np.dot(normal, np.array(d.ImagePositionPatient, float))))
    pos = np.array([d.ImagePositionPatient for d in ds], float)
    gaps = np.diff(pos @ normal)
    if not np.allclose(gaps, case["slice_spacing_mm"], atol=1e-3): fail(f"{case['case_id']}: uneven slices {gaps[:3]}")
    inst = [int(d.InstanceNumber) for d in ds]
    if st["superiorFirst"] != (inst[0] > inst[-1]): fail("stored direction")
    names_sorted = sorted(os.listdir(folder))
    vol = np.stack([d.pixel_array.astype(np.float64) * float(d.RescaleSlope) + float(d.RescaleIntercept) for d in ds])
    rows, cols = vol.shape[1:]
    if st.get("paddingValue") is not None:
        raw = ds[len(ds) // 2].pixel_array
        yy, xx = np.mgrid[0:rows, 0:cols]
        outside = (xx - (cols - 1) / 2) ** 2 + (yy - (rows - 1) / 2) ** 2 > (min(rows, cols) / 2) ** 2
        if not np.all(raw[outside] == st["paddingValue"]): fail("padding missing outside FOV")
        if np.any(raw[~outside] == st["paddingValue"]): fail("padding value inside FOV")
    ps = [float(v) for v in ds[0].PixelSpacing]
    o = np.array(ds[0].ImagePositionPatient, float)
    for n in case["nodules"]:
        c = np.array(n["center_mm"])
        col = (c[0] - o[0]) / ps[1]; row = (c[1] - o[1]) / ps[0]; sl = ((c - o) @ normal) / case["slice_spacing_mm"]
        k, r, q = int(round(sl)), int(round(row)), int(round(col))
        hu = vol[max(0, k - 0):k + 1, r - 1:r + 2, q - 1:q + 2].mean()
        ok = {"solid": hu > -350, "part-solid": hu > -450, "ground-glass": -850 < hu < -250}[n["type"]]
        print(f"{case['case_id']} {n['id']} {n['type']:12s} d={n['diameter_mm']:5.1f} mm  HU at centre {hu:7.1f}  {'ok' if ok else 'MISMATCH'}")
        if not ok and n["diameter_mm"] >= 2.5 * max(ps[0], case["slice_spacing_mm"]):
            fail(f"{case['case_id']} {n['id']}: HU {hu:.0f} does not fit type {n['type']}")
    print(f"{case['case_id']}: {len(ds)} slices ok ({'implicit' if st['implicitVR'] else 'explicit'} VR, "
          f"{'signed' if st['signedPixels'] else 'unsigned'}, intercept {st['rescaleIntercept']:.0f}, padding {st.get('paddingValue')})")
print("all DICOM cases agree with pydicom")
