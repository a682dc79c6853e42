#!/usr/bin/env python3
"""Draws the phantom's pericardial fat pads (`--cardiophrenic-fat-fraction`) next to real chest
CT, for docs/phantoms.md ("Cardiophrenic fat pads").

usage: scripts/render_cardiophrenic_fat.py PHANTOM_DIR [PHANTOM_DIR ...] [--out OUT_PNG]
  PHANTOM_DIR  a folder written by `triage phantom ... --cardiophrenic-fat-fraction 1`; its
               first case is drawn (e.g. anatomy revision 3 and, with `--anatomy 4`, 4)
  OUT_PNG      default docs/images/phantom-cardiophrenic-fat.png

First column: a real coronal reformat and a real axial slice (GE, ../shared/real-ct). Then per
phantom: the coronal plane and the axial slice through the right pad's centroid (truth.json's
`cardiophrenic_fat_pads`), in a soft-tissue window (40/400, where fat is dark grey and the
heart and liver light) with the pads' centroids marked. Needs numpy, matplotlib, pydicom.
"""
import json
import os
import sys

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ct_pictures as cp  # noqa: E402

args = sys.argv[1:]
out_png = cp.take_option(args, "--out") or os.path.join(cp.HERE, "..", "docs", "images", "phantom-cardiophrenic-fat.png")
SOFT = dict(cmap="gray", vmin=-160, vmax=240)   # window 40/400

fig, axes = plt.subplots(2, 1 + len(args), figsize=(6 * (1 + len(args)), 12), facecolor="black")
for row, name in enumerate(["A002304_coronal_19001231-076.dcm", "A002304_axial_19001231-076.dcm"]):
    axes[row, 0].imshow(cp.real(name), **SOFT)
    axes[row, 0].set_title(f"real {'coronal' if row == 0 else 'axial'} (GE), 40/400", color="white", fontsize=10)
for col, folder in enumerate(args, start=1):
    truth = json.load(open(os.path.join(folder, "truth.json")))["cases"][0]
    pads = truth.get("cardiophrenic_fat_pads") or []
    vol, z, origin, spacing = cp.load(os.path.join(folder, truth["folder"]))
    right = next(p for p in pads if p["side"] == "right")
    x, y, pz = right["center_mm"]
    c, r, k = (x - origin[0]) / spacing, (y - origin[1]) / spacing, int(np.argmin(abs(z - pz)))
    dz = float(np.median(np.diff(z)))
    coronal = vol[:, int(round(r)), :][::-1]
    axes[0, col].imshow(coronal, aspect=dz / spacing, **SOFT)
    axes[1, col].imshow(vol[k], **SOFT)
    label = os.path.basename(os.path.normpath(folder))
    volumes = ", ".join(f"{p['side']} {p['volume_ml']:.0f} ml" for p in pads)
    axes[0, col].set_title(f"{label}: coronal through the right pad ({volumes})", color="white", fontsize=10)
    axes[1, col].set_title(f"{label}: axial through the right pad", color="white", fontsize=10)
    for p in pads:
        px, py, ppz = p["center_mm"]
        pc, pr = (px - origin[0]) / spacing, (py - origin[1]) / spacing
        zrow = len(z) - 1 - int(np.argmin(abs(z - ppz)))
        if abs(py - y) < 15:
            axes[0, col].plot([pc], [zrow], "+", color="yellow", ms=14)
        if abs(ppz - pz) < 15:
            axes[1, col].plot([pc], [pr], "+", color="yellow", ms=14)
cp.finish(fig, axes, "Pericardial fat pads at the cardiophrenic angles (+: centroid of each pad's fat)", out_png)
