#!/usr/bin/env python3
"""Draws fibrotic interstitial lung disease (`triage phantom ... --fibrosis-fraction F`;
truth.json's `interstitial_fibrosis`) for docs/phantoms.md. For the mildest case without
honeycombing and the most severe case with it (or the most severe case): the axial slice
that changed most
against a folder rendered with the same seed and options but without it, whole (lung
window) and as 100 mm crops of the same place with and without.

With --traction, PHANTOM_DIR has fibrosis and traction bronchiectasis
(`--traction-bronchiectasis-fraction`) and WITHOUT_DIR the same fibrosis without it: the
pictures show what the widened bronchi change.

usage: scripts/render_interstitial_fibrosis.py [--traction] PHANTOM_DIR WITHOUT_DIR [OUT_PNG]
  OUT_PNG  default docs/images/phantom-interstitial-fibrosis.png
           (with --traction, docs/images/phantom-traction-bronchiectasis.png)
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
traction = "--traction" in args
args = [a for a in args if a != "--traction"]
folder, without = args[0:2]
out_png = args[2] if len(args) > 2 else os.path.join(
    cp.HERE, "..", "docs", "images",
    "phantom-traction-bronchiectasis.png" if traction else "phantom-interstitial-fibrosis.png")
cases = [c for c in json.load(open(os.path.join(folder, "truth.json")))["cases"] if c.get("interstitial_fibrosis")]
if not cases:
    sys.exit(f"{folder}: no case with interstitial fibrosis")
def severity(c):
    return c["interstitial_fibrosis"]["severity"]


reticular = [c for c in cases if not c["interstitial_fibrosis"]["honeycombing"]]
honeycomb = [c for c in cases if c["interstitial_fibrosis"]["honeycombing"]]
shown = [min(reticular or cases, key=severity)]
second = max(honeycomb, key=severity) if honeycomb else max(cases, key=severity)
if second is not shown[0]:
    shown.append(second)

fig, axes = plt.subplots(len(shown), 3, figsize=(15, 5 * len(shown)), facecolor="black", squeeze=False)
for row, case in zip(axes, shown):
    f = case["interstitial_fibrosis"]
    vol, z, _, px = cp.load(os.path.join(folder, case["case_id"]))
    plain = cp.load(os.path.join(without, case["case_id"]))[0]
    changed = abs(vol - plain) > 150
    k = int(np.argmax(changed.sum(axis=(1, 2))))
    ys, xs = np.nonzero(changed[k])
    # Centre the crop on the changed pixels of the more affected side, at the lung's edge.
    left = xs < vol.shape[2] / 2
    side = left if left.sum() >= (~left).sum() else ~left
    cy, cx = np.percentile(ys[side], 65), np.median(xs[side])
    r = 50 / px
    kind = (f"honeycombing ({f['cyst_mm']:.0f} mm cysts)" if f["honeycombing"] else "reticulation only")
    cp.show(row[0], vol[k], f"{case['case_id']}: severity {f['severity']:.2f}, {kind}, z {z[k]:.0f} mm")
    row[0].add_patch(plt.Rectangle((cx - r, cy - r), 2 * r, 2 * r, fill=False, edgecolor="yellow"))
    for a, image, label in [(row[1], vol[k], "with"), (row[2], plain[k], "without")]:
        cp.show_crop(a, image, cx, cy, r, f"{label}, 100 mm")
title = ("Traction bronchiectasis in fibrosis: with it, and the same fibrosis without (phantom; lung window -600/1500)"
         if traction else "Fibrotic interstitial lung disease, subpleural and basal (phantom; lung window -600/1500)")
cp.finish(fig, axes, title, out_png)
