#!/usr/bin/env python3
"""Draws parenchymal bands (`triage phantom ... --scar-fraction F`; truth.json's
`parenchymal_bands`) for docs/phantoms.md: per band of one case (at most three), the axial
slice through its middle in the lung window, a 60 mm crop of that slice, and a 60 mm crop of
the maximum-intensity projection of the axial slab the band crosses (at most 12 mm), with the detector's findings within 5 mm of
the slice when a report folder is given (yellow: score >= 0.5, cyan: below).

With --without DIR (the same seed and options rendered without `--scar-fraction`, so the same
pixels but for the bands), a fourth column shows the axial slice minus that one: where the
band is.

usage: scripts/render_parenchymal_bands.py PHANTOM_DIR CASE_ID [OUT_PNG] [--findings REPORTS_DIR] [--without DIR]
  PHANTOM_DIR  a folder written by `triage phantom --scar-fraction F`
  CASE_ID      a case with bands, e.g. case-000
  OUT_PNG      default docs/images/phantom-parenchymal-bands.png
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

args = sys.argv[1:]
reports = cp.take_option(args, "--findings")
without = cp.take_option(args, "--without")
folder, case_id = args[0], args[1]
out_png = args[2] if len(args) > 2 else os.path.join(cp.HERE, "..", "docs", "images", "phantom-parenchymal-bands.png")
truth = json.load(open(os.path.join(folder, "truth.json")))
case = next(c for c in truth["cases"] if c["case_id"] == case_id)
bands = case["parenchymal_bands"][:3]
vol, z, origin, px = cp.load(os.path.join(folder, case_id))
found = cp.findings_of(reports, case["series_instance_uid"]) if reports else []
slice_mm = float(np.median(np.diff(z)))

plain = cp.load(os.path.join(without, case_id))[0] if without else None
columns = 4 if without else 3
fig, axes = plt.subplots(len(bands), columns, figsize=(5 * columns, 5 * len(bands)), facecolor="black", squeeze=False)
for row, band in zip(axes, bands):
    points = np.array(band["points_mm"])
    x, y, mz = points[1:3].mean(axis=0)   # the middle of the outer half
    k = int(np.argmin(abs(z - mz)))
    c, r = (x - origin[0]) / px, (y - origin[1]) / px
    half = 30 / px
    cp.show(row[0], vol[k], f"band {band['thickness_mm']:.1f} mm thick, {band['length_mm']:.0f} mm long, "
                            f"{band['hu']:.0f} HU; z {z[k]:.0f} mm")
    row[0].add_patch(plt.Rectangle((c - half, r - half), 2 * half, 2 * half, fill=False, color="red", lw=1))
    row[1].imshow(vol[k], **cp.WINDOW)
    row[1].set_xlim(c - half, c + half)
    row[1].set_ylim(r + half, r - half)
    row[1].set_title("axial, 60 mm", color="white", fontsize=10)
    # A maximum-intensity projection of the axial slab the band crosses (at most 12 mm):
    # the band's whole course, beside the vessels' branching.
    zs = points[:, 2]
    lo, hi = max(zs.min(), z[k] - 6), min(zs.max(), z[k] + 6)
    slab = (z >= lo - slice_mm / 2) & (z <= hi + slice_mm / 2)
    row[2].imshow(vol[slab].max(axis=0), **cp.WINDOW)
    row[2].set_xlim(c - half, c + half)
    row[2].set_ylim(r + half, r - half)
    row[2].set_title(f"axial MIP of {hi - lo:.0f} mm, 60 mm", color="white", fontsize=10)
    if plain is not None:
        row[3].imshow(vol[k] - plain[k], cmap="gray", vmin=0, vmax=800)
        row[3].set_xlim(c - half, c + half)
        row[3].set_ylim(r + half, r - half)
        row[3].set_title("minus the same slice without bands (0-800 HU)", color="white", fontsize=10)
    for f in found:
        fx, fy, fz = f["center_mm"]
        if abs(fz - z[k]) <= 5 and abs(fx - x) < 30 and abs(fy - y) < 30:
            row[1].add_patch(plt.Circle(((fx - origin[0]) / px, (fy - origin[1]) / px), f["diameter_mm"] / 2 / px + 3,
                                        fill=False, color="yellow" if f["score"] >= 0.5 else "cyan", lw=1.2))
            row[1].text((fx - origin[0]) / px, (fy - origin[1]) / px + f["diameter_mm"] / px + 6,
                        f"score {f['score']:.2f}, {f['diameter_mm']:.1f} mm", color="yellow", fontsize=9, ha="center")
for a in axes.flat:
    a.axis("off")
fig.suptitle(f"Parenchymal bands (linear scars), {case_id} (phantom; lung window -600/1500)", color="white")
plt.tight_layout()
plt.savefig(out_png, dpi=70, facecolor="black")
print("wrote", out_png)
