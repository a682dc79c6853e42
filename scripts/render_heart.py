#!/usr/bin/env python3
"""Draws the phantom's heart in a soft-tissue window (40/400), for docs/phantoms.md ("Anatomy
revision 4"): three axial slices through it, at a tenth, three tenths and a little over half of the
height of the slices that hold contrast blood (180-300 HU), cropped to 200 mm round the
image centre's heart side. Meant for a revision-4 case with contrast, whose heart has four
chambers; a case without contrast shows one density.

usage: scripts/render_heart.py SERIES_DIR [OUT_PNG]
  SERIES_DIR  one case of `triage phantom ... --anatomy 4` (e.g. OUT/case-000)
  OUT_PNG     default docs/images/phantom-heart-chambers.png
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

series = sys.argv[1]
out_png = sys.argv[2] if len(sys.argv) > 2 else os.path.join(cp.HERE, "..", "docs", "images", "phantom-heart-chambers.png")
vol, z, origin, px = cp.load(series)
# Slices whose central 60 % holds contrast blood; the aorta beside the spine holds some at
# every height, so ask for more than it gives.
rows, cols = vol.shape[1:]
centre = vol[:, int(rows * 0.2):int(rows * 0.7), int(cols * 0.3):int(cols * 0.8)]
blood = ((centre > 180) & (centre < 300)).sum(axis=(1, 2))
with_heart = np.nonzero(blood > 0.3 * blood.max())[0]
if len(with_heart) == 0:
    sys.exit(f"{series}: no slice with contrast blood (a case without contrast?)")
lo, hi = with_heart.min(), with_heart.max()
picks = [int(lo + f * (hi - lo)) for f in (0.1, 0.3, 0.55)]
half = int(100 / px)
r0, c0 = int(rows * 0.45), int(cols * 0.55)
fig, axes = plt.subplots(1, 3, figsize=(18, 6), facecolor="black")
for a, k in zip(axes, picks):
    a.imshow(vol[k, max(0, r0 - half):r0 + half, max(0, c0 - half):c0 + half], cmap="gray", vmin=-160, vmax=240)
    a.set_title(f"z {z[k]:.0f} mm", color="white", fontsize=11)
    a.axis("off")
fig.suptitle(f"Phantom heart, soft-tissue window 40/400 ({os.path.basename(series.rstrip('/'))}; "
             "image left = patient right)", color="white")
plt.tight_layout(rect=(0, 0, 1, 0.95))
plt.savefig(out_png, dpi=50, facecolor="black")
print("wrote", out_png)
