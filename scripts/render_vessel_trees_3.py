#!/usr/bin/env python3
"""Draws vessel tree revision 3 (four pulmonary veins, veins clear of the arteries, side
branches bending outward) next to revision 2 and a real coronal reformat, for docs/phantoms.md
("Vessel tree revision 3").

usage: scripts/render_vessel_trees_3.py REV2_SERIES REV3_SERIES [OUT_PNG]
  REV2_SERIES, REV3_SERIES  the same case made with `triage phantom ... --seed S --vessel-trees 2`
                            and `--vessel-trees 3` (e.g. OUT2/case-000 and OUT3/case-000)
  OUT_PNG                   default docs/images/phantom-vessel-trees-3.png

Top row: a real coronal reformat (lung window), then each revision's coronal maximum-intensity
projection (window -300/1400) over a 30 mm slab from 12 mm in front of the trachea to 18 mm behind it (the hila
and the pulmonary veins' course to the left atrium), where the veins' trunks show. Bottom row:
each revision's axial 1-slice close-up of the right lung at 50 % of the scan's height (the
peripheral branches). The trachea is found as the largest air region within 25 mm of the
body's midline on the slice at 80 % of the height. Needs numpy, matplotlib, pydicom, scipy.
"""
import os
import sys

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from scipy import ndimage as ndi

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ct_pictures as cp  # noqa: E402

rev2_dir, rev3_dir = sys.argv[1], sys.argv[2]
out_png = sys.argv[3] if len(sys.argv) > 3 else os.path.join(cp.HERE, "..", "docs", "images", "phantom-vessel-trees-3.png")


def trachea_row(vol):
    """Row (y pixel) of the trachea's centre on the slice at 80 % of the height."""
    s = vol[int(0.8 * len(vol))]
    body = ndi.binary_fill_holes(s > -500)
    cols = np.where(body.any(axis=0))[0]
    mid = 0.5 * (cols[0] + cols[-1])
    air = (s < -900) & body
    labels, n = ndi.label(air)
    best, best_size = None, 0
    for i in range(1, n + 1):
        ys, xs = np.nonzero(labels == i)
        if abs(xs.mean() - mid) < 25 / spacing and len(xs) > best_size:
            best, best_size = ys.mean(), len(xs)
    return best


fig, axes = plt.subplots(2, 3, figsize=(18, 12), facecolor="black")
crop = None   # the close-ups' centre, from the first series, so both show the same place
real = cp.real("A002304_coronal_19001231-076.dcm")
cp.show(axes[0, 0], real, "real coronal reformat (GE)")
axes[1, 0].text(0.05, 0.5, "MIP: maximum over the slab\n(vessels as continuous trees)\n\n"
                "revision 3: a superior and an\ninferior pulmonary vein per lung;\n"
                "larger veins (1 mm and more)\nsteered clear of the arteries;\nside branches bend away\nfrom the hilum",
                color="white", fontsize=13, transform=axes[1, 0].transAxes)
for col, (label, folder) in enumerate([("revision 2", rev2_dir), ("revision 3", rev3_dir)], start=1):
    vol, z, origin, spacing = cp.load(folder)
    row = trachea_row(vol)
    lo, hi = int(row - 12 / spacing), int(row + 18 / spacing)
    mip = vol[:, lo:hi, :].max(axis=1)[::-1]   # head up
    dz = float(np.median(np.diff(z)))
    axes[0, col].imshow(mip, aspect=dz / spacing, cmap="gray", vmin=-1000, vmax=400)
    axes[0, col].set_title(f"{label}: coronal MIP, 30 mm slab through the hila (-300/1400)", color="white", fontsize=10)
    k = int(0.5 * len(vol))
    axial = vol[k]
    # The right lung is on the image's left: centre the close-up on its air.
    if crop is None:
        lung = (axial < -400) & ndi.binary_fill_holes(axial > -500)
        ys, xs = np.nonzero(lung[:, : axial.shape[1] // 2])
        crop = (xs.mean(), ys.mean())
    cp.show_crop(axes[1, col], axial, crop[0], crop[1], int(55 / spacing),
                 f"{label}: right lung, slice at 50 % height (110 mm)")
cp.finish(fig, axes, "Vessel tree revision 3 beside revision 2 (phantom; close-ups in the lung window -600/1500)", out_png)
