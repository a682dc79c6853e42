#!/usr/bin/env python3
"""Draws the phantom's anatomy revisions 3 and 4 next to real chest CT (lung window), for
docs/phantoms.md ("Anatomy revision 4").

usage: scripts/render_anatomy_revision.py REV3_SERIES REV4_SERIES [OUT_PNG]
  REV3_SERIES, REV4_SERIES  the same case made with `triage phantom ... --seed S` and with
                            `--anatomy 4` added (e.g. OUT3/case-000 and OUT4/case-000)
  OUT_PNG                   default docs/images/phantom-anatomy-4.png

Top row: a real coronal reformat, then each revision's coronal reformat through the heart
(10 mm in front of the image centre) and, for revision 4, 10 mm further back. Bottom row: a
real axial at the hila, each revision's axial 15 mm above the carina's level in the image
(the slice with the most mediastinal soft tissue between the lungs is not searched: the
same height is shown for both), and revision 4's sagittal through the left heart.
Needs numpy, matplotlib, pydicom.
"""
import os
import sys

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ct_pictures as cp  # noqa: E402

rev3_dir, rev4_dir = sys.argv[1], sys.argv[2]
out_png = sys.argv[3] if len(sys.argv) > 3 else os.path.join(cp.HERE, "..", "docs", "images", "phantom-anatomy-4.png")

fig, axes = plt.subplots(2, 4, figsize=(20, 11), facecolor="black")
cp.show(axes[0][0], cp.real("A002304_coronal_19001231-076.dcm"), "REAL coronal reformat (GE)")
cp.show(axes[1][0], cp.real("A002304_axial_19001231-076.dcm"), "REAL axial, hila (GE)")
for col, (label, folder) in enumerate([("revision 3 (default)", rev3_dir), ("revision 4 (--anatomy 4)", rev4_dir)]):
    vol, z, origin, px = cp.load(folder)
    nz, ny, nx = vol.shape
    dz = abs(z[1] - z[0])
    crop = slice(nx // 8, 7 * nx // 8)
    row = ny // 2 - int(10 / px)
    cp.show(axes[0][1 + col], vol[::-1, row, crop], f"PHANTOM {label}: coronal", aspect=dz / px)
    # The axial at 60% of the scan's height: above the carina in these phantoms.
    k = int(nz * 0.62)
    cp.show(axes[1][1 + col], vol[k], f"PHANTOM {label}: axial, z index {k}")
    if col == 1:
        row2 = ny // 2 + int(10 / px)
        cp.show(axes[0][3], vol[::-1, row2, crop], f"PHANTOM {label}: coronal, 20 mm further back", aspect=dz / px)
        # Sagittal through the heart's left part (a quarter of the width left of the centre).
        c = nx // 2 + nx // 10
        cp.show(axes[1][3], vol[::-1, :, c], f"PHANTOM {label}: sagittal through the heart", aspect=dz / px)
for a in axes.flat:
    a.axis("off")
fig.suptitle("Anatomy revisions 3 and 4 vs real chest CT (TCIA COVID-19-NY-SBU, CC BY 4.0), lung window -600/1500",
             color="white")
plt.tight_layout()
plt.savefig(out_png, dpi=60, facecolor="black")
print("wrote", out_png)
