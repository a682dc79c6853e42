#!/usr/bin/env python3
"""Draws calcified granulomas (`triage phantom ... --granuloma-fraction F`) for
docs/phantoms.md (no real slice shows one, so there is no real counterpart): per granuloma of one case, the axial slice through it in the
lung window, a 60 mm crop in the lung window and in a soft-tissue window (40/400), with the
detector's findings on that slice when a report folder is given (yellow: score >= 0.5;
the label says the Lung-RADS category and whether the finding was marked calcified).
(--aortic: the third column in a 200/1000 window, as contrast-filled blood saturates 40/400.)

With --coronary it draws the three largest coronary calcified plaques instead
(`--coronary-calcium-fraction F`; truth.json's `coronary_calcified_plaques`), with --aortic
the three largest balls of aortic plaque (`--aortic-calcium-fraction F`;
`aortic_calcified_plaques`).

usage: scripts/render_granulomas.py PHANTOM_DIR CASE_ID [OUT_PNG] [--findings REPORTS_DIR] [--coronary | --aortic]
  PHANTOM_DIR  a folder written by `triage phantom` (truth.json records `calcified_granulomas`)
  CASE_ID      a case with granulomas, e.g. case-004
  OUT_PNG      default docs/images/phantom-granulomas.png (--coronary: phantom-coronary-calcium.png,
               --aortic: phantom-aortic-calcium.png)
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
coronary = "--coronary" in args
aortic = "--aortic" in args
args = [a for a in args if a not in ("--coronary", "--aortic")]
folder, case_id = args[0], args[1]
default_png = ("phantom-coronary-calcium.png" if coronary else
               "phantom-aortic-calcium.png" if aortic else "phantom-granulomas.png")
out_png = args[2] if len(args) > 2 else os.path.join(cp.HERE, "..", "docs", "images", default_png)
truth = json.load(open(os.path.join(folder, "truth.json")))
case = next(c for c in truth["cases"] if c["case_id"] == case_id)
if coronary:
    granulomas = sorted(case["coronary_calcified_plaques"], key=lambda g: -g["diameter_mm"])[:3]
    what = "coronary plaque"
elif aortic:
    # The largest ball of three different plaques (a plaque is a row of touching balls).
    granulomas = []
    for g in sorted(case["aortic_calcified_plaques"], key=lambda g: -g["diameter_mm"]):
        if all(np.linalg.norm(np.subtract(g["center_mm"], h["center_mm"])) > 15 for h in granulomas):
            granulomas.append(g)
    granulomas = granulomas[:3]
    what = "aortic plaque"
else:
    granulomas = case["calcified_granulomas"][:3]
    what = "granuloma"
vol, z, origin, px = cp.load(os.path.join(folder, case_id))
found = cp.findings_of(reports, case["series_instance_uid"]) if reports else []

fig, axes = plt.subplots(len(granulomas), 3, figsize=(15, 5 * len(granulomas)), facecolor="black", squeeze=False)
for row, g in zip(axes, granulomas):
    x, y, gz = g["center_mm"]
    k = int(np.argmin(abs(z - gz)))
    c, r = (x - origin[0]) / px, (y - origin[1]) / px
    half = 30 / px
    cp.show(row[0], vol[k], f"{g['diameter_mm']:.1f} mm {what} ({g['hu']:.0f} HU calcium), z {z[k]:.0f} mm")
    row[0].add_patch(plt.Rectangle((c - half, r - half), 2 * half, 2 * half, fill=False, color="red", lw=1))
    # Aortic plaque beside contrast-filled blood needs a wider window than soft tissue.
    third = ((dict(cmap="gray", vmin=-300, vmax=700), "window 200/1000") if aortic else
             (dict(cmap="gray", vmin=-160, vmax=240), "soft-tissue window 40/400"))
    for a, window, name in [(row[1], cp.WINDOW, "lung window, 60 mm"), (row[2], *third)]:
        a.imshow(vol[k], **window)
        a.set_xlim(c - half, c + half)
        a.set_ylim(r + half, r - half)
        a.set_title(name, color="white", fontsize=10)
    for f in found:
        fx, fy, fz = f["center_mm"]
        if abs(fz - z[k]) <= 3 and abs(fx - x) < 30 and abs(fy - y) < 30:
            label = f"LR {f['lung_rads']}{' calcified' if f.get('calcified') else ''}, {f['diameter_mm']:.1f} mm {f['type']}"
            for a in row[1:]:
                a.add_patch(plt.Circle(((fx - origin[0]) / px, (fy - origin[1]) / px), f["diameter_mm"] / 2 / px + 3,
                                       fill=False, color="yellow" if f["score"] >= 0.5 else "cyan", lw=1.2))
            row[1].text((fx - origin[0]) / px, (fy - origin[1]) / px + f["diameter_mm"] / px + 6, label,
                        color="yellow", fontsize=9, ha="center")
for a in axes.flat:
    a.axis("off")
title = ("Coronary calcified plaques" if coronary else
         "Aortic calcified plaques" if aortic else "Calcified granulomas")
fig.suptitle(f"{title}, {case_id} (phantom; lung window -600/1500 unless noted)", color="white")
plt.tight_layout()
plt.savefig(out_png, dpi=70, facecolor="black")
print("wrote", out_png)
