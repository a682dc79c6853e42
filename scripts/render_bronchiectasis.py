#!/usr/bin/env python3
"""Draws cylindrical bronchiectasis (`triage phantom ... --bronchiectasis-fraction F`;
truth.json's `bronchiectasis`) for docs/phantoms.md: the two axial slices where the bronchi of
the affected lower lobe changed most (at least 15 mm apart), each as a 90 mm crop centred
on the change, in the lung window, with bronchiectasis and, from a folder rendered with the
same seed and options but without it, as it was. When WITHOUT_DIR has the bronchiectasis
too and PHANTOM_DIR's has mucus plugs (`--mucus-plug-fraction`), it draws the plugs against
the open bronchi instead; when PHANTOM_DIR's has cysts (`--bronchial-cyst-fraction`), the
cysts against the bronchi without them.

usage: scripts/render_bronchiectasis.py PHANTOM_DIR CASE_ID WITHOUT_DIR [OUT_PNG]
  OUT_PNG  default docs/images/phantom-bronchiectasis.png (phantom-mucus-plugs.png for plugs,
           phantom-bronchial-cysts.png for cysts)
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

folder, case_id, without = sys.argv[1:4]


def case_entry(directory):
    return next(c for c in json.load(open(os.path.join(directory, "truth.json")))["cases"] if c["case_id"] == case_id)


case = case_entry(folder)
b = case["bronchiectasis"]
against_bronchiectasis = "bronchiectasis" in case_entry(without)
cysts = b.get("cysts") if against_bronchiectasis else None
plugs = b.get("mucus_plugs") if against_bronchiectasis and not cysts else None
out_png = sys.argv[4] if len(sys.argv) > 4 else os.path.join(
    cp.HERE, "..", "docs", "images",
    "phantom-bronchial-cysts.png" if cysts else "phantom-mucus-plugs.png" if plugs else "phantom-bronchiectasis.png")
vol, z, origin, px = cp.load(os.path.join(folder, case_id))
plain = cp.load(os.path.join(without, case_id))[0]
# The two axial slices where the bronchi changed most (pixels of the affected side more than
# 200 HU from the same slice without), at least 15 mm apart.
right = b["lobe"].startswith("right")
cols = vol.shape[2]
half = slice(0, cols // 2) if right else slice(cols // 2, cols)
changed = (abs(vol[:, :, half] - plain[:, :, half]) > 200).sum(axis=(1, 2))
first = int(np.argmax(changed))
far = [k for k in np.argsort(-changed) if abs(z[k] - z[first]) >= 15]
chosen = sorted([first, int(far[0])])
fig, axes = plt.subplots(2, 2, figsize=(10, 10), facecolor="black")
for row, k in zip(axes, chosen):
    ys, xs = np.nonzero(abs(vol[k][:, half] - plain[k][:, half]) > 200)
    cy, cx = ys.mean(), xs.mean() + (0 if right else cols // 2)
    r = 45 / px
    labels = ("cysts", "without") if cysts else ("plugged", "open") if plugs else ("with", "without")
    for a, image, label in [(row[0], vol[k], labels[0]), (row[1], plain[k], labels[1])]:
        a.imshow(image, **cp.WINDOW)
        a.set_xlim(cx - r, cx + r)
        a.set_ylim(cy + r, cy - r)
        a.set_title(f"{label}, z {z[k]:.0f} mm, 90 mm", color="white", fontsize=10)
for a in axes.flat:
    a.axis("off")
filled = sum(1 for c in cysts or [] if c.get("fluid_hu") is not None)
what = (f"Cystic bronchiectasis ({len(cysts)} cysts, {filled} filled with fluid) of the {b['lobe']} lobe" if cysts else
        f"Mucus plugs ({plugs['branches']} branches, {plugs['hu']:.0f} HU) in the bronchiectasis of the {b['lobe']} lobe"
        if plugs else
        f"Bronchiectasis of the {b['lobe']} lobe (lumen x{b['dilation']:.1f}, wall x{b['wall_thickening']:.1f})")
fig.suptitle(f"{what},\n{case_id} (phantom; lung window -600/1500)", color="white")
plt.tight_layout()
plt.savefig(out_png, dpi=70, facecolor="black")
print("wrote", out_png)
