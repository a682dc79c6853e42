#!/usr/bin/env python3
"""Renders phantom multifocal ground-glass opacities next to real chest CT (lung window
-600/1500), and the detector's findings on them before and after a change.

usage: scripts/render_ground_glass.py PHANTOM_DIR [OUT_PNG] [--findings BEFORE_REPORTS AFTER_REPORTS]

PHANTOM_DIR is a `triage phantom` folder (with truth.json) made with
`--ground-glass-fraction`, e.g.
    triage phantom /tmp/g1300 --cases 3 --seed 1300 --max-nodules 8 --clean-fraction 0.1 \\
        --ground-glass-fraction 1
Top row: a real axial slice of ../shared/real-ct with ground glass (A046441,
TCIA COVID-19-NY-SBU, CC BY 4.0) next to an axial slice of the phantom case with the most
patches, through the largest patch, and a 120 mm close-up of a patch with crazy paving (if
any). With --findings, a second row marks the findings of that slice (within 10 mm) from
two `triage detect` report folders. Default OUT_PNG: docs/images/phantom-ground-glass.png.
Needs numpy, matplotlib, pydicom.
"""
import json
import os

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from ct_pictures import findings_row, load, parse_args, real, save, show

phantom, out_png, findings_dirs = parse_args("phantom-ground-glass.png")

cases = json.load(open(os.path.join(phantom, "truth.json")))["cases"]
case = max((c for c in cases if c.get("ground_glass_opacities")), key=lambda c: len(c["ground_glass_opacities"]))
patches = case["ground_glass_opacities"]
largest = max(patches, key=lambda p: np.prod(p["semi_axes_mm"]))
paved = max((p for p in patches if p["crazy_paving"]), key=lambda p: np.prod(p["semi_axes_mm"]), default=largest)

rows = 2 if findings_dirs else 1
fig, ax = plt.subplots(rows, 3, figsize=(15, 5 * rows), facecolor="black", squeeze=False)
for a in ax.flat:
    a.axis("off")

vol, z, origin, ps = load(os.path.join(phantom, case["folder"]))
k = int(np.argmin(abs(z - largest["center_mm"][2])))
show(ax[0, 0], real("A046441_axial_19010101-23.dcm"), "REAL axial (A046441): COVID-19, ground glass and consolidation")
show(ax[0, 1], vol[k], f"PHANTOM {case['case_id']} axial: {len(patches)} ground-glass patches in the scan")
kp = int(np.argmin(abs(z - paved["center_mm"][2])))
cx, cy = (np.array(paved["center_mm"][:2]) - origin[:2]) / ps
h = int(60 / ps)
crop = vol[kp, max(0, int(cy) - h):int(cy) + h, max(0, int(cx) - h):int(cx) + h]
show(ax[0, 2], crop, f"PHANTOM close-up (120 mm): {paved['lung']} patch, {paved['hu']:.0f} HU"
     + (", crazy paving" if paved["crazy_paving"] else ""))

if findings_dirs:
    findings_row(ax[1], vol[k], z[k], origin, ps, case["series_instance_uid"], findings_dirs)
save(fig, "Multifocal ground glass", out_png)
