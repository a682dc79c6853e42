#!/usr/bin/env python3
"""Per-nodule outcome table for a detection run: which truth nodules were found, at what
score, and for the missed ones how far the nearest finding was (a miss by a centre offset
and a miss by a low score need different fixes).

    python3 scripts/nodule_outcomes.py --truth DEV/truth.json REPORTS_DIR [--fp-per-scan 1]

Matching is LUNA16's (a finding hits a nodule when its centre lies inside the nodule's
radius), as `triage evaluate` does; the operating threshold is the lowest score at which
the false positives per scan stay within --fp-per-scan. Standard library only. A tool for
development seeds: do not use it to tune on evaluation seeds (docs/phantoms.md).
"""
import argparse
import json
import math
import os
import sys


def load_reports(folder):
    reports = {}
    for root, _dirs, files in os.walk(folder):
        if "findings.json" in files:
            with open(os.path.join(root, "findings.json")) as f:
                doc = json.load(f)
            uid = (doc.get("study") or {}).get("series_instance_uid")
            if uid:
                reports[uid] = doc
    return reports


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--truth", required=True)
    ap.add_argument("reports")
    ap.add_argument("--fp-per-scan", type=float, default=1.0)
    args = ap.parse_args()

    with open(args.truth) as f:
        truth = json.load(f)
    reports = load_reports(args.reports)
    rows, fp_scores, scans = [], [], 0
    for case in truth["cases"]:
        doc = reports.get(case["series_instance_uid"])
        if doc is None:
            print(f"{case['case_id']}: no report", file=sys.stderr)
            continue
        scans += 1
        findings = doc.get("findings") or []
        hit_any = [False] * len(findings)
        for n in case["nodules"]:
            r = n["diameter_mm"] / 2
            best, nearest = None, None
            for k, fd in enumerate(findings):
                d = math.dist(fd["center_mm"], n["center_mm"])
                if nearest is None or d < nearest[0]:
                    nearest = (d, fd)
                if d < r:
                    hit_any[k] = True
                    if best is None or fd["score"] > best["score"]:
                        best = fd
            rows.append((case["case_id"], n, best, nearest))
        fp_scores += [fd["score"] for k, fd in enumerate(findings) if not hit_any[k]]

    fp_scores.sort(reverse=True)
    budget = int(math.floor(args.fp_per_scan * scans))
    threshold = fp_scores[budget] if budget < len(fp_scores) else 0.0
    # Strictly above the (budget+1)-th false positive's score keeps at most `budget` of them.
    print(f"{scans} scans, {len(rows)} nodules; threshold for <= {args.fp_per_scan} FP/scan: > {threshold:.4f}")
    print(f"{'case':10} {'id':4} {'type':12} {'location':13} {'shape':11} {'d_mm':>5} "
          f"{'best':>6} {'found':5} {'near_mm':>7} {'near_sc':>7} {'eqd':>6} {'m_type':12} {'t_axes':>6} {'m_axes':>6}")
    groups = {}
    for case_id, n, best, nearest in rows:
        found = best is not None and best["score"] > threshold
        near_d, near_f = (nearest if nearest else (float("nan"), {}))
        shown = best or near_f or {}
        print(f"{case_id:10} {n['id']:4} {n.get('type', '?'):12} {n.get('location', '?'):13} "
              f"{n.get('shape', '?'):11} {n['diameter_mm']:5.1f} "
              f"{(best['score'] if best else float('nan')):6.3f} {('yes' if found else 'no'):5} "
              f"{near_d:7.1f} {near_f.get('score', float('nan')):7.3f} "
              f"{shown.get('equivalent_diameter_mm') or float('nan'):6.2f} {shown.get('type') or '-':12} "
              f"{0.5 * (n.get('long_axis_mm', float('nan')) + n.get('short_axis_mm', float('nan'))):6.2f} "
              f"{(best or {}).get('diameter_mm') or float('nan'):6.2f}")
        for key in (n.get("type"), n.get("location"), "all"):
            g = groups.setdefault(key, [0, 0, 0])
            g[0] += 1
            g[1] += int(found)
            g[2] += int(best is not None)
    print("\ngroup          found/total  (any hit at any score)")
    for key, (total, found, anyhit) in sorted(groups.items()):
        print(f"{key:14} {found:3}/{total:<3}        ({anyhit})")


if __name__ == "__main__":
    main()
