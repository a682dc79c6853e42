#!/usr/bin/env python3
"""Draws a phantom's nodules of one location class, for docs/ and for looking at misses:
per nodule, the axial slice through its centre (lung window) with a 60 mm box, that box
in the lung window and in a soft-tissue window (40/400), and a 60 mm coronal crop; with
the detector's findings when a report folder is given (yellow: score >= 0.5, cyan below;
the label gives the best finding within the nodule's radius, or "missed").

usage: scripts/render_nodules.py PHANTOM_DIR [OUT_PNG] [--location juxtamediastinal]
                                 [--findings REPORTS_DIR [--missed]] [--count 4] [--min-diameter 0]
  PHANTOM_DIR  a folder written by `triage phantom` (its truth.json)
  OUT_PNG      default docs/images/phantom-juxtamediastinal.png
Nodules are taken in case order; with --missed only those no finding hits (LUNA16's rule:
a finding centred within the nodule's radius). Needs numpy, matplotlib, pydicom.
"""
import argparse
import json
import os
import sys

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ct_pictures as cp  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("phantom_dir")
parser.add_argument("out_png", nargs="?",
                    default=os.path.join(cp.HERE, "..", "docs", "images", "phantom-juxtamediastinal.png"))
parser.add_argument("--location", default="juxtamediastinal")
parser.add_argument("--findings", default=None)
parser.add_argument("--missed", action="store_true", help="only nodules no finding hits (needs --findings)")
parser.add_argument("--count", type=int, default=4)
parser.add_argument("--min-diameter", type=float, default=0)
args = parser.parse_args()

truth = json.load(open(os.path.join(args.phantom_dir, "truth.json")))
if args.missed and not args.findings:
    sys.exit("--missed needs --findings")


def hit_by(found, n):
    """The findings centred within nodule n's radius."""
    return [f for f in found
            if np.linalg.norm(np.array(f["center_mm"]) - np.array(n["center_mm"])) <= n["diameter_mm"] / 2]


chosen = [(c, n) for c in truth["cases"] for n in c["nodules"]
          if n.get("location") == args.location and n["diameter_mm"] >= args.min_diameter
          and not (args.missed and hit_by(cp.findings_of(args.findings, c["series_instance_uid"]), n))][:args.count]
if not chosen:
    sys.exit(f"no {args.location} nodule of >= {args.min_diameter} mm in {args.phantom_dir}/truth.json")

fig, axes = plt.subplots(len(chosen), 4, figsize=(20, 5 * len(chosen)), facecolor="black", squeeze=False)
loaded = {}
for row, (case, n) in zip(axes, chosen):
    if case["case_id"] not in loaded:
        loaded[case["case_id"]] = cp.load(os.path.join(args.phantom_dir, case["folder"]))
    vol, z, origin, px = loaded[case["case_id"]]
    x, y, nz = n["center_mm"]
    k = int(np.argmin(abs(z - nz)))
    c, r = (x - origin[0]) / px, (y - origin[1]) / px
    half = 30 / px
    found = cp.findings_of(args.findings, case["series_instance_uid"]) if args.findings else []
    hits = hit_by(found, n)
    verdict = (f"best finding: score {max(f['score'] for f in hits):.2f}" if hits else "missed") if args.findings else ""
    cp.show(row[0], vol[k], f"{case['case_id']} {n['id']}: {n['diameter_mm']:.1f} mm {n['type']} {n['location']}")
    row[0].add_patch(plt.Rectangle((c - half, r - half), 2 * half, 2 * half, fill=False, color="red", lw=1))
    for a, window, name in [(row[1], cp.WINDOW, f"lung window, 60 mm {verdict}"),
                            (row[2], dict(cmap="gray", vmin=-160, vmax=240), "soft-tissue window 40/400")]:
        a.imshow(vol[k], **window)
        a.set_xlim(c - half, c + half)
        a.set_ylim(r + half, r - half)
        a.set_title(name, color="white", fontsize=10)
        cp.draw_findings(a, found, z[k], origin, px, within_mm=n["diameter_mm"] / 2 + 1)
    # Coronal crop through the centre (rows of the volume are z ascending: flip for display).
    slice_mm = float(np.median(np.diff(z)))
    rr = int(round(r))
    coronal = vol[:, rr, :]
    row[3].imshow(coronal, origin="lower", aspect=slice_mm / px, **cp.WINDOW)
    row[3].set_xlim(c - half, c + half)
    row[3].set_ylim(k - 30 / slice_mm, k + 30 / slice_mm)
    row[3].set_title("coronal, 60 mm", color="white", fontsize=10)
    for a in row:
        a.axis("off")
fig.suptitle(f"{args.location} phantom nodules (lung window -600/1500; {os.path.basename(args.phantom_dir.rstrip('/'))})",
             color="white")
plt.tight_layout(rect=(0, 0, 1, 0.98))
plt.savefig(args.out_png, dpi=50, facecolor="black")
print("wrote", args.out_png)
