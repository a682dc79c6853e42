#!/usr/bin/env python3
"""Where the detector lost each nodule it did not report: the candidate funnel.

    triage detect DEV/ --out RUN --trace-candidates
    python3 scripts/candidate_funnel.py --truth DEV/truth.json RUN [RUN2 --truth DEV2/truth.json ...]

`--trace-candidates` writes RUN/candidates/<series id>.csv: every maximum of the dot filter
and the step where it left the detector (docs/detection.md, "Where the missed nodules are
lost"). For each truth nodule this script finds the furthest step any candidate of it
reached, with LUNA16's rule for "of it" (a centre inside the nodule's radius):

    reported           a reported finding's centre is inside the nodule (a hit)
    not_reported       a finding above the threshold inside it was a duplicate / opacity piece
    below_threshold    a scored candidate's centre inside it, every one below the threshold
    <a location rule>  measured, and the region's centre dropped by that rule
    centre_moved       a maximum inside it was measured, but the measured centre lies outside
    not_measured       a maximum inside it was selected and gave no region
    not_selected       maxima inside it, none selected (suppression or the quotas)
    no_maximum         no maximum of the dot filter inside it

Pairs each missed nodule with its nearest maximum (distance, response rank, scale, fate).
Several runs (each with its --truth, given before it or once for all) are pooled in the
summary. Standard library only. A tool for development seeds: do not tune on evaluation
seeds with it (docs/phantoms.md).
"""
import argparse
import csv
import json
import math
import os
import sys

# Funnel order, furthest first; a nodule is put at the first stage any of its candidates reached.
RULES = ["near_mediastinum_low_score", "fat_density", "pleural_plate", "surrounded_by_tissue", "airway_wall",
         "hilar_structure", "outside_lung_mask"]
STAGES = ["reported", "not_reported", "below_threshold"] + RULES + ["centre_moved", "not_measured",
                                                                    "not_selected", "no_maximum"]
MEASURED = {"reported", "not_reported", "below_threshold"}


def load_run(run):
    """{series uid: [rows]} from RUN/candidates/*.csv, via RUN/studies/<id>/findings.json."""
    out = {}
    folder = os.path.join(run, "candidates")
    if not os.path.isdir(folder):
        sys.exit(f"{run}: no candidates/ folder (run `triage detect ... --trace-candidates`)")
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".csv"):
            continue
        series_id = name[:-4]
        findings = os.path.join(run, "studies", series_id, "findings.json")
        if not os.path.exists(findings):
            print(f"warning: {name}: no findings.json for it, skipped", file=sys.stderr)
            continue
        with open(findings) as f:
            uid = (json.load(f).get("study") or {}).get("series_instance_uid")
        with open(os.path.join(folder, name)) as f:
            rows = list(csv.DictReader(f))
        for r in rows:
            r["pos"] = (float(r["x_mm"]), float(r["y_mm"]), float(r["z_mm"]))
            r["centre"] = (float(r["center_x_mm"]), float(r["center_y_mm"]), float(r["center_z_mm"])) \
                if r["center_x_mm"] else None
        out[uid] = rows
    return out


def stage_of(nodule, rows):
    """(stage, nearest maximum row, distance) of one truth nodule."""
    c, radius = nodule["center_mm"], nodule["diameter_mm"] / 2
    stages = set()
    for r in rows:
        if r["centre"] is not None and math.dist(r["centre"], c) <= radius:
            stages.add(r["fate"])
        if math.dist(r["pos"], c) <= radius:
            if r["fate"] in MEASURED:
                stages.add("centre_moved")   # its own centre was not inside (checked above)
            else:
                stages.add(r["fate"])
    # A rule's entry has no measured centre: the maximum inside the radius is what counts.
    stage = next((s for s in STAGES if s in stages), "no_maximum")
    nearest = min(rows, key=lambda r: math.dist(r["pos"], c)) if rows else None
    return stage, nearest, (math.dist(nearest["pos"], c) if nearest else float("nan"))


def size_group(d):
    return "<6 mm" if d < 6 else ("6-10 mm" if d < 10 else ">=10 mm")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("items", nargs="+", metavar="RUN", help="--out folders of `triage detect --trace-candidates`")
    ap.add_argument("--truth", action="append", required=True,
                    help="truth.json; one for all runs, or one per run in the same order")
    ap.add_argument("--all", action="store_true", help="list the reported nodules too")
    args = ap.parse_intermixed_args()
    if len(args.truth) not in (1, len(args.items)):
        sys.exit("give one --truth for all runs or one per run")

    tally = {}   # (group kind, group) -> {stage: count}
    print(f"{'run':<10} {'case':<10} {'id':<4} {'type':<12} {'location':<13} {'d_mm':>5}  {'stage':<26} "
          f"{'near_mm':>7} {'rank':>6} {'sigma':>5} {'nearest fate':<26} {'score':>7}")
    for k, run in enumerate(args.items):
        with open(args.truth[min(k, len(args.truth) - 1)]) as f:
            truth = json.load(f)
        traces = load_run(run)
        # The run's name: its folder, or the folder above a `reports` one (development_sets.sh).
        parts = os.path.normpath(run).split(os.sep)
        label = parts[-2] if parts[-1] == "reports" and len(parts) > 1 else parts[-1]
        for case in truth["cases"]:
            rows = traces.get(case["series_instance_uid"])
            if rows is None:
                print(f"warning: {run}: no trace for {case['case_id']}", file=sys.stderr)
                continue
            for n in case["nodules"]:
                stage, nearest, dist = stage_of(n, rows)
                for key in [("all", "all"), ("size", size_group(n["diameter_mm"])), ("type", n["type"]),
                            ("location", n["location"])]:
                    tally.setdefault(key, {}).setdefault(stage, 0)
                    tally[key][stage] += 1
                if stage == "reported" and not args.all:
                    continue
                score = nearest["score"] if nearest and nearest["score"] else ""
                print(f"{label:<10} {case['case_id']:<10} {n['id']:<4} {n['type']:<12} {n['location']:<13} "
                      f"{n['diameter_mm']:5.1f}  {stage:<26} {dist:7.1f} {nearest['response_rank'] if nearest else '':>6} "
                      f"{nearest['sigma_mm'] if nearest else '':>5} {nearest['fate'] if nearest else '':<26} "
                      f"{score:>7}")
    if not tally:
        sys.exit("no truth case has a trace (wrong --truth for these runs?)")
    print()
    used = [s for s in STAGES if any(s in v for v in tally.values())]
    print(f"{'group':<15} {'nodules':>7}  " + "  ".join(f"{s}" for s in used))
    for key in sorted(tally, key=lambda k: (["all", "size", "type", "location"].index(k[0]), k[1])):
        counts = tally[key]
        print(f"{key[1]:<15} {sum(counts.values()):>7}  "
              + "  ".join(f"{counts.get(s, 0):>{len(s)}}" for s in used))


if __name__ == "__main__":
    main()
