#!/usr/bin/env python3
"""Findings near the phantoms' calcium that is not a nodule: calcified granulomas, coronary
and aortic plaque (`triage phantom --granuloma-fraction / --coronary-calcium-fraction /
--aortic-calcium-fraction`; truth.json's `calcified_granulomas`, `coronary_calcified_plaques`,
`aortic_calcified_plaques`). Per case: how many of each, and every finding whose centre lies
within --radius mm of one (a finding on a plaque is a false positive outside the lungs; one
on a granuloma should be Lung-RADS 1, which `triage evaluate` counts).

    python3 scripts/findings_near_calcium.py --truth DIR/truth.json REPORTS_DIR [--radius 10]

Standard library only. Exit code 1 when a finding lies near coronary or aortic plaque.
"""
import argparse
import glob
import json
import math
import os
import sys

KINDS = [("calcified_granulomas", "granuloma"), ("coronary_calcified_plaques", "coronary"),
         ("aortic_calcified_plaques", "aortic")]

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--truth", required=True)
parser.add_argument("reports")
parser.add_argument("--radius", type=float, default=10.0)
args = parser.parse_args()

findings = {}
for path in glob.glob(os.path.join(args.reports, "**", "findings.json"), recursive=True):
    doc = json.load(open(path))
    uid = (doc.get("study") or {}).get("series_instance_uid")
    if uid:
        findings[uid] = doc.get("findings") or []

near_plaque = 0
totals = {label: 0 for _, label in KINDS}
for case in json.load(open(args.truth))["cases"]:
    found = findings.get(case["series_instance_uid"])
    if found is None:
        print(f"{case['case_id']}: no report")
        continue
    counts = []
    for key, label in KINDS:
        balls = case.get(key) or []
        totals[label] += len(balls)
        counts.append(f"{len(balls)} {label}")
        for f in found:
            d = min((math.dist(f["center_mm"], b["center_mm"]) for b in balls), default=math.inf)
            if d <= args.radius:
                print(f"  {case['case_id']}: finding {f['id']} (score {f['score']:.3f}, {f['diameter_mm']:.1f} mm, "
                      f"Lung-RADS {f['lung_rads']}) {d:.1f} mm from {label} calcium")
                if label != "granuloma":
                    near_plaque += 1
    print(f"{case['case_id']}: {len(found)} findings; calcium: {', '.join(counts)}")
print(f"calcium: {', '.join(f'{n} {label}' for label, n in totals.items())}; "
      f"findings within {args.radius:g} mm of coronary or aortic plaque: {near_plaque}")
sys.exit(1 if near_plaque else 0)
