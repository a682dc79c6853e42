#!/usr/bin/env python3
"""Renders phantom pleural effusion and consolidation next to real chest CT, lung window
(-600/1500), and optionally the detector's findings on the consolidation before and after a
change.

usage: scripts/render_pathology.py PHANTOM_DIR [OUT_PNG] [--findings BEFORE_REPORTS AFTER_REPORTS]

PHANTOM_DIR is a `triage phantom` folder (with truth.json) made with both options, e.g.
    triage phantom /tmp/p1300 --cases 8 --seed 1300 --max-nodules 8 --clean-fraction 0.1 \\
        --effusion-fraction 0.5 --consolidation-fraction 0.5
The case with the thickest effusion and the one with the largest consolidation are shown:
an axial slice 25 % of the way up the lungs and a sagittal reformat through the effusion's
lung; an axial slice and a coronal reformat through the consolidation's centre. The real
slices are from ../shared/real-ct (TCIA COVID-19-NY-SBU, CC BY 4.0): A046441 (dependent
consolidation and ground glass) and A002304 (patchy consolidation). With --findings, a third
row marks every finding of the consolidation case centred within 10 mm of the shown slice,
from two `triage detect` report folders. Default OUT_PNG: docs/images/phantom-pathology.png.
Needs numpy, matplotlib, pydicom.
"""
import json
import os

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from ct_pictures import findings_row, load, parse_args, real, save, show

phantom, out_png, findings_dirs = parse_args("phantom-pathology.png")


truth = json.load(open(os.path.join(phantom, "truth.json")))
cases = truth["cases"]
eff = max((c for c in cases if c.get("pleural_effusion")), key=lambda c: c["pleural_effusion"]["maximum_thickness_mm"])
con = max((c for c in cases if c.get("consolidation")), key=lambda c: np.prod(c["consolidation"]["semi_axes_mm"]))

rows = 3 if findings_dirs else 2
fig, ax = plt.subplots(rows, 3, figsize=(15, 5 * rows), facecolor="black")
for a in ax.flat:
    a.axis("off")


# Row 1: effusion.
vol, z, origin, ps = load(os.path.join(phantom, eff["folder"]))
e = eff["pleural_effusion"]
lung_rows = [k for k in range(len(z)) if (vol[k] < -500).sum() > 0.05 * vol[k].size]
k = int(lung_rows[0] + 0.25 * (lung_rows[-1] - lung_rows[0]))
show(ax[0, 0], real("A046441_axial_19010101-23.dcm"), "REAL axial (A046441): dependent consolidation, ground glass")
show(ax[0, 1], vol[k], f"PHANTOM {eff['case_id']} axial: effusion ({e['sides']}, up to {e['maximum_thickness_mm']:.0f} mm)")
side_x = -60.0 if e["sides"] in ("right", "both") else 60.0   # LPS: right lung at -x
col = int(round((side_x - origin[0]) / ps))
show(ax[0, 2], vol[::-1, :, col], f"PHANTOM sagittal through the {'right' if side_x < 0 else 'left'} lung",
     aspect=(z[1] - z[0]) / ps)

# Row 2: consolidation.
vol, z, origin, ps = load(os.path.join(phantom, con["folder"]))
c = con["consolidation"]
k = int(np.argmin(abs(z - c["center_mm"][2])))
row = int(round((c["center_mm"][1] - origin[1]) / ps))
show(ax[1, 0], real("A002304_axial_19010112-135.dcm"), "REAL axial (A002304): patchy consolidation")
show(ax[1, 1], vol[k], f"PHANTOM {con['case_id']} axial: consolidation, {c['lobe']} lobe")
show(ax[1, 2], vol[::-1, row, :], "PHANTOM coronal through the consolidation", aspect=(z[1] - z[0]) / ps)

# Row 3: findings on the consolidation slice.
if findings_dirs:
    findings_row(ax[2], vol[k], z[k], origin, ps, con["series_instance_uid"], findings_dirs)
save(fig, "Pleural effusion and consolidation", out_png)
