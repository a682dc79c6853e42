#!/usr/bin/env python3
"""Draws pleural plaques (`triage phantom ... --pleural-plaque-fraction F`; truth.json's
`pleural_plaques`) for docs/phantoms.md: per plaque (at most four, calcified and diaphragmatic
ones first), the slice through its centre (axial on the chest wall, coronal on the dome) in
the lung window with a red box, and a 50 mm crop of that box in the lung window and in a
soft-tissue window (40/400), where a plaque is told from the chest wall's muscle and fat. With
--findings REPORTS_DIR the detector's findings within 5 mm of the slice are circled on the
crops (yellow: score >= 0.5, cyan: below).

usage: scripts/render_pleural_plaques.py PHANTOM_DIR CASE_ID [OUT_PNG] [--findings REPORTS_DIR]
  PHANTOM_DIR  a folder written by `triage phantom --pleural-plaque-fraction F`
  CASE_ID      a case with plaques, e.g. case-000
  OUT_PNG      default docs/images/phantom-pleural-plaques.png
Needs numpy, matplotlib, pydicom.
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

SOFT_TISSUE = dict(cmap="gray", vmin=-160, vmax=240)   # 40/400

args = sys.argv[1:]
reports = cp.take_option(args, "--findings")
folder, case_id = args[0], args[1]
out_png = args[2] if len(args) > 2 else os.path.join(cp.HERE, "..", "docs", "images", "phantom-pleural-plaques.png")
truth = json.load(open(os.path.join(folder, "truth.json")))
case = next(c for c in truth["cases"] if c["case_id"] == case_id)
plaques = sorted(case["pleural_plaques"],
                 key=lambda p: (p["location"] != "diaphragmatic", p.get("calcium_hu") is None, -p["thickness_mm"]))[:4]
vol, z, origin, px = cp.load(os.path.join(folder, case_id))
slice_mm = float(np.median(np.diff(z)))
found = cp.findings_of(reports, case["series_instance_uid"]) if reports else []

fig, axes = plt.subplots(len(plaques), 3, figsize=(15, 5 * len(plaques)), facecolor="black", squeeze=False)
half = 25 / px
for row, plaque in zip(axes, plaques):
    x, y, pz = plaque["center_mm"]
    c, r = (x - origin[0]) / px, (y - origin[1]) / px
    k = int(np.argmin(abs(z - pz)))
    what = (f"{plaque['lung']} {plaque['location']} plaque, {plaque['length_mm']:.0f} x {plaque['width_mm']:.0f} mm, "
            f"{plaque['thickness_mm']:.1f} mm thick"
            + (f", calcified ({plaque['calcium_hu']:.0f} HU)" if plaque.get("calcium_hu") else ""))
    if plaque["location"] == "costal":
        image, aspect, vc, vr, plane = vol[k], 1.0, c, r, f"axial z {z[k]:.0f} mm"
        near = [f for f in found if abs(f["center_mm"][2] - z[k]) <= 5]
        marks = [((f["center_mm"][0] - origin[0]) / px, (f["center_mm"][1] - origin[1]) / px, f) for f in near]
    else:
        # Coronal through the plaque's centre, head up; rows are slices.
        image = vol[::-1, int(round(r)), :]
        aspect, vc, vr, plane = slice_mm / px, c, len(z) - 1 - k, f"coronal y {y:.0f} mm"
        near = [f for f in found if abs(f["center_mm"][1] - y) <= 5]
        marks = [((f["center_mm"][0] - origin[0]) / px, len(z) - 1 - int(np.argmin(abs(z - f["center_mm"][2]))), f)
                 for f in near]
    vhalf = half / aspect
    cp.show(row[0], image, f"{what}; {plane}", aspect=aspect)
    row[0].add_patch(plt.Rectangle((vc - half, vr - vhalf), 2 * half, 2 * vhalf, fill=False, color="red", lw=1))
    for col, window, title in ((1, cp.WINDOW, "lung window, 50 mm"), (2, SOFT_TISSUE, "soft-tissue window 40/400, 50 mm")):
        row[col].imshow(image, aspect=aspect, **window)
        row[col].set_xlim(vc - half, vc + half)
        row[col].set_ylim(vr + vhalf, vr - vhalf)
        row[col].set_title(title, color="white", fontsize=10)
        for mc, mr, f in marks:
            if abs(mc - vc) < half and abs(mr - vr) < vhalf:
                row[col].add_patch(plt.Circle((mc, mr), f["diameter_mm"] / 2 / px + 3, fill=False,
                                              color="yellow" if f["score"] >= 0.5 else "cyan", lw=1.2))
for a in axes.flat:
    a.axis("off")
fig.suptitle(f"Pleural plaques, {case_id} (phantom)", color="white")
plt.tight_layout(rect=(0, 0, 1, 0.98))
plt.savefig(out_png, dpi=60, facecolor="black")
print("wrote", out_png)
