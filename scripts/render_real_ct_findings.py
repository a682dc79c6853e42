#!/usr/bin/env python3
"""Draws the detector's 2D findings on the real CT slices (../shared/real-ct) for
docs/images/real-ct-2d-findings.png.

Usage: scripts/render_real_ct_findings.py REAL_CT_DIR DETECT_OUT_DIR OUT.png
where DETECT_OUT_DIR is what `triage detect REAL_CT_DIR --out DETECT_OUT_DIR` wrote.
Reads pixels with pydicom (independent of our reader), lung window -600/1500, circles each
finding at its centre_voxel with its diameter; prints findings per slice.
"""
import glob, json, os, sys
import numpy as np
import pydicom
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.patches import Circle

real, out_dir, png = sys.argv[1], sys.argv[2], sys.argv[3]
docs = {}
for path in glob.glob(os.path.join(out_dir, "studies", "*", "findings.json")):
    d = json.load(open(path))
    for src in d.get("study", {}).get("source", []):
        docs[os.path.basename(src)] = d
files = sorted(glob.glob(os.path.join(real, "*.dcm")))
cols = 4
rows = (len(files) + cols - 1) // cols
fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 4.3 * rows))
for ax, f in zip(axes.ravel(), files):
    ds = pydicom.dcmread(f)
    hu = ds.pixel_array.astype(np.float32) * float(getattr(ds, "RescaleSlope", 1)) + float(getattr(ds, "RescaleIntercept", 0))
    ax.imshow(np.clip((hu + 1350) / 1500, 0, 1), cmap="gray", vmin=0, vmax=1)
    d = docs.get(os.path.basename(f))
    sy, sx = [float(v) for v in ds.PixelSpacing]
    name = os.path.basename(f).replace(".dcm", "")
    if d is None:
        label = "not processed"
    elif d["status"] != "ok":
        label = "no lungs found"
    else:
        fs = d["findings"]
        label = f"{len(fs)} findings"
        for k in fs:
            c, r = k["center_voxel"][0], k["center_voxel"][1]
            rad = k["diameter_mm"] / 2 / sx
            color = "red" if k["score"] >= 0.5 else "yellow"
            ax.add_patch(Circle((c, r), max(rad, 3) + 2, fill=False, color=color, lw=1))
    print(f"{name}: {label}")
    ax.set_title(f"{name}\n{label}", fontsize=8)
    ax.axis("off")
for ax in axes.ravel()[len(files):]:
    ax.axis("off")
fig.suptitle("2D detection on real CT slices (red: score >= 0.5, yellow: lower)", fontsize=10)
fig.tight_layout()
fig.savefig(png, dpi=80)
