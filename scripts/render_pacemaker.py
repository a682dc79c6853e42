#!/usr/bin/env python3
"""Draws a phantom case with a cardiac pacemaker (`triage phantom ... --metal-fraction F`),
for docs/phantoms.md: the slice through the generator in the lung window and in a soft-tissue
window (level 40, width 400), the slice half way down the leads (soft tissue) and, after a
sternotomy, the slice through the middle sternal wire.

usage: scripts/render_pacemaker.py PHANTOM_DIR CASE_ID [OUT_PNG]
  PHANTOM_DIR  a folder written by `triage phantom` (truth.json records `cardiac_device`)
  CASE_ID      a case with a device, e.g. case-001
  OUT_PNG      default docs/images/phantom-pacemaker.png
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

folder, case_id = sys.argv[1], sys.argv[2]
out_png = sys.argv[3] if len(sys.argv) > 3 else os.path.join(cp.HERE, "..", "docs", "images", "phantom-pacemaker.png")
truth = json.load(open(os.path.join(folder, "truth.json")))
device = next(c for c in truth["cases"] if c["case_id"] == case_id)["cardiac_device"]
vol, z, origin, px = cp.load(os.path.join(folder, case_id))
generator_z = device["generator_center_mm"][2]
k = int(np.argmin(abs(z - generator_z)))
lead_z = (device["metal_z_range_mm"][0] + generator_z) / 2
k2 = int(np.argmin(abs(z - lead_z)))

wires = device.get("sternal_wires_z_mm") or []
fig, axes = plt.subplots(1, 4 if wires else 3, figsize=(24 if wires else 18, 6.5), facecolor="black")
cp.show(axes[0], vol[k], f"generator slice (z {z[k]:.0f} mm), lung window")
axes[1].imshow(vol[k], cmap="gray", vmin=-160, vmax=240)
axes[1].set_title("same slice, soft-tissue window 40/400", color="white", fontsize=10)
axes[2].imshow(vol[k2], cmap="gray", vmin=-160, vmax=240)
axes[2].set_title(f"half way down the leads (z {z[k2]:.0f} mm), 40/400", color="white", fontsize=10)
if wires:
    k3 = int(np.argmin(abs(z - wires[len(wires) // 2])))
    axes[3].imshow(vol[k3], cmap="gray", vmin=-160, vmax=240)
    axes[3].set_title(f"a sternal wire (z {z[k3]:.0f} mm), 40/400", color="white", fontsize=10)
for a in axes:
    a.axis("off")
fig.suptitle(f"Phantom with a pacemaker ({device['generator_side']} generator, {device['leads']} lead(s), "
             f"{len(wires)} sternal wires, "
             f"streaks up to {device['streak_hu']:.0f} HU)", color="white")
plt.tight_layout()
plt.savefig(out_png, dpi=60, facecolor="black")
print("wrote", out_png)
