#!/usr/bin/env python3
"""Findings near what the phantoms draw that looks like a nodule but is not: calcified
granulomas, coronary and aortic plaque, parenchymal bands, mucus-plugged bronchi and pleural
plaques (`triage phantom --granuloma-fraction / --coronary-calcium-fraction /
--aortic-calcium-fraction / --scar-fraction / --mucus-plug-fraction /
--pleural-plaque-fraction / --valve-calcium-fraction / --mitral-calcium-fraction /
--bronchial-cyst-fraction`; truth.json's `calcified_granulomas`,
`coronary_calcified_plaques`, `aortic_calcified_plaques`, `parenchymal_bands`,
`bronchiectasis.mucus_plugs`, `pleural_plaques`, `aortic_valve_calcifications`, `mitral_annular_calcifications`, `bronchiectasis.cysts`). Per case: how many of each, and every finding whose centre lies within
--radius mm of one (of a band's axis or a plugged segment's, for those; of a pleural plaque's
footprint). A finding on a vascular or pleural plaque is a false positive outside the
lungs, one on a band or a plug a false positive in them (unless it is also a hit on a nodule there:
compare with `triage evaluate`); one on a granuloma should be Lung-RADS 1, which
`triage evaluate` counts.

    python3 scripts/findings_near_mimics.py --truth DIR/truth.json REPORTS_DIR [--radius 10]

Standard library only. Exit code 1 when a finding lies near a mimic other than a granuloma.
"""
import argparse
import glob
import json
import math
import os
import sys

KINDS = [("calcified_granulomas", "granuloma"), ("coronary_calcified_plaques", "coronary"),
         ("aortic_calcified_plaques", "aortic"), ("parenchymal_bands", "band"), ("mucus_plugs", "plugged segment"),
         ("pleural_plaques", "pleural plaque"), ("aortic_valve_calcifications", "aortic valve"),
         ("mitral_annular_calcifications", "mitral annulus"), ("bronchial_cysts", "bronchial cyst")]


def mimics(case, key):
    """The case's mimics of one kind: balls (`center_mm`) or axes (`points_mm`)."""
    if key == "mucus_plugs":
        plugs = (case.get("bronchiectasis") or {}).get("mucus_plugs") or {}
        return [{"points_mm": [s[:3], s[3:]]} for s in plugs.get("segments_mm", [])]
    if key == "bronchial_cysts":
        return (case.get("bronchiectasis") or {}).get("cysts") or []
    return case.get(key) or []


def distance(point, mimic):
    """mm from `point` to a ball's centre, to a pleural plaque's footprint (the distance to its
    centre less half its length, at least 0), to a bronchial cyst's outer surface (0 inside
    it), or to a band's axis (a polyline)."""
    if "wall_mm" in mimic:
        return max(0.0, math.dist(point, mimic["center_mm"]) - mimic["diameter_mm"] / 2 - mimic["wall_mm"])
    if "inward_normal" in mimic:
        return max(0.0, math.dist(point, mimic["center_mm"]) - mimic["length_mm"] / 2)
    if "center_mm" in mimic:
        return math.dist(point, mimic["center_mm"])
    best = math.inf
    for a, b in zip(mimic["points_mm"], mimic["points_mm"][1:]):
        ab = [q - p for p, q in zip(a, b)]
        t = sum((x - p) * d for x, p, d in zip(point, a, ab)) / max(1e-12, sum(d * d for d in ab))
        t = min(1.0, max(0.0, t))
        best = min(best, math.dist(point, [p + t * d for p, d in zip(a, ab)]))
    return best

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

near_mimic = 0
totals = {label: 0 for _, label in KINDS}
for case in json.load(open(args.truth))["cases"]:
    found = findings.get(case["series_instance_uid"])
    if found is None:
        print(f"{case['case_id']}: no report")
        continue
    counts = []
    for key, label in KINDS:
        balls = mimics(case, key)
        totals[label] += len(balls)
        counts.append(f"{len(balls)} {label}")
        for f in found:
            d = min((distance(f["center_mm"], b) for b in balls), default=math.inf)
            if d <= args.radius:
                print(f"  {case['case_id']}: finding {f['id']} (score {f['score']:.3f}, {f['diameter_mm']:.1f} mm, "
                      f"Lung-RADS {f['lung_rads']}) {d:.1f} mm from {label}")
                if label != "granuloma":
                    near_mimic += 1
    print(f"{case['case_id']}: {len(found)} findings; mimics: {', '.join(counts)}")
print(f"mimics: {', '.join(f'{n} {label}' for label, n in totals.items())}; "
      f"findings within {args.radius:g} mm of a mimic other than a granuloma: {near_mimic}")
sys.exit(1 if near_mimic else 0)
